"""Lifecycle: failure, graduation, relocation and acquisition hazards of enterprises.

Stages follow the book's lifecycle (§六(二)2). An enterprise's quarterly failure
probability is its stage's base hazard scaled by its sector, its latent quality, the
finance it obtained (§五(二)) and chain-leader support (§四(一)); the credit engine turns
these PDs into correlated failures. Survivors then graduate, relocate or are acquired
(competing risks), and their revenue grows. Base rates are set so that a young-firm cohort
dies at roughly the SAIC 2013 pace (≈8-10% a year in years 2-7) and about one seed firm in
a hundred reaches listing, in line with the Carta 2025 cohort (IPO 0.3%, acquired 5.5%);
issue-5 calibration refines them.

The rules are written once, as compiled functions of one firm's values (`firm_failure_pd`,
`firm_graduation_prob`, `competing_risk`, `revenue_growth_factor`, `grows_into_leader`);
the kernels that apply them to every firm take the population's columns as one
`FirmColumns` bundle and the mechanism's rates as named bundles built from
`LifecycleParams`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba import njit
from scipy.special import ndtri

from parksim.core.codes import STAGES, FinanceState, Stage
from parksim.core.population import EnterprisePopulation, stage_table
from parksim.core.streams import FirmStreams, Mechanism, firm_uniform
from parksim.credit.engine import defaults_given

if TYPE_CHECKING:
    from parksim.core.sectors import SectorArrays

PROB = {"unit": "probability"}
ASSUMED = "assumption; range in parksim/data/assumptions.toml"
# A uniform on [0, 1) has sd 1/√12: scaling a centred uniform by sd·√12 gives it sd `sd`.
UNIFORM_SDS_PER_UNIT = math.sqrt(12.0)
# Rows of the population: an index array, or a slice over all live rows (no gather).
Rows = np.ndarray | slice


@dataclass(frozen=True)
class LifecycleParams:
    """Hazards of the enterprise lifecycle, per quarter; stage tuples run seed → listed."""

    failure_pd: tuple[float, ...] = field(
        # calibrated (parksim calibrate, docs/validation.md): SAIC death rates, NPL ratios
        default=(0.02527, 0.02262, 0.01456, 0.001456, 0.0006416),
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
    growth_quality_loading: float = field(
        default=0.5,
        metadata={
            "min": 0.0,
            "unit": "relative growth per unit of quality",
            "help": "how much faster revenue grows per unit of latent quality, as a share "
            "of revenue_growth",
            "source": ASSUMED,
        },
    )
    funded_growth_boost: float = field(
        default=0.5,
        metadata={
            "min": 0.0,
            "unit": "relative growth",
            "help": "extra revenue growth of a funded firm, as a share of revenue_growth "
            "(§五(二): finance accelerates growth)",
            "source": ASSUMED,
        },
    )
    revenue_shock_sd: float = field(
        default=0.05,
        metadata={
            "min": 0.0,
            "unit": "per quarter",
            "help": "sd of a firm's quarterly revenue-growth shock (uniform, mean 0)",
            "source": ASSUMED,
        },
    )
    min_growth_factor: float = field(
        default=0.5,
        metadata={
            "exclusive_min": 0.0,
            "max": 1.0,
            "unit": "×",
            "help": "floor of a quarter's revenue multiple: revenue at most falls to this share",
            "source": ASSUMED,
        },
    )
    graduation_size_jump: float = field(
        default=2.0, metadata={"min": 1.0, "help": "revenue multiple gained on graduating"}
    )
    collateral_step: float = field(
        default=1.4, metadata={"min": 1.0, "help": "extra collateral multiple on graduating"}
    )
    max_failure_pd: float = field(
        default=0.95,
        metadata={
            **PROB,
            "help": "cap of a firm's quarterly failure probability (no firm fails for sure)",
            "source": ASSUMED,
        },
    )
    max_graduation: float = field(
        default=0.9,
        metadata={
            **PROB,
            "help": "cap of a firm's quarterly probability of moving up one stage",
            "source": ASSUMED,
        },
    )
    max_acquisition: float = field(
        default=0.5,
        metadata={
            **PROB,
            "help": "cap of a firm's quarterly probability of being acquired",
            "source": ASSUMED,
        },
    )
    finance_memory_quarters: int = field(
        default=4,
        metadata={
            "unit": "quarters",
            "min": 0,
            "help": "quarters a firm's last finance outcome (funded or refused) keeps "
            "shifting its hazards",
            "source": ASSUMED,
        },
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
        n_stages = len(STAGES)
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


class Event(IntEnum):
    """What happened to a firm in its quarter (the codes of `QuarterEvents`)."""

    NONE = 0
    FAILED = 1
    GRADUATED = 2  # moved up one stage, below listing
    LISTED = 3  # pre-IPO graduate: an IPO
    RELOCATED = 4
    ACQUIRED = 5


# --------------------------------------------------------------------- the bundles


class FirmColumns(NamedTuple):
    """The population's live columns that the lifecycle reads and writes (one row a firm)."""

    stream_id: np.ndarray
    stage: np.ndarray
    sector: np.ndarray
    stage_quarter: np.ndarray
    exit_quarter: np.ndarray
    listed_quarter: np.ndarray
    last_active_stage: np.ndarray
    quality: np.ndarray
    failure_risk: np.ndarray
    graduation_drive: np.ndarray
    pd: np.ndarray
    default_threshold: np.ndarray
    finance_state: np.ndarray
    main_bank: np.ndarray
    size: np.ndarray
    collateral: np.ndarray
    ip_value: np.ndarray
    chain_leader: np.ndarray
    leader_row: np.ndarray
    replication: np.ndarray

    @classmethod
    def of(cls, pop: EnterprisePopulation) -> FirmColumns:
        return cls(*(getattr(pop, name) for name in cls._fields))


class FailureRates(NamedTuple):
    """The failure hazard's tables (`firm_failure_pd`)."""

    base: np.ndarray  # failure_pd by Stage code (0 for exits)
    finance: np.ndarray  # multiplier by FinanceState code
    chain_support: float
    cap: float

    @classmethod
    def of(cls, params: LifecycleParams) -> FailureRates:
        finance = _finance_table(params.funded_failure_mult, params.refused_failure_mult)
        return cls(
            stage_table(params.failure_pd), finance, params.chain_support, params.max_failure_pd
        )


class TransitionRates(NamedTuple):
    """Graduation and acquisition hazards, and what graduating does to a firm's size."""

    graduation: np.ndarray  # by Stage code (0 for listed and exits)
    graduation_finance: np.ndarray  # multiplier by FinanceState code
    max_graduation: float
    acquisition: np.ndarray  # by Stage code
    max_acquisition: float
    size_jump: float  # revenue and IP multiple on graduating
    collateral_jump: float  # collateral multiple on graduating

    @classmethod
    def of(cls, params: LifecycleParams) -> TransitionRates:
        jump = params.graduation_size_jump
        return cls(
            stage_table(params.graduation),
            _finance_table(1.0 + params.funded_graduation_boost, 1.0),
            params.max_graduation,
            stage_table(params.acquisition),
            params.max_acquisition,
            jump,
            jump * params.collateral_step,
        )


class GrowthRates(NamedTuple):
    """Revenue growth of surviving firms (`revenue_growth_factor`); scalars only, so a
    per-firm call passes no arrays."""

    revenue_growth: float
    quality_loading: float
    funded_boost: float
    shock_scale: float  # multiplies (u - 1/2), u uniform: the shock's sd × √12
    min_factor: float

    @classmethod
    def of(cls, params: LifecycleParams) -> GrowthRates:
        return cls(
            params.revenue_growth,
            params.growth_quality_loading,
            params.funded_growth_boost,
            params.revenue_shock_sd * UNIFORM_SDS_PER_UNIT,
            params.min_growth_factor,
        )


class ChainRule(NamedTuple):
    """Who leads a supply chain (`grows_into_leader`)."""

    min_revenue: float  # annual, 万元
    leads_chains: np.ndarray  # by sector

    @classmethod
    def of(cls, params: LifecycleParams, sectors: SectorArrays) -> ChainRule:
        return cls(params.leader_min_revenue, sectors.leads_chains)


class QuarterDrivers(NamedTuple):
    """What drives this quarter's events besides the firm: the credit engine's systematic
    shift, the banks' and operator's uplifts, and the quarter's random streams."""

    # By replication (a firm reads its own replication's): the streams' bases, the
    # systematic shift, the operator's effects and the IPO window.
    quarter: int
    default_stream: np.ndarray  # uint64
    transition_stream: np.ndarray  # uint64
    revenue_stream: np.ndarray  # uint64
    shift: np.ndarray  # (replications, sectors) systematic shift of the latent variable
    load_idio: float  # idiosyncratic loading of the latent variable
    graduation_uplift: np.ndarray  # by main bank (its tier)
    operator_uplift: np.ndarray  # graduation multiplier of the operator's services
    acquisition_uplift: np.ndarray  # by main bank (its tier)
    relocation: np.ndarray  # quarterly probability of moving out, after the operator's effect
    ipo_open: np.ndarray  # bool, the IPO window: while shut, a pre-IPO graduate does not list


class QuarterEvents(NamedTuple):
    """Rows that had an event in the quarter, in row order, and each one's `Event`."""

    rows: np.ndarray
    events: np.ndarray


def _finance_table(funded: float, refused: float) -> np.ndarray:
    """A hazard multiplier by FinanceState code."""
    table = np.empty(len(FinanceState))
    table[FinanceState.NONE], table[FinanceState.FUNDED] = 1.0, funded
    table[FinanceState.REFUSED] = refused
    return table


# --------------------------------------------------------------------- the rules
# Each rule is a compiled function of one firm's scalars, inlined where a kernel calls it
# (a bundle of arrays passed per firm would cost reference counting on every array).


@njit(cache=True, inline="always")
def quality_factor(quality: float, beta: float, variance: float) -> float:
    """E[exp(-beta·q)] / E over the population, for q ~ N(mean=quality, var=variance):
    exp(-beta·quality + beta²·(variance - 1)/2). The average firm (q ~ N(0, 1)) has
    factor one, so a stage's base hazard is the population average."""
    return math.exp(-beta * quality + 0.5 * beta * beta * (variance - 1.0))


@njit(cache=True, inline="always")
def firm_failure_pd(
    base_pd: float,
    failure_risk: float,
    finance_mult: float,
    supported: bool,
    chain_support: float,
    cap: float,
    relief: float,
) -> float:
    """One firm's quarterly failure probability (§六(二)2): its stage's base hazard × its
    sector and quality (`failure_risk`) × its last finance outcome's multiplier (§五(二)) ×
    (1 - chain_support) if it supplies an active chain leader (§四(一)) × `relief`, at
    most `cap`."""
    pd = base_pd * failure_risk * finance_mult
    if supported:
        pd *= 1.0 - chain_support
    if relief != 1.0:
        pd *= relief
    return min(pd, cap)


@njit(cache=True, inline="always")
def firm_graduation_prob(
    base: float, graduation_drive: float, finance_mult: float, uplift: float, cap: float
) -> float:
    """One firm's quarterly probability of moving up one stage (§六(二)2): its stage's
    base rate × its sector and quality (`graduation_drive`) × its last finance outcome's
    multiplier × the `uplift` of its bank and operator, at most `cap` (0 for listed and
    exited firms, whose base rate is 0)."""
    return min(base * graduation_drive * finance_mult * uplift, cap)


@njit(cache=True, inline="always")
def competing_risk(u: float, graduation: float, relocation: float, acquisition: float) -> Event:
    """The event a surviving firm's one uniform `u` gives: graduation takes the bottom of
    the unit interval, relocation the top and acquisition the band below it, so each
    event's region grows only with its own hazard (common random numbers across
    strategies). Where the regions overlap, graduation comes first, then relocation."""
    if u < graduation:
        return Event.GRADUATED
    if u >= 1.0 - relocation:
        return Event.RELOCATED
    if u >= 1.0 - relocation - acquisition:
        return Event.ACQUIRED
    return Event.NONE


@njit(cache=True, inline="always")
def revenue_growth_factor(quality: float, funded: bool, u: float, rates: GrowthRates) -> float:
    """A surviving firm's revenue multiple in the quarter: 1 + g·(1 + a·q + b·[funded]) +
    a uniform shock (`u` - 1/2)·sd·√12, at least `min_factor` (g = revenue_growth, a =
    quality_loading, b = funded_boost). First order in small rates, which saves an exp."""
    boost = rates.funded_boost if funded else 0.0
    growth = rates.revenue_growth * (1.0 + rates.quality_loading * quality + boost)
    growth += (u - 0.5) * rates.shock_scale
    return max(growth + 1.0, rates.min_factor)


@njit(cache=True, inline="always")
def grows_into_leader(
    is_leader: bool, stage: int, revenue: float, sector_leads: bool, min_revenue: float
) -> bool:
    """Whether a firm becomes a chain leader (链主, §四(一)) now: not one yet, in the park
    at pre-IPO or listed, with annual revenue of at least `min_revenue`, in a sector whose
    large firms anchor supplier chains (`sector_leads`)."""
    return (
        not is_leader
        and revenue >= min_revenue
        and Stage.PRE_IPO <= stage <= Stage.LISTED
        and sector_leads
    )


@njit(cache=True, inline="always")
def exit_stage(event: Event) -> Stage:
    """The stage a firm leaves the park in."""
    if event == Event.FAILED:
        return Stage.FAILED
    return Stage.RELOCATED if event == Event.RELOCATED else Stage.ACQUIRED


# --------------------------------------------------------------------- the kernels


@njit(cache=True)
def _quality_factors(quality: np.ndarray, beta: float, variance: np.ndarray) -> np.ndarray:
    out = np.empty(len(quality))
    for k in range(len(quality)):
        out[k] = quality_factor(quality[k], beta, variance[k])
    return out


def quality_multiplier(quality: np.ndarray, beta: float, variance: np.ndarray | float = 0.0):
    """`quality_factor` of each firm: E[exp(-beta·q)] / E over the population, for
    q ~ N(mean=quality, var=variance)."""
    quality = np.ascontiguousarray(quality, dtype=float)
    variance = np.ascontiguousarray(np.broadcast_to(variance, quality.shape), dtype=float)
    return _quality_factors(quality, float(beta), variance)


@njit(cache=True)
def _firm_multipliers(
    rows: np.ndarray,
    firms: FirmColumns,
    sector_failure: np.ndarray,
    sector_graduation: np.ndarray,
    quality_risk: float,
    quality_growth: float,
) -> None:
    for i in rows:
        q, c = firms.quality[i], firms.sector[i]
        firms.failure_risk[i] = sector_failure[c] * quality_factor(q, quality_risk, 0.0)
        # Graduation rises with quality: the same normalised factor, exp(γq - γ²/2).
        firms.graduation_drive[i] = sector_graduation[c] * quality_factor(q, -quality_growth, 0.0)


def set_firm_multipliers(
    pop: EnterprisePopulation, rows: Rows, params: LifecycleParams, sectors: SectorArrays
) -> None:
    """Fix each new firm's sector-and-quality multipliers of failure (`failure_risk`,
    exp(-βq - β²/2)) and graduation (`graduation_drive`, exp(γq - γ²/2)), β =
    `quality_risk`, γ = `quality_growth`.

    Quality and sector never change, so these are computed once at entry, not per quarter.
    """
    _firm_multipliers(
        _row_index(pop, rows),
        FirmColumns.of(pop),
        sectors.failure,
        sectors.graduation,
        params.quality_risk,
        params.quality_growth,
    )


@njit(cache=True)
def _failure_pds(
    rows: np.ndarray, firms: FirmColumns, rates: FailureRates, relief: float
) -> np.ndarray:
    """`firm_failure_pd` of the firms at `rows`."""
    out = np.empty(len(rows))
    for k in range(len(rows)):
        i = rows[k]
        leader = firms.leader_row[i]
        supported = leader >= 0 and firms.stage[leader] <= Stage.LISTED  # still in the park
        out[k] = firm_failure_pd(
            rates.base[firms.stage[i]],
            firms.failure_risk[i],
            rates.finance[firms.finance_state[i]],
            supported,
            rates.chain_support,
            rates.cap,
            relief,
        )
    return out


@njit(cache=True)
def _graduation_probs(
    rows: np.ndarray, firms: FirmColumns, rates: TransitionRates, uplift: np.ndarray
) -> np.ndarray:
    """`firm_graduation_prob` of the firms at `rows`, each with its own uplift."""
    out = np.empty(len(rows))
    for k in range(len(rows)):
        i = rows[k]
        out[k] = firm_graduation_prob(
            rates.graduation[firms.stage[i]],
            firms.graduation_drive[i],
            rates.graduation_finance[firms.finance_state[i]],
            uplift[k],
            rates.max_graduation,
        )
    return out


@njit(cache=True)
def _promote_leaders(rows: np.ndarray, firms: FirmColumns, rule: ChainRule) -> np.ndarray:
    """Make the firms at `rows` that `grows_into_leader` chain leaders; return them."""
    promoted = np.empty(len(rows), dtype=np.int64)
    count = 0
    for i in rows:
        sector_leads = rule.leads_chains[firms.sector[i]]
        stage, revenue = firms.stage[i], firms.size[i]
        if grows_into_leader(firms.chain_leader[i], stage, revenue, sector_leads, rule.min_revenue):
            firms.chain_leader[i] = True
            promoted[count] = i
            count += 1
    return promoted[:count]


def _row_index(pop: EnterprisePopulation, rows: Rows) -> np.ndarray:
    return np.arange(pop.n)[rows] if isinstance(rows, slice) else np.asarray(rows, np.int64)


def promote_chain_leaders(
    pop: EnterprisePopulation, rows: Rows, params: LifecycleParams, sectors: SectorArrays
) -> np.ndarray:
    """Firms at `rows` that have grown into chain leaders (`grows_into_leader`). A leader
    keeps the role while it stays in the park (its suppliers do not lose it to one bad
    quarter). Returns the rows promoted."""
    rule = ChainRule.of(params, sectors)
    return _promote_leaders(_row_index(pop, rows), FirmColumns.of(pop), rule)


def failure_pd(
    pop: EnterprisePopulation,
    rows: Rows,
    params: LifecycleParams,
    sectors: SectorArrays,
    relief: float = 1.0,
) -> np.ndarray:
    """True quarterly failure probability of firms at `rows` (unconditional on factors;
    see `firm_failure_pd`). Exited firms get 0."""
    index = _row_index(pop, rows)
    return _failure_pds(index, FirmColumns.of(pop), FailureRates.of(params), float(relief))


def update_failure_pds(pop: EnterprisePopulation, params: LifecycleParams) -> None:
    """Every live firm's quarterly PD (`pd`) and its default threshold Φ⁻¹(PD)."""
    every = np.arange(pop.n)
    pd = _failure_pds(every, FirmColumns.of(pop), FailureRates.of(params), 1.0)
    # Φ⁻¹ is the costliest step per firm: recompute it only where the PD moved.
    moved = (pd != pop.pd).nonzero()[0]
    pop.pd[moved] = pd[moved]
    pop.default_threshold[moved] = ndtri(pd[moved])


def graduation_prob(
    pop: EnterprisePopulation,
    rows: Rows,
    params: LifecycleParams,
    sectors: SectorArrays,
    uplift: np.ndarray | float = 1.0,
) -> np.ndarray:
    """Quarterly probability that firms at `rows` move up one stage (0 for listed, exited;
    see `firm_graduation_prob`)."""
    index = _row_index(pop, rows)
    up = np.ascontiguousarray(np.broadcast_to(np.asarray(uplift, dtype=float), index.shape))
    return _graduation_probs(index, FirmColumns.of(pop), TransitionRates.of(params), up)


@njit(cache=True)
def _live_quarter(
    firms: FirmColumns,
    transition: TransitionRates,
    growth: GrowthRates,
    chains: ChainRule,
    drivers: QuarterDrivers,
) -> QuarterEvents:
    """Every active firm's quarter, firm by firm (see `live_through_quarter`). Every firm
    reads and writes only its own row, and draws its own uniforms (`firm_uniform`)."""
    n = len(firms.stage)
    rows = np.empty(n, dtype=np.int64)
    events = np.empty(n, dtype=np.int8)
    n_events = 0
    q = drivers.quarter
    for i in range(n):
        s = firms.stage[i]
        if s > Stage.LISTED:  # left the park before this quarter
            continue
        firm, bank, r = firms.stream_id[i], firms.main_bank[i], firms.replication[i]
        # 1. Correlated failure: the credit engine's latent-variable test; else
        # 2. competing risks on one uniform: graduation, relocation, acquisition.
        u = firm_uniform(drivers.default_stream[r], firm)
        shift = drivers.shift[r, firms.sector[i]]
        if defaults_given(u, firms.default_threshold[i], shift, drivers.load_idio):
            event = Event.FAILED
        else:
            graduation = firm_graduation_prob(
                transition.graduation[s],
                firms.graduation_drive[i],
                transition.graduation_finance[firms.finance_state[i]],
                drivers.graduation_uplift[bank] * drivers.operator_uplift[r],
                transition.max_graduation,
            )
            acquisition = transition.acquisition[s] * drivers.acquisition_uplift[bank]
            acquisition = min(acquisition, transition.max_acquisition)
            u = firm_uniform(drivers.transition_stream[r], firm)
            event = competing_risk(u, graduation, drivers.relocation[r], acquisition)
            if event == Event.GRADUATED and s == Stage.PRE_IPO:
                # A pre-IPO graduate lists; while the IPO window is shut it waits.
                event = Event.LISTED if drivers.ipo_open[r] else Event.NONE
        if event != Event.NONE:
            rows[n_events], events[n_events] = i, event
            n_events += 1
        if event == Event.FAILED or event == Event.RELOCATED or event == Event.ACQUIRED:
            firms.last_active_stage[i] = s
            firms.stage[i] = exit_stage(event)
            firms.exit_quarter[i] = q
            firms.stage_quarter[i] = q
            continue
        if event == Event.GRADUATED or event == Event.LISTED:
            firms.stage[i] = s + 1
            firms.stage_quarter[i] = q
            firms.size[i] *= transition.size_jump
            firms.ip_value[i] *= transition.size_jump
            # Firms accumulate plant and property as they grow (§五(二)).
            firms.collateral[i] *= transition.collateral_jump
            if event == Event.LISTED:
                firms.listed_quarter[i] = q
        # 3. Revenue grows with quality, faster after funding.
        funded = firms.finance_state[i] == FinanceState.FUNDED
        u = firm_uniform(drivers.revenue_stream[r], firm)
        factor = revenue_growth_factor(firms.quality[i], funded, u, growth)
        firms.size[i] *= factor
        firms.collateral[i] *= factor
        firms.ip_value[i] *= factor
        # 4. A large pre-IPO or listed firm of a chain-forming sector leads a chain.
        sector_leads = chains.leads_chains[firms.sector[i]]
        stage, revenue = firms.stage[i], firms.size[i]
        if grows_into_leader(
            firms.chain_leader[i], stage, revenue, sector_leads, chains.min_revenue
        ):
            firms.chain_leader[i] = True
    return QuarterEvents(rows[:n_events], events[:n_events])


def live_through_quarter(
    pop: EnterprisePopulation,
    params: LifecycleParams,
    sectors: SectorArrays,
    shift: np.ndarray,
    load_idio: float,
    graduation_uplift: np.ndarray,
    operator_uplift: float | np.ndarray,
    acquisition_uplift: np.ndarray,
    relocation_mult: float | np.ndarray,
    streams: FirmStreams,
    quarter: int,
    ipo_open: bool | np.ndarray = True,
) -> LifecycleEvents:
    """Every live firm's quarter (§六(二)2): it fails (correlated, given the credit
    engine's systematic `shift` by sector and idiosyncratic loading `load_idio`), or
    graduates, relocates or is acquired (`competing_risk`, one uniform), and survivors'
    revenue grows (`revenue_growth_factor`); large pre-IPO and listed firms of
    chain-forming sectors become chain leaders (`grows_into_leader`).

    `graduation_uplift` and `acquisition_uplift` are by bank (the firm's main bank's);
    `pd` and `default_threshold` must be this quarter's (`update_failure_pds`). While the
    IPO window is shut (`ipo_open` False) no firm lists: a pre-IPO graduate stays pre-IPO.
    In a batch, `shift` (replications × sectors), `operator_uplift`, `relocation_mult` and
    `ipo_open` are by replication, and each firm reads its own. Returns the rows of each
    event.
    """
    drivers = QuarterDrivers(
        quarter=quarter,
        default_stream=streams.base(Mechanism.DEFAULT, quarter),
        transition_stream=streams.base(Mechanism.TRANSITION, quarter),
        revenue_stream=streams.base(Mechanism.REVENUE, quarter),
        shift=np.ascontiguousarray(np.atleast_2d(shift), dtype=float),
        load_idio=float(load_idio),
        graduation_uplift=np.ascontiguousarray(graduation_uplift, dtype=float),
        operator_uplift=np.atleast_1d(np.asarray(operator_uplift, dtype=float)),
        acquisition_uplift=np.ascontiguousarray(acquisition_uplift, dtype=float),
        relocation=params.relocation * np.atleast_1d(np.asarray(relocation_mult, dtype=float)),
        ipo_open=np.atleast_1d(np.asarray(ipo_open, dtype=np.bool_)),
    )
    rows, event = _live_quarter(
        FirmColumns.of(pop),
        TransitionRates.of(params),
        GrowthRates.of(params),
        ChainRule.of(params, sectors),
        drivers,
    )
    graduated = ((event == Event.GRADUATED) | (event == Event.LISTED)).nonzero()[0]
    return LifecycleEvents(
        failed=rows[(event == Event.FAILED).nonzero()[0]],
        graduated=rows[graduated],
        listed=rows[graduated[(event[graduated] == Event.LISTED).nonzero()[0]]],
        relocated=rows[(event == Event.RELOCATED).nonzero()[0]],
        acquired=rows[(event == Event.ACQUIRED).nonzero()[0]],
    )
