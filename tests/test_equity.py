"""Equity rounds follow the rule of docs/model.md §7.4: who seeks, who is funded, how much.

Checked by hand-worked cases, by the rule's inequalities and closed forms on a real park,
and statistically (the share that seeks converges to the stage's demand).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from parksim import ParkModel
from parksim.core.codes import Stage
from parksim.core.population import EnterprisePopulation
from parksim.core.streams import FirmStreams, Mechanism
from parksim.enterprises.equity import EquityMarketParams, investors_fund, raise_equity

BASELINE = "scenarios/baseline.toml"
PARAMS = EquityMarketParams()
BANK_FUND = np.array([True, False, True])


def test_investors_fund_when_the_posterior_mean_clears_the_bar() -> None:
    # σ = 0.5: a firm of quality 0.5 seen with error +1 signals 1.0, posterior mean 0.8.
    assert investors_fund(0.5, 1.0, 0.8, 0.5)
    assert not investors_fund(0.5, 1.0, 0.8 + 1e-12, 0.5)
    assert investors_fund(0.5, 1.0, 0.0, 0.5)
    # Without noise investors see quality itself.
    assert investors_fund(0.3, 5.0, 0.3, 0.0) and not investors_fund(0.3, 5.0, 0.31, 0.0)


@pytest.fixture(scope="module")
def model() -> ParkModel:
    """A park part-way through a run, with funded firms and stakes."""
    return ParkModel(BASELINE, "tier3_light", rng=5, collect=False, park__enterprises=2000).run(8)


def rounds_of(model: ParkModel, park_fund: bool, params: EquityMarketParams = PARAMS):
    pop = copy.deepcopy(model.enterprises)
    bank_fund = BANK_FUND[: len(model.banks)]
    q = model.quarter + 1
    rounds = raise_equity(pop, slice(None), params, park_fund, bank_fund, model.streams.firms, q)
    return pop, rounds, q


@pytest.mark.parametrize("park_fund", [False, True])
def test_a_round_closes_exactly_when_the_rule_allows(model: ParkModel, park_fund: bool) -> None:
    before = model.enterprises
    _, rounds, q = rounds_of(model, park_fund)
    sought = rounds.sought
    assert (before.stage[sought] <= Stage.PRE_IPO).all(), "listed or exited firms sought"
    assert np.isin(rounds.funded, sought).all()
    assert 10 < len(rounds.funded) < len(sought)
    # The posterior mean against the bar, less the cut where a fund co-invests.
    sigma = PARAMS.investor_noise
    error = model.streams.firms.normals(Mechanism.EQUITY_VIEW, q, before.stream_id[sought])
    posterior = (before.quality[sought] + sigma * error) / (1 + sigma**2)
    main = before.main_bank[sought]
    backed = park_fund | BANK_FUND[: len(model.banks)][main]
    bar = np.asarray(PARAMS.bar)[before.stage[sought]] - PARAMS.fund_bar_cut * backed
    funded = np.isin(sought, rounds.funded)
    assert (posterior[funded] >= bar[funded] - 1e-12).all()
    assert (posterior[~funded] < bar[~funded] + 1e-12).all()


@pytest.mark.parametrize("park_fund", [False, True])
def test_a_closed_round_raises_and_prices_what_the_rule_says(
    model: ParkModel, park_fund: bool
) -> None:
    before = model.enterprises
    pop, rounds, q = rounds_of(model, park_fund)
    rows = rounds.funded
    stage = before.stage[rows]
    size_error = model.streams.firms.normals(Mechanism.EQUITY_SIZE, q, before.stream_id[rows])
    amount = np.asarray(PARAMS.round_size)[stage] * np.array(
        [math.exp(PARAMS.round_size_dispersion * e) for e in size_error]
    )
    np.testing.assert_allclose(rounds.amount, amount, rtol=1e-14)
    # The round prices the firm, below its last valuation too (a down-round).
    post = amount / PARAMS.dilution
    np.testing.assert_allclose(rounds.post_money, post, rtol=1e-14)
    np.testing.assert_allclose(pop.valuation[rows], post, rtol=1e-14)
    np.testing.assert_allclose(
        pop.equity_raised[rows] - before.equity_raised[rows], amount, rtol=1e-12
    )
    assert (pop.last_round_quarter[rows] == q).all()
    # Each co-investing fund pays fund_ticket of the round for that share of the post-money.
    ticket = PARAMS.fund_ticket * amount
    operator_paid = pop.operator_stake_cost[rows] - before.operator_stake_cost[rows]
    np.testing.assert_allclose(operator_paid, ticket if park_fund else 0.0, rtol=1e-12)
    operator_share = pop.operator_stake[rows] - before.operator_stake[rows]
    np.testing.assert_allclose(operator_share, ticket / post if park_fund else 0.0, atol=1e-15)
    bank_paid = pop.bank_stake_cost[rows] - before.bank_stake_cost[rows]
    main = before.main_bank[rows]
    expected = np.zeros_like(bank_paid)
    backed = BANK_FUND[: len(model.banks)][main]
    expected[backed.nonzero()[0], main[backed]] = ticket[backed]
    np.testing.assert_allclose(bank_paid, expected, rtol=1e-12)
    # Nothing changes for the firms without a round.
    others = np.setdiff1d(np.arange(before.n), rows)
    for column in ("valuation", "equity_raised", "operator_stake", "bank_stake"):
        np.testing.assert_array_equal(getattr(pop, column)[others], getattr(before, column)[others])


def test_a_co_investing_fund_only_adds_rounds(model: ParkModel) -> None:
    alone = set(rounds_of(model, park_fund=False)[1].funded)
    with_fund = set(rounds_of(model, park_fund=True)[1].funded)
    assert alone < with_fund


def test_the_share_that_seeks_a_round_converges_to_the_stages_demand() -> None:
    n = 40_000  # per stage
    stages = [Stage.SEED, Stage.STARTUP, Stage.GROWTH, Stage.PRE_IPO, Stage.LISTED, Stage.FAILED]
    pop = EnterprisePopulation(n_banks=1)
    pop.add(stage=np.repeat(stages, n))
    pop.stream_id[:] = np.arange(pop.n)
    pop.main_bank[:] = 0
    rounds = raise_equity(pop, slice(None), PARAMS, False, np.zeros(1, bool), FirmStreams(9), 3)
    seeking = np.bincount(pop.stage[rounds.sought], minlength=len(Stage))
    for stage in stages:
        p = PARAMS.demand[stage] if stage <= Stage.PRE_IPO else 0.0
        share = seeking[stage] / n
        assert abs(share - p) <= 5 * math.sqrt(p * (1 - p) / n), (stage, share, p)
