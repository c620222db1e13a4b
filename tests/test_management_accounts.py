"""The park business's management accounts: funds-transfer pricing,
demand and time deposits, fees by line, operating cost, tax and the ratios.

Hand-worked cases build a few firms and one quarter's income by hand; the identities are
checked on a real model run.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from parksim import ParkModel
from parksim.banks.bank import BankLedger
from parksim.banks.income import IncomeParams, earn_income
from parksim.core.codes import LoanStatus, Stage
from parksim.core.population import EnterprisePopulation
from parksim.core.streams import FirmStreams
from parksim.enterprises.lifecycle import LifecycleEvents

BASELINE = "scenarios/baseline.toml"
MONEY = {"rel": 1e-9, "abs": 1e-9}


@pytest.fixture(scope="module")
def run() -> ParkModel:
    return ParkModel(BASELINE, strategy="tier2_heavy", rng=5, horizon=16).run()


# --------------------------------------------------------------------- identities on a run


def test_ftp_identity_holds_every_quarter_of_a_run(run: ParkModel) -> None:
    ts = run.timeseries()
    identity = ts["interest_income"] - ts["ftp_charge"] + ts["ftp_credit"] - ts["interest_expense"]
    np.testing.assert_allclose(ts["net_interest_income"], identity, rtol=1e-9, atol=1e-6)
    later = ts.iloc[1:]
    # Each part is live: loans earn more than their FTP charge, deposits are credited more
    # than they are paid, and the deposits' margin is part of net interest.
    assert (later["interest_income"] > later["ftp_charge"]).all()
    assert (later["ftp_credit"] > later["interest_expense"]).all()
    assert (later["net_interest_income"] > later["interest_income"] - later["ftp_charge"]).all()


def test_ftp_credit_and_interest_expense_follow_the_deposit_split(run: ParkModel) -> None:
    ts, income = run.timeseries().iloc[1:], run.config.income
    ftp = run.config.lending.funding_cost
    np.testing.assert_allclose(ts["deposits"], ts["demand_deposits"] + ts["time_deposits"])
    np.testing.assert_allclose(ts["time_deposits"], income.deposit_time_share * ts["deposits"])
    credit = (ftp * ts["deposits"] + income.time_ftp_premium * ts["time_deposits"]) / 4
    np.testing.assert_allclose(ts["ftp_credit"], credit, rtol=1e-9)
    paid = (
        income.demand_deposit_rate * ts["demand_deposits"]
        + income.time_deposit_rate * ts["time_deposits"]
    ) / 4
    np.testing.assert_allclose(ts["interest_expense"], paid, rtol=1e-9)


def test_ftp_charge_is_the_rate_on_every_funded_loan_and_stake() -> None:
    # One quarter's charge: FTP × (performing and non-performing balances at the quarter's
    # start, the operator's loans, the stakes' cost where the bank holds them) / 4;
    # interest only on performing loans.
    m = ParkModel(BASELINE, strategy="tier2_heavy", rng=4, horizon=12, group__holder="bank")
    m.run(11)
    pop, ftp = m.enterprises, m.config.lending.funding_cost
    own = pop.lender == 0
    performing = own & (pop.loan_status == LoanStatus.PERFORMING)
    npl = own & (pop.loan_status == LoanStatus.NON_PERFORMING)
    interest = float((pop.debt[performing] * pop.loan_rate[performing]).sum()) / 4
    operator = m.focal_bank.operator_loan
    interest += operator * m.operator.params.development_loan_rate / 4
    stakes = float(pop.bank_stake_cost[:, 0].sum())
    funded = float(pop.debt[performing | npl].sum()) + operator + stakes
    assert npl.any() and stakes > 0
    m.step()
    led = m.focal_bank.ledger
    assert led.interest_income == pytest.approx(interest, rel=1e-9)
    assert led.ftp_charge == pytest.approx(funded * ftp / 4, rel=1e-9)


def test_fee_income_is_the_sum_of_its_lines_and_excludes_group_fees(run: ParkModel) -> None:
    ts = run.timeseries()
    lines = ["fee_settlement", "fee_bond", "fee_advisory", "fee_reit", "fee_referral"]
    np.testing.assert_allclose(ts["fee_income"], ts[lines].sum(axis=1), rtol=1e-9)
    share = run.config.income.referral_share
    np.testing.assert_allclose(ts["fee_referral"], share * ts["group_fee_income"], rtol=1e-9)


def test_ratios_and_balance_sheet_follow_their_definitions(run: ParkModel) -> None:
    ts = run.timeseries().iloc[1:]
    loans = ts["exposure"] + ts["operator_exposure"]
    np.testing.assert_allclose(ts["balance_sheet"], np.maximum(loans, ts["deposits"]))
    revenue = (
        ts["net_interest_income"]
        + ts["fee_income"]
        + ts["personal_finance_income"]
        + ts["equity_income"]
    )
    ratio = np.where(revenue > 0, ts["operating_cost"] / revenue, 0.0)
    np.testing.assert_allclose(ts["cost_income_ratio"], ratio, rtol=1e-9)
    np.testing.assert_allclose(ts["roa"], 4 * ts["net_profit"] / ts["balance_sheet"], rtol=1e-9)
    np.testing.assert_allclose(
        ts["pretax_roa"], 4 * ts["pre_tax_profit"] / ts["balance_sheet"], rtol=1e-9
    )
    assert (ts["head_office_cost"] > 0).all()
    assert (ts["head_office_cost"] < ts["operating_cost"]).all()


# --------------------------------------------------------------------- hand-worked


def test_a_ledger_works_its_profit_by_hand() -> None:
    led = BankLedger(
        interest_income=100.0,
        ftp_charge=40.0,
        ftp_credit=30.0,
        interest_expense=10.0,
        fee_settlement=5.0,
        fee_bond=4.0,
        fee_advisory=3.0,
        fee_reit=2.0,
        fee_referral=1.0,
        group_fee_income=1000.0,  # the group's: in no line of the bank's
        personal_finance_income=6.0,
        operating_cost=50.0,
        credit_loss=20.0,
        demand_deposits=300.0,
        time_deposits=700.0,
        exposure=600.0,
        operator_exposure=200.0,
        tax_rate=0.25,
    )
    assert led.net_interest_income == 80.0  # 100 − 40 + 30 − 10
    assert led.fee_income == 15.0
    assert led.revenue == 101.0
    assert led.pre_tax_profit == 31.0  # 101 − 50 − 20
    assert led.tax == 7.75 and led.net_profit == 23.25
    assert led.balance_sheet == 1000.0  # deposits exceed loans (800)
    # A loss is taxed negatively: the group's other profits absorb it.
    loss = dataclasses.replace(led, credit_loss=131.0)
    assert loss.pre_tax_profit == -80.0
    assert loss.tax == -20.0 and loss.net_profit == -60.0
    assert dataclasses.replace(led, exposure=1500.0).balance_sheet == 1700.0


@pytest.fixture
def small() -> ParkModel:
    return ParkModel(BASELINE, "tier2_heavy", rng=1, park__enterprises=30, collect=False)


def test_a_quarters_deposits_fees_and_costs_by_hand(small: ParkModel) -> None:
    """Bank 0: firms 0 and 1 (revenue 1,000 and 3,000 a year) bank with it, firm 1 lists
    (valuation 10,000); firm 2 banks with bank 1 but borrows 200 from bank 0; firm 3, bank
    0's client, is acquired at valuation 2,000. Bank 0 also lends 400 to firm 0 and 1,000
    to the operator."""
    pop = EnterprisePopulation(n_banks=3, sector_names=("a",))
    pop.add(
        stage=np.array([Stage.GROWTH, Stage.LISTED, Stage.GROWTH, Stage.ACQUIRED]),
        sector=np.zeros(4, dtype=np.int64),
        size=np.array([1000.0, 3000.0, 500.0, 800.0]),
        main_bank=np.array([0, 0, 1, 0]),
        valuation=np.array([0.0, 10_000.0, 0.0, 2000.0]),
    )
    pop.lender[[0, 2]] = 0
    pop.debt[[0, 2]] = [400.0, 200.0]
    pop.loan_status[[0, 2]] = LoanStatus.PERFORMING
    events = dataclasses.replace(
        LifecycleEvents.none(), listed=np.array([1]), acquired=np.array([3])
    )
    income = IncomeParams(
        settlement_fee=0.0004,
        bond_issue_prob=0.0,
        ipo_fee=0.015,
        ipo_advisory_fee=0.003,
        ipo_float=0.25,
        mna_fee=0.005,
        acquisition_multiple=1.3,
        referral_share=0.3,
        retail_margin=0.0,
        wealth_fee=0.0,
        deposit_time_share=0.6,
        demand_deposit_rate=0.0025,
        time_deposit_rate=0.017,
        time_ftp_premium=0.001,
        loan_cost=0.008,
        deposit_cost=0.003,
        head_office_share=0.25,
    )
    banks = small.banks
    for bank in banks:
        bank.ledger = BankLedger()
        bank.operator_loan = 0.0
        bank.spec = dataclasses.replace(
            bank.spec, deposit_share=0.1, fixed_cost=100.0, cost_per_client=2.0
        )
    banks[0].spec = dataclasses.replace(banks[0].spec, advisory_capture=1.0)
    banks[0].operator_loan = 1000.0
    earn_income(pop, banks, income, events, FirmStreams(3), quarter=5, ftp_rate=0.02)
    led = banks[0].ledger
    # Deposits: 10 % of 4,000 = 400, of which 60 % time.
    assert (led.demand_deposits, led.time_deposits) == pytest.approx((160.0, 240.0), **MONEY)
    assert led.interest_expense == pytest.approx((160 * 0.0025 + 240 * 0.017) / 4, **MONEY)
    assert led.ftp_credit == pytest.approx((160 * 0.02 + 240 * 0.021) / 4, **MONEY)
    assert led.fee_settlement == pytest.approx(4000 * 0.0004 / 4, **MONEY)
    # Proceeds 0.25 × 10,000 = 2,500: advisory 0.3 % = 7.5, the price 1.3 × 2,000 at
    # 0.5 % = 13; the sponsor's 1.5 % = 37.5 is the group's, 30 % of it referral income.
    assert led.fee_advisory == pytest.approx(7.5 + 13.0, **MONEY)
    assert led.group_fee_income == pytest.approx(37.5, **MONEY)
    assert led.fee_referral == pytest.approx(11.25, **MONEY)
    # Direct cost: fixed 100 + 2 × 3 clients (firms 0, 1 and borrower 2) + loans 1,600 ×
    # 0.8 % / 4 + deposits 400 × 0.3 % / 4 = 109.5; head office 25 % of it.
    assert led.head_office_cost == pytest.approx(0.25 * 109.5, **MONEY)
    assert led.operating_cost == pytest.approx(1.25 * 109.5, **MONEY)
    # Bank 1: firm 2's deposits (50) and one client, no loans.
    other = banks[1].ledger
    assert other.deposits == pytest.approx(50.0, **MONEY)
    assert other.operating_cost == pytest.approx(1.25 * (100 + 2 + 50 * 0.003 / 4), **MONEY)
