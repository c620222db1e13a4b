"""Entry: the initial park and the enterprises that arrive each quarter.

How many firms arrive and how good they are depends on the operator (space, services and
park funds that "invest to attract", 投招联动, §四(三)) and on the banks' ecosystem (park
brand and alliances, §六(三)3). Firm attributes by stage encode §五(二): young firms hold
little tangible collateral; their value sits in IP and people.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit
from scipy.special import ndtri, pdtr, pdtrik

if TYPE_CHECKING:
    from parksim.core.population import EnterprisePopulation
    from parksim.core.sectors import SectorArrays

AMOUNT = {"non_negative": True}
ASSUMED = "assumption; range in parksim/data/assumptions.toml"


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
    revenue_quality_loading: float = field(
        default=0.2,
        metadata={
            "min": 0.0,
            "unit": "log revenue per unit of quality",
            "help": "how much a better firm's revenue exceeds its stage's median",
            "source": ASSUMED,
        },
    )
    collateral_dispersion: float = field(
        default=0.5,
        metadata={
            "min": 0.0,
            "unit": "sd of log",
            "help": "spread of tangible collateral around the stage and sector ratio",
            "source": ASSUMED,
        },
    )
    ip_dispersion: float = field(
        default=0.5,
        metadata={
            "min": 0.0,
            "unit": "sd of log",
            "help": "spread of pledgeable IP around the stage and sector ratio",
            "source": ASSUMED,
        },
    )
    ip_quality_loading: float = field(
        default=0.3,
        metadata={
            "min": 0.0,
            "unit": "log IP per unit of quality",
            "help": "how much more IP a better firm holds per unit of revenue (§四(二): "
            "young firms' value sits in IP and people)",
            "source": ASSUMED,
        },
    )
    valuation_multiple: float = field(
        default=3.0, metadata={"min": 0.0, "help": "initial valuation / annual revenue"}
    )
    # The park's firms at the start (the book gives no age profile): older the later
    # their stage.
    initial_age_low: tuple[float, ...] = field(
        default=(0.0, 4.0, 8.0, 16.0, 20.0),
        metadata={
            "unit": "quarters",
            "non_negative": True,
            "min_len": 5,
            "max_len": 5,
            "help": "youngest age of an initial firm by stage; an initial firm's age is "
            "a uniform draw on [initial_age_low, initial_age_high), rounded down",
            "source": ASSUMED,
        },
    )
    initial_age_high: tuple[float, ...] = field(
        default=(8.0, 16.0, 32.0, 40.0, 60.0),
        metadata={
            "unit": "quarters",
            "min": 1,
            "min_len": 5,
            "max_len": 5,
            "help": "age below which an initial firm of the stage falls",
            "source": ASSUMED,
        },
    )
    initial_stage_tenure: int = field(
        default=8,
        metadata={
            "unit": "quarters",
            "min": 0,
            "help": "longest time an initial firm has already spent in its stage",
            "source": ASSUMED,
        },
    )
    initial_chain_link: float = field(
        default=0.1,
        metadata={
            "unit": "probability",
            "help": "chance that an initial firm supplies a chain leader (entrants link at "
            "the operator's rate)",
            "source": ASSUMED,
        },
    )

    def __post_init__(self) -> None:
        pairs = zip(self.initial_age_low, self.initial_age_high, strict=False)
        if any(high <= low for low, high in pairs):
            raise ValueError("initial_age_high must exceed initial_age_low at every stage")


class Draw(IntEnum):
    """The columns of a new firm's row of uniforms (`firm_draws`); one signal error per
    bank follows them. The k-th entrant of a quarter gets the same row in every strategy
    (common random numbers)."""

    STAGE = 0
    SECTOR = 1
    QUALITY = 2  # the normals: quality, revenue, collateral and IP, in this order
    REVENUE = 3
    COLLATERAL = 4
    IP = 5
    MAIN_BANK = 6
    LINK = 7  # whether the firm supplies a chain leader
    LINK_PICK = 8  # which leader


# Uniforms a new firm draws before its banks' signal errors: one per Draw column.
DRAWS_PER_FIRM = len(Draw)


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


class EntrantDraws(NamedTuple):
    """New firms' uniforms (categories) and standard normals (Φ⁻¹ of uniforms)."""

    stage_u: np.ndarray
    sector_u: np.ndarray
    main_bank_u: np.ndarray
    quality_z: np.ndarray
    revenue_z: np.ndarray
    collateral_z: np.ndarray
    ip_z: np.ndarray

    @classmethod
    def of(cls, u: np.ndarray) -> EntrantDraws:
        # Φ⁻¹ of only the uniforms used as normals (it is the costliest step per entrant).
        quality_z, revenue_z, collateral_z, ip_z = ndtri(u[:, Draw.QUALITY : Draw.IP + 1]).T
        return cls(
            np.ascontiguousarray(u[:, Draw.STAGE]),
            np.ascontiguousarray(u[:, Draw.SECTOR]),
            np.ascontiguousarray(u[:, Draw.MAIN_BANK]),
            np.ascontiguousarray(quality_z),
            np.ascontiguousarray(revenue_z),
            np.ascontiguousarray(collateral_z),
            np.ascontiguousarray(ip_z),
        )


class EntryMixes(NamedTuple):
    """Where new firms come from: cumulative shares (`cdf_of`) of stages, sectors and the
    banks' attraction as a main bank, and the cohort's mean quality."""

    stage_cdf: np.ndarray
    sector_cdf: np.ndarray
    main_bank_cdf: np.ndarray
    quality_mean: np.ndarray  # one per new firm: its cohort's mean quality


class ProfileTables(NamedTuple):
    """`FirmProfileParams` and the sectors' collateral and IP multipliers as arrays."""

    revenue_median: np.ndarray  # by stage
    revenue_dispersion: float
    revenue_quality_loading: float
    collateral_ratio: np.ndarray  # by stage
    sector_collateral: np.ndarray  # by sector
    collateral_dispersion: float
    ip_ratio: np.ndarray  # by stage
    sector_ip: np.ndarray  # by sector
    ip_dispersion: float
    ip_quality_loading: float

    @classmethod
    def of(cls, profile: FirmProfileParams, sectors: SectorArrays) -> ProfileTables:
        return cls(
            np.asarray(profile.revenue_median, dtype=float),
            profile.revenue_dispersion,
            profile.revenue_quality_loading,
            np.asarray(profile.collateral_ratio, dtype=float),
            sectors.collateral,
            profile.collateral_dispersion,
            np.asarray(profile.ip_ratio, dtype=float),
            sectors.ip,
            profile.ip_dispersion,
            profile.ip_quality_loading,
        )


class Entrants(NamedTuple):
    """New firms' attributes, one element a firm."""

    stage: np.ndarray
    sector: np.ndarray
    quality: np.ndarray
    revenue: np.ndarray  # annual, 万元
    collateral: np.ndarray  # 万元
    ip_value: np.ndarray  # 万元
    main_bank: np.ndarray


def draw_firms(
    u: np.ndarray,
    stage_cdf: np.ndarray,
    quality_mean: float | np.ndarray,
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
    quality = np.broadcast_to(np.asarray(quality_mean, dtype=float), (len(u),))
    mixes = EntryMixes(stage_cdf, sector_cdf, main_bank_cdf, np.ascontiguousarray(quality))
    new = _profiles(EntrantDraws.of(u), mixes, ProfileTables.of(profile, sectors))
    return {
        "stage": new.stage,
        "sector": new.sector,
        "quality": new.quality,
        "size": new.revenue,
        "collateral": new.collateral,
        "ip_value": new.ip_value,
        "valuation": profile.valuation_multiple * new.revenue,
        "main_bank": new.main_bank,
        "signal_error": ndtri(u[:, DRAWS_PER_FIRM:]),
    }


@njit(cache=True)
def _profiles(draws: EntrantDraws, mixes: EntryMixes, tables: ProfileTables) -> Entrants:
    """Each new firm's profile (§五(二): young firms hold little tangible collateral;
    their value sits in IP and people):

        q          = quality_mean + z_q
        revenue    = revenue_median[stage] · exp(revenue_dispersion·z_r + a_r·q)
        collateral = collateral_ratio[stage] · collateral×[sector] · revenue
                     · exp(collateral_dispersion·z_c)
        ip_value   = ip_ratio[stage] · IP×[sector] · revenue · exp(ip_dispersion·z_ip + a_ip·q)

    with stage, sector and main bank drawn from their mixes (a_r, a_ip: the quality
    loadings of revenue and IP)."""
    n = len(draws.stage_u)
    new = Entrants(
        np.empty(n, np.int64),
        np.empty(n, np.int64),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n),
        np.empty(n, np.int64),
    )
    for k in range(n):
        s = _category(draws.stage_u[k], mixes.stage_cdf)
        c = _category(draws.sector_u[k], mixes.sector_cdf)
        q = mixes.quality_mean[k] + draws.quality_z[k]
        log_spread = tables.revenue_dispersion * draws.revenue_z[k]
        revenue = tables.revenue_median[s] * math.exp(
            log_spread + tables.revenue_quality_loading * q
        )
        tangible = tables.collateral_ratio[s] * tables.sector_collateral[c] * revenue
        collateral = tangible * math.exp(tables.collateral_dispersion * draws.collateral_z[k])
        ip_spread = tables.ip_dispersion * draws.ip_z[k] + tables.ip_quality_loading * q
        ip = tables.ip_ratio[s] * tables.sector_ip[c] * revenue * math.exp(ip_spread)
        new.stage[k], new.sector[k], new.quality[k] = s, c, q
        new.revenue[k], new.collateral[k], new.ip_value[k] = revenue, collateral, ip
        new.main_bank[k] = _category(draws.main_bank_u[k], mixes.main_bank_cdf)
    return new


@njit(cache=True)
def _category(u, cdf):
    """The category a uniform falls in: the first whose cumulative share exceeds it, at
    most the last (numpy's searchsorted to the right, capped)."""
    c = 0
    while c < len(cdf) - 1 and cdf[c] <= u:
        c += 1
    return c


def link_suppliers(
    pop: EnterprisePopulation,
    new_ids: np.ndarray,
    link_prob: float,
    u: np.ndarray,
    leaders: np.ndarray | None = None,
) -> None:
    """Link some new non-leader firms to an active chain leader of their park (vertical
    clustering, §四(一)): to one of `leaders`, the rows of their park's active chain
    leaders (default: all of `pop`'s, a population of one park)."""
    leaders = pop.chain_leaders() if leaders is None else leaders
    if len(leaders) == 0:
        return
    picks = leaders[(u[:, Draw.LINK_PICK] * len(leaders)).astype(np.int64)]
    linked = (u[:, Draw.LINK] < link_prob) & ~pop.chain_leader[new_ids]
    suppliers = new_ids[linked.nonzero()[0]]
    pop.leader_row[suppliers] = picks[linked]
    pop.leader_id[suppliers] = pop.id[picks[linked]]
