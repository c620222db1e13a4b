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
from numba import njit
from scipy.special import ndtri

from parksim.core import fmath
from parksim.core.codes import FinanceState, Stage
from parksim.core.population import EnterprisePopulation, stage_table
from parksim.core.sectors import SectorArrays
from parksim.core.streams import FirmStreams, Mechanism, firm_uniform
from parksim.credit.engine import defaults_given

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
    return fmath.exp(-beta * quality + 0.5 * beta**2 * (variance - 1.0))


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
    pop.graduation_drive[rows] = sectors.graduation[sector] * fmath.exp(
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


def _positions(rows: Rows, mask: np.ndarray) -> np.ndarray:
    hits = mask.nonzero()[0]
    return hits if isinstance(rows, slice) else rows[hits]


def _finance_table(funded: float, refused: float) -> np.ndarray:
    """A hazard multiplier by FinanceState code."""
    table = np.empty(len(FinanceState))
    table[FinanceState.NONE], table[FinanceState.FUNDED] = 1.0, funded
    table[FinanceState.REFUSED] = refused
    return table


def chain_supported(pop: EnterprisePopulation, rows: Rows) -> np.ndarray:
    """Whether each firm supplies a chain leader that is still in the park."""
    leader = pop.leader_row[rows]
    linked = (leader >= 0).nonzero()[0]
    supported = np.zeros(len(leader), dtype=bool)
    supported[linked] = pop.stage[leader[linked]] <= Stage.LISTED
    return supported


@njit(cache=True)
def firm_failure_pd(
    base_pd: float,
    failure_risk: float,
    finance_mult: float,
    supported: bool,
    chain_support: float,
    relief: float,
) -> float:
    """One firm's quarterly failure probability: its stage's base hazard × its sector and
    quality (`failure_risk`) × its last finance outcome's multiplier × chain support, at
    most 0.95."""
    pd = base_pd * failure_risk * finance_mult
    pd *= 1.0 - chain_support * (1.0 if supported else 0.0)
    if relief != 1.0:
        pd *= relief
    return min(pd, 0.95)


@njit(cache=True)
def _failure_pds(
    rows: np.ndarray,
    stage: np.ndarray,
    failure_risk: np.ndarray,
    finance_state: np.ndarray,
    leader_row: np.ndarray,
    base_pd: np.ndarray,
    finance_mult: np.ndarray,
    chain_support: float,
    relief: float,
) -> np.ndarray:
    out = np.empty(len(rows))
    for k in range(len(rows)):
        i = rows[k]
        leader = leader_row[i]
        supported = leader >= 0 and stage[leader] <= 4  # a leader still in the park
        out[k] = firm_failure_pd(
            base_pd[stage[i]],
            failure_risk[i],
            finance_mult[finance_state[i]],
            supported,
            chain_support,
            relief,
        )
    return out


@njit(cache=True)
def _update_pds(
    stage: np.ndarray,
    failure_risk: np.ndarray,
    finance_state: np.ndarray,
    leader_row: np.ndarray,
    base_pd: np.ndarray,
    finance_mult: np.ndarray,
    chain_support: float,
    pd: np.ndarray,
) -> np.ndarray:
    moved = np.empty(len(pd), dtype=np.int64)
    n_moved = 0
    for i in range(len(pd)):
        leader = leader_row[i]
        supported = leader >= 0 and stage[leader] <= 4
        new = firm_failure_pd(
            base_pd[stage[i]],
            failure_risk[i],
            finance_mult[finance_state[i]],
            supported,
            chain_support,
            1.0,
        )
        if new != pd[i]:
            pd[i] = new
            moved[n_moved] = i
            n_moved += 1
    return moved[:n_moved]


def _pd_tables(params: LifecycleParams) -> tuple[np.ndarray, np.ndarray]:
    finance = _finance_table(params.funded_failure_mult, params.refused_failure_mult)
    return stage_table(params.failure_pd), finance


def failure_pd(
    pop: EnterprisePopulation,
    rows: Rows,
    params: LifecycleParams,
    sectors: SectorArrays,
    relief: float = 1.0,
) -> np.ndarray:
    """True quarterly failure probability of firms at `rows` (unconditional on factors).

    base[stage] × sector × quality (`failure_risk`) × finance outcome × chain support
    (see `firm_failure_pd`). Exited firms get 0.
    """
    index = np.arange(pop.n)[rows] if isinstance(rows, slice) else np.asarray(rows, np.int64)
    base, finance = _pd_tables(params)
    return _failure_pds(
        index,
        pop.stage,
        pop.failure_risk,
        pop.finance_state,
        pop.leader_row,
        base,
        finance,
        params.chain_support,
        float(relief),
    )


def update_failure_pds(pop: EnterprisePopulation, params: LifecycleParams) -> None:
    """Every live firm's quarterly PD (`pd`) and its default threshold Φ⁻¹(PD)."""
    base, finance = _pd_tables(params)
    moved = _update_pds(
        pop.stage,
        pop.failure_risk,
        pop.finance_state,
        pop.leader_row,
        base,
        finance,
        params.chain_support,
        pop.pd,
    )
    # Φ⁻¹ is the costliest step per firm: recompute it only where the PD moved.
    pop.default_threshold[moved] = ndtri(pop.pd[moved])


@njit(cache=True)
def firm_graduation_prob(
    base: float, graduation_drive: float, finance_mult: float, uplift: float
) -> float:
    """One firm's quarterly probability of moving up one stage: its stage's base rate ×
    its sector and quality (`graduation_drive`) × its last finance outcome's multiplier ×
    the uplift of its bank and operator, at most 0.9 (0 for listed and exited firms)."""
    return min(base * graduation_drive * finance_mult * uplift, 0.9)


@njit(cache=True)
def _graduation_probs(rows, stage, drive, finance_state, uplift, base, finance_mult):
    out = np.empty(len(rows))
    for k in range(len(rows)):
        i = rows[k]
        out[k] = firm_graduation_prob(
            base[stage[i]], drive[i], finance_mult[finance_state[i]], uplift[k]
        )
    return out


def _graduation_tables(params: LifecycleParams) -> tuple[np.ndarray, np.ndarray]:
    return stage_table(params.graduation), _finance_table(1.0 + params.funded_graduation_boost, 1.0)


def graduation_prob(
    pop: EnterprisePopulation,
    rows: Rows,
    params: LifecycleParams,
    sectors: SectorArrays,
    uplift: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Quarterly probability that firms at `rows` move up one stage (0 for listed, exited)."""
    index = np.arange(pop.n)[rows] if isinstance(rows, slice) else np.asarray(rows, np.int64)
    up = np.ascontiguousarray(np.broadcast_to(np.asarray(uplift, dtype=float), index.shape))
    base, finance = _graduation_tables(params)
    return _graduation_probs(
        index, pop.stage, pop.graduation_drive, pop.finance_state, up, base, finance
    )


# What happened to a firm in its quarter (`_live_quarter`'s codes).
NO_EVENT, FAILED, GRADUATED, LISTED, RELOCATED, ACQUIRED = range(6)


@njit(cache=True)
def _live_quarter(
    stage,
    stage_quarter,
    exit_quarter,
    last_active_stage,
    listed_quarter,
    size,
    collateral,
    ip_value,
    chain_leader,
    sector,
    quality,
    graduation_drive,
    finance_state,
    main_bank,
    default_threshold,
    stream_id,
    default_base,
    transition_base,
    revenue_base,
    shift,
    load_idio,
    graduation_base,
    graduation_finance,
    graduation_uplift,
    operator_uplift,
    acquisition_base,
    acquisition_uplift,
    relocation_cut,
    quarter,
    size_jump,
    collateral_jump,
    revenue_growth,
    shock_scale,
    leader_min_revenue,
    leads_chains,
):
    """Every firm's quarter, firm by firm (see `live_through_quarter`); returns the rows
    that had an event, in row order, and each one's event code. Every firm reads and
    writes only its own row, and draws its own uniforms (`firm_uniform`)."""
    n = len(stage)
    rows = np.empty(n, dtype=np.int64)
    codes = np.empty(n, dtype=np.int8)
    n_events = 0
    for i in range(n):
        s = stage[i]
        if s > 4:  # left the park before this quarter: its PD is 0, so it cannot fail
            continue
        firm = stream_id[i]
        # 1. Correlated failure (the credit engine's latent-variable test).
        u = firm_uniform(default_base, firm)
        if defaults_given(u, default_threshold[i], shift[sector[i]], load_idio):
            rows[n_events], codes[n_events] = i, FAILED
            n_events += 1
            last_active_stage[i] = s
            stage[i] = 5  # Stage.FAILED
            exit_quarter[i] = quarter
            stage_quarter[i] = quarter
            continue
        # 2. Competing risks on one uniform: graduation at the bottom, relocation at the
        # top, acquisition in the band below relocation.
        u = firm_uniform(transition_base, firm)
        bank = main_bank[i]
        uplift = graduation_uplift[bank] * operator_uplift
        grad = firm_graduation_prob(
            graduation_base[s],
            graduation_drive[i],
            graduation_finance[finance_state[i]],
            uplift,
        )
        if u < grad:
            rows[n_events] = i
            codes[n_events] = LISTED if s == 3 else GRADUATED  # pre-IPO graduates list
            n_events += 1
            stage[i] = s + 1
            stage_quarter[i] = quarter
            size[i] *= size_jump
            ip_value[i] *= size_jump
            # Firms accumulate plant and property as they grow: collateral outpaces revenue.
            collateral[i] *= collateral_jump
            if s == 3:
                listed_quarter[i] = quarter
        else:
            p_acq = min(acquisition_base[s] * acquisition_uplift[bank], 0.5)
            event = NO_EVENT
            if u >= relocation_cut:
                event = RELOCATED
            elif u >= relocation_cut - p_acq:
                event = ACQUIRED
            if event != NO_EVENT:
                rows[n_events], codes[n_events] = i, event
                n_events += 1
                last_active_stage[i] = s
                stage[i] = 6 if event == RELOCATED else 7  # RELOCATED, ACQUIRED
                exit_quarter[i] = quarter
                stage_quarter[i] = quarter
                continue
        # 3. Revenue grows with quality, faster after funding (first order in small rates).
        funded = 0.5 if finance_state[i] == 1 else 0.0  # FinanceState.FUNDED
        growth = revenue_growth * (1.0 + 0.5 * quality[i] + funded)
        growth += (firm_uniform(revenue_base, firm) - 0.5) * shock_scale
        growth = max(growth + 1.0, 0.5)
        size[i] *= growth
        collateral[i] *= growth
        ip_value[i] *= growth
        # 4. A large pre-IPO or listed firm of a chain-forming sector leads a chain.
        if (
            not chain_leader[i]
            and size[i] >= leader_min_revenue
            and stage[i] >= 3
            and leads_chains[sector[i]]
        ):
            chain_leader[i] = True
    return rows[:n_events], codes[:n_events]


def live_through_quarter(
    pop: EnterprisePopulation,
    params: LifecycleParams,
    sectors: SectorArrays,
    shift: np.ndarray,
    load_idio: float,
    graduation_uplift: np.ndarray,
    operator_uplift: float,
    acquisition_uplift: np.ndarray,
    relocation_mult: float,
    streams: FirmStreams,
    quarter: int,
) -> LifecycleEvents:
    """Every live firm's quarter: it fails (correlated, given the credit engine's
    systematic `shift` by sector and idiosyncratic loading `load_idio`), or graduates,
    relocates or is acquired (competing risks on one uniform), and survivors' revenue
    grows; large pre-IPO and listed firms of chain-forming sectors become chain leaders.

    Graduation takes the bottom of the unit interval, relocation the top and acquisition
    the band below it, so that each event's region grows only with its own hazard and a
    firm's uniform gives the same exit in strategies that differ in graduation (and vice
    versa). `graduation_uplift` and `acquisition_uplift` are by bank (the firm's main
    bank's); `pd` and `default_threshold` must be this quarter's (`update_failure_pds`).
    Returns the rows of each event.
    """
    grad_base, grad_finance = _graduation_tables(params)
    # Growth 1 + g·(1 + q/2 + funded/2) + a uniform shock of sd 5%: the uniform's sd is
    # 1/√12, so scale it by 0.05·√12 (first order in small rates saves an exp per firm).
    shock_scale = 0.05 * np.sqrt(12.0)
    rows, event = _live_quarter(
        pop.stage,
        pop.stage_quarter,
        pop.exit_quarter,
        pop.last_active_stage,
        pop.listed_quarter,
        pop.size,
        pop.collateral,
        pop.ip_value,
        pop.chain_leader,
        pop.sector,
        pop.quality,
        pop.graduation_drive,
        pop.finance_state,
        pop.main_bank,
        pop.default_threshold,
        pop.stream_id,
        streams.base(Mechanism.DEFAULT, quarter),
        streams.base(Mechanism.TRANSITION, quarter),
        streams.base(Mechanism.REVENUE, quarter),
        shift,
        load_idio,
        grad_base,
        grad_finance,
        np.ascontiguousarray(graduation_uplift, dtype=float),
        float(operator_uplift),
        stage_table(params.acquisition),
        np.ascontiguousarray(acquisition_uplift, dtype=float),
        1.0 - params.relocation * relocation_mult,
        quarter,
        params.graduation_size_jump,
        params.graduation_size_jump * params.collateral_step,
        params.revenue_growth,
        shock_scale,
        params.leader_min_revenue,
        sectors.leads_chains,
    )
    graduated = ((event == GRADUATED) | (event == LISTED)).nonzero()[0]
    return LifecycleEvents(
        failed=rows[(event == FAILED).nonzero()[0]],
        graduated=rows[graduated],
        listed=rows[graduated[(event[graduated] == LISTED).nonzero()[0]]],
        relocated=rows[(event == RELOCATED).nonzero()[0]],
        acquired=rows[(event == ACQUIRED).nonzero()[0]],
    )
