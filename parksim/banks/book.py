"""The loan book: every bank's enterprise loans, worked for all banks at once.

Loans live in the enterprise columns (`lender`, `debt`, `loan_rate`, `loan_status`, ...):
each firm owes at most one bank. Each quarter's operations on the book (interest and
amortisation, early repayment, default, write-off, closing stocks) are a few vectorised
passes over the rows with a loan, split by bank with `np.bincount`, and posted to each
bank's ledger. The close, a dozen sums and each bank's risk measures over every loan, is
one compiled pass (`_book_stocks`). The kernels take the loan columns as one named bundle
(`LoanColumns`) and read loan states as `LoanStatus` members.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit

from parksim.banks.risk import (
    GA_LGD_VARIANCE,
    N_MEASURES,
    OPERATIONAL_QUARTERS,
    BookLoans,
    BookRisk,
    Granularity,
    allocated_capital,
    book_measures,
    ga_delta,
    operational_capitals,
    stake_and_operator_capital,
)
from parksim.banks.stakes import cost_by_bank
from parksim.core.codes import LoanStatus, Product, Stage
from parksim.core.population import N_ACTIVE_STAGES, EnterprisePopulation
from parksim.core.units import QUARTERS_PER_YEAR
from parksim.policy import RiskPool, pay_claims

if TYPE_CHECKING:
    from parksim.banks.bank import Bank


class LoanColumns(NamedTuple):
    """The population's loan columns (one entry per firm; each firm owes at most one
    bank), as the book's kernels read and write them."""

    lender: np.ndarray  # bank index, -1 without a loan
    debt: np.ndarray  # balance, 万元
    loan_rate: np.ndarray  # annual
    loan_lgd: np.ndarray  # before policy cover
    loan_pd: np.ndarray  # the lender's annual estimate at booking
    loan_product: np.ndarray  # `Product` code
    loan_quarters_left: np.ndarray
    loan_status: np.ndarray  # `LoanStatus` code
    loan_policy_cover: np.ndarray
    default_quarter: np.ndarray  # -1 while performing
    loan_irb_loss: np.ndarray  # IRB terms fixed at booking (`risk.irb_terms`)
    loan_irb_slope: np.ndarray

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> LoanColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class BorrowerColumns(NamedTuple):
    """What the close reads of each borrower besides its loan."""

    stage: np.ndarray
    last_active_stage: np.ndarray  # the stage a failed or departed firm last held
    sector: np.ndarray

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> BorrowerColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


def _per_bank(lender: np.ndarray, weights: np.ndarray | None, n_banks: int) -> np.ndarray:
    return np.bincount(lender, weights=weights, minlength=n_banks)


def count_borrowers(pop: EnterprisePopulation, banks: Sequence[Bank]) -> None:
    """Note each bank's performing borrowers by stage at quarter start (default-rate base)."""
    counts = _borrowers_by_stage(LoanColumns.of(pop), pop.stage, len(banks))
    for bank in banks:
        bank.ledger.borrowers_by_stage = counts[bank.index]


@njit(cache=True)
def _borrowers_by_stage(loans: LoanColumns, stage: np.ndarray, n_banks: int) -> np.ndarray:
    """Performing loans counted by bank × borrower's stage (as floats: rates divide them)."""
    counts = np.zeros((n_banks, N_ACTIVE_STAGES))
    for i in range(len(loans.loan_status)):
        if loans.loan_status[i] == LoanStatus.PERFORMING:
            counts[loans.lender[i], stage[i]] += 1
    return counts


def service(pop: EnterprisePopulation, banks: Sequence[Bank], ftp_rate: float) -> None:
    """Collect a quarter's interest and scheduled principal on performing loans; every
    loan, performing or not, is charged its funding at the FTP rate (annual)."""
    serviced = _service(LoanColumns.of(pop), ftp_rate, len(banks))
    for bank in banks:
        bank.ledger.interest_income += serviced.interest[bank.index]
        bank.ledger.ftp_charge += serviced.ftp_charge[bank.index]
        bank.ledger.repayments += serviced.repayments[bank.index]


class Serviced(NamedTuple):
    """Each bank's flows of a quarter's loan service (万元)."""

    interest: np.ndarray  # interest received on performing loans
    ftp_charge: np.ndarray  # FTP rate × the balance of every loan (NPLs too)
    repayments: np.ndarray  # scheduled principal


@njit(cache=True)
def _service(loans: LoanColumns, ftp_rate: float, n_banks: int) -> Serviced:
    """A quarter of loan service, by bank: a performing loan pays a quarter's interest on
    its balance and an equal instalment of it (balance / quarters left, so the term repays
    exactly the principal) and leaves the book with its last one (`close_loans`); an NPL
    pays nothing. Every loan's balance is charged a quarter of the FTP rate (`Serviced`)."""
    interest = np.zeros(n_banks)
    charge = np.zeros(n_banks)
    repayments = np.zeros(n_banks)
    status, lender, debt = loans.loan_status, loans.lender, loans.debt
    left_column = loans.loan_quarters_left
    for i in range(len(status)):
        if status[i] == LoanStatus.NON_PERFORMING:
            charge[lender[i]] += debt[i] * ftp_rate / QUARTERS_PER_YEAR
        elif status[i] == LoanStatus.PERFORMING:
            b, balance, left = lender[i], debt[i], left_column[i]
            repaid = balance / max(left, 1)
            interest[b] += balance * loans.loan_rate[i] / QUARTERS_PER_YEAR
            charge[b] += balance * ftp_rate / QUARTERS_PER_YEAR
            repayments[b] += repaid
            debt[i] = balance - repaid
            left_column[i] = left - 1
            if left <= 1:
                status[i], lender[i], left_column[i] = LoanStatus.NONE, -1, 0
    return Serviced(interest, charge, repayments)


def record_new_loans(pop: EnterprisePopulation, banks: Sequence[Bank], rows: np.ndarray):
    """Account for loans just booked; growth and pre-IPO loans of 2.0+ banks carry a
    warrant (认股权贷款, §六(二)2) unless the bank already holds one on the firm."""
    lender = pop.lender[rows]
    drawn = _per_bank(lender, pop.debt[rows], len(banks))
    stage = pop.stage[rows]
    growth = (stage >= Stage.GROWTH) & (stage <= Stage.PRE_IPO)
    growth &= pop.loan_product[rows] != Product.MNA  # M&A loans carry no warrants
    young = _per_bank(lender, pop.debt[rows] * (stage <= Stage.STARTUP), len(banks))
    coverage = np.zeros(len(banks))
    for bank in banks:
        bank.ledger.new_loans += drawn[bank.index]
        bank.ledger.new_loans_young += young[bank.index]
        coverage[bank.index] = bank.spec.warrant_coverage
    carried = growth.nonzero()[0]
    carried = carried[(coverage[lender[carried]] > 0).nonzero()[0]]
    if len(carried):
        held = rows[carried]
        grant_warrants(pop, held, lender[carried], coverage[lender[carried]])


def grant_warrants(
    pop: EnterprisePopulation, rows: np.ndarray, lender: np.ndarray, coverage: np.ndarray
) -> np.ndarray:
    """Each firm at `rows` gives its `lender` (a bank index) a warrant unless that bank
    has one on it already: notional `coverage` (each firm's) × the loan just drawn,
    strike the firm's valuation now (万元). A bank's warrants are its column of the
    per-bank columns, its place in its park.

    One warrant per firm and bank: a later loan adds none, so warrants do not stack.
    Returns the rows granted."""
    column = lender % pop.n_banks
    new = ((pop.warrant_notional[rows, column] == 0) & (pop.valuation[rows] > 0)).nonzero()[0]
    rows, column = rows[new], column[new]
    pop.warrant_notional[rows, column] = coverage[new] * pop.debt[rows]
    pop.warrant_strike[rows, column] = pop.valuation[rows]
    return rows


def repay_in_full(pop: EnterprisePopulation, banks: Sequence[Bank], rows: np.ndarray) -> None:
    """Firms that leave the park (relocated, acquired) repay what they owe."""
    rows = rows[(pop.loan_status[rows] == LoanStatus.PERFORMING).nonzero()[0]]
    repaid = _per_bank(pop.lender[rows], pop.debt[rows], len(banks))
    pop.debt[rows] = 0.0
    close_loans(pop, rows)
    for bank in banks:
        bank.ledger.repayments += repaid[bank.index]


def take_defaults(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    failed: np.ndarray,
    stage_before: np.ndarray,
    quarter: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Move loans of failed firms to non-performing; count defaults by bank and stage.

    Returns (rows, gross loss = balance × LGD) for the guarantee and the risk pool.
    """
    taken = _take_defaults(failed, stage_before, quarter, LoanColumns.of(pop), len(banks))
    for bank in banks:
        b = bank.index
        bank.ledger.collateral_recoveries += taken.collateral[b]
        bank.ledger.defaults += int(taken.by_stage[b].sum())
        bank.ledger.defaulted_exposure += taken.exposure[b]
        bank.ledger.defaults_by_stage += taken.by_stage[b]
    return taken.rows, taken.gross


class Defaults(NamedTuple):
    """A quarter's defaults: the loans' rows and gross losses, and each bank's totals."""

    rows: np.ndarray
    gross: np.ndarray  # balance × LGD, 万元, before guarantee and risk pool
    exposure: np.ndarray  # by bank: the defaulted balance, 万元
    collateral: np.ndarray  # by bank: the defaulted balance less the gross loss, 万元
    by_stage: np.ndarray  # bank × stage at quarter start: defaults counted


@njit(cache=True)
def _take_defaults(
    failed: np.ndarray, stage_before: np.ndarray, quarter: int, loans: LoanColumns, n_banks: int
) -> Defaults:
    """The performing loans of the `failed` rows turn non-performing in `quarter`; each
    loses balance × LGD before policy cover, the rest is recovered from collateral
    (`Defaults`, in the order of `failed`)."""
    rows = np.empty(len(failed), dtype=np.int64)
    gross = np.empty(len(failed))
    exposure, collateral = np.zeros(n_banks), np.zeros(n_banks)
    by_stage = np.zeros((n_banks, N_ACTIVE_STAGES), dtype=np.int64)
    k = 0
    for i in failed:
        if loans.loan_status[i] != LoanStatus.PERFORMING:
            continue
        loans.loan_status[i] = LoanStatus.NON_PERFORMING
        loans.default_quarter[i] = quarter
        b, balance = loans.lender[i], loans.debt[i]
        loss = balance * loans.loan_lgd[i]
        exposure[b] += balance
        collateral[b] += balance - loss
        by_stage[b, stage_before[i]] += 1
        rows[k], gross[k] = i, loss
        k += 1
    return Defaults(rows[:k], gross[:k], exposure, collateral, by_stage)


def write_off(
    pop: EnterprisePopulation, banks: Sequence[Bank], quarter: int, workout_quarters: int
) -> None:
    """Remove non-performing loans whose workout period has ended from the book."""
    written = _write_off(LoanColumns.of(pop), quarter - workout_quarters, len(banks))
    for bank in banks:
        bank.ledger.written_off += written[bank.index]


@njit(cache=True)
def _write_off(loans: LoanColumns, last_due: int, n_banks: int) -> np.ndarray:
    """Each bank's NPLs that defaulted in quarter `last_due` or before (their workout is
    over) leave the book (`close_loans`): the balance written off by bank, 万元."""
    written = np.zeros(n_banks)
    status, lender, debt = loans.loan_status, loans.lender, loans.debt
    for i in range(len(status)):
        if status[i] == LoanStatus.NON_PERFORMING and loans.default_quarter[i] <= last_due:
            written[lender[i]] += debt[i]
            debt[i] = 0.0
            status[i], lender[i], loans.loan_quarters_left[i] = LoanStatus.NONE, -1, 0
    return written


def sell_down(pop: EnterprisePopulation, banks: Sequence[Bank], quarter: int) -> np.ndarray:
    """Bring every bank's exposures within its single-name limit (`Bank.name_cap`, a share
    of the tier-1 capital allocated to the park business).

    A bank sells the excess: of a performing loan at par to lenders outside the park (a
    syndication, the way a bank complies with a large-exposure limit), of an NPL at its
    net carrying value to an asset-management company (不良资产转让), with no further gain
    or loss, from the quarter after it defaulted (it must be classified first). Returns the
    balance sold by bank (万元).
    """
    return _sell_down_rows(pop, banks, quarter, pop.loan_rows())


def _sell_down_rows(
    pop: EnterprisePopulation, banks: Sequence[Bank], quarter: int, rows: np.ndarray
) -> np.ndarray:
    caps = np.empty(len(banks))
    for bank in banks:
        caps[bank.index] = bank.name_cap
    return _sell_down(rows, LoanColumns.of(pop), caps, quarter)


@njit(cache=True)
def _loans_by_bank(lender: np.ndarray, n_banks: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the loans grouped by bank, in their order within each bank: bank b's
    are order[start[b]:start[b + 1]] (as `(lender == b).nonzero()[0]`)."""
    start = np.zeros(n_banks + 1, dtype=np.int64)
    for j in range(len(lender)):
        start[lender[j] + 1] += 1
    for b in range(n_banks):
        start[b + 1] += start[b]
    filled = start[:-1].copy()
    order = np.empty(len(lender), dtype=np.int64)
    for j in range(len(lender)):
        b = lender[j]
        order[filled[b]] = j
        filled[b] += 1
    return order, start


@njit(cache=True)
def limit_exposures(rows: np.ndarray, loans: LoanColumns) -> np.ndarray:
    """What each loan at `rows` counts for against large-exposure limits (万元): the
    balance net of the loss already booked, as the CBIRC 2018 rules measure exposures net
    of provisions. A performing loan counts at its balance, an NPL at balance × (1 − LGD)."""
    counted = np.empty(len(rows))
    for j in range(len(rows)):
        i = rows[j]
        performing = loans.loan_status[i] == LoanStatus.PERFORMING
        counted[j] = loans.debt[i] * (1.0 if performing else 1.0 - loans.loan_lgd[i])
    return counted


@njit(cache=True)
def _sell_down(rows: np.ndarray, loans: LoanColumns, caps: np.ndarray, quarter: int) -> np.ndarray:
    """`sell_down` of the loans at `rows`: each bank cuts every exposure that counts for
    more than its cap (万元, `caps` by bank; inf: no limit) down to the cap."""
    n_banks = len(caps)
    debt, default_quarter = loans.debt, loans.default_quarter
    counted = limit_exposures(rows, loans)
    order, start = _loans_by_bank(loans.lender[rows], n_banks)
    sold = np.zeros(n_banks)
    for b in range(n_banks):
        own = order[start[b] : start[b + 1]]
        cap = caps[b]
        if len(own) == 0 or not np.isfinite(cap):
            continue
        # A relative tolerance: a book just cut must not be cut again by rounding.
        over = own[counted[own] > cap * (1.0 + 1e-9)]
        over = over[default_quarter[rows[over]] < quarter]  # -1 while performing
        if len(over) == 0:
            continue
        keep = cap / counted[over]
        cut = rows[over]
        sold[b] = np.sum(debt[cut] * (1.0 - keep))
        for j in range(len(cut)):
            debt[cut[j]] *= keep[j]
    return sold


def close_books(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    quarterly_pd: np.ndarray,
    n_sectors: int,
    quarter: int,
    bank_holds_equity: bool = True,
) -> None:
    """End-of-quarter stocks of every bank: exposure, NPL, borrowers, by stage, EL,
    concentration and capital; first, exposures above the single-name limit are sold.
    The stakes need the bank's capital only where it holds them (`bank_holds_equity`).
    Concentration counts the operator's development loans as one more name (and one more
    sector). Last, each bank allocates tier-1 capital to the park business for the next
    quarter's limits (`risk.allocated_capital`).

    A failed borrower's exposure counts under the stage it held when it failed.
    """
    rows = pop.loan_rows()  # a sale changes balances, not lenders
    sold = _sell_down_rows(pop, banks, quarter, rows)
    stocks = _book_stocks(
        rows,
        LoanColumns.of(pop),
        BorrowerColumns.of(pop),
        quarterly_pd,
        len(banks),
        n_sectors,
        Granularity(GA_LGD_VARIANCE, ga_delta()),
        np.array([bank.operator_loan for bank in banks]),
    )
    exposure, npl, borrowers, expected = (
        a.tolist() for a in (stocks.exposure, stocks.npl, stocks.borrowers, stocks.expected_loss)
    )
    for bank in banks:
        led, b = bank.ledger, bank.index
        led.sold_down = sold[b]
        led.allocated_capital = bank.allocated_capital
        led.single_name_limit = bank.spec.single_name_limit * bank.allocated_capital
        led.exposure, led.npl_balance = exposure[b], npl[b]
        led.borrowers, led.expected_loss = int(borrowers[b]), expected[b]
        led.exposure_by_stage = stocks.by_stage[b]
        led.exposure_by_sector = stocks.by_sector[b]
    past = OPERATIONAL_QUARTERS - 1
    income = [[*bank.gross_incomes[-past:], bank.ledger.gross_income] for bank in banks]
    operational = operational_capitals(np.array(income))
    stake_cost = (
        cost_by_bank(pop.bank_stake_cost, pop.replication, len(banks))
        if bank_holds_equity
        else np.zeros(len(banks))
    )
    measures = stocks.risk.tolist()
    for bank in banks:
        b = bank.index
        equity, operator = stake_and_operator_capital(float(stake_cost[b]), bank.operator_loan)
        bank.ledger.risk = BookRisk(
            *measures[b],
            capital_operational=operational[b],
            capital_equity=equity,
            capital_operator=operator,
        )
        bank.allocated_capital = allocated_capital(
            bank.ledger.risk.capital, bank.spec.tier1_capital_ratio
        )
        bank.close_quarter()


class BookStocks(NamedTuple):
    """Every bank's closing stocks (万元 unless said)."""

    exposure: np.ndarray  # by bank: performing + NPL balance
    npl: np.ndarray  # by bank: NPL balance
    borrowers: np.ndarray  # by bank: performing loans (a count, as floats)
    expected_loss: np.ndarray  # by bank: Σ performing balance × quarterly PD × net LGD
    by_stage: np.ndarray  # bank × stage held (at failure, for a failed firm)
    by_sector: np.ndarray  # bank × sector code
    risk: np.ndarray  # bank × `BookMeasures` fields, in their order


@njit(cache=True)
def _book_stocks(
    rows: np.ndarray,
    loans: LoanColumns,
    borrowers: BorrowerColumns,
    quarterly_pd: np.ndarray,
    n_banks: int,
    n_sectors: int,
    granularity: Granularity,
    operator_loans: np.ndarray,
) -> BookStocks:
    """Every bank's closing stocks from the loans at `rows` (`BookStocks`), and each bank's
    `book_measures` of concentration and IRB capital. A loan's net LGD is its LGD less the
    policy cover; a failed borrower's exposure counts under the stage it last held. A
    bank's development loans to the operator (`operator_loans`, 万元) count as one more
    name and sector in its concentration, not in its IRB capital (they carry their own,
    `risk.stake_and_operator_capital`)."""
    exposure, npl = np.zeros(n_banks), np.zeros(n_banks)
    performing_count, expected = np.zeros(n_banks), np.zeros(n_banks)
    by_stage = np.zeros((n_banks, N_ACTIVE_STAGES))
    by_sector = np.zeros((n_banks, n_sectors))
    performing = np.empty(len(rows), dtype=np.bool_)
    net_lgd = np.empty(len(rows))
    for j in range(len(rows)):
        i = rows[j]
        b, balance = loans.lender[i], loans.debt[i]
        performing[j] = loans.loan_status[i] == LoanStatus.PERFORMING
        net_lgd[j] = loans.loan_lgd[i] * (1.0 - loans.loan_policy_cover[i])
        exposure[b] += balance
        if performing[j]:
            performing_count[b] += 1.0
            expected[b] += balance * (quarterly_pd[i] * net_lgd[j])
        else:
            npl[b] += balance
        stage = borrowers.stage[i]
        held = stage if stage <= Stage.LISTED else borrowers.last_active_stage[i]
        by_stage[b, held] += balance
        by_sector[b, borrowers.sector[i]] += balance
    counted = limit_exposures(rows, loans)
    order, start = _loans_by_bank(loans.lender[rows], n_banks)
    risk = np.zeros((n_banks, N_MEASURES))
    for b in range(n_banks):
        own = order[start[b] : start[b + 1]]
        mine = rows[own]
        book = BookLoans(
            counted[own],
            performing[own],
            loans.loan_pd[mine],
            net_lgd[own],
            loans.loan_irb_loss[mine],
            loans.loan_irb_slope[mine],
            loans.loan_quarters_left[mine],
        )
        sectors = by_sector[b]
        if operator_loans[b] > 0:
            book = _with_operator(book, operator_loans[b])
            sectors = np.append(sectors, operator_loans[b])
        measures = book_measures(book, sectors, granularity)
        for m in range(N_MEASURES):
            risk[b, m] = measures[m]
    return BookStocks(exposure, npl, performing_count, expected, by_stage, by_sector, risk)


@njit(cache=True)
def _with_operator(book: BookLoans, operator_loan: float) -> BookLoans:
    """`book` with the operator's development loans as one more name: counted at their
    balance, outside the IRB capital (not performing as an enterprise loan is)."""
    zero = np.zeros(1)
    return BookLoans(
        np.concatenate((book.counted, np.full(1, operator_loan))),
        np.concatenate((book.performing, np.zeros(1, dtype=np.bool_))),
        np.concatenate((book.pd, zero)),
        np.concatenate((book.lgd, zero)),
        np.concatenate((book.irb_loss, zero)),
        np.concatenate((book.irb_slope, zero)),
        np.concatenate((book.quarters_left, np.zeros(1, dtype=book.quarters_left.dtype))),
    )


def close_loans(pop: EnterprisePopulation, rows: np.ndarray) -> None:
    """Take loans off the book (repaid or written off)."""
    pop.loan_status[rows] = LoanStatus.NONE
    pop.lender[rows] = -1
    pop.loan_quarters_left[rows] = 0


def take_losses(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    rows: np.ndarray,
    gross: np.ndarray,
    pools: RiskPool | Sequence[RiskPool],
) -> None:
    """Post the gross losses (万元) of loans just defaulted, less what guarantee and risk
    pool pay, to each lender's credit loss. In a batch each replication's pool (one of
    `pools`) pays its own park's banks."""
    lender, cover = pop.lender[rows], pop.loan_policy_cover[rows]
    pools = (pools,) if isinstance(pools, RiskPool) else tuple(pools)
    loss, paid = pay_claims(pools, lender, cover, gross, len(banks))
    for bank in banks:
        bank.book_credit_loss(loss[bank.index], paid[bank.index])
