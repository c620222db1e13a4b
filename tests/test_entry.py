"""Entry: new firms' numbers, mixes and attributes follow the rules of docs/model.md §7.2.

Checked against closed forms (a firm whose draws are known), and statistically: the shares
of a large cohort converge to the configured mixes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr
from scipy.stats import poisson

from parksim.core.codes import Stage
from parksim.core.population import EnterprisePopulation
from parksim.core.sectors import SectorArrays
from parksim.enterprises.entry import (
    DRAWS_PER_FIRM,
    Draw,
    FirmProfileParams,
    cdf_of,
    draw_firms,
    entrant_count,
    firm_draws,
    link_suppliers,
)

PROFILE = FirmProfileParams()
SECTORS = SectorArrays.of(("biomedicine", "it_software", "hard_tech", "green"))
STAGE_MIX = np.array([0.3, 0.0, 0.3, 0.25, 0.15])  # one stage never drawn
SECTOR_MIX = np.array([0.1, 0.2, 0.3, 0.4])
BANK_MIX = np.array([1.0, 2.0, 0.5])
N_BANKS = len(BANK_MIX)


def draw(u: np.ndarray, quality_mean: float = 0.0) -> dict[str, np.ndarray]:
    return draw_firms(
        u, cdf_of(STAGE_MIX), quality_mean, cdf_of(SECTOR_MIX), SECTORS, PROFILE, cdf_of(BANK_MIX)
    )


@pytest.fixture(scope="module")
def cohort() -> dict[str, np.ndarray]:
    """200,000 new firms of mean quality 0.3."""
    return draw(firm_draws(np.random.default_rng(42), 200_000, N_BANKS), quality_mean=0.3)


def within_binomial_error(counts: np.ndarray, mix: np.ndarray, sds: float = 5.0) -> None:
    """Observed shares within `sds` binomial standard errors of the mix's shares."""
    n, p = counts.sum(), mix / mix.sum()
    error = np.abs(counts / n - p)
    np.testing.assert_array_less(error, sds * np.sqrt(p * (1 - p) / n) + 1e-12)


@pytest.mark.parametrize(
    ("column", "mix"), [("stage", STAGE_MIX), ("sector", SECTOR_MIX), ("main_bank", BANK_MIX)]
)
def test_a_large_cohorts_shares_converge_to_the_configured_mixes(cohort, column, mix) -> None:
    counts = np.bincount(cohort[column], minlength=len(mix))
    assert len(counts) == len(mix)
    within_binomial_error(counts, mix)


def test_a_stage_with_no_share_is_never_drawn(cohort) -> None:
    assert not (cohort["stage"] == Stage.STARTUP).any()


def test_quality_is_normal_around_the_cohorts_mean(cohort) -> None:
    q = cohort["quality"]
    assert abs(q.mean() - 0.3) < 5 / math.sqrt(len(q))
    assert q.std() == pytest.approx(1.0, abs=0.01)


def test_a_uniform_on_a_mixs_edge_falls_in_the_next_category() -> None:
    u = np.full((2, DRAWS_PER_FIRM + N_BANKS), 0.5)
    cdf = cdf_of(STAGE_MIX)
    u[:, Draw.STAGE] = [cdf[0], np.nextafter(cdf[0], 0.0)]
    # A share 0 stage has an empty interval: the edge at cdf[0] = cdf[1] goes to stage 2.
    assert draw(u)["stage"].tolist() == [Stage.GROWTH, Stage.SEED]


def test_a_firm_with_median_draws_has_the_stages_profile() -> None:
    # Every normal 0 (u = 1/2): revenue is the stage median moved by quality alone.
    u = np.full((1, DRAWS_PER_FIRM + N_BANKS), 0.5)
    u[0, Draw.STAGE] = 0.45  # growth: cumulative shares 0.3, 0.3, 0.6, ...
    u[0, Draw.SECTOR] = 0.05  # biomedicine
    firm = {name: values[0] for name, values in draw(u, quality_mean=0.4).items()}
    s, c, q = Stage.GROWTH, 0, 0.4
    revenue = PROFILE.revenue_median[s] * math.exp(PROFILE.revenue_quality_loading * q)
    assert (firm["stage"], firm["sector"], firm["quality"]) == (s, c, q)
    assert firm["size"] == pytest.approx(revenue, rel=1e-14)
    collateral = PROFILE.collateral_ratio[s] * SECTORS.collateral[c] * revenue
    assert firm["collateral"] == pytest.approx(collateral, rel=1e-14)
    ip = PROFILE.ip_ratio[s] * SECTORS.ip[c] * revenue * math.exp(PROFILE.ip_quality_loading * q)
    assert firm["ip_value"] == pytest.approx(ip, rel=1e-14)
    assert firm["valuation"] == pytest.approx(PROFILE.valuation_multiple * revenue, rel=1e-14)
    assert (firm["signal_error"] == 0.0).all()


@pytest.mark.parametrize(
    ("column", "draw_column", "dispersion"),
    [
        ("size", Draw.REVENUE, "revenue_dispersion"),
        ("collateral", Draw.COLLATERAL, "collateral_dispersion"),
        ("ip_value", Draw.IP, "ip_dispersion"),
    ],
)
def test_a_one_sd_draw_moves_its_attribute_by_its_dispersion(
    column: str, draw_column: Draw, dispersion: str
) -> None:
    u = np.full((2, DRAWS_PER_FIRM + N_BANKS), 0.5)
    u[1, draw_column] = ndtr(1.0)  # a one-sd normal
    median, high = draw(u)[column]
    assert high / median == pytest.approx(math.exp(getattr(PROFILE, dispersion)), rel=1e-12)


def test_each_bank_gets_its_own_signal_error_from_the_firms_row() -> None:
    u = np.full((1, DRAWS_PER_FIRM + N_BANKS), 0.5)
    u[0, DRAWS_PER_FIRM:] = ndtr(np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_allclose(draw(u)["signal_error"][0], [-1.0, 0.0, 2.0], atol=1e-12)


def test_each_firm_draws_one_row_with_a_column_per_draw_and_per_bank() -> None:
    assert sorted(Draw) == list(range(DRAWS_PER_FIRM))
    assert firm_draws(np.random.default_rng(0), 7, N_BANKS).shape == (7, DRAWS_PER_FIRM + N_BANKS)


@pytest.mark.parametrize("rate", [0.5, 4.0, 25.0, 300.0])
def test_entrant_counts_are_poisson_by_inverting_the_cdf(rate: float) -> None:
    # The count of a uniform u is the smallest n with P(N <= n) >= u.
    for u in (1e-6, 0.01, 0.3, 0.5, 0.77, 0.999):
        n = entrant_count(u, rate)
        assert poisson.cdf(n, rate) >= u
        assert n == 0 or poisson.cdf(n - 1, rate) < u
    counts = [entrant_count(u, rate) for u in (np.arange(20_000) + 0.5) / 20_000]
    assert np.mean(counts) == pytest.approx(rate, rel=0.01, abs=0.01)


def test_a_higher_entry_rate_never_draws_fewer_entrants_from_the_same_uniform() -> None:
    for u in np.random.default_rng(3).random(200):
        counts = [entrant_count(u, rate) for rate in (0.0, 1.0, 5.0, 5.5, 40.0)]
        assert counts == sorted(counts)
    assert entrant_count(0.9, 0.0) == 0


def test_suppliers_link_to_active_leaders_at_the_link_probability() -> None:
    n = 50_000
    pop = EnterprisePopulation(n_banks=1)
    pop.add(stage=np.array([Stage.LISTED, Stage.LISTED, Stage.FAILED]))
    pop.chain_leader[:] = True  # two active leaders and a failed one
    new = pop.add(stage=np.full(n, Stage.SEED))
    u = firm_draws(np.random.default_rng(5), n, 1)
    link_suppliers(pop, new, 0.3, u)
    linked = new[pop.leader_row[new] >= 0]
    within_binomial_error(np.array([len(linked), n - len(linked)]), np.array([0.3, 0.7]))
    # Uniformly among the active leaders, never the failed one; ids and rows agree.
    within_binomial_error(np.bincount(pop.leader_row[linked], minlength=2), np.array([1.0, 1.0]))
    np.testing.assert_array_equal(pop.leader_id[linked], pop.id[pop.leader_row[linked]])
    # Whether a firm links is its own LINK draw.
    np.testing.assert_array_equal(pop.leader_row[new] >= 0, u[:, Draw.LINK] < 0.3)
