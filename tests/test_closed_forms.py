"""Specification tests for parksim.credit.closed_forms (Vasicek, mixed binomial, Basel II IRB)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joint_default import joint_default_prob
from scipy import integrate
from scipy.special import ndtr, ndtri
from scipy.stats import binom

from parksim.credit import (
    BASEL_PD_FLOOR,
    basel_capital,
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

# ---------------------------------------------------------------------------------------
# Basel II
# ---------------------------------------------------------------------------------------

# Basel II (June 2006) Annex 5, "Illustrative IRB risk weights for UL", corporate
# exposures, LGD 45 %, M = 2.5 years; the table lives in parksim/data/basel_annex5.toml,
# which the validation report (docs/validation.md) reads too.
ANNEX5 = Path(__file__).resolve().parents[1] / "parksim" / "data" / "basel_annex5.toml"


def _annex5(column: str) -> dict[float, float]:
    """One column of Annex 5: PD -> risk weight, %."""
    with ANNEX5.open("rb") as handle:
        table = tomllib.load(handle)[column]
    return dict(zip(table["pd"], table["risk_weight_percent"], strict=True))


# Turnover €50m (no firm-size adjustment), and corporate SME with turnover €5m (maximum
# firm-size adjustment).
BASEL_ANNEX5_CORPORATE = _annex5("corporate")
BASEL_ANNEX5_SME_5M = _annex5("sme_5m")

# The table is printed to 0.01 percentage point; a few entries (e.g. PD 2 %: exact
# 114.854) are rounded up where exact arithmetic rounds down, so agreement is to within
# one unit of the last printed digit, 0.01 pp = 1e-4 as a fraction.
TABLE_TOL = 1e-4


@pytest.mark.parametrize(("pd", "rw_percent"), sorted(BASEL_ANNEX5_CORPORATE.items()))
def test_basel_risk_weight_matches_annex5_corporate(pd: float, rw_percent: float) -> None:
    assert basel_risk_weight(pd) == pytest.approx(rw_percent / 100, abs=TABLE_TOL)


@pytest.mark.parametrize(("pd", "rw_percent"), sorted(BASEL_ANNEX5_SME_5M.items()))
def test_basel_risk_weight_matches_annex5_sme(pd: float, rw_percent: float) -> None:
    assert basel_risk_weight(pd, sales_eur_m=5.0) == pytest.approx(rw_percent / 100, abs=TABLE_TOL)


def test_sme_pd_1pct_is_corporate_minus_firm_size_adjustment() -> None:
    # The firm-size adjustment only lowers R by 0.04 at S = €5m; everything else is unchanged.
    assert basel_correlation(0.01, sales_eur_m=5.0) == pytest.approx(basel_correlation(0.01) - 0.04)
    sme = basel_risk_weight(0.01, sales_eur_m=5.0)
    assert sme == pytest.approx(0.7240, abs=TABLE_TOL)
    assert sme < basel_risk_weight(0.01)


def test_basel_risk_weight_is_vectorised() -> None:
    pds = np.array(sorted(BASEL_ANNEX5_CORPORATE))
    rw = basel_risk_weight(pds)
    assert isinstance(rw, np.ndarray)
    assert rw.shape == pds.shape
    np.testing.assert_allclose(rw, [basel_risk_weight(float(p)) for p in pds], rtol=1e-14)
    np.testing.assert_allclose(rw * 100, [BASEL_ANNEX5_CORPORATE[p] for p in pds], atol=0.01)
    # Sales vectorise too, broadcast against pd.
    np.testing.assert_allclose(
        basel_correlation(0.01, sales_eur_m=np.array([1.0, 5.0, 27.5, 50.0, 80.0])),
        basel_correlation(0.01) - np.array([0.04, 0.04, 0.02, 0.0, 0.0]),
        rtol=1e-12,
    )


def test_basel_correlation_limits() -> None:
    # w -> 1 as PD grows (R -> 0.12); at the 3 bp floor R is close to 0.24.
    assert basel_correlation(0.5) == pytest.approx(0.12, abs=1e-10)
    w = (1 - np.exp(-50 * 0.0003)) / (1 - np.exp(-50))
    assert basel_correlation(0.0003) == pytest.approx(0.12 * w + 0.24 * (1 - w), rel=1e-12)
    assert basel_correlation(0.0003) == pytest.approx(0.2382, abs=1e-4)


def test_basel_pd_floor() -> None:
    assert BASEL_PD_FLOOR == 0.0003
    for fn in (basel_correlation, basel_maturity_adjustment, basel_risk_weight):
        assert fn(0.0) == fn(0.0001) == fn(BASEL_PD_FLOOR)
    assert basel_risk_weight(0.0004) > basel_risk_weight(BASEL_PD_FLOOR)


def test_basel_maturity_adjustment() -> None:
    b = basel_maturity_adjustment(0.01)
    assert b == pytest.approx((0.11852 - 0.05478 * np.log(0.01)) ** 2, rel=1e-14)
    # M = 2.5 leaves only the 1/(1 − 1.5 b) scaling; longer maturity costs more capital.
    k1, k25, k5 = (basel_capital(0.01, maturity=m) for m in (1.0, 2.5, 5.0))
    assert k1 < k25 < k5
    assert k5 / k25 == pytest.approx(1 + 2.5 * b, rel=1e-12)
    # Capital is linear in LGD.
    assert basel_capital(0.01, lgd=0.9) == pytest.approx(2 * basel_capital(0.01), rel=1e-14)


def test_basel_capital_is_vasicek_quantile_minus_expected_loss() -> None:
    # K/LGD at M = 2.5 without the maturity scaling is the 99.9 % Vasicek quantile minus PD.
    for pd in (0.001, 0.01, 0.1):
        b = basel_maturity_adjustment(pd)
        k = basel_capital(pd, lgd=1.0) * (1 - 1.5 * b)
        assert k + pd == pytest.approx(
            vasicek_quantile(pd, basel_correlation(pd), 0.999), rel=1e-12
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pd": 1.0}, "pd"),
        ({"pd": -0.01}, "pd"),
        ({"pd": float("nan")}, "pd"),
        ({"pd": 0.01, "lgd": 1.2}, "lgd"),
        ({"pd": 0.01, "maturity": 0.0}, "maturity"),
        ({"pd": 0.01, "sales_eur_m": -1.0}, "sales_eur_m"),
    ],
)
def test_basel_rejects_invalid_inputs(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        basel_risk_weight(**kwargs)


# ---------------------------------------------------------------------------------------
# Vasicek
# ---------------------------------------------------------------------------------------

PAIRS = [(0.01, 0.12), (0.02, 0.24), (0.05, 0.15), (0.2, 0.6)]


@settings(max_examples=200, deadline=None)
@given(
    pd=st.floats(1e-4, 0.5),
    correlation=st.floats(0.01, 0.5),
    alpha=st.floats(1e-3, 1 - 1e-3),
)
def test_vasicek_quantile_and_cdf_are_inverses(pd: float, correlation: float, alpha: float) -> None:
    q = vasicek_quantile(pd, correlation, alpha)
    assert 0.0 < q < 1.0
    assert vasicek_cdf(q, pd, correlation) == pytest.approx(alpha, abs=1e-9)


@pytest.mark.parametrize(("pd", "correlation"), PAIRS)
def test_vasicek_quantile_of_cdf(pd: float, correlation: float) -> None:
    x = np.linspace(0.001, 0.3, 50)
    back = vasicek_quantile(pd, correlation, vasicek_cdf(x, pd, correlation))
    np.testing.assert_allclose(back, x, rtol=1e-8)


def test_vasicek_median_closed_form() -> None:
    # With α = ½ the factor term vanishes: median = Φ(Φ⁻¹(p)/√(1−R)), below p for p < ½.
    assert vasicek_quantile(0.02, 0.2, 0.5) == pytest.approx(ndtr(ndtri(0.02) / np.sqrt(0.8)))
    assert vasicek_quantile(0.02, 0.2, 0.5) < 0.02


@pytest.mark.parametrize(("pd", "correlation"), PAIRS)
def test_vasicek_pdf_integrates_to_one_with_mean_pd(pd: float, correlation: float) -> None:
    median = vasicek_quantile(pd, correlation, 0.5)
    opts = {"points": [median], "limit": 500, "epsabs": 1e-12}
    mass, _ = integrate.quad(vasicek_pdf, 0.0, 1.0, args=(pd, correlation), **opts)
    mean, _ = integrate.quad(lambda x: x * vasicek_pdf(x, pd, correlation), 0.0, 1.0, **opts)
    assert mass == pytest.approx(1.0, abs=1e-7)
    assert mean == pytest.approx(pd, rel=1e-6)


@pytest.mark.parametrize(("pd", "correlation"), PAIRS)
def test_vasicek_pdf_is_derivative_of_cdf(pd: float, correlation: float) -> None:
    x = vasicek_quantile(pd, correlation, np.array([0.05, 0.3, 0.5, 0.7, 0.95]))
    h = 1e-6 * x
    numeric = (vasicek_cdf(x + h, pd, correlation) - vasicek_cdf(x - h, pd, correlation)) / (2 * h)
    np.testing.assert_allclose(vasicek_pdf(x, pd, correlation), numeric, rtol=1e-5)


def test_vasicek_support() -> None:
    assert vasicek_cdf(-0.5, 0.01, 0.12) == 0.0
    assert vasicek_cdf(0.0, 0.01, 0.12) == 0.0
    assert vasicek_cdf(1.0, 0.01, 0.12) == 1.0
    assert vasicek_cdf(1.5, 0.01, 0.12) == 1.0
    np.testing.assert_array_equal(vasicek_pdf(np.array([-1.0, 0.0, 1.0, 2.0]), 0.01, 0.12), 0.0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: vasicek_quantile(0.0, 0.1, 0.5), "pd"),
        (lambda: vasicek_quantile(0.01, 1.0, 0.5), "correlation"),
        (lambda: vasicek_quantile(0.01, 0.1, 1.0), "alpha"),
        (lambda: vasicek_cdf(0.1, 1.2, 0.1), "pd"),
        (lambda: vasicek_cdf(0.1, 0.01, 0.0), "correlation"),
        (lambda: vasicek_cdf(float("nan"), 0.01, 0.1), "x"),
        (lambda: vasicek_pdf(0.1, 0.01, -0.1), "correlation"),
        (lambda: mixed_binomial_pmf(10, 0.0, 0.1), "pd"),
        (lambda: mixed_binomial_pmf(10, 0.01, 1.0), "correlation"),
        (lambda: mixed_binomial_pmf(0, 0.01, 0.1), "n_loans"),
    ],
)
def test_closed_forms_reject_invalid_inputs(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


# ---------------------------------------------------------------------------------------
# Mixed binomial
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pd", "correlation"), PAIRS)
@pytest.mark.parametrize("n_loans", [1, 10, 500])
def test_mixed_binomial_moments(n_loans: int, pd: float, correlation: float) -> None:
    pmf = mixed_binomial_pmf(n_loans, pd, correlation)
    k = np.arange(n_loans + 1)
    assert pmf.shape == (n_loans + 1,)
    assert np.all(pmf >= 0.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    mean = k @ pmf
    assert mean == pytest.approx(n_loans * pd, rel=1e-9)
    # E[K(K−1)] = N(N−1)·P(two given borrowers both default).
    factorial_moment = (k * (k - 1)) @ pmf
    expected = n_loans * (n_loans - 1) * joint_default_prob(pd, correlation)
    assert factorial_moment == pytest.approx(expected, rel=1e-8, abs=1e-14)


def test_mixed_binomial_fixed_200_node_rule_sums_to_one() -> None:
    pmf = mixed_binomial_pmf(2000, 0.02, 0.24, n_nodes=200)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)


@pytest.mark.parametrize("k", [5, 20, 40, 80, 150])
def test_mixed_binomial_pmf_matches_adaptive_quadrature(k: int) -> None:
    # N = 2,000, R = 0.24 is where a plain 200-node Gauss–Hermite rule is off by ~1e-4 in
    # the pmf: the default automatic refinement must get it right to 1e-10.
    n, pd, r = 2000, 0.02, 0.24
    a = ndtri(pd)

    def integrand(z: float) -> float:
        p = ndtr((a - np.sqrt(r) * z) / np.sqrt(1 - r))
        return binom.pmf(k, n, p) * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)

    # The integrand peaks where N·p(z) = k; give quad that point.
    z_peak = (a - np.sqrt(1 - r) * ndtri(k / n)) / np.sqrt(r)
    exact = integrate.quad(integrand, -12, 12, points=[z_peak], limit=500, epsabs=1e-14)[0]
    assert mixed_binomial_pmf(n, pd, r)[k] == pytest.approx(exact, abs=1e-10)


@pytest.mark.parametrize(("pd", "correlation"), PAIRS[:3])
def test_mixed_binomial_converges_to_vasicek(pd: float, correlation: float) -> None:
    # P(K ≤ k) vs the Vasicek CDF at the continuity-corrected rate (k + ½)/N: the gap is
    # the granularity effect and must shrink as the portfolio grows.
    gaps = []
    for n in (100, 1000, 10_000):
        k = np.arange(n + 1)
        gap = np.max(
            np.abs(
                mixed_binomial_cdf(n, pd, correlation) - vasicek_cdf((k + 0.5) / n, pd, correlation)
            )
        )
        gaps.append(gap)
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 0.01


@pytest.mark.parametrize(("pd", "n_loans"), [(0.01, 100), (0.05, 1000), (0.3, 50)])
def test_mixed_binomial_without_correlation_is_binomial(pd: float, n_loans: int) -> None:
    pmf = mixed_binomial_pmf(n_loans, pd, 1e-8)
    np.testing.assert_allclose(pmf, binom.pmf(np.arange(n_loans + 1), n_loans, pd), atol=1e-6)


def test_mixed_binomial_cdf_is_cumulative_pmf() -> None:
    cdf = mixed_binomial_cdf(300, 0.03, 0.2)
    np.testing.assert_allclose(cdf, np.cumsum(mixed_binomial_pmf(300, 0.03, 0.2)))
    assert np.all(np.diff(cdf) >= 0.0)
    assert cdf[-1] == pytest.approx(1.0, abs=1e-12)
    # Correlation fattens the tail: more mass above the binomial 99th percentile.
    k99 = int(binom.ppf(0.99, 300, 0.03))
    assert 1 - cdf[k99] > 0.05


@pytest.mark.parametrize(("pd", "correlation"), [(0.01, 0.05), (0.03, 0.18), (0.08, 0.4)])
def test_vasicek_variance_and_implied_correlation_invert_each_other(pd, correlation) -> None:
    variance = vasicek_variance(pd, correlation)
    assert variance == pytest.approx(joint_default_prob(pd, correlation) - pd**2, rel=1e-8)
    assert implied_correlation(pd, variance) == pytest.approx(correlation, abs=1e-7)
    assert implied_correlation(pd, 0.0) == 0.0
