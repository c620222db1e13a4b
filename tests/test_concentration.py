"""The focal bank's own risk measures: IRB capital, concentration and the granularity
adjustment (parksim/banks/risk.py), and the single-name limit in a run."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.special import ndtr, ndtri
from scipy.stats import gamma

from parksim import ParkModel
from parksim.banks.book import LoanColumns, limit_exposures
from parksim.banks.risk import (
    NUMPY_SORT_FROM,
    book_risk,
    capital_rates,
    descending,
    ga_delta,
    granularity_adjustment,
)

BASELINE = "scenarios/baseline.toml"


def test_capital_matches_the_basel_formula_on_a_hand_built_book() -> None:
    # Three performing loans at Basel II Annex 5 points (LGD 45 %, M = 2.5 years, i.e.
    # 10 quarters left): risk weights 92.32 %, 114.86 %, 149.86 %; one NPL (no capital).
    debt = np.array([1000.0, 500.0, 250.0, 400.0])
    performing = np.array([True, True, True, False])
    pd = np.array([0.01, 0.02, 0.05, 0.3])
    lgd = np.full(4, 0.45)
    left = np.full(4, 10)
    risk = book_risk(debt, np.array([1000.0, 1150.0]), performing, pd, lgd, left)
    expected = (1000 * 0.9232 + 500 * 1.1486 + 250 * 1.4986) / 12.5
    assert risk.capital_irb == pytest.approx(expected, rel=2e-4)
    # The same by the formula written out: K = LGD [Φ((Φ⁻¹(PD) + √R Φ⁻¹(.999))/√(1−R)) − PD] MA.
    p = pd[:3]
    w = (1 - np.exp(-50 * p)) / (1 - np.exp(-50))
    r = 0.12 * w + 0.24 * (1 - w)
    b = (0.11852 - 0.05478 * np.log(p)) ** 2
    k = 0.45 * (ndtr((ndtri(p) + np.sqrt(r) * ndtri(0.999)) / np.sqrt(1 - r)) - p) / (1 - 1.5 * b)
    assert risk.capital_irb == pytest.approx((debt[:3] * k).sum(), rel=1e-12)


def test_capital_maturity_is_the_remaining_term_within_one_to_five_years() -> None:
    pd, lgd = np.full(3, 0.02), np.full(3, 0.45)
    k = capital_rates(pd, lgd, np.array([1, 4, 40]))
    assert k[0] == pytest.approx(k[1])  # 1 quarter is floored at one year
    assert k[2] > k[1]
    assert k[2] == pytest.approx(capital_rates(pd[:1], lgd[:1], np.array([20]))[0])


def test_concentration_measures_of_a_small_book() -> None:
    debt = np.array([50.0, 30.0, 20.0])
    risk = book_risk(
        debt,
        np.array([80.0, 20.0]),
        np.ones(3, bool),
        np.full(3, 0.02),
        np.full(3, 0.45),
        np.full(3, 8),
    )
    assert risk.largest_exposure_share == pytest.approx(0.5)
    assert risk.top10_exposure_share == pytest.approx(1.0)
    assert risk.hhi_exposure == pytest.approx(0.25 + 0.09 + 0.04)
    assert risk.sector_hhi == pytest.approx(0.64 + 0.04)


def test_ga_delta_is_the_published_value() -> None:
    # Gordy & Lütkebohmert (2013), §4: δ = 4.83 for ξ = 0.25 at q = 99.9 %.
    assert ga_delta() == pytest.approx(4.83, abs=0.005)


def test_granularity_adjustment_falls_like_one_over_the_number_of_names() -> None:
    def homogeneous(n: int) -> float:
        ones = np.ones(n)
        k = capital_rates(0.02 * ones, 0.45 * ones, 10 * ones)
        return granularity_adjustment(ones, 0.02 * ones, 0.45 * ones, k)

    assert homogeneous(100) == pytest.approx(homogeneous(50) / 2, rel=1e-12)
    # Homogeneous book: GA = C (δ (K + R) − K) / (2 n K) · K ... = C (δ (K + R) − K) / (2 n K).
    k = float(capital_rates(np.array([0.02]), np.array([0.45]), np.array([10]))[0])
    c = 0.45 + 0.25 * 0.55
    assert homogeneous(50) == pytest.approx(c * (ga_delta() * (k + 0.45 * 0.02) - k) / (100 * k))


def test_granularity_adjustment_matches_a_creditriskplus_simulation() -> None:
    """The GA is the gap between the q-quantile of a finite book's loss and that of the
    infinitely fine-grained book, in the one-factor CreditRisk+ model the formula is
    derived in (Gordy & Lütkebohmert 2013, §3): the paper checks it against simulation,
    and so do we, at q = 99 % (cheaper to simulate) with its δ."""
    rng = np.random.default_rng(11)
    q, xi, nu = 0.99, 0.25, 0.25
    n = 30
    ead = rng.uniform(1.0, 6.0, n)
    ead[0] = 25.0  # one large name
    pd = rng.uniform(0.005, 0.04, n)
    elgd = np.full(n, 0.45)
    alpha = gamma.ppf(q, a=xi, scale=1 / xi)
    weight = 0.8  # factor loading in CreditRisk+: PD(x) = PD (1 − w + w x)
    k = elgd * pd * weight * (alpha - 1)  # capital of the fine-grained book
    delta = (alpha - 1) * (xi + (1 - xi) / alpha)
    ga = granularity_adjustment(ead, pd, elgd, k, lgd_variance=nu, delta=delta)

    sims = 400_000
    x = rng.gamma(xi, 1 / xi, sims)
    share = ead / ead.sum()
    loss = np.zeros(sims)
    a = elgd * (1 / nu - 1)  # beta LGD with mean ELGD and variance ν ELGD (1 − ELGD)
    b = (1 - elgd) * (1 / nu - 1)
    for i in range(n):
        defaults = rng.poisson(pd[i] * (1 - weight + weight * x))
        lgd = rng.beta(a[i], b[i], sims)
        loss += share[i] * lgd * defaults
    simulated = np.quantile(loss, q) - (share * (k + elgd * pd)).sum()
    assert ga == pytest.approx(simulated, rel=0.25)


@pytest.mark.parametrize("size", [0, 1, 2, 9, 57, 133, NUMPY_SORT_FROM - 1, NUMPY_SORT_FROM, 999])
def test_descending_sorts_from_largest_to_smallest(size: int) -> None:
    # Balances with ties and zeros, on either side of the switch to numpy's sort.
    rng = np.random.default_rng(size)
    debt = np.round(rng.lognormal(3.0, 2.0, size), 1) * (rng.random(size) < 0.8)
    before = debt.copy()
    np.testing.assert_array_equal(descending(debt), np.sort(debt)[::-1])
    np.testing.assert_array_equal(debt, before)  # sorted into a new array


@pytest.mark.parametrize("strategy", ["tier1_heavy", "tier2_light"])
def test_no_name_exceeds_the_single_name_limit_after_the_close(strategy: str) -> None:
    """Property of real runs: after each quarter's close, no client of any bank (an
    enterprise, or the operator as one name) is above the bank's cap in force, 15 % of the
    tier-1 capital allocated to the park business."""
    for seed in range(3):
        model = ParkModel(BASELINE, strategy=strategy, rng=seed, horizon=24)
        bound = 0
        for _ in range(24):
            model.step()
            pop = model.enterprises
            rows = pop.loan_rows()
            counted = limit_exposures(rows, LoanColumns.of(pop))
            for bank in model.banks:
                cap = bank.ledger.single_name_limit
                assert cap == pytest.approx(
                    bank.spec.single_name_limit * bank.ledger.allocated_capital
                )
                assert cap > 0
                own = counted[pop.lender[rows] == bank.index]
                # NPLs defaulted this quarter are sold only once classified (next quarter).
                fresh = pop.default_quarter[rows][pop.lender[rows] == bank.index] == model.quarter
                largest = own[~fresh].max(initial=0.0)
                assert largest <= cap * (1 + 1e-9), (strategy, seed, model.quarter)
                assert bank.operator_loan <= cap * (1 + 1e-9)
                bound += largest > 0.99 * cap or bank.operator_loan > 0.99 * cap
            series = model.timeseries()
            assert series["single_name_limit"].iloc[-1] == model.focal_bank.ledger.single_name_limit
        assert bound > 0  # the limit binds somewhere, so the property is not vacuous


def test_a_tighter_single_name_limit_lowers_the_largest_exposure() -> None:
    model = ParkModel(BASELINE, strategy="tier2_heavy", rng=4, horizon=12)
    for bank in model.banks:
        bank.spec = dataclasses.replace(bank.spec, single_name_limit=0.04)
    model.run()
    pop = model.enterprises
    rows = pop.loan_rows()
    focal = rows[(pop.lender[rows] == 0) & (pop.default_quarter[rows] < model.quarter)]
    cap = model.focal_bank.ledger.single_name_limit
    assert pop.debt[focal].max() <= cap * (1 + 1e-9)
    assert cap == pytest.approx(0.04 * model.focal_bank.ledger.allocated_capital)
