"""The compiled per-firm kernels against their numpy references, bit for bit.

The references are the vectorised passes the kernels replaced (parksim 0.3.0): each test
takes a real population part-way through a run, applies the kernel to one copy and the
reference to another, and requires every column and every event to be identical.
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np
import pytest
from scipy.special import ndtr, ndtri

from parksim import ParkModel
from parksim.core.codes import FinanceState, LoanStatus, Stage
from parksim.core.population import stage_table
from parksim.core.sectors import SectorArrays
from parksim.core.streams import Mechanism
from parksim.enterprises.entry import (
    DRAWS_PER_FIRM,
    U_COLLATERAL,
    U_IP,
    U_MAIN_BANK,
    U_QUALITY,
    U_REVENUE,
    U_SECTOR,
    U_STAGE,
    FirmProfileParams,
    cdf_of,
    draw_firms,
    firm_draws,
)
from parksim.enterprises.equity import EquityRounds, raise_equity
from parksim.enterprises.lifecycle import (
    LifecycleEvents,
    live_through_quarter,
    update_failure_pds,
)

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


# --- equity rounds (numpy references of parksim 0.4.0) ---------------------------------


def assert_same_fields(got, want) -> None:
    for field in dataclasses.fields(want):
        np.testing.assert_array_equal(
            getattr(got, field.name), getattr(want, field.name), err_msg=field.name
        )


def reference_raise_equity(pop, rows, params, park_fund, bank_fund, streams, quarter):
    stage = pop.stage[rows]
    demand = stage_table(params.demand)
    seeks = streams.uniforms(Mechanism.EQUITY_DEMAND, quarter, pop.stream_id[rows]) < demand[stage]
    seekers = seeks.nonzero()[0]
    if not isinstance(rows, slice):
        seekers = rows[seekers]
    ids = pop.stream_id[seekers]
    noise = streams.normals(Mechanism.EQUITY_VIEW, quarter, ids)
    size_noise = streams.normals(Mechanism.EQUITY_SIZE, quarter, ids)
    stage = pop.stage[seekers]
    main = pop.main_bank[seekers]
    bank_backed = bank_fund[main] & (main >= 0)
    cut = params.fund_bar_cut * (park_fund | bank_backed)
    signal = pop.quality[seekers] + params.investor_noise * noise
    expected_quality = signal / (1.0 + params.investor_noise**2)
    funded = expected_quality >= np.asarray(params.bar)[stage] - cut
    fid = seekers[funded]
    amount = np.asarray(params.round_size)[stage[funded]] * np.exp(0.5 * size_noise[funded])
    post_money = np.maximum(amount / params.dilution, pop.valuation[fid])
    pop.equity_raised[fid] += amount
    pop.valuation[fid] = post_money
    pop.last_round_quarter[fid] = quarter
    pop.last_round_size[fid] = amount
    ticket = params.fund_ticket * amount
    if park_fund:
        pop.operator_stake[fid] += ticket / post_money
        pop.operator_stake_cost[fid] += ticket
    backed = bank_backed[funded]
    bank = main[funded][backed]
    pop.bank_stake[fid[backed], bank] += ticket[backed] / post_money[backed]
    pop.bank_stake_cost[fid[backed], bank] += ticket[backed]
    return EquityRounds(sought=seekers, funded=fid, amount=amount, post_money=post_money)


@pytest.mark.parametrize("park_fund", [False, True])
def test_equity_rounds_equal_the_numpy_reference(model: ParkModel, park_fund: bool) -> None:
    params, firms, q = model.config.equity, model.streams.firms, model.quarter + 1
    bank_fund = np.array([True, False, True])[: len(model.banks)]
    for rows in (slice(None), model.enterprises.active()):
        kernel_pop, numpy_pop = copy.deepcopy(model.enterprises), copy.deepcopy(model.enterprises)
        args = (params, park_fund, bank_fund, firms, q)
        got = raise_equity(kernel_pop, rows, *args)
        want = reference_raise_equity(numpy_pop, rows, *args)
        assert_same_fields(got, want)
        assert len(got.funded) > 10
        assert_same_population(kernel_pop, numpy_pop)


def reference_compact(pop, archivable) -> None:
    """parksim 0.4.0's EnterprisePopulation.compact."""
    gone = archivable.nonzero()[0]
    keep = (~archivable).nonzero()[0]
    moved = {c.name: np.take(getattr(pop, c.name), gone, axis=0) for c in pop.columns()}
    pop._archive.append(moved)
    pop._archived_ids = np.concatenate([pop._archived_ids, moved["id"]])
    pop.archived_by_stage += np.bincount(moved["stage"], minlength=len(Stage))
    kept = len(keep)
    for col in pop.columns():
        buffer = pop._buffers[col.name]
        buffer[:kept] = np.take(buffer[: pop.n], keep, axis=0)
        buffer[kept : pop.n] = col.fill
    pop.n = kept
    pop._refresh_views()
    linked = (pop.leader_id >= 0).nonzero()[0]
    pop.leader_row[linked] = pop.rows_of(pop.leader_id[linked])


def test_compaction_moves_rows_as_the_numpy_reference(model: ParkModel) -> None:
    kernel_pop, numpy_pop = copy.deepcopy(model.enterprises), copy.deepcopy(model.enterprises)
    archivable = (kernel_pop.stage > Stage.LISTED) & (kernel_pop.loan_status == LoanStatus.NONE)
    archivable[::13] = True  # archived rows in a run and scattered ones, first and last too
    archivable[-1] = archivable[0] = True
    kernel_pop.compact(archivable)
    reference_compact(numpy_pop, archivable)
    assert kernel_pop.n == numpy_pop.n < model.enterprises.n
    for name in ("n", "next_id"):
        assert getattr(kernel_pop, name) == getattr(numpy_pop, name)
    np.testing.assert_array_equal(kernel_pop.archived_by_stage, numpy_pop.archived_by_stage)
    np.testing.assert_array_equal(kernel_pop._archived_ids, numpy_pop._archived_ids)
    assert_same_population(kernel_pop, numpy_pop)
    for col in kernel_pop.columns():
        np.testing.assert_array_equal(
            kernel_pop._archive[-1][col.name], numpy_pop._archive[-1][col.name], err_msg=col.name
        )


# --- entry ------------------------------------------------------------------------------


def reference_pick(u, cdf):
    return np.minimum(cdf.searchsorted(u, side="right"), len(cdf) - 1)


def reference_draw_firms(u, stage_cdf, quality_mean, sector_cdf, sectors, profile, bank_cdf):
    """parksim 0.4.0's draw_firms."""
    stages = reference_pick(u[:, U_STAGE], stage_cdf)
    sector = reference_pick(u[:, U_SECTOR], sector_cdf)
    normal = np.zeros_like(u)
    normal[:, U_QUALITY : U_IP + 1] = ndtri(u[:, U_QUALITY : U_IP + 1])
    normal[:, DRAWS_PER_FIRM:] = ndtri(u[:, DRAWS_PER_FIRM:])
    quality = quality_mean + normal[:, U_QUALITY]
    revenue = np.asarray(profile.revenue_median)[stages] * np.exp(
        profile.revenue_dispersion * normal[:, U_REVENUE] + 0.2 * quality
    )
    collateral = (
        np.asarray(profile.collateral_ratio)[stages]
        * sectors.collateral[sector]
        * revenue
        * np.exp(0.5 * normal[:, U_COLLATERAL])
    )
    ip = (
        np.asarray(profile.ip_ratio)[stages]
        * sectors.ip[sector]
        * revenue
        * np.exp(0.5 * normal[:, U_IP] + 0.3 * quality)
    )
    return {
        "stage": stages,
        "sector": sector,
        "quality": quality,
        "size": revenue,
        "collateral": collateral,
        "ip_value": ip,
        "valuation": profile.valuation_multiple * revenue,
        "main_bank": reference_pick(u[:, U_MAIN_BANK], bank_cdf),
        "signal_error": normal[:, DRAWS_PER_FIRM:],
    }


@pytest.mark.parametrize("count", [0, 1, 5_000])
def test_new_firms_are_drawn_as_the_numpy_reference_does(count: int) -> None:
    u = firm_draws(np.random.default_rng(count), count, 3)
    sectors = SectorArrays.of(("biomedicine", "it_software", "hard_tech", "green"))
    stage_cdf = cdf_of(np.array([0.3, 0.0, 0.3, 0.25, 0.15]))  # one stage never drawn
    sector_cdf = cdf_of(np.array([0.1, 0.2, 0.3, 0.4]))
    bank_cdf = cdf_of(np.array([1.0, 2.0, 0.5]))
    u[: count // 10, U_STAGE] = stage_cdf[0]  # uniforms on the mixes' edges
    u[: count // 20, U_SECTOR] = sector_cdf[1]
    args = (u, stage_cdf, 0.3, sector_cdf, sectors, FirmProfileParams(), bank_cdf)
    got, want = draw_firms(*args), reference_draw_firms(*args)
    assert got.keys() == want.keys()
    for name, values in want.items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)
        assert got[name].dtype == values.dtype, name
