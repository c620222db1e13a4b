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

import numpy as np
from scipy.stats import gamma

from parksim.credit import BASEL_CONFIDENCE, basel_capital

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
# Equity stakes, simple risk-weight method: 400 % for unlisted equity (Basel II para. 344).
EQUITY_RISK_WEIGHT = 4.0
# The operator's development loans: a corporate exposure, standardised 100 % (para. 66).
OPERATOR_RISK_WEIGHT = 1.0


def operational_capital(gross_income: np.ndarray) -> float:
    """Basic indicator approach on quarterly gross income (万元, most recent last): 15 % of
    the last twelve quarters' mean annualised, and nothing while it is negative."""
    recent = np.asarray(gross_income, dtype=float)[-OPERATIONAL_QUARTERS:]
    if len(recent) == 0:
        return 0.0
    return OPERATIONAL_ALPHA * max(0.0, 4.0 * float(recent.mean()))


def other_capital(gross_income: np.ndarray, stake_cost: float, operator_loan: float):
    """(operational, equity, operator) capital of one bank, 万元."""
    return (
        operational_capital(gross_income),
        CAPITAL_RATIO * EQUITY_RISK_WEIGHT * stake_cost,
        CAPITAL_RATIO * OPERATOR_RISK_WEIGHT * operator_loan,
    )


@lru_cache(maxsize=16)
def ga_delta(confidence: float = BASEL_CONFIDENCE, precision: float = GA_PRECISION) -> float:
    """δ = (α_q − 1)(ξ + (1 − ξ)/α_q), α_q the q-quantile of a Gamma factor with mean 1 and
    variance 1/ξ (Gordy & Lütkebohmert 2013, eq. 5; 4.83 at q = 99.9 %, ξ = 0.25).
    Cached: the Gamma quantile costs half a millisecond, and every bank asks every quarter."""
    alpha = float(gamma.ppf(confidence, a=precision, scale=1.0 / precision))
    return (alpha - 1.0) * (precision + (1.0 - precision) / alpha)


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
    total = ead.sum()
    if total <= 0:
        return 0.0
    share = ead / total
    k_star = float((share * capital_rate).sum())
    if k_star <= 0:
        return 0.0
    d = ga_delta() if delta is None else delta
    c = lgd + lgd_variance * (1.0 - lgd)
    q = d * (capital_rate + lgd * pd) - capital_rate
    return float((share**2 * c * q).sum() / (2.0 * k_star))


def capital_rates(pd: np.ndarray, lgd: np.ndarray, quarters_left: np.ndarray) -> np.ndarray:
    """Basel IRB capital per unit of EAD of each loan: annual PD, LGD after policy cover,
    effective maturity = remaining term within Basel's [1, 5] years."""
    maturity = np.clip(quarters_left / 4.0, MATURITY_FLOOR_YEARS, MATURITY_CAP_YEARS)
    return np.asarray(basel_capital(pd, lgd, maturity), dtype=float)


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
    total = debt.sum()
    if total <= 0:
        return BookRisk()
    share = np.sort(debt)[::-1] / total
    sector_share = by_sector / by_sector.sum()
    ead = debt[performing]
    k = capital_rates(pd[performing], lgd[performing], quarters_left[performing])
    ga = granularity_adjustment(ead, pd[performing], lgd[performing], k)
    return BookRisk(
        largest_exposure_share=float(share[0]),
        top10_exposure_share=float(share[:10].sum()),
        hhi_exposure=float((share**2).sum()),
        sector_hhi=float((sector_share**2).sum()),
        capital_irb=float((ead * k).sum()),
        granularity_adjustment=ga * float(ead.sum()),
    )


def name_cap(debt: np.ndarray, limit: float) -> float:
    """The balance c above which exposures must be cut so that every exposure is at most
    `limit` of the book after the cut: c = limit · Σ min(d_i, c) (inf if none exceeds).

    With fewer than 1/limit names no cut can meet the limit; the cap is then inf.
    """
    total = debt.sum()
    if total <= 0 or debt.max() <= limit * total:
        return np.inf
    d = np.sort(debt)[::-1]
    rest = total
    for k in range(1, len(d)):
        rest -= d[k - 1]  # the k largest are capped at c
        if k * limit >= 1.0:
            return np.inf
        cap = limit * rest / (1.0 - k * limit)
        if d[k] <= cap <= d[k - 1]:
            return float(cap)
    return np.inf
