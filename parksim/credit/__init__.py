"""Correlated credit risk: default engine, Vasicek / mixed-binomial closed forms, Basel II IRB."""

from parksim.credit.closed_forms import (
    BASEL_CONFIDENCE,
    BASEL_MATURITY,
    BASEL_PD_FLOOR,
    basel_capital,
    basel_capital_terms,
    basel_correlation,
    basel_maturity_adjustment,
    basel_risk_weight,
    implied_correlation,
    mixed_binomial_cdf,
    mixed_binomial_pmf,
    vasicek_cdf,
    vasicek_pdf,
    vasicek_quantile,
    vasicek_variance,
)
from parksim.credit.engine import (
    CreditParams,
    CreditRiskEngine,
    FactorDraw,
    loan_lgd,
    secured_lgd,
)

__all__ = [
    "BASEL_CONFIDENCE",
    "BASEL_MATURITY",
    "BASEL_PD_FLOOR",
    "CreditParams",
    "CreditRiskEngine",
    "FactorDraw",
    "basel_capital",
    "basel_capital_terms",
    "basel_correlation",
    "basel_maturity_adjustment",
    "basel_risk_weight",
    "implied_correlation",
    "loan_lgd",
    "mixed_binomial_cdf",
    "mixed_binomial_pmf",
    "secured_lgd",
    "vasicek_cdf",
    "vasicek_pdf",
    "vasicek_quantile",
    "vasicek_variance",
]
