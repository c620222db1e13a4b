"""Bank accounting: the identities every bank's books satisfy, every quarter.

Each bank's `history` holds one `BankLedger` per quarter, starting with quarter 0 (the
loan book the park opens with, no flows); the time series repeats the focal bank's. The
loan book itself lives in the population columns, so the ledgers are also checked against
what the population says at each quarter end.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from parksim import ParkModel, load_scenario
from parksim.banks.bank import BankLedger
from parksim.core.codes import STAGES, LoanStatus

BASELINE = "scenarios/baseline.toml"
STRATEGIES = load_scenario(BASELINE).names
QUARTERS = 20
WORKOUT_QUARTERS = 4
NO_POLICY: dict[str, float] = {}
POLICY_PACKAGE = {"risk_pool_share": 0.5, "risk_pool_size": 1e6, "guarantee_share": 0.5}
POLICIES = {"no_policy": NO_POLICY, "policy_package": POLICY_PACKAGE}
MONEY = {"rel": 1e-9, "abs": 1e-6}  # 万元: exact up to floating-point rounding


@dataclass
class BankQuarter:
    """What the population says about one bank's book at one quarter end."""

    book_debt: float  # Σ debt of rows the bank holds
    npl_debt: float  # Σ debt of its non-performing rows
    defaults: int  # loans that defaulted this quarter
    defaulted_debt: float
    gross_loss: float  # Σ defaulted debt × LGD
    covered_gross_loss: float  # the part on loans with policy cover
    due_for_write_off: float  # NPL debt whose workout ends next quarter


@dataclass
class Trace:
    """A model run with, per quarter, each bank's book read from the population."""

    model: ParkModel
    policy: dict[str, float]
    books: list[list[BankQuarter]] = field(default_factory=list)  # [quarter][bank], from 0
    pool_remaining: list[float] = field(default_factory=list)


def read_books(model: ParkModel) -> list[BankQuarter]:
    """Each bank's book as the population columns show it now."""
    pop, q = model.enterprises, model.quarter
    books = []
    for bank in model.banks:
        held = pop.lender == bank.index
        npl = held & (pop.loan_status == LoanStatus.NON_PERFORMING)
        # Written off at quarter q + 1 are the NPLs whose default is WORKOUT_QUARTERS old then.
        due = npl & (pop.default_quarter <= q + 1 - WORKOUT_QUARTERS)
        # Loans that defaulted this quarter are still on the book (the workout lasts longer).
        defaulted = held & (pop.default_quarter == q)
        gross = pop.debt[defaulted] * pop.loan_lgd[defaulted]
        covered = pop.loan_policy_cover[defaulted] > 0
        books.append(
            BankQuarter(
                book_debt=float(pop.debt[held].sum()),
                npl_debt=float(pop.debt[npl].sum()),
                defaults=int(defaulted.sum()),
                defaulted_debt=float(pop.debt[defaulted].sum()),
                gross_loss=float(gross.sum()),
                covered_gross_loss=float(gross[covered].sum()),
                due_for_write_off=float(pop.debt[due].sum()),
            )
        )
    return books


def trace(strategy: str, policy: dict[str, float], seed: int = 3) -> Trace:
    model = ParkModel(
        BASELINE,
        strategy,
        rng=seed,
        park__enterprises=400,
        horizon=QUARTERS,
        credit__workout_quarters=WORKOUT_QUARTERS,
        **policy,
    )
    result = Trace(model, policy, [read_books(model)], [model.pool_remaining])
    for _ in range(QUARTERS):
        model.step()
        result.books.append(read_books(model))
        result.pool_remaining.append(model.pool_remaining)
    return result


@pytest.fixture(
    scope="module",
    params=[(s, p) for p in POLICIES for s in STRATEGIES],
    ids=lambda sp: f"{sp[0]}-{sp[1]}",
)
def run(request) -> Trace:
    strategy, policy = request.param
    return trace(strategy, POLICIES[policy])


def ledgers(run: Trace):
    """(bank index, quarter, ledger) for every bank and quarter, quarter 0 included."""
    for bank in run.model.banks:
        assert len(bank.history) == QUARTERS + 1
        for q, ledger in enumerate(bank.history):
            yield bank.index, q, ledger


# --- the exposure roll-forward ---------------------------------------------------------


FLOWS = (
    "new_loans",
    "repayments",
    "written_off",
    "defaults",
    "defaulted_exposure",
    "credit_loss",
    "policy_recoveries",
    "sold_down",
)


def test_the_park_opens_with_a_performing_loan_book_and_no_flows(run: Trace) -> None:
    for bank in run.model.banks:
        opening = bank.history[0]
        assert all(getattr(opening, name) == 0 for name in FLOWS), bank.index
        assert opening.npl_balance == 0.0
        assert opening.exposure == pytest.approx(run.books[0][bank.index].book_debt, **MONEY)
    assert sum(bank.history[0].exposure for bank in run.model.banks) > 0


def test_exposure_rolls_forward_from_the_opening_book(run: Trace) -> None:
    for bank in run.model.banks:
        for q in range(1, QUARTERS + 1):
            led, previous = bank.history[q], bank.history[q - 1].exposure
            expected = previous + led.new_loans - led.repayments - led.written_off - led.sold_down
            assert led.exposure == pytest.approx(expected, **MONEY), (bank.index, q)


def test_exposure_is_the_opening_book_plus_lending_less_repayments_and_write_offs(
    run: Trace,
) -> None:
    for bank in run.model.banks:
        h = bank.history
        lent = sum(led.new_loans for led in h)
        repaid = sum(led.repayments for led in h)
        written_off = sum(led.written_off for led in h)
        sold = sum(led.sold_down for led in h)
        expected = h[0].exposure + lent - repaid - written_off - sold
        assert h[-1].exposure == pytest.approx(expected, **MONEY)


def test_flows_and_stocks_are_never_negative(run: Trace) -> None:
    for b, q, led in ledgers(run):
        for name in ("new_loans", "repayments", "written_off", "exposure", "npl_balance"):
            assert getattr(led, name) >= 0.0, (b, q, name)
        for name in ("defaulted_exposure", "credit_loss", "policy_recoveries", "expected_loss"):
            assert getattr(led, name) >= 0.0, (b, q, name)


def test_the_book_in_the_ledger_is_the_book_in_the_population(run: Trace) -> None:
    for b, q, led in ledgers(run):
        book = run.books[q][b]
        assert led.exposure == pytest.approx(book.book_debt, **MONEY), (b, q)
        assert led.npl_balance == pytest.approx(book.npl_debt, **MONEY), (b, q)


def test_focal_bank_exposure_is_the_debt_of_firms_it_lends_to(run: Trace) -> None:
    ts = run.model.timeseries()
    book = [quarter[0].book_debt for quarter in run.books]
    np.testing.assert_allclose(ts["exposure"], book, rtol=1e-9, atol=1e-6)


def test_npl_balance_never_exceeds_exposure(run: Trace) -> None:
    for b, q, led in ledgers(run):
        assert led.npl_balance <= led.exposure + 1e-6, (b, q)
    ts = run.model.timeseries()
    assert (ts["npl_ratio"].between(0.0, 1.0)).all()
    lent = ts["exposure"] > 0
    np.testing.assert_allclose(
        ts.loc[lent, "npl_ratio"], ts.loc[lent, "npl_balance"] / ts.loc[lent, "exposure"]
    )


def test_exposure_by_stage_adds_up_to_exposure(run: Trace) -> None:
    for b, q, led in ledgers(run):
        assert led.exposure_by_stage.sum() == pytest.approx(led.exposure, **MONEY), (b, q)
        assert (led.exposure_by_stage >= 0.0).all(), (b, q)
    ts = run.model.timeseries()
    by_stage = ts[[f"exposure_{s}" for s in STAGES]].sum(axis=1)
    np.testing.assert_allclose(by_stage, ts["exposure"], rtol=1e-9, atol=1e-6)


def test_defaults_by_stage_add_up_to_defaults(run: Trace) -> None:
    for b, q, led in ledgers(run):
        assert led.defaults_by_stage.sum() == led.defaults, (b, q)
    ts = run.model.timeseries()
    assert (ts[[f"defaults_{s}" for s in STAGES]].sum(axis=1) == ts["defaults"]).all()


def test_written_off_are_the_npls_whose_workout_has_ended(run: Trace) -> None:
    for b, q, led in ledgers(run):
        due = run.books[q - 1][b].due_for_write_off if q >= 1 else 0.0
        assert led.written_off == pytest.approx(due, **MONEY), (b, q)


# --- defaults and credit losses -----------------------------------------------------------


def test_defaults_are_the_loans_of_firms_that_failed_this_quarter(run: Trace) -> None:
    for b, q, led in ledgers(run):
        book = run.books[q][b]
        assert led.defaults == book.defaults, (b, q)
        assert led.defaulted_exposure == pytest.approx(book.defaulted_debt, **MONEY), (b, q)


def test_credit_loss_is_loss_given_default_less_recoveries(run: Trace) -> None:
    for b, q, led in ledgers(run):
        gross = run.books[q][b].gross_loss
        assert led.credit_loss + led.policy_recoveries == pytest.approx(gross, **MONEY), (b, q)
        assert 0.0 <= led.credit_loss <= led.defaulted_exposure + 1e-6, (b, q)
        assert led.policy_recoveries <= gross + 1e-6, (b, q)


def test_recoveries_are_the_guarantee_and_pool_shares_of_covered_losses(run: Trace) -> None:
    guarantee = run.policy.get("guarantee_share", 0.0)
    pool = run.policy.get("risk_pool_share", 0.0)
    assert min(run.pool_remaining, default=0.0) > 0 or pool == 0, "the pool must not run dry"
    # Without policy the cover is zero, and so are the recoveries.
    cover = guarantee + (1.0 - guarantee) * pool
    for b, q, led in ledgers(run):
        covered = run.books[q][b].covered_gross_loss
        assert led.policy_recoveries == pytest.approx(cover * covered, **MONEY), (b, q)


# --- profit ---------------------------------------------------------------------------------


def test_profit_is_revenue_less_operating_cost_credit_loss_and_tax(run: Trace) -> None:
    ts = run.model.timeseries()
    pre_tax = (
        ts["net_interest_income"]
        + ts["fee_income"]
        + ts["equity_income"]
        + ts["personal_finance_income"]
        - ts["operating_cost"]
        - ts["credit_loss"]
    )
    np.testing.assert_allclose(ts["pre_tax_profit"], pre_tax, rtol=1e-9, atol=1e-6)
    tax_rate = run.model.config.income.tax_rate
    np.testing.assert_allclose(ts["tax"], tax_rate * pre_tax, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(ts["net_profit"], (1 - tax_rate) * pre_tax, rtol=1e-9, atol=1e-6)


def test_time_series_repeats_the_focal_banks_ledger(run: Trace) -> None:
    ts = run.model.timeseries()
    history = run.model.focal_bank.history
    for name in ("exposure", "new_loans", "repayments", "written_off", "credit_loss"):
        assert ts[name].tolist() == [getattr(led, name) for led in history], name
    assert ts["net_profit"].tolist() == [led.net_profit for led in history]


def test_each_quarter_has_its_own_ledger(run: Trace) -> None:
    for bank in run.model.banks:
        assert len({id(led) for led in bank.history}) == QUARTERS + 1
        assert all(isinstance(led, BankLedger) for led in bank.history)


# --- the risk pool --------------------------------------------------------------------------


def test_pool_capital_never_goes_negative(run: Trace) -> None:
    size = run.policy.get("risk_pool_size", 0.0)
    assert all(0.0 <= remaining <= size for remaining in run.pool_remaining)
    assert all(np.diff([size, *run.pool_remaining]) <= 0.0)


SMALL_POOL_SIZES = (100.0, 300.0, 777.7)


def small_pool(size: float, seed: int = 3) -> Trace:
    """A pool that claims on young firms' loans exhaust within the run (no guarantee)."""
    return trace("tier3_light", {"risk_pool_share": 0.5, "risk_pool_size": size}, seed=seed)


@pytest.mark.parametrize("size", SMALL_POOL_SIZES)
def test_a_small_pool_pays_out_its_capital_and_no_more(size: float) -> None:
    result = small_pool(size)
    paid = sum(led.policy_recoveries for bank in result.model.banks for led in bank.history)
    asked = 0.5 * sum(book.covered_gross_loss for quarter in result.books for book in quarter)
    assert asked > size, "claims must exceed the pool for this test to bite"
    assert paid == pytest.approx(size, **MONEY)
    assert result.model.pool_remaining + paid == pytest.approx(size, **MONEY)


def test_an_exhausted_pool_stays_at_zero_and_never_charges_a_bank() -> None:
    for seed in range(6):
        for size in SMALL_POOL_SIZES:
            result = small_pool(size, seed)
            assert min(result.pool_remaining) >= 0.0, (seed, size)
            for b, q, led in ledgers(result):
                assert led.policy_recoveries >= 0.0, (seed, size, b, q)


# --- the checks above are not vacuous ----------------------------------------------------------


def test_runs_exercise_lending_defaults_write_offs_and_recoveries() -> None:
    runs = [trace(s, POLICY_PACKAGE) for s in ("tier1_heavy", "tier3_light")]
    every = [led for r in runs for bank in r.model.banks for led in bank.history]
    assert sum(led.new_loans for led in every) > 0
    assert sum(led.defaults for led in every) > 0
    assert sum(led.written_off for led in every) > 0
    assert sum(led.policy_recoveries for led in every) > 0
    assert sum(led.npl_balance for led in every) > 0
