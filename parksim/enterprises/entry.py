"""Entry: the initial park and the enterprises that arrive each quarter.

How many firms arrive and how good they are depends on the operator (space, services and
park funds that "invest to attract", 投招联动, §四(三)) and on the banks' ecosystem (park
brand and alliances, §六(三)3). Firm attributes by stage encode §五(二): young firms hold
little tangible collateral; their value sits in IP and people.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parksim.enterprises.population import EnterprisePopulation, Stage
from parksim.enterprises.sectors import SectorArrays

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
    chain_leader_share: float = field(
        default=0.3,
        metadata={"unit": "share", "help": "share of pre-IPO and listed firms that lead a chain"},
    )


def draw_firms(
    rng: np.random.Generator,
    stages: np.ndarray,
    quality_mean: float,
    sector_mix: np.ndarray,
    sectors: SectorArrays,
    profile: FirmProfileParams,
    n_banks: int,
) -> dict[str, np.ndarray]:
    """Attributes of new firms in the given stages, as population columns.

    Draws a fixed number of variates per firm so entry streams stay aligned.
    """
    n = len(stages)
    sector = rng.choice(len(sector_mix), size=n, p=sector_mix).astype(np.int8)
    quality = quality_mean + rng.standard_normal(n)
    log_noise = rng.standard_normal((n, 3))
    revenue = np.asarray(profile.revenue_median)[stages] * np.exp(
        profile.revenue_dispersion * log_noise[:, 0] + 0.2 * quality
    )
    collateral = (
        np.asarray(profile.collateral_ratio)[stages]
        * sectors.collateral[sector]
        * revenue
        * np.exp(0.5 * log_noise[:, 1])
    )
    ip = (
        np.asarray(profile.ip_ratio)[stages]
        * sectors.ip[sector]
        * revenue
        * np.exp(0.5 * log_noise[:, 2] + 0.3 * quality)
    )
    large = stages >= Stage.PRE_IPO
    leader = large & (rng.random(n) < profile.chain_leader_share)
    return {
        "stage": stages.astype(np.int8),
        "sector": sector,
        "quality": quality,
        "size": revenue,
        "collateral": collateral,
        "ip_value": ip,
        "valuation": profile.valuation_multiple * revenue,
        "chain_leader": leader,
        "signal_error": rng.standard_normal((n, n_banks)),
    }


def link_suppliers(
    pop: EnterprisePopulation,
    new_ids: np.ndarray,
    link_prob: float,
    rng: np.random.Generator,
) -> None:
    """Link some new non-leader firms to an active chain leader (vertical clustering, §四(一))."""
    draws = rng.random(len(new_ids))
    active = pop.active()
    leaders = active[pop.chain_leader[active]]
    if len(leaders) == 0:
        return
    picks = leaders[rng.integers(0, len(leaders), size=len(new_ids))]
    linked = (draws < link_prob) & ~pop.chain_leader[new_ids]
    pop.leader_id[new_ids[linked]] = picks[linked]


def entrant_stages(rng: np.random.Generator, count: int, stage_mix: np.ndarray) -> np.ndarray:
    """Stages of `count` entrants drawn from the entrant stage mix."""
    return rng.choice(len(stage_mix), size=count, p=stage_mix).astype(np.int8)
