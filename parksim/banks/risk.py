"""A bank's own measures of its park book's risk: Basel IRB capital from its PD estimates,
concentration (largest names, Herfindahl, sectors) and the granularity adjustment.

The granularity adjustment is the simplified single-name add-on of Gordy & Lütkebohmert
(2013), "Granularity adjustment for regulatory capital assessment", International Journal
of Central Banking 9(3), 33-71, eq. (6)-(7): the Basel IRB formula assumes an infinitely
fine-grained book, and the GA is the extra capital a book of finitely many, unequal names
needs at the same confidence level, derived in a one-factor CreditRisk+ model.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numba import njit, objmode
from scipy.stats import gamma

from parksim.core.units import QUARTERS_PER_YEAR
from parksim.credit import BASEL_CONFIDENCE, BASEL_MATURITY, basel_capital_terms

# Gordy & Lütkebohmert (2013), §4: the CreditRisk+ factor's precision ξ and the LGD
# variance parameter ν (VLGD = ν · ELGD · (1 − ELGD)) they propose for Pillar 2.
GA_PRECISION = 0.25
GA_LGD_VARIANCE = 0.25
# Basel's 1-year floor and 5-year cap on effective maturity (Basel II para. 320).
MATURITY_FLOOR_YEARS, MATURITY_CAP_YEARS = 1.0, 5.0

# Capital for what the IRB formula on the loan book leaves out, so that RAROC divides
# the bank's whole park profit (fees, deposits and stakes too) by the capital behind it.
CAPITAL_RATIO = 0.08  # minimum total capital ratio (Basel II para. 40; China's 2023 rules)
# Operational risk, basic indicator approach: 15 % of the average annual gross income of
# the last three years (Basel II para. 649; 商业银行资本管理办法(试行) 2012, 基本指标法 15 %).
OPERATIONAL_ALPHA, OPERATIONAL_QUARTERS = 0.15, 12
# Equity stakes a bank holds itself (group.holder = "bank"): 商业银行资本管理办法 (2023,
# NFRA order 2023 no. 4) weights a commercial bank's equity in commercial enterprises at
# 250 % if held passively within the legal disposal period or approved by the State
# Council, and 1,250 % otherwise; a park stake is the latter. (The 2012 rules' 400 % was
# the passive/approved case.) At the default holder, the group, the bank holds none.
EQUITY_RISK_WEIGHT = 12.5
# The operator's development loans: a corporate exposure, standardised 100 % (para. 66).
OPERATOR_RISK_WEIGHT = 1.0


def operational_capitals(gross_income: np.ndarray) -> list[float]:
    """Each bank's operational capital, basic indicator approach: 15 % of its last twelve
    quarters' mean gross income annualised, and nothing while that is negative. One row
    of quarterly gross income (万元, most recent last, at least one quarter) per bank."""
    recent = gross_income[:, -OPERATIONAL_QUARTERS:]
    mean = recent.sum(axis=1) / recent.shape[1]  # numpy's mean, less its wrapper
    return [OPERATIONAL_ALPHA * max(0.0, QUARTERS_PER_YEAR * m) for m in mean.tolist()]


def stake_and_operator_capital(stake_cost: float, operator_loan: float) -> tuple[float, float]:
    """(equity, operator) capital of one bank: its stakes at cost and its development
    loans to the operator (万元)."""
    return (
        CAPITAL_RATIO * EQUITY_RISK_WEIGHT * stake_cost,
        CAPITAL_RATIO * OPERATOR_RISK_WEIGHT * operator_loan,
    )


def allocated_capital(capital: float, tier1_ratio: float) -> float:
    """Tier-1 capital allocated to the park business (万元): `tier1_ratio` of its
    risk-weighted assets, which are its capital requirement (`BookRisk.capital`, at the
    8 % minimum) / CAPITAL_RATIO. The single-name limit is a share of it (商业银行大额风险
    暴露管理办法 2018)."""
    return tier1_ratio * capital / CAPITAL_RATIO


@lru_cache(maxsize=16)
def ga_delta(confidence: float = BASEL_CONFIDENCE, precision: float = GA_PRECISION) -> float:
    """δ = (α_q − 1)(ξ + (1 − ξ)/α_q), α_q the q-quantile of a Gamma factor with mean 1 and
    variance 1/ξ (Gordy & Lütkebohmert 2013, eq. 5; 4.83 at q = 99.9 %, ξ = 0.25).
    Cached: the Gamma quantile costs half a millisecond, and every bank asks every quarter."""
    alpha = float(gamma.ppf(confidence, a=precision, scale=1.0 / precision))
    return (alpha - 1.0) * (precision + (1.0 - precision) / alpha)


# Below this many values a sort in compiled code is quicker than a call out to numpy's.
NUMPY_SORT_FROM = 256
# Shell sort's gaps below NUMPY_SORT_FROM (Ciura 2001, "Best increments for the average
# case of Shellsort").
SHELL_GAPS = (132, 57, 23, 10, 4, 1)


@njit(cache=True)
def descending(values: np.ndarray) -> np.ndarray:
    """The values sorted from largest to smallest. A large book is sorted by numpy's sort
    (numba's own is ten times slower on tens of thousands of loans); a small one by a
    shell sort here, which spares the few microseconds of leaving compiled code: as fast
    as numba's np.sort below NUMPY_SORT_FROM values, and compiled in a tenth of its
    second. Sorted values are the same whichever sorts them."""
    if len(values) < NUMPY_SORT_FROM:
        out = values.copy()
        for gap in SHELL_GAPS:
            for i in range(gap, len(out)):
                value, j = out[i], i
                while j >= gap and out[j - gap] < value:
                    out[j] = out[j - gap]
                    j -= gap
                out[j] = value
        return out
    with objmode(ascending="float64[::1]"):
        ascending = np.sort(values)
    return ascending[::-1]


def granularity_adjustment(
    ead: np.ndarray,
    pd: np.ndarray,
    lgd: np.ndarray,
    capital_rate: np.ndarray,
    lgd_variance: float = GA_LGD_VARIANCE,
    delta: float | None = None,
) -> float:
    """Simplified GA as a share of the book's EAD (Gordy & Lütkebohmert 2013, eq. 6):

    GA = 1/(2K*) Σ s_i² C_i (δ (K_i + R_i) − K_i),
    s_i = EAD share, K_i = IRB capital rate, R_i = ELGD_i · PD_i, K* = Σ s_i K_i,
    C_i = (ELGD_i² + VLGD_i) / ELGD_i,  VLGD_i = ν ELGD_i (1 − ELGD_i).
    """
    d = ga_delta() if delta is None else delta
    args = (np.asarray(a, dtype=np.float64) for a in (ead, pd, lgd, capital_rate))
    return _granularity(*args, float(lgd_variance), float(d))


@njit(cache=True)
def _granularity(ead, pd, lgd, capital_rate, lgd_variance, delta) -> float:
    """`granularity_adjustment` with δ given, for the book kernel."""
    total = np.sum(ead)
    if total <= 0:
        return 0.0
    share = ead / total
    k_star = np.sum(share * capital_rate)
    if k_star <= 0:
        return 0.0
    c = lgd + lgd_variance * (1.0 - lgd)
    q = delta * (capital_rate + lgd * pd) - capital_rate
    return np.sum(share * share * c * q) / (2.0 * k_star)


def irb_terms(pd: np.ndarray, lgd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What a loan's IRB capital rate keeps from booking to repayment, of annual PDs and
    LGDs after policy cover: see `parksim.credit.basel_capital_terms`."""
    loss, slope = basel_capital_terms(pd, lgd)
    return np.asarray(loss, dtype=float), np.asarray(slope, dtype=float)


@njit(cache=True)
def capital_rate(irb_loss: float, irb_slope: float, quarters_left: float) -> float:
    """Basel IRB capital per unit of EAD of one loan from its booked terms (`irb_terms`),
    effective maturity = remaining term within Basel's [1, 5] years; the arithmetic of
    `parksim.credit.basel_capital`, in its order."""
    maturity = min(max(quarters_left / QUARTERS_PER_YEAR, MATURITY_FLOOR_YEARS), MATURITY_CAP_YEARS)
    adjustment = 1.0 + (maturity - BASEL_MATURITY) * irb_slope
    return irb_loss * adjustment / (1.0 - (BASEL_MATURITY - 1.0) * irb_slope)


def capital_rates(pd: np.ndarray, lgd: np.ndarray, quarters_left: np.ndarray) -> np.ndarray:
    """Basel IRB capital per unit of EAD of each loan: annual PD, LGD after policy cover,
    effective maturity = remaining term within Basel's [1, 5] years."""
    loss, slope = irb_terms(pd, lgd)
    left = np.broadcast_to(np.asarray(quarters_left, dtype=np.float64), loss.shape)
    return _capital_rates(loss.ravel(), slope.ravel(), left.ravel()).reshape(loss.shape)


@njit(cache=True)
def _capital_rates(irb_loss, irb_slope, quarters_left):
    k = np.empty(len(irb_loss))
    for i in range(len(irb_loss)):
        k[i] = capital_rate(irb_loss[i], irb_slope[i], quarters_left[i])
    return k


@dataclass(frozen=True)
class BookRisk:
    """Concentration and capital of one bank's book at quarter end."""

    largest_exposure_share: float = 0.0
    top10_exposure_share: float = 0.0
    hhi_exposure: float = 0.0
    sector_hhi: float = 0.0
    capital_irb: float = 0.0  # 万元
    granularity_adjustment: float = 0.0  # 万元
    capital_operational: float = 0.0  # 万元
    capital_equity: float = 0.0  # 万元
    capital_operator: float = 0.0  # 万元

    @property
    def capital(self) -> float:
        """All the capital the park business needs: credit (IRB), operational, stakes,
        operator loans (万元)."""
        return (
            self.capital_irb
            + self.capital_operational
            + self.capital_equity
            + self.capital_operator
        )


class BookLoans(NamedTuple):
    """One bank's loans as its risk measures read them (one entry per loan)."""

    counted: np.ndarray  # what each counts for against limits (`book.limit_exposures`), 万元
    performing: np.ndarray  # bool
    pd: np.ndarray  # annual PD estimate at booking
    lgd: np.ndarray  # LGD after policy cover
    irb_loss: np.ndarray  # IRB terms as booked (`irb_terms`); read for performing loans
    irb_slope: np.ndarray
    quarters_left: np.ndarray


class Granularity(NamedTuple):
    """Parameters of the granularity adjustment (Gordy & Lütkebohmert 2013)."""

    lgd_variance: float  # ν
    delta: float  # δ (`ga_delta`)


class BookMeasures(NamedTuple):
    """`book_measures` of one bank: shares of the book, and capital in 万元."""

    largest_exposure_share: float
    top10_exposure_share: float
    hhi_exposure: float
    sector_hhi: float
    capital_irb: float
    granularity_adjustment: float


N_MEASURES = len(BookMeasures._fields)


def book_risk(
    debt: np.ndarray,
    by_sector: np.ndarray,
    performing: np.ndarray,
    pd: np.ndarray,
    lgd: np.ndarray,
    quarters_left: np.ndarray,
) -> BookRisk:
    """Measures of one bank's book from what its loans count for against limits (万元:
    performing balances, NPLs net of their booked loss), its exposure by sector (万元)
    and, for capital, the performing loans' annual PD estimates, net LGDs and remaining
    quarters."""
    performing = np.asarray(performing, dtype=bool)
    irb_loss, irb_slope = np.zeros(len(debt)), np.zeros(len(debt))
    irb_loss[performing], irb_slope[performing] = irb_terms(pd[performing], lgd[performing])
    loans = BookLoans(
        np.asarray(debt, dtype=float),
        performing,
        np.asarray(pd, dtype=float),
        np.asarray(lgd, dtype=float),
        irb_loss,
        irb_slope,
        np.asarray(quarters_left, dtype=np.float64),
    )
    granularity = Granularity(GA_LGD_VARIANCE, ga_delta())
    measures = book_measures(loans, np.asarray(by_sector, dtype=float), granularity)
    return BookRisk(**measures._asdict())


@njit(cache=True)
def book_measures(
    loans: BookLoans, by_sector: np.ndarray, granularity: Granularity
) -> BookMeasures:
    """Concentration and credit capital of one bank's book (`BookMeasures`): shares of the
    largest and ten largest exposures, the Herfindahl index of exposures and of sectors,
    the Basel IRB capital of the performing loans (Basel II paras. 272-273, maturity =
    remaining term within [1, 5] years) and the granularity adjustment on it (万元)."""
    debt = loans.counted
    total = np.sum(debt)
    if total <= 0:
        return BookMeasures(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    share = descending(debt) / total
    sector_share = by_sector / np.sum(by_sector)
    rows = loans.performing.nonzero()[0]
    ead = debt[rows]
    k = np.empty(len(rows))
    for j in range(len(rows)):
        i = rows[j]
        k[j] = capital_rate(loans.irb_loss[i], loans.irb_slope[i], loans.quarters_left[i])
    ga = _granularity(
        ead, loans.pd[rows], loans.lgd[rows], k, granularity.lgd_variance, granularity.delta
    )
    return BookMeasures(
        share[0],
        np.sum(share[:10]),
        np.sum(share * share),
        np.sum(sector_share * sector_share),
        np.sum(ead * k),
        ga * np.sum(ead),
    )
