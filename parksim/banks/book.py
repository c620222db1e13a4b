"""The loan book: every bank's enterprise loans, worked for all banks at once.

Loans live in the enterprise columns (`lender`, `debt`, `loan_rate`, `loan_status`, ...):
each firm owes at most one bank. Each quarter's operations on the book (interest and
amortisation, early repayment, default, write-off, closing stocks) are a few vectorised
passes over the rows with a loan, split by bank with `np.bincount`, and posted to each
bank's ledger. The close, a dozen sums and each bank's risk measures over every loan, is
one compiled pass (`_book_stocks`) that adds up in numpy's order, so results are numpy's
to the bit.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from parksim.banks.bank import Bank
from parksim.banks.risk import (
    GA_LGD_VARIANCE,
    OPERATIONAL_QUARTERS,
    BookRisk,
    book_measures,
    ga_delta,
    name_cap,
    operational_capitals,
    pairwise_sum,
    stake_and_operator_capital,
)
from parksim.core.codes import PRODUCTS, LoanStatus, Stage
from parksim.core.population import N_ACTIVE_STAGES, EnterprisePopulation
from parksim.policy import RiskPool

MNA = PRODUCTS.index("mna")  # M&A loans carry no warrants
# LoanStatus codes as plain ints, for the kernels.
NO_LOAN, PERFORMING, NON_PERFORMING = (
    int(LoanStatus.NONE),
    int(LoanStatus.PERFORMING),
    int(LoanStatus.NON_PERFORMING),
)


def _per_bank(lender: np.ndarray, weights: np.ndarray | None, n_banks: int) -> np.ndarray:
    return np.bincount(lender, weights=weights, minlength=n_banks)


def count_borrowers(pop: EnterprisePopulation, banks: Sequence[Bank]) -> None:
    """Note each bank's performing borrowers by stage at quarter start (default-rate base)."""
    counts = _borrowers_by_stage(
        pop.loan_status, pop.lender, pop.stage, len(banks), N_ACTIVE_STAGES, PERFORMING
    )
    for bank in banks:
        bank.ledger.borrowers_by_stage = counts[bank.index]


@njit(cache=True)
def _borrowers_by_stage(loan_status, lender, stage, n_banks, n_stages, performing):
    """Performing loans counted by bank × borrower's stage (as floats: rates divide them)."""
    counts = np.zeros((n_banks, n_stages))
    for i in range(len(loan_status)):
        if loan_status[i] == performing:
            counts[lender[i], stage[i]] += 1
    return counts


def service(pop: EnterprisePopulation, banks: Sequence[Bank], funding_cost: float) -> None:
    """Collect a quarter's interest and scheduled principal on performing loans; NPLs
    earn nothing and still cost their funding."""
    interest, repayments = _service(
        pop.loan_status,
        pop.lender,
        pop.debt,
        pop.loan_rate,
        pop.loan_quarters_left,
        funding_cost,
        len(banks),
        PERFORMING,
        NON_PERFORMING,
        NO_LOAN,
    )
    for bank in banks:
        bank.ledger.net_interest_income += interest[bank.index]
        bank.ledger.repayments += repayments[bank.index]


@njit(cache=True)
def _service(
    loan_status,
    lender,
    debt,
    loan_rate,
    quarters_left,
    funding_cost,
    n_banks,
    performing,
    non_performing,
    no_loan,
):
    """Each bank's net interest (less its NPLs' funding) and scheduled repayments of the
    quarter, added up loan by loan in row order as `np.bincount` does; amortises the
    performing loans and takes the ones fully repaid off the book (`close_loans`)."""
    interest = np.zeros(n_banks)
    npl_funding = np.zeros(n_banks)
    repayments = np.zeros(n_banks)
    for i in range(len(loan_status)):
        if loan_status[i] == non_performing:
            npl_funding[lender[i]] += debt[i] * funding_cost / 4.0
        elif loan_status[i] == performing:
            b, balance, left = lender[i], debt[i], quarters_left[i]
            repaid = balance / max(left, 1)
            interest[b] += balance * (loan_rate[i] - funding_cost) / 4.0
            repayments[b] += repaid
            debt[i] = balance - repaid
            quarters_left[i] = left - 1
            if left <= 1:
                loan_status[i], lender[i], quarters_left[i] = no_loan, -1, 0
    return interest - npl_funding, repayments


def record_new_loans(pop: EnterprisePopulation, banks: Sequence[Bank], rows: np.ndarray):
    """Account for loans just booked; growth and pre-IPO loans of 2.0+ banks carry a
    warrant (认股权贷款, §六(二)2) unless the bank already holds one on the firm."""
    lender = pop.lender[rows]
    drawn = _per_bank(lender, pop.debt[rows], len(banks))
    stage = pop.stage[rows]
    growth = (stage >= Stage.GROWTH) & (stage <= Stage.PRE_IPO) & (pop.loan_product[rows] != MNA)
    young = _per_bank(lender, pop.debt[rows] * (stage <= Stage.STARTUP), len(banks))
    for bank in banks:
        bank.ledger.new_loans += drawn[bank.index]
        bank.ledger.new_loans_young += young[bank.index]
        if bank.spec.warrant_coverage > 0:
            grant_warrants(
                pop,
                bank.index,
                rows[(growth & (lender == bank.index)).nonzero()[0]],
                bank.spec.warrant_coverage,
            )


def grant_warrants(
    pop: EnterprisePopulation, bank: int, rows: np.ndarray, coverage: float
) -> np.ndarray:
    """Bank `bank` takes a warrant on each firm at `rows` that it has no warrant on yet:
    notional `coverage` × the loan just drawn, strike the firm's valuation now (万元).

    One warrant per firm and bank: a later loan adds none, so warrants do not stack.
    Returns the rows granted."""
    rows = rows[((pop.warrant_notional[rows, bank] == 0) & (pop.valuation[rows] > 0)).nonzero()[0]]
    pop.warrant_notional[rows, bank] = coverage * pop.debt[rows]
    pop.warrant_strike[rows, bank] = pop.valuation[rows]
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
    rows, gross, exposure, collateral, by_stage = _take_defaults(
        failed,
        stage_before,
        quarter,
        pop.loan_status,
        pop.default_quarter,
        pop.lender,
        pop.debt,
        pop.loan_lgd,
        len(banks),
        N_ACTIVE_STAGES,
        PERFORMING,
        NON_PERFORMING,
    )
    for bank in banks:
        bank.ledger.collateral_recoveries += collateral[bank.index]
        bank.ledger.defaults += int(by_stage[bank.index].sum())
        bank.ledger.defaulted_exposure += exposure[bank.index]
        bank.ledger.defaults_by_stage += by_stage[bank.index]
    return rows, gross


@njit(cache=True)
def _take_defaults(
    failed,
    stage_before,
    quarter,
    loan_status,
    default_quarter,
    lender,
    debt,
    loan_lgd,
    n_banks,
    n_stages,
    performing,
    non_performing,
):
    """The performing loans of the `failed` rows turn non-performing: their rows, gross
    losses, and each bank's defaulted exposure, collateral recoveries and defaults by
    stage at quarter start, added up in the order of `failed` as `np.bincount` does."""
    rows = np.empty(len(failed), dtype=np.int64)
    gross = np.empty(len(failed))
    exposure, collateral = np.zeros(n_banks), np.zeros(n_banks)
    by_stage = np.zeros((n_banks, n_stages), dtype=np.int64)
    k = 0
    for i in failed:
        if loan_status[i] != performing:
            continue
        loan_status[i], default_quarter[i] = non_performing, quarter
        b, balance = lender[i], debt[i]
        loss = balance * loan_lgd[i]
        exposure[b] += balance
        collateral[b] += balance - loss
        by_stage[b, stage_before[i]] += 1
        rows[k], gross[k] = i, loss
        k += 1
    return rows[:k], gross[:k], exposure, collateral, by_stage


def write_off(
    pop: EnterprisePopulation, banks: Sequence[Bank], quarter: int, workout_quarters: int
) -> None:
    """Remove non-performing loans whose workout period has ended from the book."""
    written = _write_off(
        pop.loan_status,
        pop.default_quarter,
        pop.lender,
        pop.debt,
        pop.loan_quarters_left,
        quarter - workout_quarters,
        len(banks),
        NON_PERFORMING,
        NO_LOAN,
    )
    for bank in banks:
        bank.ledger.written_off += written[bank.index]


@njit(cache=True)
def _write_off(
    loan_status, default_quarter, lender, debt, quarters_left, last_due, n_banks, npl, no_loan
):
    """Each bank's NPLs that defaulted by quarter `last_due`, added up in row order as
    `np.bincount` does, taken off the book (`close_loans`)."""
    written = np.zeros(n_banks)
    for i in range(len(loan_status)):
        if loan_status[i] == npl and default_quarter[i] <= last_due:
            written[lender[i]] += debt[i]
            debt[i] = 0.0
            loan_status[i], lender[i], quarters_left[i] = no_loan, -1, 0
    return written


def sell_down(pop: EnterprisePopulation, banks: Sequence[Bank], quarter: int) -> np.ndarray:
    """Bring every bank's exposures within its `single_name_limit` of its park book.

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
    limits = np.empty(len(banks))
    for bank in banks:
        limits[bank.index] = bank.spec.single_name_limit
    return _sell_down(
        rows,
        pop.lender,
        pop.debt,
        pop.loan_status,
        pop.loan_lgd,
        pop.default_quarter,
        limits,
        quarter,
        PERFORMING,
    )


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
def limit_exposures(rows, debt, loan_status, loan_lgd, performing_code) -> np.ndarray:
    """What each loan at `rows` counts for against large-exposure limits (万元): the
    balance net of the loss already booked, as the CBIRC 2018 rules measure exposures net
    of provisions. A performing loan counts at its balance, an NPL at balance × (1 − LGD)."""
    counted = np.empty(len(rows))
    for j in range(len(rows)):
        i = rows[j]
        counted[j] = debt[i] * (1.0 if loan_status[i] == performing_code else 1.0 - loan_lgd[i])
    return counted


@njit(cache=True)
def _sell_down(
    rows, lender, debt, loan_status, loan_lgd, default_quarter, limits, quarter, performing_code
) -> np.ndarray:
    """`sell_down` of the loans at `rows`, bank by bank (each bank's `limits`)."""
    n_banks = len(limits)
    counted = limit_exposures(rows, debt, loan_status, loan_lgd, performing_code)
    order, start = _loans_by_bank(lender[rows], n_banks)
    sold = np.zeros(n_banks)
    for b in range(n_banks):
        own = order[start[b] : start[b + 1]]
        if len(own) == 0:
            continue
        cap = name_cap(counted[own], limits[b])
        # A relative tolerance: a book just cut must not be cut again by rounding.
        over = own[counted[own] > cap * (1.0 + 1e-9)]
        over = over[default_quarter[rows[over]] < quarter]  # -1 while performing
        if len(over) == 0:
            continue
        keep = cap / counted[over]
        cut = rows[over]
        sold[b] = pairwise_sum(debt[cut] * (1.0 - keep))
        for j in range(len(cut)):
            debt[cut[j]] *= keep[j]
    return sold


def close_books(
    pop: EnterprisePopulation,
    banks: Sequence[Bank],
    quarterly_pd: np.ndarray,
    n_sectors: int,
    quarter: int,
) -> None:
    """End-of-quarter stocks of every bank: exposure, NPL, borrowers, by stage, EL,
    concentration and capital; first, exposures above the single-name limit are sold.

    A failed borrower's exposure counts under the stage it held when it failed.
    """
    rows = pop.loan_rows()  # a sale changes balances, not lenders
    sold = _sell_down_rows(pop, banks, quarter, rows)
    n = len(banks)
    stocks, by_stage, by_sector, risk = _book_stocks(
        rows,
        pop.lender,
        pop.debt,
        pop.loan_status,
        pop.loan_lgd,
        pop.loan_policy_cover,
        pop.stage,
        pop.last_active_stage,
        pop.sector,
        quarterly_pd,
        pop.loan_pd,
        pop.loan_irb_loss,
        pop.loan_irb_slope,
        pop.loan_quarters_left,
        pop.bank_stake_cost,
        n,
        n_sectors,
        N_ACTIVE_STAGES,
        int(Stage.LISTED),
        PERFORMING,
        GA_LGD_VARIANCE,
        ga_delta(),
    )
    exposure, npl, borrowers, expected, stake_cost = stocks.tolist()
    for bank in banks:
        led, b = bank.ledger, bank.index
        led.sold_down = sold[b]
        led.exposure, led.npl_balance = exposure[b], npl[b]
        led.borrowers, led.expected_loss = int(borrowers[b]), expected[b]
        led.exposure_by_stage = by_stage[b]
        led.exposure_by_sector = by_sector[b]
    past = OPERATIONAL_QUARTERS - 1
    income = [[*bank.gross_incomes[-past:], bank.ledger.gross_income] for bank in banks]
    operational = operational_capitals(np.array(income))
    measures = risk.tolist()
    for bank in banks:
        b = bank.index
        equity, operator = stake_and_operator_capital(stake_cost[b], bank.operator_loan)
        bank.ledger.risk = BookRisk(
            *measures[b],
            capital_operational=operational[b],
            capital_equity=equity,
            capital_operator=operator,
        )
        bank.close_quarter()


@njit(cache=True)
def _book_stocks(
    rows,
    lender,
    debt,
    loan_status,
    loan_lgd,
    loan_policy_cover,
    stage,
    last_active_stage,
    sector,
    quarterly_pd,
    loan_pd,
    irb_loss,
    irb_slope,
    quarters_left,
    stake_cost,
    n_banks,
    n_sectors,
    n_stages,
    listed,
    performing_code,
    lgd_variance,
    delta,
):
    """Every bank's closing stocks from the loans at `rows`, added up loan by loan in row
    order as `np.bincount` does: (exposure, NPL, performing borrowers, EL, and the cost
    of its stakes, summed as numpy sums a column) by bank, exposure by bank × stage and
    bank × sector, and each bank's `book_measures`."""
    stocks = np.zeros((5, n_banks))
    by_stage = np.zeros((n_banks, n_stages))
    by_sector = np.zeros((n_banks, n_sectors))
    performing = np.empty(len(rows), dtype=np.bool_)
    net_lgd = np.empty(len(rows))
    for j in range(len(rows)):
        i = rows[j]
        b, balance = lender[i], debt[i]
        performing[j] = loan_status[i] == performing_code
        weight = 1.0 if performing[j] else 0.0
        net_lgd[j] = loan_lgd[i] * (1.0 - loan_policy_cover[i])
        stocks[0, b] += balance
        stocks[1, b] += balance * (1.0 - weight)
        stocks[2, b] += weight
        stocks[3, b] += balance * weight * (quarterly_pd[i] * net_lgd[j])
        held = stage[i] if stage[i] <= listed else last_active_stage[i]
        by_stage[b, held] += balance
        by_sector[b, sector[i]] += balance
    for b in range(n_banks):
        stocks[4, b] = pairwise_sum(stake_cost[:, b])
    counted = limit_exposures(rows, debt, loan_status, loan_lgd, performing_code)
    order, start = _loans_by_bank(lender[rows], n_banks)
    risk = np.zeros((n_banks, 6))
    for b in range(n_banks):
        own = order[start[b] : start[b + 1]]
        mine = rows[own]
        measures = book_measures(
            counted[own],
            by_sector[b],
            performing[own],
            loan_pd[mine],
            net_lgd[own],
            irb_loss[mine],
            irb_slope[mine],
            quarters_left[mine],
            lgd_variance,
            delta,
        )
        for m in range(6):
            risk[b, m] = measures[m]
    return stocks, by_stage, by_sector, risk


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
    pool: RiskPool,
) -> None:
    """Post the gross losses (万元) of loans just defaulted, less what guarantee and risk
    pool pay, to each lender's credit loss."""
    lender, cover = pop.lender[rows], pop.loan_policy_cover[rows]
    loss, paid = pool.pay_claims(lender, cover, gross, len(banks))
    for bank in banks:
        bank.book_credit_loss(loss[bank.index], paid[bank.index])
