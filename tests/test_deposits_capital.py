"""Deposits, funding cost and RAROC (issue 9, items 6 and 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parksim import ParkModel
from parksim.analysis.summary import per_replication, summarise
from parksim.banks.risk import operational_capitals
from parksim.core.codes import LoanStatus, Stage

BASELINE = "scenarios/baseline.toml"


@pytest.fixture(scope="module")
def model() -> ParkModel:
    return ParkModel(BASELINE, strategy="tier2_light", rng=6, horizon=12).run()


def test_settlement_deposits_are_the_tiers_share_of_client_revenue(model: ParkModel) -> None:
    pop, bank = model.enterprises, model.focal_bank
    clients = (pop.main_bank == 0) & (pop.stage <= Stage.LISTED)
    led = bank.ledger
    assert led.deposits == pytest.approx(bank.spec.deposit_share * pop.size[clients].sum())
    income = model.config.income
    assert led.time_deposits == pytest.approx(income.deposit_time_share * led.deposits)
    ts = model.timeseries().iloc[1:]
    assert (ts["ftp_credit"] - ts["interest_expense"]).gt(0).all()


def test_npls_and_paid_for_stakes_cost_their_funding() -> None:
    # One quarter's loan margin (interest less FTP charge) is the performing loans' and the
    # operator's spread less (NPL balance + what the bank paid for its stakes) × FTP / 4,
    # where the bank holds the stakes itself (at the default holder, the group, it pays none).
    m = ParkModel(BASELINE, strategy="tier2_heavy", rng=4, horizon=12, group__holder="bank")
    m.run(11)
    pop, funding = m.enterprises, m.config.lending.funding_cost
    performing = (pop.lender == 0) & (pop.loan_status == LoanStatus.PERFORMING)
    interest = float((pop.debt[performing] * (pop.loan_rate[performing] - funding)).sum()) / 4
    operator = m.focal_bank.operator_loan * (m.operator.params.development_loan_rate - funding) / 4
    npl = float(pop.debt[(pop.lender == 0) & (pop.loan_status == LoanStatus.NON_PERFORMING)].sum())
    stakes = float(pop.bank_stake_cost[:, 0].sum())
    assert npl > 0 and stakes > 0
    m.step()
    charge = (npl + stakes) * funding / 4
    led = m.focal_bank.ledger
    assert led.interest_income - led.ftp_charge == pytest.approx(
        interest + operator - charge, rel=1e-9
    )


def test_raroc_is_annual_profit_over_mean_capital(model: ParkModel) -> None:
    ts = model.timeseries()
    ts.insert(0, "replication", 0)
    ts.insert(0, "strategy", pd.Categorical(["tier2_light"] * len(ts)))
    per = per_replication(ts).iloc[0]
    later = ts[ts["quarter"] >= 1]
    expected = later["net_profit"].sum() / (len(later) / 4) / later["capital"].mean()
    assert per["raroc"] == pytest.approx(expected)
    assert per["mean_capital"] == pytest.approx(later["capital"].mean())
    parts = later[["capital_irb", "capital_operational", "capital_equity", "capital_operator"]]
    assert np.allclose(parts.sum(axis=1), later["capital"])
    assert (parts.to_numpy() >= 0).all() and (later["capital_operational"] > 0).any()
    summary = summarise(ts)
    columns = list(summary.columns)
    assert columns.index("raroc_mean") > columns.index("return_on_risk")
    assert np.isfinite(summary["raroc_mean"].iloc[0])


def test_capital_beyond_the_loan_book_follows_basel_simple_approaches(model: ParkModel) -> None:
    # Basic indicator approach: 15 % of annual gross income, the last 12 quarters' mean;
    # stakes the bank holds 8 % × 1,250 % of cost (商业银行资本管理办法 2023), none at the
    # group; the operator's loans 8 % × 100 %.
    bank = model.focal_bank
    risk = bank.history[-1].risk
    income = [h.gross_income for h in bank.history[-12:]]
    assert risk.capital_operational == pytest.approx(0.15 * 4 * np.mean(income))
    assert model.enterprises.bank_stake_cost[:, 0].sum() > 0 and risk.capital_equity == 0.0
    held = ParkModel(BASELINE, strategy="tier2_light", rng=6, group__holder="bank").run(8)
    stakes = float(held.enterprises.bank_stake_cost[:, 0].sum())
    assert stakes > 0
    assert held.focal_bank.history[-1].risk.capital_equity == pytest.approx(1.0 * stakes)
    assert risk.capital_operator == pytest.approx(0.08 * bank.operator_loan)
    assert operational_capitals(np.array([[-50.0, -10.0]])) == [0.0]
    assert operational_capitals(np.array([[100.0] * 20])) == pytest.approx([0.15 * 400.0])
