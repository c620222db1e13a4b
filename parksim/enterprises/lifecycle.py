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

from parksim.enterprises.population import (
    EnterprisePopulation,
    FinanceState,
    Stage,
    stage_table,
)
from parksim.enterprises.sectors import SectorArrays
from parksim.streams import FirmStreams, Mechanism

PROB = {"unit": "probability"}
# Rows of the population: an index array, or a slice over all live rows (no gather).
Rows = np.ndarray | slice


@dataclass(frozen=True)
class LifecycleParams:
    """Hazards of the enterprise lifecycle, per quarter; stage tuples run seed → listed."""

    failure_pd: tuple[float, ...] = field(
        # calibrated (parksim calibrate, docs/validation.md): SAIC death rates, NPL ratios
        default=(0.02647, 0.02272, 0.01639, 0.008138, 0.007039),
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
    leader_min_revenue: float = field(
        default=40_000.0,
        metadata={
            "non_negative": True,
            "help": "annual revenue, 万元, from which a pre-IPO or listed firm in a "
            "chain-forming sector leads a supply chain (链主); NBS 2017: a large "
            "industrial enterprise has revenue >= 4 亿元",
        },
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


def set_firm_multipliers(
    pop: EnterprisePopulation, rows: Rows, params: LifecycleParams, sectors: SectorArrays
) -> None:
    """Fix each new firm's sector-and-quality multipliers of failure and graduation.

    Quality and sector never change, so these are computed once at entry, not per quarter.
    """
    quality, sector = pop.quality[rows], pop.sector[rows]
    pop.failure_risk[rows] = sectors.failure[sector] * quality_multiplier(
        quality, params.quality_risk
    )
    gamma = params.quality_growth
    pop.graduation_drive[rows] = sectors.graduation[sector] * np.exp(
        gamma * quality - 0.5 * gamma**2
    )


def promote_chain_leaders(
    pop: EnterprisePopulation, rows: Rows, params: LifecycleParams, sectors: SectorArrays
) -> np.ndarray:
    """Firms at `rows` that have grown into chain leaders (链主, §四(一)): in the park at
    pre-IPO or listed, with annual revenue of at least `leader_min_revenue`, in a sector
    whose large firms anchor supplier chains. A leader keeps the role while it stays in
    the park (its suppliers do not lose it to one bad quarter). Returns the rows promoted."""
    stage = pop.stage[rows]
    large = (pop.size[rows] >= params.leader_min_revenue) & ~pop.chain_leader[rows]
    grown = _positions(rows, large & (stage >= Stage.PRE_IPO) & (stage <= Stage.LISTED))
    grown = grown[sectors.leads_chains[pop.sector[grown]].nonzero()[0]]
    pop.chain_leader[grown] = True
    return grown


def _finance_multiplier(state: np.ndarray, funded: float, refused: float) -> np.ndarray:
    table = np.empty(len(FinanceState))
    table[FinanceState.NONE], table[FinanceState.FUNDED] = 1.0, funded
    table[FinanceState.REFUSED] = refused
    return table[state]


def chain_supported(pop: EnterprisePopulation, rows: Rows) -> np.ndarray:
    """Whether each firm supplies a chain leader that is still in the park."""
    leader = pop.leader_row[rows]
    linked = (leader >= 0).nonzero()[0]
    supported = np.zeros(len(leader), dtype=bool)
    supported[linked] = pop.stage[leader[linked]] <= Stage.LISTED
    return supported


def failure_pd(
    pop: EnterprisePopulation,
    rows: Rows,
    params: LifecycleParams,
    sectors: SectorArrays,
    relief: np.ndarray | float = 1.0,
) -> np.ndarray:
    """True quarterly failure probability of firms at `rows` (unconditional on factors).

    base[stage] × sector × quality (`failure_risk`) × finance outcome × chain support.
    Exited firms get 0.
    """
    stage = pop.stage[rows]
    base = stage_table(params.failure_pd)
    finance = _finance_multiplier(
        pop.finance_state[rows], params.funded_failure_mult, params.refused_failure_mult
    )
    pd = base[stage] * pop.failure_risk[rows] * finance
    pd *= 1.0 - params.chain_support * chain_supported(pop, rows)
    if not np.isscalar(relief) or relief != 1.0:
        pd *= relief
    return np.minimum(pd, 0.95, out=pd)


def graduation_prob(
    pop: EnterprisePopulation,
    rows: Rows,
    params: LifecycleParams,
    sectors: SectorArrays,
    uplift: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Quarterly probability that firms at `rows` move up one stage (0 for listed, exited)."""
    base = stage_table(params.graduation)
    finance = _finance_multiplier(
        pop.finance_state[rows], 1.0 + params.funded_graduation_boost, 1.0
    )
    grad = base[pop.stage[rows]] * pop.graduation_drive[rows] * finance * uplift
    return np.minimum(grad, 0.9, out=grad)


def _positions(rows: Rows, mask: np.ndarray) -> np.ndarray:
    hits = mask.nonzero()[0]
    return hits if isinstance(rows, slice) else rows[hits]


def apply_transitions(
    pop: EnterprisePopulation,
    rows: Rows,
    failed: np.ndarray,
    graduation: np.ndarray,
    acquisition_uplift: np.ndarray | float,
    relocation_mult: float,
    params: LifecycleParams,
    streams: FirmStreams,
    quarter: int,
) -> LifecycleEvents:
    """Fail `failed` firms; move the other active firms by one uniform over competing risks.

    Graduation takes the bottom of the unit interval, relocation the top and acquisition
    the band below it, so that each event's region grows only with its own hazard and a
    firm's uniform gives the same exit in strategies that differ in graduation (and vice
    versa). `rows` may be a slice over all live rows; exited rows (graduation 0, not
    failed) are left alone. Returns the rows of each event.
    """
    stage = pop.stage[rows]
    u = streams.uniforms(Mechanism.TRANSITION, quarter, pop.stream_id[rows])
    p_acq = np.minimum(stage_table(params.acquisition)[stage] * acquisition_uplift, 0.5)
    rel_cut = 1.0 - params.relocation * relocation_mult
    active = (stage <= Stage.LISTED) & ~failed
    graduates = active & (u < graduation)
    relocates = active & (u >= graduation) & (u >= rel_cut)
    acquired = active & (u >= graduation) & (u < rel_cut) & (u >= rel_cut - p_acq)

    events = LifecycleEvents(
        failed=_positions(rows, failed),
        graduated=_positions(rows, graduates),
        listed=_positions(rows, graduates & (stage == Stage.PRE_IPO)),
        relocated=_positions(rows, relocates),
        acquired=_positions(rows, acquired),
    )
    _exit(pop, events.failed, Stage.FAILED, quarter)
    _exit(pop, events.relocated, Stage.RELOCATED, quarter)
    _exit(pop, events.acquired, Stage.ACQUIRED, quarter)
    up = events.graduated
    pop.stage[up] += 1
    pop.stage_quarter[up] = quarter
    jump = params.graduation_size_jump
    pop.size[up] *= jump
    pop.ip_value[up] *= jump
    # Firms accumulate plant and property as they grow, so collateral outpaces revenue.
    pop.collateral[up] *= jump * params.collateral_step
    pop.listed_quarter[events.listed] = quarter
    return events


def _exit(pop: EnterprisePopulation, rows: np.ndarray, stage: Stage, quarter: int) -> None:
    if len(rows) == 0:
        return
    pop.last_active_stage[rows] = pop.stage[rows]
    pop.stage[rows] = stage
    pop.exit_quarter[rows] = quarter
    pop.stage_quarter[rows] = quarter


def grow_revenue(
    pop: EnterprisePopulation,
    rows: Rows,
    params: LifecycleParams,
    streams: FirmStreams,
    quarter: int,
) -> None:
    """Revenue grows with quality; funded firms grow faster (they have money to spend).

    Quarterly growth 1 + g·(1 + q/2 + funded/2) + a uniform shock of sd 5% (first order in
    small rates, which saves an exp per firm). Exited rows do not change.
    """
    active = pop.stage[rows] <= Stage.LISTED
    funded = pop.finance_state[rows] == FinanceState.FUNDED
    shock = streams.uniforms(Mechanism.REVENUE, quarter, pop.stream_id[rows])
    shock -= 0.5
    shock *= 0.05 * np.sqrt(12.0)
    growth = params.revenue_growth * (1.0 + 0.5 * pop.quality[rows] + 0.5 * funded)
    growth += shock
    growth *= active
    growth += 1.0
    np.maximum(growth, 0.5, out=growth)
    for column in (pop.size, pop.collateral, pop.ip_value):
        if isinstance(rows, slice):
            column[rows] *= growth
        else:
            column[rows] = column[rows] * growth
