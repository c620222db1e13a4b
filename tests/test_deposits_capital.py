"""Deposits, funding cost and RAROC (issue 9, items 6 and 7)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parksim import ParkModel
from parksim.enterprises.population import LoanStatus, Stage
from parksim.reporting.summary import per_replication, summarise

BASELINE = "scenarios/baseline.toml"


@pytest.fixture(scope="module")
def model() -> ParkModel:
    return ParkModel(BASELINE, strategy="tier2_light", rng=6, horizon=12).run()


def test_settlement_deposits_are_the_tiers_share_of_client_revenue(model: ParkModel) -> None:
    pop, bank = model.enterprises, model.focal_bank
    clients = (pop.main_bank == 0) & (pop.stage <= Stage.LISTED)
    led = bank.ledger
    assert led.deposits == pytest.approx(bank.spec.deposit_share * pop.size[clients].sum())
    income, funding = model.config.income, model.config.lending.funding_cost
    spread = (funding - income.deposit_rate) / 4.0
    assert led.deposit_income == pytest.approx(led.deposits * spread)
    assert model.timeseries()["deposit_income"].iloc[1:].gt(0).all()


def test_npls_and_paid_for_stakes_cost_their_funding() -> None:
    # One quarter's net interest is the performing loans' and the operator's spread less
    # (NPL balance + what the bank paid for its stakes) × funding cost / 4.
    m = ParkModel(BASELINE, strategy="tier2_heavy", rng=4, horizon=12)
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
    assert m.focal_bank.ledger.net_interest_income == pytest.approx(
        interest + operator - charge, rel=1e-9
    )


def test_raroc_is_annual_profit_over_mean_irb_capital(model: ParkModel) -> None:
    ts = model.timeseries()
    ts.insert(0, "replication", 0)
    ts.insert(0, "strategy", pd.Categorical(["tier2_light"] * len(ts)))
    per = per_replication(ts).iloc[0]
    later = ts[ts["quarter"] >= 1]
    expected = later["net_profit"].sum() / (len(later) / 4) / later["capital_irb"].mean()
    assert per["raroc"] == pytest.approx(expected)
    assert per["mean_capital_irb"] == pytest.approx(later["capital_irb"].mean())
    summary = summarise(ts)
    columns = list(summary.columns)
    assert columns.index("raroc_mean") > columns.index("return_on_risk")
    assert np.isfinite(summary["raroc_mean"].iloc[0])
