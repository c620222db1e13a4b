"""Entry: the initial park and the enterprises that arrive each quarter.

How many firms arrive and how good they are depends on the operator (space, services and
park funds that "invest to attract", 投招联动, §四(三)) and on the banks' ecosystem (park
brand and alliances, §六(三)3). Firm attributes by stage encode §五(二): young firms hold
little tangible collateral; their value sits in IP and people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy.special import ndtri, pdtr, pdtrik

from parksim.core.population import EnterprisePopulation
from parksim.core.sectors import SectorArrays

AMOUNT = {"non_negative": True}


@dataclass(frozen=True)
class FirmProfileParams:
    """Attributes of a firm when it enters a stage; stage tuples run seed → listed."""

    revenue_median: tuple[float, ...] = field(
        default=(150.0, 800.0, 4000.0, 20000.0, 80000.0),
        metadata={**AMOUNT, "help": "median annual revenue by stage, 万元 (assumption)"},
    )
    revenue_dispersion: float = field(
        default=0.8, metadata={"min": 0.0, "help": "sd of log revenue within a stage"}
    )
    collateral_ratio: tuple[float, ...] = field(
        default=(0.05, 0.10, 0.25, 0.35, 0.45),
        metadata={**AMOUNT, "help": "tangible collateral / annual revenue by stage (§五(二))"},
    )
    ip_ratio: tuple[float, ...] = field(
        default=(0.40, 0.35, 0.25, 0.15, 0.10),
        metadata={**AMOUNT, "help": "pledgeable IP value / annual revenue by stage (§四(二))"},
    )
    valuation_multiple: float = field(
        default=3.0, metadata={"min": 0.0, "help": "initial valuation / annual revenue"}
    )


# Uniform draws per new firm, one row each (plus one signal error per bank): the k-th
# entrant of a quarter gets the same row in every strategy (common random numbers).
(
    U_STAGE,
    U_SECTOR,
    U_QUALITY,
    U_REVENUE,
    U_COLLATERAL,
    U_IP,
    U_LEADER,  # unused since 0.3.0 (leaders follow a rule); kept so later draws keep their place
    U_MAIN_BANK,
    U_LINK,
    U_LINK_PICK,
) = range(10)
DRAWS_PER_FIRM = 10


def entrant_count(u: float, rate: float) -> int:
    """Poisson(rate) number of entrants by inverting the CDF at one uniform `u`, so a
    strategy with a higher entry rate never draws fewer entrants from the same `u`."""
    if rate <= 0:
        return 0
    count = np.ceil(pdtrik(u, rate))
    below = max(count - 1.0, 0.0)
    return int(below if pdtr(below, rate) >= u else count)


def firm_draws(rng: np.random.Generator, count: int, n_banks: int) -> np.ndarray:
    """The uniforms of `count` new firms: one row per firm."""
    return rng.random((count, DRAWS_PER_FIRM + n_banks))


def cdf_of(weights: np.ndarray) -> np.ndarray:
    """Cumulative shares of a mix, for drawing categories from uniforms."""
    cumulative = np.cumsum(weights) / np.sum(weights)
    cumulative[-1] = 1.0
    return cumulative


def draw_firms(
    u: np.ndarray,
    stage_cdf: np.ndarray,
    quality_mean: float,
    sector_cdf: np.ndarray,
    sectors: SectorArrays,
    profile: FirmProfileParams,
    main_bank_cdf: np.ndarray,
) -> dict[str, np.ndarray]:
    """Attributes of new firms from their rows of uniforms, as population columns.

    None is a chain leader yet: `promote_chain_leaders` (lifecycle) applies the rule.

    The mixes come as cumulative shares (`cdf_of`): stages, sectors, and the banks'
    attraction as a new firm's main bank.
    """
    # Φ⁻¹ of only the uniforms used as normals (it is the costliest step per entrant).
    quality_z, revenue_z, collateral_z, ip_z = ndtri(u[:, U_QUALITY : U_IP + 1]).T
    stage, sector, quality, revenue, collateral, ip, main_bank = _profiles(
        u[:, U_STAGE],
        u[:, U_SECTOR],
        u[:, U_MAIN_BANK],
        quality_z,
        revenue_z,
        collateral_z,
        ip_z,
        stage_cdf,
        quality_mean,
        sector_cdf,
        main_bank_cdf,
        np.asarray(profile.revenue_median, dtype=float),
        profile.revenue_dispersion,
        np.asarray(profile.collateral_ratio, dtype=float),
        sectors.collateral,
        np.asarray(profile.ip_ratio, dtype=float),
        sectors.ip,
    )
    return {
        "stage": stage,
        "sector": sector,
        "quality": quality,
        "size": revenue,
        "collateral": collateral,
        "ip_value": ip,
        "valuation": profile.valuation_multiple * revenue,
        "main_bank": main_bank,
        "signal_error": ndtri(u[:, DRAWS_PER_FIRM:]),
    }


@njit(cache=True)
def _profiles(
    stage_u,
    sector_u,
    main_bank_u,
    quality_z,
    revenue_z,
    collateral_z,
    ip_z,
    stage_cdf,
    quality_mean,
    sector_cdf,
    main_bank_cdf,
    revenue_median,
    revenue_dispersion,
    collateral_ratio,
    sector_collateral,
    ip_ratio,
    sector_ip,
):
    """Each new firm's stage, sector, quality, annual revenue, collateral, IP value and
    main bank (see `draw_firms`) from its uniforms and standard normals. Revenue rises
    with quality, IP value more so; collateral and IP scale with revenue."""
    n = len(stage_u)
    stage, sector, main_bank = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    quality, revenue, collateral, ip = np.empty(n), np.empty(n), np.empty(n), np.empty(n)
    for k in range(n):
        s = _category(stage_u[k], stage_cdf)
        c = _category(sector_u[k], sector_cdf)
        q = quality_mean + quality_z[k]
        size = revenue_median[s] * np.exp(revenue_dispersion * revenue_z[k] + 0.2 * q)
        stage[k], sector[k], quality[k], revenue[k] = s, c, q, size
        tangible = collateral_ratio[s] * sector_collateral[c] * size
        collateral[k] = tangible * np.exp(0.5 * collateral_z[k])
        ip[k] = ip_ratio[s] * sector_ip[c] * size * np.exp(0.5 * ip_z[k] + 0.3 * q)
        main_bank[k] = _category(main_bank_u[k], main_bank_cdf)
    return stage, sector, quality, revenue, collateral, ip, main_bank


@njit(cache=True)
def _category(u, cdf):
    """The category a uniform falls in: the first whose cumulative share exceeds it, at
    most the last (numpy's searchsorted to the right, capped)."""
    c = 0
    while c < len(cdf) - 1 and cdf[c] <= u:
        c += 1
    return c


def link_suppliers(
    pop: EnterprisePopulation, new_ids: np.ndarray, link_prob: float, u: np.ndarray
) -> None:
    """Link some new non-leader firms to an active chain leader (vertical clustering, §四(一))."""
    leaders = pop.chain_leaders()
    if len(leaders) == 0:
        return
    picks = leaders[(u[:, U_LINK_PICK] * len(leaders)).astype(np.int64)]
    linked = (u[:, U_LINK] < link_prob) & ~pop.chain_leader[new_ids]
    suppliers = new_ids[linked.nonzero()[0]]
    pop.leader_row[suppliers] = picks[linked]
    pop.leader_id[suppliers] = pop.id[picks[linked]]
