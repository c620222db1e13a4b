"""Lifecycle: failure, graduation, relocation and acquisition hazards of enterprises.

Stages follow the book's lifecycle (§六(二)2). An enterprise's quarterly failure
probability is its stage's base hazard scaled by its sector, its latent quality, the
finance it obtained and chain-leader support; the credit engine turns these PDs into
correlated failures. Survivors then graduate, relocate or are acquired (competing risks).
Base rates are set so that a young-firm cohort dies at roughly the SAIC 2013 pace (≈8-10%
a year in years 2-7) and about one seed firm in a hundred reaches listing, in line with
the Carta 2025 cohort (IPO 0.3%, acquired 5.5%); issue-5 calibration refines them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parksim.enterprises.population import EnterprisePopulation, FinanceState, Stage
from parksim.enterprises.sectors import SectorArrays

PROB = {"unit": "probability"}


@dataclass(frozen=True)
class LifecycleParams:
    """Hazards of the enterprise lifecycle, per quarter; stage tuples run seed → listed."""

    failure_pd: tuple[float, ...] = field(
        default=(0.030, 0.024, 0.015, 0.008, 0.003),
        metadata={**PROB, "help": "quarterly failure probability by stage, average quality"},
    )
    graduation: tuple[float, ...] = field(
        default=(0.060, 0.035, 0.008, 0.012),
        metadata={**PROB, "help": "quarterly probability of moving up one stage (seed..pre-IPO)"},
    )
    acquisition: tuple[float, ...] = field(
        default=(0.0, 0.002, 0.006, 0.008, 0.002),
        metadata={**PROB, "help": "quarterly probability of being acquired, by stage"},
    )
    relocation: float = field(
        default=0.008, metadata={**PROB, "help": "quarterly probability of moving out of the park"}
    )
    quality_risk: float = field(
        default=0.8, metadata={"min": 0.0, "help": "log-PD change per unit of latent quality"}
    )
    quality_growth: float = field(
        default=0.5, metadata={"min": 0.0, "help": "log-graduation change per unit of quality"}
    )
    funded_graduation_boost: float = field(
        default=0.5, metadata={"min": 0.0, "help": "extra graduation hazard after being funded"}
    )
    funded_failure_mult: float = field(
        default=0.85, metadata={"min": 0.0, "help": "failure-hazard multiplier after funding"}
    )
    refused_failure_mult: float = field(
        default=1.5, metadata={"min": 0.0, "help": "failure-hazard multiplier after a refusal"}
    )
    chain_support: float = field(
        default=0.2, metadata={**PROB, "help": "PD cut for suppliers of an active chain leader"}
    )
    revenue_growth: float = field(
        default=0.02, metadata={"help": "median quarterly revenue growth of an average firm"}
    )
    graduation_size_jump: float = field(
        default=2.0, metadata={"min": 1.0, "help": "revenue multiple gained on graduating"}
    )
    collateral_step: float = field(
        default=1.4, metadata={"min": 1.0, "help": "extra collateral multiple on graduating"}
    )

    def __post_init__(self) -> None:
        n_stages = len(Stage.__members__) - 3
        for name, expected in (("failure_pd", n_stages), ("acquisition", n_stages)):
            if len(getattr(self, name)) != expected:
                raise ValueError(f"{name} needs {expected} values (seed, startup, ..., listed)")
        if len(self.graduation) != n_stages - 1:
            raise ValueError(f"graduation needs {n_stages - 1} values (seed .. pre-IPO)")


@dataclass
class LifecycleEvents:
    """Ids of enterprises that changed state in one quarter."""

    failed: np.ndarray
    graduated: np.ndarray
    listed: np.ndarray
    relocated: np.ndarray
    acquired: np.ndarray

    @classmethod
    def none(cls) -> LifecycleEvents:
        """No events (the opening quarter)."""
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, empty, empty, empty, empty)


def quality_multiplier(quality: np.ndarray, beta: float, variance: np.ndarray | float = 0.0):
    """E[exp(-beta·q)] / E over the population, for q ~ N(mean=quality, var=variance).

    Normalised by exp(beta²/2) so that the average firm (q ~ N(0, 1)) has multiplier one
    and the stage's base hazard is the population average.
    """
    return np.exp(-beta * quality + 0.5 * beta**2 * (variance - 1.0))


def failure_pd(
    pop: EnterprisePopulation,
    ids: np.ndarray,
    params: LifecycleParams,
    sectors: SectorArrays,
    relief: np.ndarray | float = 1.0,
) -> np.ndarray:
    """True quarterly failure probability of enterprises `ids` (unconditional on factors)."""
    stage = pop.stage[ids]
    base = np.asarray(params.failure_pd)[stage] * sectors.failure[pop.sector[ids]]
    finance = np.ones(len(ids))
    state = pop.finance_state[ids]
    finance[state == FinanceState.FUNDED] = params.funded_failure_mult
    finance[state == FinanceState.REFUSED] = params.refused_failure_mult
    leader = pop.leader_id[ids]
    supported = leader >= 0
    supported[supported] = pop.stage[leader[supported]] <= Stage.LISTED
    chain = np.where(supported, 1.0 - params.chain_support, 1.0)
    pd = base * quality_multiplier(pop.quality[ids], params.quality_risk) * finance * chain
    return np.clip(pd * relief, 0.0, 0.95)


def graduation_prob(
    pop: EnterprisePopulation,
    ids: np.ndarray,
    params: LifecycleParams,
    sectors: SectorArrays,
    uplift: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Quarterly probability that enterprises `ids` move up one stage (0 for listed)."""
    stage = pop.stage[ids]
    base = np.append(np.asarray(params.graduation), 0.0)[stage]
    quality = np.exp(params.quality_growth * pop.quality[ids] - 0.5 * params.quality_growth**2)
    funded = pop.finance_state[ids] == FinanceState.FUNDED
    finance = np.where(funded, 1.0 + params.funded_graduation_boost, 1.0)
    return np.clip(base * sectors.graduation[pop.sector[ids]] * quality * finance * uplift, 0, 0.9)


def apply_transitions(
    pop: EnterprisePopulation,
    ids: np.ndarray,
    failed: np.ndarray,
    graduation: np.ndarray,
    acquisition_uplift: np.ndarray | float,
    relocation_mult: float,
    params: LifecycleParams,
    rng: np.random.Generator,
    quarter: int,
) -> LifecycleEvents:
    """Fail `ids[failed]`; move survivors by one uniform draw over competing risks.

    Always draws exactly len(ids) uniforms so random streams stay aligned across
    strategies whose hazards differ (common random numbers).
    """
    u = rng.random(len(ids))
    stage = pop.stage[ids]
    p_acq = np.clip(np.asarray(params.acquisition)[stage] * acquisition_uplift, 0.0, 0.5)
    p_rel = np.full(len(ids), params.relocation * relocation_mult)
    grad_cut = graduation
    rel_cut = grad_cut + p_rel
    acq_cut = rel_cut + p_acq
    alive = ~failed
    graduates = alive & (u < grad_cut)
    relocates = alive & (u >= grad_cut) & (u < rel_cut)
    acquired = alive & (u >= rel_cut) & (u < acq_cut)

    events = LifecycleEvents(
        failed=ids[failed],
        graduated=ids[graduates],
        listed=ids[graduates & (stage == Stage.PRE_IPO)],
        relocated=ids[relocates],
        acquired=ids[acquired],
    )
    _exit(pop, events.failed, Stage.FAILED, quarter)
    _exit(pop, events.relocated, Stage.RELOCATED, quarter)
    _exit(pop, events.acquired, Stage.ACQUIRED, quarter)
    pop.stage[events.graduated] += 1
    pop.stage_quarter[events.graduated] = quarter
    jump = params.graduation_size_jump
    pop.size[events.graduated] *= jump
    pop.ip_value[events.graduated] *= jump
    # Firms accumulate plant and property as they grow, so collateral outpaces revenue.
    pop.collateral[events.graduated] *= jump * params.collateral_step
    pop.listed_quarter[events.listed] = quarter
    return events


def _exit(pop: EnterprisePopulation, ids: np.ndarray, stage: Stage, quarter: int) -> None:
    pop.last_active_stage[ids] = pop.stage[ids]
    pop.stage[ids] = stage
    pop.exit_quarter[ids] = quarter
    pop.stage_quarter[ids] = quarter


def grow_revenue(
    pop: EnterprisePopulation, ids: np.ndarray, params: LifecycleParams, rng: np.random.Generator
) -> None:
    """Revenue grows with quality; funded firms grow faster (they have money to spend)."""
    funded = pop.finance_state[ids] == FinanceState.FUNDED
    drift = params.revenue_growth * (1.0 + 0.5 * pop.quality[ids] + 0.5 * funded)
    shock = 0.05 * rng.standard_normal(len(ids))
    growth = np.exp(drift + shock)
    pop.size[ids] *= growth
    pop.collateral[ids] *= growth
    pop.ip_value[ids] *= growth
