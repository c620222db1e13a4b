"""Specification tests for the correlated default engine, parksim.credit.engine.

The statistical tests use fixed seeds, so they are deterministic; each tolerance is a
multiple (4, unless stated) of the sampling standard error of the statistic under the
model, so a correct engine passes for essentially any seed and a wrong correlation, pd
or factor structure fails.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from joint_default import joint_default_prob
from scipy.special import ndtr, ndtri
from scipy.stats import kstest

from parksim.credit import (
    CreditParams,
    CreditRiskEngine,
    FactorDraw,
    loan_lgd,
    mixed_binomial_cdf,
    vasicek_cdf,
)

N_LOANS = 2000
N_QUARTERS = 4000
VASICEK_PAIRS = [(0.01, 0.12), (0.02, 0.24), (0.05, 0.15)]


def _default_rate_variance(pd: float, correlation: float, n_loans: int) -> float:
    """Var of the default rate of n_loans borrowers with pairwise asset correlation ρ."""
    joint = joint_default_prob(pd, correlation)
    return joint - pd**2 + (pd - joint) / n_loans


def _se_of_variance(x: np.ndarray) -> float:
    """Asymptotic standard error of the sample variance, sqrt((m4 − s⁴)/T)."""
    d = x - x.mean()
    return float(np.sqrt((np.mean(d**4) - np.mean(d**2) ** 2) / len(x)))


def _se_of_covariance(x: np.ndarray, y: np.ndarray) -> float:
    """Asymptotic standard error of the sample covariance, sd((x−x̄)(y−ȳ))/√T."""
    prod = (x - x.mean()) * (y - y.mean())
    return float(prod.std() / np.sqrt(len(x)))


@cache
def _simulate_one_sector(pd: float, correlation: float, seed: int) -> np.ndarray:
    """Default counts per quarter of N_LOANS borrowers, through draw_factors/draw_defaults.

    Independent quarters (no credit cycle), so the counts are independent draws and the
    standard errors below hold; the cycle's marginal is tested separately.
    """
    engine = CreditRiskEngine(
        CreditParams(macro_correlation=correlation, sector_correlation=0.0, macro_persistence=0.0),
        1,
    )
    rng = np.random.default_rng(seed)
    pds = np.full(N_LOANS, pd)
    sectors = np.zeros(N_LOANS, dtype=np.int64)
    counts = np.empty(N_QUARTERS, dtype=np.int64)
    for t in range(N_QUARTERS):
        factors = engine.draw_factors(rng)
        counts[t] = engine.draw_defaults(pds, sectors, factors, rng).sum()
    return counts


@cache
def _simulate_two_sectors(
    macro: float, sector: float, pd: float = 0.03, n_per_sector: int = 1000, n_quarters: int = 3000
) -> tuple[np.ndarray, np.ndarray]:
    """Default rates per quarter of two equal sectors sharing one engine (independent
    quarters)."""
    params = CreditParams(macro_correlation=macro, sector_correlation=sector, macro_persistence=0)
    engine = CreditRiskEngine(params, 2)
    rng = np.random.default_rng(20240611)
    pds = np.full(2 * n_per_sector, pd)
    sectors = np.repeat(np.array([0, 1]), n_per_sector)
    rates = np.empty((n_quarters, 2))
    for t in range(n_quarters):
        defaults = engine.draw_defaults(pds, sectors, engine.draw_factors(rng), rng)
        rates[t] = defaults.reshape(2, n_per_sector).mean(axis=1)
    return rates[:, 0], rates[:, 1]


# ---------------------------------------------------------------------------------------
# Per-borrower simulation against the exact finite-N distribution and the Vasicek limit
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("pd", "correlation"), VASICEK_PAIRS)
def test_simulated_defaults_follow_mixed_binomial(pd: float, correlation: float) -> None:
    counts = _simulate_one_sector(pd, correlation, seed=7)
    exact = mixed_binomial_cdf(N_LOANS, pd, correlation)
    empirical = np.searchsorted(np.sort(counts), np.arange(N_LOANS + 1), side="right") / N_QUARTERS

    for q in (0.5, 0.9, 0.99):
        # Smallest count k with P(K ≤ k) ≥ q, i.e. the exact q-quantile of the count.
        k_q = int(np.searchsorted(exact, q))
        for k in (k_q - 1, k_q):
            # F̂(k) is a mean of T Bernoulli(F(k)) indicators.
            sigma = np.sqrt(exact[k] * (1 - exact[k]) / N_QUARTERS)
            assert abs(empirical[k] - exact[k]) <= 4 * sigma, (q, k, empirical[k], exact[k])
        # Empirical quantile lies between exact quantiles at q ± 4 binomial SE of the level.
        sigma_q = np.sqrt(q * (1 - q) / N_QUARTERS)
        lo = np.searchsorted(exact, q - 4 * sigma_q)
        hi = np.searchsorted(exact, q + 4 * sigma_q)
        emp_q = np.quantile(counts, q, method="inverted_cdf")
        assert lo <= emp_q <= hi, (q, lo, emp_q, hi)

    # Whole distribution: DKW bound sup|F̂ − F| ≤ sqrt(ln(2/α)/(2T)) at α = 1e-3.
    assert np.max(np.abs(empirical - exact)) <= np.sqrt(np.log(2 / 1e-3) / (2 * N_QUARTERS))


def test_mixed_binomial_check_detects_wrong_correlation() -> None:
    # The same sample compared with a model whose R is 25 % off must violate the bound,
    # otherwise the test above would not be able to fail.
    counts = _simulate_one_sector(0.02, 0.24, seed=7)
    wrong = mixed_binomial_cdf(N_LOANS, 0.02, 0.18)
    empirical = np.searchsorted(np.sort(counts), np.arange(N_LOANS + 1), side="right") / N_QUARTERS
    assert np.max(np.abs(empirical - wrong)) > np.sqrt(np.log(2 / 1e-3) / (2 * N_QUARTERS))


@pytest.mark.parametrize(("pd", "correlation"), VASICEK_PAIRS)
def test_mean_and_variance_of_default_rate(pd: float, correlation: float) -> None:
    rates = _simulate_one_sector(pd, correlation, seed=7) / N_LOANS
    variance = _default_rate_variance(pd, correlation, N_LOANS)
    assert abs(rates.mean() - pd) <= 4 * np.sqrt(variance / N_QUARTERS)
    assert abs(rates.var() - variance) <= 4 * _se_of_variance(rates)


@pytest.mark.parametrize(
    ("pd", "macro", "sector"),
    [(0.01, 0.12, 0.0), (0.02, 0.24, 0.0), (0.05, 0.15, 0.0), (0.02, 0.08, 0.07)],
)
def test_large_portfolio_follows_vasicek(pd: float, macro: float, sector: float) -> None:
    engine = CreditRiskEngine(CreditParams(macro_correlation=macro, sector_correlation=sector), 3)
    rates = engine.default_rate_distribution(pd, 50_000, 10_000, np.random.default_rng(11))
    r = macro + sector  # one sector: the relevant asset correlation is r_m + r_s
    assert kstest(rates, lambda x: vasicek_cdf(x, pd, r)).pvalue > 1e-3
    # Power check: a 25 % error in the correlation must be rejected by the same test.
    assert kstest(rates, lambda x: vasicek_cdf(x, pd, 1.25 * r)).pvalue < 1e-6


def test_default_rate_distribution_matches_per_borrower_path() -> None:
    # Binomial shortcut and per-borrower path simulate the same law: compare their means
    # and variances (4 SE of the difference of two independent estimates).
    pd, r = 0.02, 0.24
    per_borrower = _simulate_one_sector(pd, r, seed=7) / N_LOANS
    engine = CreditRiskEngine(CreditParams(macro_correlation=r, sector_correlation=0.0), 1)
    shortcut = engine.default_rate_distribution(pd, N_LOANS, N_QUARTERS, np.random.default_rng(3))
    se_mean = np.hypot(per_borrower.std(), shortcut.std()) / np.sqrt(N_QUARTERS)
    assert abs(per_borrower.mean() - shortcut.mean()) <= 4 * se_mean
    se_var = np.hypot(_se_of_variance(per_borrower), _se_of_variance(shortcut))
    assert abs(per_borrower.var() - shortcut.var()) <= 4 * se_var


# ---------------------------------------------------------------------------------------
# The credit cycle: the macro factor is a stationary AR(1)
# ---------------------------------------------------------------------------------------


def _macro_path(persistence: float, quarters: int, seed: int) -> np.ndarray:
    engine = CreditRiskEngine(CreditParams(macro_persistence=persistence), 2)
    rng = np.random.default_rng(seed)
    return np.array([engine.draw_factors(rng).macro for _ in range(quarters)])


@pytest.mark.parametrize("persistence", [0.0, 0.5, 0.8, 0.95])
def test_macro_factor_autocorrelation_matches_its_parameter_and_variance_is_one(
    persistence: float,
) -> None:
    quarters = 40_000
    z = _macro_path(persistence, quarters, seed=5)
    phi = persistence
    lag1 = np.corrcoef(z[:-1], z[1:])[0, 1]
    # Bartlett: the lag-1 sample autocorrelation of an AR(1) has variance (1 − φ²)/T.
    assert abs(lag1 - phi) <= 4 * np.sqrt((1 - phi**2) / quarters)
    # Variance of the sample variance of a Gaussian AR(1): 2(1 + φ²)/((1 − φ²) T).
    assert abs(z.var() - 1.0) <= 4 * np.sqrt(2 * (1 + phi**2) / ((1 - phi**2) * quarters))
    assert abs(z.mean()) <= 4 * np.sqrt((1 + phi) / ((1 - phi) * quarters))


def test_macro_factor_is_standard_normal_in_its_first_quarters() -> None:
    # The cycle starts from its stationary law: quarter 1 is not a shrunken draw.
    paths = np.array([_macro_path(0.9, 3, seed) for seed in range(4000)])
    se = np.sqrt(2 / len(paths))
    for quarter in range(3):
        assert abs(paths[:, quarter].var() - 1.0) <= 4 * se
    assert abs(np.corrcoef(paths[:, 0], paths[:, 1])[0, 1] - 0.9) <= 0.02


def test_cycle_keeps_the_per_quarter_distribution_and_clusters_bad_years() -> None:
    # With persistence every quarter's default rate still follows the mixed binomial, but
    # bad quarters come in runs: the four-quarter sum varies more than with φ = 0.
    pd, r = 0.02, 0.18
    counts = {}
    for phi in (0.0, 0.8):
        engine = CreditRiskEngine(
            CreditParams(macro_correlation=r, sector_correlation=0.0, macro_persistence=phi), 1
        )
        rng = np.random.default_rng(17)
        pds, sectors = np.full(N_LOANS, pd), np.zeros(N_LOANS, dtype=np.int64)
        counts[phi] = np.array(
            [
                engine.draw_defaults(pds, sectors, engine.draw_factors(rng), rng).sum()
                for _ in range(8000)
            ]
        )
    rates = counts[0.8] / N_LOANS
    exact = _default_rate_variance(pd, r, N_LOANS)
    # Autocorrelated quarters: allow for the long-run variance of the estimate (φ = 0.8).
    assert abs(rates.mean() - pd) <= 4 * np.sqrt(exact * 9 / len(rates))
    assert abs(rates.var() - exact) <= 4 * 3 * _se_of_variance(rates)
    yearly = {phi: c.reshape(-1, 4).sum(axis=1) for phi, c in counts.items()}
    assert yearly[0.8].var() > 1.5 * yearly[0.0].var()


# ---------------------------------------------------------------------------------------
# Sector factors
# ---------------------------------------------------------------------------------------


def test_sector_factor_raises_within_sector_variance() -> None:
    pd, n = 0.03, 1000
    a_low, b_low = _simulate_two_sectors(0.10, 0.0)
    a_high, b_high = _simulate_two_sectors(0.10, 0.15)
    for rates, r in ((a_low, 0.10), (b_low, 0.10), (a_high, 0.25), (b_high, 0.25)):
        assert abs(rates.var() - _default_rate_variance(pd, r, n)) <= 4 * _se_of_variance(rates)
    gap = a_high.var() - a_low.var()
    assert gap > 4 * np.hypot(_se_of_variance(a_high), _se_of_variance(a_low))


def test_sectors_are_linked_only_through_the_macro_factor() -> None:
    pd = 0.03
    # Cross-sector covariance of default rates is E[p_A p_B] − pd² with asset correlation
    # r_m only: r_s must not leak across sectors.
    a, b = _simulate_two_sectors(0.10, 0.15)
    cross = np.mean((a - a.mean()) * (b - b.mean()))
    expected_cross = joint_default_prob(pd, 0.10) - pd**2
    assert abs(cross - expected_cross) <= 4 * _se_of_covariance(a, b)
    wrong_cross = joint_default_prob(pd, 0.25) - pd**2  # what leaking r_s would give
    assert abs(cross - wrong_cross) > 4 * _se_of_covariance(a, b)

    # Without a macro factor, sectors are independent: sample correlation ~ N(0, 1/T).
    a0, b0 = _simulate_two_sectors(0.0, 0.2)
    assert abs(np.corrcoef(a0, b0)[0, 1]) <= 4 / np.sqrt(len(a0))
    assert a0.var() > 4 * a0.var() / np.sqrt(len(a0))  # there is variance to correlate


# ---------------------------------------------------------------------------------------
# conditional_pd / draw_defaults: properties and exact behaviour
# ---------------------------------------------------------------------------------------

pd_arrays = arrays(
    np.float64,
    st.integers(1, 40),
    elements=st.one_of(st.floats(0.0, 1.0), st.sampled_from([0.0, 1.0, 1e-15, 1 - 1e-15])),
)
correlations = st.tuples(st.floats(0.0, 0.95), st.floats(0.0, 0.95)).filter(
    lambda rr: rr[0] + rr[1] < 0.99
)
factor_values = st.floats(-8.0, 8.0)


@settings(max_examples=150, deadline=None)
@given(pd=pd_arrays, rr=correlations, z1=factor_values, z2=factor_values, s=factor_values)
def test_conditional_pd_is_a_probability_decreasing_in_macro_factor(
    pd: np.ndarray, rr: tuple[float, float], z1: float, z2: float, s: float
) -> None:
    engine = CreditRiskEngine(CreditParams(macro_correlation=rr[0], sector_correlation=rr[1]), 2)
    sectors = np.arange(len(pd)) % 2
    lo_z, hi_z = min(z1, z2), max(z1, z2)
    p_bad = engine.conditional_pd(pd, sectors, FactorDraw(lo_z, np.array([s, -s])))
    p_good = engine.conditional_pd(pd, sectors, FactorDraw(hi_z, np.array([s, -s])))
    for p in (p_bad, p_good):
        assert p.shape == pd.shape
        assert np.all((p >= 0.0) & (p <= 1.0))
        np.testing.assert_array_equal(p[pd == 0.0], 0.0)
        np.testing.assert_array_equal(p[pd == 1.0], 1.0)
    # Monotone up to rounding: with a macro loading near zero (r_m = 1e-30) the two
    # factors move the argument of Φ by less than an ulp, and Φ's last bits may go
    # either way (found by hypothesis).
    assert np.all(p_bad >= p_good - 1e-15)
    # Strictly decreasing wherever the macro loading is non-zero and ndtr is not saturated.
    assume(rr[0] > 1e-3 and hi_z - lo_z > 1e-2)
    interior = (p_good > 1e-6) & (p_bad < 1 - 1e-6)
    assert np.all(p_bad[interior] > p_good[interior])


@settings(max_examples=100, deadline=None)
@given(pd=pd_arrays, z=factor_values, s=factor_values)
def test_conditional_pd_without_correlation_is_pd(pd: np.ndarray, z: float, s: float) -> None:
    engine = CreditRiskEngine(CreditParams(macro_correlation=0.0, sector_correlation=0.0), 1)
    p = engine.conditional_pd(pd, np.zeros(len(pd), dtype=int), FactorDraw(z, np.array([s])))
    # Clipping pd to [1e-12, 1 − 1e-12] is the only allowed deviation (plus rounding).
    np.testing.assert_allclose(p, pd, rtol=1e-9, atol=1.001e-12)


def test_conditional_pd_formula_and_sector_lookup() -> None:
    params = CreditParams(macro_correlation=0.1, sector_correlation=0.2)
    engine = CreditRiskEngine(params, 3)
    factors = FactorDraw(-1.3, np.array([0.5, -2.0, 1.0]))
    pd = np.array([0.01, 0.01, 0.01, 0.2])
    sector = np.array([0, 1, 2, 1])
    expected = [
        ndtr((ndtri(p) - np.sqrt(0.1) * -1.3 - np.sqrt(0.2) * factors.sector[k]) / np.sqrt(0.7))
        for p, k in zip(pd, sector, strict=True)
    ]
    np.testing.assert_allclose(engine.conditional_pd(pd, sector, factors), expected, rtol=1e-12)
    # A scalar sector id broadcasts over the portfolio.
    np.testing.assert_allclose(
        engine.conditional_pd(pd, 1, factors), engine.conditional_pd(pd, np.ones(4, int), factors)
    )


def test_certain_outcomes_are_exact_even_in_extreme_quarters() -> None:
    engine = CreditRiskEngine(CreditParams(macro_correlation=0.5, sector_correlation=0.45), 1)
    pd = np.array([0.0, 1.0, 0.0, 1.0])
    sector = np.zeros(4, dtype=int)
    rng = np.random.default_rng(0)
    for z in (-30.0, 30.0):
        factors = FactorDraw(z, np.array([z]))
        np.testing.assert_array_equal(engine.conditional_pd(pd, sector, factors), [0, 1, 0, 1])
        for _ in range(50):
            np.testing.assert_array_equal(
                engine.draw_defaults(pd, sector, factors, rng), [False, True, False, True]
            )


@settings(max_examples=100, deadline=None)
@given(pd=pd_arrays, seed=st.integers(0, 2**32 - 1))
def test_draw_defaults_consumes_exactly_one_uniform_per_borrower(pd: np.ndarray, seed: int) -> None:
    engine = CreditRiskEngine(CreditParams(), 3)
    sectors = np.arange(len(pd)) % 3
    factors = FactorDraw(0.4, np.array([-1.0, 0.0, 2.0]))
    rng_engine = np.random.default_rng(seed)
    rng_manual = np.random.default_rng(seed)
    defaults = engine.draw_defaults(pd, sectors, factors, rng_engine)
    uniforms = rng_manual.random(len(pd))
    assert defaults.dtype == np.bool_
    np.testing.assert_array_equal(defaults, uniforms < engine.conditional_pd(pd, sectors, factors))
    # Both streams are at the same position afterwards.
    np.testing.assert_array_equal(rng_engine.random(8), rng_manual.random(8))


@given(n_sectors=st.integers(1, 20), seed=st.integers(0, 2**32 - 1))
def test_draw_factors_consumes_one_plus_n_sectors_normals(n_sectors: int, seed: int) -> None:
    engine = CreditRiskEngine(CreditParams(), n_sectors)
    rng_engine = np.random.default_rng(seed)
    rng_manual = np.random.default_rng(seed)
    factors = engine.draw_factors(rng_engine)
    z = rng_manual.standard_normal(1 + n_sectors)
    assert factors.macro == z[0]
    np.testing.assert_array_equal(factors.sector, z[1:])
    np.testing.assert_array_equal(rng_engine.random(8), rng_manual.random(8))


def test_factor_draw_is_immutable_and_validated() -> None:
    source = np.array([1.0, 2.0])
    factors = FactorDraw(0.0, source)
    source[0] = 99.0  # the draw keeps its own copy
    assert factors.sector[0] == 1.0
    with pytest.raises(ValueError):
        factors.sector[0] = 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        factors.macro = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="1-D"):
        FactorDraw(0.0, np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("pd", "sector", "factors", "match"),
    [
        (np.array([0.1, 1.1]), np.array([0, 0]), FactorDraw(0.0, np.zeros(2)), "pd"),
        (np.array([0.1, np.nan]), np.array([0, 0]), FactorDraw(0.0, np.zeros(2)), "pd"),
        (np.array([0.1, 0.1]), np.array([0, 2]), FactorDraw(0.0, np.zeros(2)), "sector"),
        (np.array([0.1, 0.1]), np.array([0, -1]), FactorDraw(0.0, np.zeros(2)), "sector"),
        (np.array([0.1, 0.1]), np.array([0.0, 1.0]), FactorDraw(0.0, np.zeros(2)), "sector"),
        (np.array([0.1, 0.1]), np.array([0, 1, 1]), FactorDraw(0.0, np.zeros(2)), "sector"),
        (np.array([0.1, 0.1]), np.array([0, 1]), FactorDraw(0.0, np.zeros(3)), "sector factors"),
    ],
)
def test_conditional_pd_rejects_bad_inputs(pd, sector, factors, match: str) -> None:
    engine = CreditRiskEngine(CreditParams(), 2)
    with pytest.raises(ValueError, match=match):
        engine.conditional_pd(pd, sector, factors)


def test_empty_portfolio() -> None:
    engine = CreditRiskEngine(CreditParams(), 2)
    rng = np.random.default_rng(1)
    out = engine.draw_defaults(np.array([]), np.array([]), engine.draw_factors(rng), rng)
    assert out.shape == (0,)
    assert out.dtype == np.bool_


def test_default_rate_distribution_shape_and_reproducibility() -> None:
    engine = CreditRiskEngine(CreditParams(), 4)
    a = engine.default_rate_distribution(0.02, 500, 100, np.random.default_rng(5))
    b = engine.default_rate_distribution(0.02, 500, 100, np.random.default_rng(5))
    assert a.shape == (100,)
    np.testing.assert_array_equal(a, b)
    assert np.all((a >= 0) & (a <= 1))
    np.testing.assert_array_equal(
        engine.default_rate_distribution(0.0, 50, 20, np.random.default_rng(1)), 0
    )
    np.testing.assert_array_equal(
        engine.default_rate_distribution(1.0, 50, 20, np.random.default_rng(1)), 1
    )
    with pytest.raises(ValueError, match="n_loans"):
        engine.default_rate_distribution(0.02, 0, 10, np.random.default_rng(1))
    with pytest.raises(ValueError, match="pd"):
        engine.default_rate_distribution(1.5, 10, 10, np.random.default_rng(1))


# ---------------------------------------------------------------------------------------
# Parameters, LGD and expected loss
# ---------------------------------------------------------------------------------------


def test_credit_params_defaults() -> None:
    p = CreditParams()
    assert (p.macro_correlation, p.sector_correlation) == (0.12, 0.06)
    assert (p.lgd_unsecured, p.lgd_secured, p.workout_quarters) == (0.45, 0.35, 4)
    assert p.macro_persistence == 0.87
    assert p.intra_sector_correlation == pytest.approx(0.18)
    assert p.inter_sector_correlation == 0.12


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"macro_correlation": -0.01}, "macro_correlation must be >= 0"),
        ({"macro_correlation": float("nan")}, "macro_correlation must be >= 0"),
        ({"sector_correlation": -0.2}, "sector_correlation must be >= 0"),
        ({"macro_correlation": 0.6, "sector_correlation": 0.4}, "must be < 1"),
        ({"macro_correlation": 1.0, "sector_correlation": 0.0}, "must be < 1"),
        ({"lgd_unsecured": 1.2}, r"lgd_unsecured must lie in \[0, 1\]"),
        ({"lgd_secured": -0.1}, r"lgd_secured must lie in \[0, 1\]"),
        ({"lgd_unsecured": 0.3, "lgd_secured": 0.35}, "must not exceed"),
        ({"workout_quarters": -1}, "workout_quarters must be a non-negative integer"),
        ({"workout_quarters": 2.5}, "workout_quarters must be a non-negative integer"),
        ({"macro_persistence": 1.0}, r"macro_persistence must lie in \[0, 1\)"),
        ({"macro_persistence": -0.1}, r"macro_persistence must lie in \[0, 1\)"),
        ({"macro_persistence": float("nan")}, r"macro_persistence must lie in \[0, 1\)"),
    ],
)
def test_credit_params_rejects_invalid_values(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        CreditParams(**kwargs)


@given(
    r_m=st.floats(-1.0, 2.0),
    r_s=st.floats(-1.0, 2.0),
    lgd_u=st.floats(-0.5, 1.5),
    lgd_s=st.floats(-0.5, 1.5),
    workout=st.integers(-3, 10),
)
def test_credit_params_accepts_exactly_the_valid_region(
    r_m: float, r_s: float, lgd_u: float, lgd_s: float, workout: int
) -> None:
    valid = r_m >= 0 and r_s >= 0 and r_m + r_s < 1 and 0 <= lgd_s <= lgd_u <= 1 and workout >= 0
    kwargs = {
        "macro_correlation": r_m,
        "sector_correlation": r_s,
        "lgd_unsecured": lgd_u,
        "lgd_secured": lgd_s,
        "workout_quarters": workout,
    }
    if valid:
        CreditParams(**kwargs)
    else:
        with pytest.raises(ValueError):
            CreditParams(**kwargs)


def test_engine_rejects_bad_sector_count() -> None:
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="n_sectors"):
            CreditRiskEngine(CreditParams(), bad)  # type: ignore[arg-type]


def test_loan_lgd_interpolates_and_clips() -> None:
    params = CreditParams()
    share = np.array([-0.5, 0.0, 0.5, 1.0, 3.0])
    np.testing.assert_allclose(loan_lgd(params, share), [0.45, 0.45, 0.40, 0.35, 0.35])
    with pytest.raises(ValueError, match="secured_share"):
        loan_lgd(params, np.array([np.nan]))


def test_expected_loss() -> None:
    engine = CreditRiskEngine(CreditParams(), 1)
    exposure = np.array([100.0, 200.0, 50.0])
    pd = np.array([0.01, 0.02, 0.5])
    lgd = np.array([0.45, 0.35, 1.0])
    assert engine.expected_loss(exposure, pd, lgd) == pytest.approx(0.45 + 1.4 + 25.0)
    assert isinstance(engine.expected_loss(exposure, pd, lgd), float)
