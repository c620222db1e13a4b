"""Checks against closed forms: the credit engine and the degenerate full model against the
Vasicek / finite-N mixed binomial distribution, and the Basel II IRB formula against the
risk weights Basel publishes (Annex 5, `parksim/data/basel_annex5.toml`).

The closed forms themselves live in `parksim/credit/closed_forms.py`; this module only
draws from the model and compares.
"""

from __future__ import annotations

import itertools
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri
from scipy.stats import kstest

from parksim.core.sectors import SECTOR_PROFILES
from parksim.credit import (
    CreditParams,
    CreditRiskEngine,
    basel_risk_weight,
    implied_correlation,
    mixed_binomial_cdf,
    vasicek_quantile,
)
from parksim.ensemble.batches import batch_size_for
from parksim.ensemble.runner import simulate_batch
from parksim.scenario.loader import apply_overrides
from parksim.scenario.schema import Scenario

# (quarterly PD, macro correlation, sector correlation): asset correlation R = the sum.
CREDIT_CASES = ((0.005, 0.12, 0.0), (0.02, 0.12, 0.06), (0.05, 0.16, 0.08))
QUANTILES = (0.5, 0.9, 0.99, 0.999)
DEGENERATE_SECTOR = "it_software"
ANNEX5 = Path(__file__).resolve().parents[2] / "data" / "basel_annex5.toml"


@dataclass(frozen=True)
class DistributionCheck:
    """Default counts of a homogeneous portfolio of `n` against the mixed binomial."""

    pd: float
    correlation: float
    n: int
    defaults: np.ndarray  # one count per independent quarter
    ks_statistic: float
    p_value: float

    @property
    def rates(self) -> np.ndarray:
        return self.defaults / self.n

    def p_value_at(self, correlation: float, seed: int = 0) -> float:
        """KS p-value of the same counts against a mixed binomial of another correlation
        (how clearly the test would reject a wrong model)."""
        return check_distribution(self.defaults, self.n, self.pd, correlation, seed).p_value

    def quantile_table(self) -> pd.DataFrame:
        """Simulated default-rate quantiles against the mixed binomial and Vasicek's."""
        cdf = mixed_binomial_cdf(self.n, self.pd, self.correlation)
        rows = []
        for alpha in QUANTILES:
            rows.append(
                {
                    "alpha": alpha,
                    "simulated": float(np.quantile(self.rates, alpha)),
                    "mixed_binomial": float(np.searchsorted(cdf, alpha) / self.n),
                    "vasicek": float(vasicek_quantile(self.pd, self.correlation, alpha)),
                }
            )
        return pd.DataFrame(rows)


def randomized_pit(
    defaults: np.ndarray, n: int, pd: float, correlation: float, rng: np.random.Generator
) -> np.ndarray:
    """F(k−1) + V·(F(k) − F(k−1)) under the mixed binomial: exactly uniform if the counts
    follow it (the randomisation V ~ U(0,1) removes the discreteness)."""
    cdf = np.concatenate([[0.0], mixed_binomial_cdf(n, pd, correlation)])
    k = np.asarray(defaults, dtype=np.int64)
    return cdf[k] + rng.random(len(k)) * (cdf[k + 1] - cdf[k])


def check_distribution(
    defaults: np.ndarray, n: int, pd: float, correlation: float, seed: int
) -> DistributionCheck:
    """Kolmogorov-Smirnov test of the randomized PIT of `defaults` against uniform."""
    pit = randomized_pit(defaults, n, pd, correlation, np.random.default_rng(seed))
    result = kstest(pit, "uniform")
    return DistributionCheck(
        pd, correlation, n, np.asarray(defaults), float(result.statistic), float(result.pvalue)
    )


def engine_check(
    pd: float, macro: float, sector: float, n: int = 2000, quarters: int = 20000, seed: int = 1
) -> DistributionCheck:
    """The credit engine's default counts of a one-sector portfolio, quarter by quarter."""
    engine = CreditRiskEngine(CreditParams(macro_correlation=macro, sector_correlation=sector), 1)
    rates = engine.default_rate_distribution(pd, n, quarters, np.random.default_rng(seed))
    return check_distribution(np.rint(rates * n), n, pd, macro + sector, seed)


# The annual-horizon check: the model's quarterly PD scale and correlation, and cycles from
# none to strong (the default persistence is CreditParams().macro_persistence).
ANNUAL_CASE = (0.02, 0.12, 0.06)
ANNUAL_PERSISTENCES = (0.0, 0.5, CreditParams().macro_persistence, 0.95)


@dataclass(frozen=True)
class AnnualCheck:
    """Annual default rates of a large one-sector portfolio drawn quarter by quarter."""

    quarterly_pd: float
    correlation: float  # R = r_m + r_s, the asset correlation of one quarter
    persistence: float
    annual_rates: np.ndarray  # one per year: 1 − Π_quarters (1 − p_t(Z_t, S_t))

    @property
    def annual_pd(self) -> float:
        return float(self.annual_rates.mean())

    @property
    def annual_correlation(self) -> float:
        """The one-year asset correlation a Vasicek reading of the annual rates gives."""
        return implied_correlation(self.annual_pd, float(self.annual_rates.var()))

    @property
    def year_on_year(self) -> float:
        """Autocorrelation of consecutive years' default rates."""
        rates = self.annual_rates
        return float(np.corrcoef(rates[:-1], rates[1:])[0, 1])

    def tail(self, alpha: float = 0.999) -> tuple[float, float]:
        """(simulated α-quantile of the annual rate, Vasicek's at the annual PD with the
        quarter's correlation R, the reading Basel's one-year formula gives)."""
        basel = float(vasicek_quantile(self.annual_pd, self.correlation, alpha))
        return float(np.quantile(self.annual_rates, alpha)), basel


def annual_check(
    pd: float, macro: float, sector: float, persistence: float, years: int = 25_000, seed: int = 3
) -> AnnualCheck:
    """The engine's credit cycle over `years` consecutive years of four quarters.

    Each quarter the engine draws its factors (the macro factor an AR(1) with
    `persistence`); a large portfolio's default rate that quarter is the conditional PD,
    and a cohort's annual default rate is 1 − Π(1 − p_t) over the year's quarters.
    """
    params = CreditParams(
        macro_correlation=macro, sector_correlation=sector, macro_persistence=persistence
    )
    engine = CreditRiskEngine(params, 1)
    rng = np.random.default_rng(seed)
    draws = [engine.draw_factors(rng) for _ in range(4 * years)]
    systematic = np.sqrt(macro) * np.array([f.macro for f in draws])
    systematic += np.sqrt(sector) * np.array([f.sector[0] for f in draws])
    quarterly = ndtr((ndtri(pd) - systematic) / np.sqrt(1.0 - macro - sector))
    annual = 1.0 - np.prod(1.0 - quarterly.reshape(years, 4), axis=1)
    return AnnualCheck(pd, macro + sector, persistence, annual)


def degenerate_overrides(pd: float, macro: float, sector: float, n: int) -> dict[str, object]:
    """ParkModel overrides for the degenerate park of the brief: one sector, one stage, one
    PD, one correlation. No firm enters, graduates, relocates or is acquired; quality,
    finance and chain links do not move the PD."""
    multiplier = SECTOR_PROFILES[DEGENERATE_SECTOR].failure
    return {
        "park__enterprises": n,
        "park__sector_mix": {DEGENERATE_SECTOR: 1.0},
        "park__stage_mix": {"growth": 1.0},
        "park__entries_per_quarter": 0.0,
        "lifecycle__failure_pd": (pd / multiplier,) * 5,
        "lifecycle__graduation": (0.0,) * 4,
        "lifecycle__acquisition": (0.0,) * 5,
        "lifecycle__relocation": 0.0,
        "lifecycle__quality_risk": 0.0,
        "lifecycle__funded_failure_mult": 1.0,
        "lifecycle__refused_failure_mult": 1.0,
        "lifecycle__chain_support": 0.0,
        "credit__macro_correlation": macro,
        "credit__sector_correlation": sector,
    }


def degenerate_model_check(
    scenario: Scenario,
    pd: float,
    macro: float,
    sector: float,
    n: int = 2000,
    replications: int = 400,
    seed: int = 7,
) -> DistributionCheck:
    """Failures in the first quarter of `replications` independent degenerate parks.

    One quarter per replication keeps the portfolio at exactly `n` firms, so every count
    is a draw from one mixed binomial; the whole quarter runs (entry, finance, the credit
    engine, exits), so the full model is what is tested. The replications run in batches
    (`simulate_batch`) of a one-quarter horizon.
    """
    overrides = degenerate_overrides(pd, macro, sector, n)
    park, strategy = apply_overrides(scenario, scenario.strategies[0], **overrides)
    park = replace(park, horizon=1)
    counts = []
    children = np.random.SeedSequence(seed).spawn(replications)
    for batch in itertools.batched(children, batch_size_for(park)):
        runs = simulate_batch(park, strategy.name, batch)
        counts.extend(int(metrics["failures"][-1]) for metrics in runs)
    return check_distribution(np.array(counts), n, pd, macro + sector, seed)


def basel_table() -> pd.DataFrame:
    """Basel II Annex 5 risk weights against `basel_risk_weight`, in percent."""
    with ANNEX5.open("rb") as handle:
        annex = tomllib.load(handle)
    rows = []
    for column, sales in (("corporate", None), ("sme_5m", 5.0)):
        for pd_, published in zip(
            annex[column]["pd"], annex[column]["risk_weight_percent"], strict=True
        ):
            computed = 100 * float(basel_risk_weight(pd_, sales_eur_m=sales))
            rows.append(
                {
                    "column": column,
                    "pd": pd_,
                    "published": published,
                    "computed": computed,
                    "difference": computed - published,
                }
            )
    return pd.DataFrame(rows)
