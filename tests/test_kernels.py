"""The compiled per-firm kernels against their numpy references, bit for bit.

The references are the vectorised passes the kernels replaced (parksim 0.3.0): each test
takes a real population part-way through a run, applies the kernel to one copy and the
reference to another, and requires every column and every event to be identical.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from parksim import ParkModel
from parksim.banks.stakes import cost_by_bank, realise_stakes
from parksim.enterprises.lifecycle import (
    LifecycleEvents,
    live_through_quarter,
    update_failure_pds,
)
from parksim.enterprises.population import FinanceState, Stage, stage_table
from parksim.streams import Mechanism

BASELINE = "scenarios/baseline.toml"


# --- numpy references ------------------------------------------------------------------


def _finance(state, funded, refused):
    table = np.array([1.0, funded, refused])  # FinanceState NONE, FUNDED, REFUSED
    return table[state]


def reference_failure_pd(pop, params):
    leader = pop.leader_row
    linked = (leader >= 0).nonzero()[0]
    supported = np.zeros(pop.n, dtype=bool)
    supported[linked] = pop.stage[leader[linked]] <= Stage.LISTED
    finance = _finance(pop.finance_state, params.funded_failure_mult, params.refused_failure_mult)
    pd = stage_table(params.failure_pd)[pop.stage] * pop.failure_risk * finance
    pd *= 1.0 - params.chain_support * supported
    return np.minimum(pd, 0.95, out=pd)


def reference_quarter(pop, params, sectors, shift, load_idio, tiers, uplift, reloc, firms, q):
    """The numpy passes of parksim 0.3.0's `_live_through_quarter` after the PD update."""
    stage, ids = pop.stage.copy(), pop.stream_id
    u_default = firms.uniforms(Mechanism.DEFAULT, q, ids)
    failed = u_default < ndtr((pop.default_threshold - shift[pop.sector]) / load_idio)
    finance = _finance(pop.finance_state, 1.0 + params.funded_graduation_boost, 1.0)
    tier_grad = tiers.graduation_uplift[pop.main_bank] * uplift
    grad = stage_table(params.graduation)[stage] * pop.graduation_drive * finance * tier_grad
    grad = np.minimum(grad, 0.9)
    u = firms.uniforms(Mechanism.TRANSITION, q, ids)
    tier_acq = tiers.acquisition_uplift[pop.main_bank]
    p_acq = np.minimum(stage_table(params.acquisition)[stage] * tier_acq, 0.5)
    rel_cut = 1.0 - params.relocation * reloc
    active = (stage <= Stage.LISTED) & ~failed
    graduates = active & (u < grad)
    relocates = active & (u >= grad) & (u >= rel_cut)
    acquired = active & (u >= grad) & (u < rel_cut) & (u >= rel_cut - p_acq)
    events = LifecycleEvents(
        failed.nonzero()[0],
        graduates.nonzero()[0],
        (graduates & (stage == Stage.PRE_IPO)).nonzero()[0],
        relocates.nonzero()[0],
        acquired.nonzero()[0],
    )
    for rows, exit_stage in (
        (events.failed, Stage.FAILED),
        (events.relocated, Stage.RELOCATED),
        (events.acquired, Stage.ACQUIRED),
    ):
        pop.last_active_stage[rows] = pop.stage[rows]
        pop.stage[rows] = exit_stage
        pop.exit_quarter[rows] = q
        pop.stage_quarter[rows] = q
    up = events.graduated
    pop.stage[up] += 1
    pop.stage_quarter[up] = q
    jump = params.graduation_size_jump
    pop.size[up] *= jump
    pop.ip_value[up] *= jump
    pop.collateral[up] *= jump * params.collateral_step
    pop.listed_quarter[events.listed] = q
    # Revenue.
    alive = pop.stage <= Stage.LISTED
    funded = pop.finance_state == FinanceState.FUNDED
    shock = firms.uniforms(Mechanism.REVENUE, q, ids)
    shock -= 0.5
    shock *= 0.05 * np.sqrt(12.0)
    growth = params.revenue_growth * (1.0 + 0.5 * pop.quality + 0.5 * funded)
    growth += shock
    growth *= alive
    growth += 1.0
    np.maximum(growth, 0.5, out=growth)
    for column in (pop.size, pop.collateral, pop.ip_value):
        column *= growth
    # Chain leaders.
    large = (pop.size >= params.leader_min_revenue) & ~pop.chain_leader
    grown = (large & (pop.stage >= Stage.PRE_IPO) & (pop.stage <= Stage.LISTED)).nonzero()[0]
    pop.chain_leader[grown[sectors.leads_chains[pop.sector[grown]]]] = True
    return events


# --- the tests -------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["tier1_heavy", "tier3_light"])
def model(request) -> ParkModel:
    """A park part-way through a run, with exits, leaders, loans and stakes."""
    return ParkModel(BASELINE, request.param, rng=5, collect=False, park__enterprises=3000).run(12)


def columns(pop) -> dict[str, np.ndarray]:
    return {c.name: getattr(pop, c.name).copy() for c in pop.columns()}


def assert_same_population(a, b) -> None:
    for name, values in columns(a).items():
        np.testing.assert_array_equal(values, getattr(b, name), err_msg=name)


def test_failure_pds_and_thresholds_equal_the_numpy_reference(model: ParkModel) -> None:
    pop = copy.deepcopy(model.enterprises)
    params = model.config.lifecycle
    pop.finance_state[::7] = FinanceState.REFUSED  # every finance outcome and many moved PDs
    expected = reference_failure_pd(pop, params)
    before = pop.pd.copy()
    update_failure_pds(pop, params)
    np.testing.assert_array_equal(pop.pd, expected)
    moved = (expected != before).nonzero()[0]
    assert len(moved) > 100
    np.testing.assert_array_equal(pop.default_threshold[moved], ndtri(expected[moved]))


@pytest.mark.parametrize("macro", [-2.5, 0.0, 1.5])  # a bad quarter has many failures
def test_the_firms_quarter_equals_the_numpy_reference(model: ParkModel, macro: float) -> None:
    engine, tiers, params = model.credit_engine, model.tiers, model.config.lifecycle
    shift = engine.systematic_shift(engine.draw_factors(np.random.default_rng(1)))
    shift = shift + macro * np.sqrt(engine.params.macro_correlation)
    load = engine.idiosyncratic_loading
    kernel_pop, numpy_pop = copy.deepcopy(model.enterprises), copy.deepcopy(model.enterprises)
    for pop in (kernel_pop, numpy_pop):
        update_failure_pds(pop, params)
    q = model.quarter + 1
    args = (params, model.sectors, shift, load)
    got = live_through_quarter(
        kernel_pop, *args, tiers.graduation_uplift, 1.2, tiers.acquisition_uplift, 1.5,
        model.streams.firms, q,
    )  # fmt: skip
    want = reference_quarter(numpy_pop, *args, tiers, 1.2, 1.5, model.streams.firms, q)
    for name in ("failed", "graduated", "listed", "relocated", "acquired"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert len(got.failed) > 0 and len(got.graduated) > 0 and len(got.relocated) > 0
    assert_same_population(kernel_pop, numpy_pop)


def reference_realise(pop, banks, events, income) -> tuple[list[float], float]:
    pop.valuation[events.listed] *= income.listing_multiple
    exits = np.concatenate([events.listed, events.acquired, events.relocated, events.failed])
    value = pop.valuation[exits].copy()
    start = len(events.listed)
    value[start : start + len(events.acquired)] *= income.acquisition_multiple
    value[len(exits) - len(events.failed) :] = 0.0
    gains = pop.bank_stake[exits] * value[:, None] - pop.bank_stake_cost[exits]
    exercised = start + len(events.acquired)
    strike = pop.warrant_strike[exits[:exercised]]
    safe = np.where(strike > 0, strike, 1.0)
    payoff = np.maximum(value[:exercised, None] - strike, 0.0)
    gains[:exercised] += payoff * pop.warrant_notional[exits[:exercised]] / safe * (strike > 0)
    operator = pop.operator_stake[exits] * value - pop.operator_stake_cost[exits]
    for column in ("warrant_notional", "warrant_strike", "bank_stake", "bank_stake_cost"):
        getattr(pop, column)[exits] = 0.0
    pop.operator_stake[exits] = 0.0
    pop.operator_stake_cost[exits] = 0.0
    return [float(gains[:, b].sum()) for b in range(len(banks))], float(operator.sum())


def test_stakes_are_realised_as_the_numpy_reference_does(model: ParkModel) -> None:
    pop, rng = copy.deepcopy(model.enterprises), np.random.default_rng(2)
    rows = rng.permutation((pop.stage <= Stage.LISTED).nonzero()[0])[:400]
    shape = (len(rows), pop.bank_stake.shape[1])
    held = rng.random(shape) < 0.5  # some stakes and warrants, some none
    pop.bank_stake[rows] = 0.05 * rng.random(shape) * held
    pop.bank_stake_cost[rows] = 100.0 * rng.random(shape) * held
    pop.warrant_notional[rows] = 50.0 * rng.random(shape) * ~held
    pop.warrant_strike[rows] = pop.valuation[rows, None] * rng.uniform(0.5, 1.5, shape) * ~held
    pop.operator_stake[rows] = 0.02 * rng.random(len(rows))
    pop.operator_stake_cost[rows] = 10.0 * rng.random(len(rows))
    k = len(rows) // 4
    events = LifecycleEvents(
        failed=np.sort(rows[:k]),
        graduated=np.sort(rows[k : 2 * k]),
        listed=np.sort(rows[k : 2 * k]),
        relocated=np.sort(rows[2 * k : 3 * k]),
        acquired=np.sort(rows[3 * k :]),
    )
    kernel_pop, numpy_pop = copy.deepcopy(pop), copy.deepcopy(pop)
    kernel_banks, numpy_banks = copy.deepcopy(model.banks), copy.deepcopy(model.banks)
    before = [bank.ledger.equity_income for bank in kernel_banks]
    operator = realise_stakes(kernel_pop, kernel_banks, events, model.config.income)
    gains, want_operator = reference_realise(numpy_pop, numpy_banks, events, model.config.income)
    assert operator == want_operator
    for bank, start, gain in zip(kernel_banks, before, gains, strict=True):
        assert bank.ledger.equity_income == start + gain
    assert_same_population(kernel_pop, numpy_pop)


def test_stake_costs_add_up_as_numpys_column_sum(model: ParkModel) -> None:
    cost = model.enterprises.bank_stake_cost
    np.testing.assert_array_equal(cost_by_bank(cost), cost.sum(axis=0))
    noisy = np.random.default_rng(3).lognormal(0.0, 3.0, (50_001, 3))
    np.testing.assert_array_equal(cost_by_bank(noisy), noisy.sum(axis=0))
