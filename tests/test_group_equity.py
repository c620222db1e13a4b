"""Equity at its legal holder: the group vehicle's P&L, the fund's committed
capital, the lock-up, the mark to model, warrants' cap and price, valuations that follow
revenue and the cycle, and the IPO window."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from parksim import ParkModel
from parksim.banks.group import GroupParams, GroupVehicle, group_quarter
from parksim.banks.income import IncomeParams
from parksim.banks.lending import Offers, choose_lenders, price_warrants
from parksim.banks.stakes import (
    StakeColumns,
    exit_multiples,
    ipo_window_open,
    mark_to_model,
    realise_stakes,
    unlocked,
)
from parksim.core.codes import Product, Stage
from parksim.core.population import EnterprisePopulation
from parksim.enterprises.equity import EquityMarketParams, follow_revenue
from parksim.enterprises.lifecycle import LifecycleEvents

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
NONE = np.zeros(0, dtype=np.int64)


@pytest.fixture(scope="module")
def run() -> ParkModel:
    """A 2.0 bank with a fund and warrants, at the default holder (the group)."""
    return ParkModel(BASELINE, "tier2_heavy", rng=2, horizon=24).run()


# ---------------------------------------------------------------- the bank's P&L


def test_equity_never_enters_the_banks_net_profit_by_default(run: ParkModel) -> None:
    ts = run.timeseries()
    assert (ts["equity_income"] == 0).all()
    assert all(h.equity_income == 0.0 for h in run.focal_bank.history)
    assert (ts["capital_equity"] == 0).all()
    # The group has the equity: its income is its own column, beside the bank's profit.
    assert ts["group_equity_income"].abs().sum() > 0
    # The group view adds the securities affiliate's after-tax income on the bank's clients.
    group = run.config.group
    affiliate = (ts["group_fee_income"] - ts["fee_referral"]) * (1 - group.affiliate_cost_ratio)
    affiliate *= 1 - group.tax_rate
    assert (affiliate > 0).any()
    assert np.allclose(
        ts["group_net_profit"], ts["net_profit"] + ts["group_equity_income"] + affiliate
    )
    # Where the bank holds the equity, the same run books it at the bank.
    held = ParkModel(BASELINE, "tier2_heavy", rng=2, group__holder="bank").run(24)
    bank = held.timeseries()
    assert bank["equity_income"].abs().sum() > 0
    assert (bank["group_equity_income"] == 0).all()
    assert bank["capital_equity"].iloc[-1] > 0


# ---------------------------------------------------------------- the group's P&L


def test_group_pnl_identities_on_a_hand_worked_exit() -> None:
    params = GroupParams(
        committed_capital=40_000.0, group_share=0.25, management_fee=0.02, carry=0.2,
        tax_rate=0.25, funding_cost=0.04, fund_cost_ratio=0.6,
    )  # fmt: skip
    vehicle = GroupVehicle(room=0.0)
    # The fund sells a stake for a gain of 1,000; the warrants pay 100; it still holds
    # 2,000 at cost.
    q = group_quarter(vehicle, 1_000.0, 100.0, 2_000.0, params)
    fee = 0.02 * 0.75 * 40_000.0 / 4 * 0.4  # 60: the partners' fee less the GP's cost
    carry = 0.2 * 0.75 * 1_000.0  # 150: on the partners' gain
    funding = 0.04 * 0.25 * 2_000.0 / 4  # 5: the group's paid-in capital
    pre_tax = 0.25 * 1_000.0 + 100.0 + fee + carry - funding  # 555
    assert (q.fund_share, q.fee, q.carry, q.funding) == pytest.approx((250.0, fee, carry, funding))
    assert q.pre_tax == pytest.approx(pre_tax)
    assert q.tax == pytest.approx(0.25 * pre_tax) and q.income == pytest.approx(0.75 * pre_tax)
    # A loss of 3,000 next: no carry, the carry already earned is not clawed back below
    # zero cumulative gain, and the loss is carried forward against tax.
    q = group_quarter(vehicle, -3_000.0, 0.0, 0.0, params)
    assert q.carry == pytest.approx(-carry)  # cumulative gain fell from 1,000 to below 0
    assert q.tax == 0.0
    loss = -(0.25 * -3_000.0 + fee - carry)
    assert vehicle.loss_carried == pytest.approx(loss)
    # A later gain first uses up the loss carried.
    q = group_quarter(vehicle, 0.0, loss + 100.0 - fee, 0.0, params)
    assert q.tax == pytest.approx(0.25 * 100.0) and vehicle.loss_carried == 0.0
    # No fee while the fund is not open.
    assert group_quarter(GroupVehicle(0.0), 0.0, 0.0, 0.0, params, fund_open=False).fee == 0.0


# ---------------------------------------------------------------- committed capital


def test_the_fund_never_exceeds_its_committed_capital() -> None:
    committed = 3_000.0
    m = ParkModel(BASELINE, "tier2_heavy", rng=3, group__committed_capital=committed)
    invested = []
    for _ in range(16):
        m.step()
        vehicle = m.groups[0]
        assert 0.0 <= vehicle.room <= committed
        assert m.enterprises.bank_stake_cost[:, 0].sum() <= committed - vehicle.room + 1e-6
        invested.append(committed - vehicle.room)
    assert invested[-1] == pytest.approx(committed)  # spent: it stops, no recycling
    assert np.all(np.diff(invested) >= 0)


# ---------------------------------------------------------------- lock-up


def test_a_listed_stake_is_sold_only_when_its_lock_up_ends() -> None:
    pop = EnterprisePopulation(n_banks=2)
    pop.add(stage=np.full(2, Stage.LISTED), valuation=np.array([1_000.0, 1_000.0]))
    pop.listed_quarter[:] = (10, 12)
    pop.bank_stake[:, 0], pop.bank_stake_cost[:, 0] = 0.1, 50.0
    events = LifecycleEvents(NONE, NONE, NONE, NONE, NONE)
    assert unlocked(pop, 13, 4).tolist() == []
    gains = realise_stakes(pop, events, (1.5, 1.3), quarter=14, lockup_quarters=4)
    assert gains.fund[0] == pytest.approx(0.1 * 1_000.0 - 50.0)  # firm 0, at its value now
    assert pop.bank_stake[:, 0].tolist() == [0.0, 0.1]  # firm 1 is still locked up


# ---------------------------------------------------------------- mark to model


def _stakes(valuation: float, pd: float) -> tuple[StakeColumns, np.ndarray, np.ndarray]:
    pop = EnterprisePopulation(n_banks=1)
    pop.add(stage=np.array([Stage.GROWTH]), valuation=np.array([valuation]))
    pop.bank_stake[0, 0], pop.bank_stake_cost[0, 0] = 0.04, 30.0
    pop.pd[0] = pd
    return StakeColumns.of(pop), pop.valuation, pop.pd


def test_a_firm_that_cannot_fail_without_discount_is_worth_stake_times_valuation() -> None:
    stakes, valuation, pd = _stakes(2_000.0, 0.0)
    marks = mark_to_model(stakes, valuation, 1.0, pd, np.array([Stage.GROWTH]), 1.0, 0.0, 12, 1)
    assert marks.fair_value[0] == pytest.approx(0.04 * 2_000.0)
    assert marks.cost[0] == pytest.approx(30.0)
    # The group's share, a discount and a failure risk each lower it, as the rule says.
    stakes, valuation, pd = _stakes(2_000.0, 0.02)
    marks = mark_to_model(stakes, valuation, 1.0, pd, np.array([Stage.GROWTH]), 0.2, 0.25, 12, 1)
    assert marks.fair_value[0] == pytest.approx(0.75 * 0.98**12 * 0.2 * 0.04 * 2_000.0)
    # A firm that has left the park is worth nothing.
    marks = mark_to_model(stakes, valuation, 1.0, pd, np.array([Stage.FAILED]), 1.0, 0.0, 12, 1)
    assert marks.fair_value[0] == 0.0
    # A stress path's markdown of valuations marks the stake down with them.
    stakes, valuation, pd = _stakes(2_000.0, 0.0)
    halved = mark_to_model(stakes, valuation, 0.5, pd, np.array([Stage.GROWTH]), 1.0, 0.0, 12, 1)
    assert halved.fair_value[0] == pytest.approx(0.5 * 0.04 * 2_000.0)


# ---------------------------------------------------------------- warrants


def test_warrant_implied_stakes_stay_within_the_cap(run: ParkModel) -> None:
    for cap, model in ((0.02, run), (0.004, None)):
        if model is None:
            model = ParkModel(BASELINE, "tier2_heavy", rng=2, group__warrant_stake_cap=cap)
            model.run(24)
        pop = model.enterprises
        held = pop.warrant_strike[:, 0] > 0
        assert held.sum() > 10
        implied = pop.warrant_notional[held, 0] / pop.warrant_strike[held, 0]
        assert implied.max() <= cap * (1 + 1e-12)
    assert implied.max() == pytest.approx(cap)  # the low cap binds


def _offers(rate: float) -> Offers:
    """Two banks offer one growth applicant 1,000 万元 at `rate` for 12 quarters."""
    ones = np.ones((2, 1))
    return Offers(
        approved=np.ones((2, 1), dtype=np.bool_), amount=1_000.0 * ones, rate=rate * ones,
        lgd=0.5 * ones, annual_pd=0.02 * ones,
        product=np.full((2, 1), Product.COLLATERAL, dtype=np.int8),
        posterior_mean=ones, cover=np.zeros(1), term=np.array([12]), need=np.array([1_000.0]),
    )  # fmt: skip


def test_a_warrant_lowers_the_rate_and_the_firm_prefers_a_loan_without_one() -> None:
    coverage = np.array([0.1, 0.0])  # bank 0 takes a warrant, bank 1 does not
    priced = price_warrants(
        _offers(0.05), np.array([Stage.GROWTH]), np.array([20_000.0]), coverage,
        stake_cap=0.02, option_value=0.3, pass_through=0.5,
    )  # fmt: skip
    # notional min(0.1 × 1,000, 0.02 × 20,000) = 100; value 0.3 × 100 over 3 years = 10 a
    # year on 1,000: w = 1 %; the bank gives back half of it.
    assert priced.booked.rate[:, 0] == pytest.approx([0.045, 0.05])
    assert priced.compared.rate[:, 0] == pytest.approx([0.055, 0.05])
    # At the same base price the firm takes bank 1's loan, even with bank 0 its main bank.
    assert choose_lenders(priced.compared, np.array([0]), 0.1).tolist() == [1]
    # A seed firm's loan carries no warrant.
    seed = price_warrants(
        _offers(0.05), np.array([Stage.SEED]), np.array([20_000.0]), coverage, 0.02, 0.3, 0.5
    )
    assert seed.booked.rate[:, 0].tolist() == [0.05, 0.05]


# ---------------------------------------------------------------- valuations and the cycle


def test_a_valuation_follows_revenue_between_rounds() -> None:
    valuation = np.array([1_000.0, 1_000.0, 1_000.0])
    size = np.array([200.0, 50.0, 300.0])
    before = np.array([100.0, 100.0, 100.0])
    stage = np.array([Stage.GROWTH, Stage.LISTED, Stage.FAILED], dtype=np.int8)
    follow_revenue(valuation, size, before, stage)
    assert valuation.tolist() == [2_000.0, 500.0, 1_000.0]  # a left firm keeps its value


def test_a_downturn_cuts_the_exit_multiples_below_one() -> None:
    income, market = IncomeParams(), EquityMarketParams()
    listing, acquisition = exit_multiples(income, market, 0.0)
    assert (listing, acquisition) == (income.listing_multiple, income.acquisition_multiple)
    low = exit_multiples(income, market, -2.0)
    assert low[0] < listing and low[1] < 1.0  # a down-sale in a deep downturn
    assert exit_multiples(income, market, 1.0)[0] > listing


def test_no_ipo_while_the_window_is_shut() -> None:
    market = EquityMarketParams()
    assert ipo_window_open(market, market.ipo_window_floor)
    assert not ipo_window_open(market, market.ipo_window_floor - 0.01)
    shut = ParkModel(BASELINE, "tier2_heavy", rng=5, equity__ipo_window_floor=99.0).run(20)
    ts = shut.timeseries()
    assert (ts["listings"] == 0).all() and ts["n_pre_ipo"].iloc[-1] > 0
    opened = ParkModel(BASELINE, "tier2_heavy", rng=5, equity__ipo_window_floor=-99.0).run(20)
    assert opened.timeseries()["listings"].sum() > 0


def test_listings_happen_only_in_quarters_the_window_is_open(run: ParkModel) -> None:
    ts = run.timeseries().iloc[1:]
    shut = ts["macro_factor"] < run.config.equity.ipo_window_floor
    assert shut.any() or ts["listings"].sum() > 0
    assert (ts.loc[shut, "listings"] == 0).all()
