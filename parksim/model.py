"""ParkModel: commercial banks serving an industrial park, one quarter per step.

Source: 产业园区综合金融服务创新蓝皮书 (Blue Book on Innovation in Comprehensive Financial
Services for Industrial Parks, January 2024); the mechanisms and their sections are in
docs/model.md. Enterprises are columns of one `EnterprisePopulation`; the operator and the
banks are `mesa.Agent`s; correlated defaults come from `parksim.credit`.

`step` is the quarter's schedule; docs/model.md (ODD, section 3, "Process overview and
scheduling") describes each of its steps and where its mechanism lives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import mesa
import numpy as np

from parksim.banks import book as loan_book
from parksim.banks.bank import Bank
from parksim.banks.group import GroupQuarter, GroupVehicle, affiliate_income, group_quarter
from parksim.banks.income import earn_income
from parksim.banks.market import LoanMarket
from parksim.banks.mna import make_mna_loans
from parksim.banks.moves import StrategyMoves
from parksim.banks.operator_lending import (
    lend_to_operator,
    service_operator_loans,
    take_operator_default,
)
from parksim.banks.stakes import (
    Gains,
    StakeColumns,
    book_at_bank,
    cost_by_bank,
    exit_multiples,
    fund_stakes,
    ipo_window_open,
    mark_to_model,
    realise_stakes,
)
from parksim.banks.tiers import TierTable, tier_spec
from parksim.core.codes import EXITS, STAGES, FinanceState, LoanStatus, Stage
from parksim.core.metrics import METRIC_NAMES
from parksim.core.population import EnterprisePopulation
from parksim.core.sectors import SECTOR_NAMES, SectorArrays
from parksim.core.stops import Held, holds_stops
from parksim.core.streams import FirmStreams, Streams, stream_ids_of
from parksim.core.units import QUARTERS_PER_YEAR
from parksim.credit import CreditRiskEngine
from parksim.credit.stress import NO_STRESS, StressQuarter, stress_schedule
from parksim.enterprises.entry import (
    cdf_of,
    draw_firms,
    entrant_count,
    firm_draws,
    link_suppliers,
)
from parksim.enterprises.equity import follow_revenue, raise_equity
from parksim.enterprises.lifecycle import (
    LifecycleEvents,
    live_through_quarter,
    promote_chain_leaders,
    set_firm_multipliers,
    update_failure_pds,
)
from parksim.operators.operator import ParkOperator, space_used
from parksim.policy import PolicyPackage, RiskPool, interest_subsidy_cost
from parksim.scenario.loader import apply_overrides, load_scenario
from parksim.scenario.schema import Scenario

# Archive exited, loan-free firms once they are this share of the live rows. It is for
# speed; it moves rows, but draws are keyed by firm, not row, so it changes no result.
COMPACT_AT_EXITED_SHARE = 0.2
# Rows the population's buffers hold beyond twice the initial park before they grow: for
# speed only (rows are keyed by firm, so growing the buffers changes no result).
BUFFER_HEADROOM_ROWS = 1024
# Keys of the time-series columns written per stage and per sector (see `_record`).
COUNT_KEYS = tuple(f"n_{s}" for s in (*STAGES, *EXITS))
STAGE_KEYS = tuple(
    (f"exposure_{s}", f"borrowers_{s}", f"defaults_{s}", f"default_rate_{s}") for s in STAGES
)
NO_SECTOR_EXPOSURE = {f"exposure_{sector}": 0.0 for sector in SECTOR_NAMES}


class ParkTotals(NamedTuple):
    """A quarter's counts and sums over each replication's firms (lists by replication)."""

    entries: list[int]
    listings: list[int]
    failures: list[int]
    chain_leaders: list[int]
    counts: list[list[int]]  # firms ever in the park, by Stage code
    output: list[float]  # annual revenue of the firms in the park, 万元
    subsidy: list[float]  # the government's interest subsidy of the quarter, 万元


def _metric(name: str, model: ParkModel) -> Any:
    """DataCollector reporter for one time-series column (a partial of it pickles;
    a lambda would not)."""
    return model.latest[name]


#: Per-quarter flows whose running sum since quarter 0 is also reported, as
#: ``cum_<column>`` (万元, or loans and firms for the counts), so `mesa.batch_run` rows at
#: any step carry the totals to date beside the quarter's flow.
CUMULATIVE_COLUMNS: tuple[str, ...] = (
    "net_profit",
    "credit_loss",
    "policy_recoveries",
    "new_loans",
    "defaults",
    "entries",
    "listings",
    "failures",
    "fiscal_pool_paid",
    "fiscal_guarantee_paid",
    "fiscal_subsidy_cost",
)


def _cumulative(name: str, model: ParkModel) -> Any:
    """DataCollector reporter for ``cum_<name>``: the column summed over the quarters so
    far (quarter 0's flows are zero)."""
    return sum(row[name] for row in model.records)


def _agent_kind(agent: mesa.Agent) -> str:
    """ "focal bank" (the bank whose strategy is run; the model's columns are its),
    "bank" or "operator"."""
    if isinstance(agent, Bank):
        return "focal bank" if agent.index == 0 else "bank"
    return "operator"


def _agent_name(agent: mesa.Agent) -> str:
    return agent.name if isinstance(agent, Bank) else "operator"


def _bank_state(name: str, agent: mesa.Agent) -> Any:
    """A bank's state at quarter end (None for the operator): `tier` and
    `operator_loan` of the bank, `capital` of its book's risk, anything else of its
    quarter's ledger."""
    if not isinstance(agent, Bank):
        return None
    if name in ("tier", "operator_loan"):
        return getattr(agent, name)
    if name == "capital":
        return agent.ledger.risk.capital
    return getattr(agent.ledger, name)


def _operator_state(name: str, agent: mesa.Agent) -> Any:
    """The operator's state at quarter end (None for a bank): `debt`, `park_fund`,
    `model_name` and `in_default` of the operator, anything else of its quarter's ledger."""
    if not isinstance(agent, ParkOperator):
        return None
    if name in ("debt", "park_fund", "model_name", "in_default"):
        return getattr(agent, name)
    return getattr(agent.ledger, name)


#: Agent reporters: one row per agent (the banks, then the operator) and quarter in
#: `datacollector.get_agent_vars_dataframe()`; a field that is not the agent's kind is
#: None. `mesa.batch_run` then gives one row per agent and step (Mesa's rule), each with
#: the model's columns; ``agent_kind == "focal bank"`` keeps one row per step. Names start
#: with ``agent_`` so that no batch_run column is both a model column and an agent's.
#: Banks: tier in force, enterprise-loan exposure, NPL balance, development loans to the
#: operator, deposits (万元 at quarter end), new loans, credit loss, policy recoveries,
#: net profit (万元 this quarter), capital (万元). Operator: asset model
#: ("heavy"/"light"), occupancy and leverage (shares), debt, park fund left (万元),
#: revenue (万元 this quarter), in default (bool).
AGENT_REPORTERS: dict[str, Any] = {
    "agent_kind": _agent_kind,
    "agent_name": _agent_name,
    **{
        f"agent_{field}": partial(_bank_state, field)
        for field in (
            "tier",
            "exposure",
            "npl_balance",
            "operator_loan",
            "deposits",
            "new_loans",
            "credit_loss",
            "policy_recoveries",
            "net_profit",
            "capital",
        )
    },
    "agent_asset_model": partial(_operator_state, "model_name"),
    **{
        f"agent_{field}": partial(_operator_state, field)
        for field in ("occupancy", "leverage", "debt", "park_fund", "revenue", "in_default")
    },
}


BASELINE = Path("scenarios") / "baseline.toml"


def _generator_of(seed: Any) -> np.random.Generator:
    """The generator a model of one park seeded with `seed` spawns its streams from:
    `mesa.Model` makes it with `np.random.default_rng(seed)` and, unless the seed is an
    int, first draws the seed of its stdlib `random` from it. A batch's replications
    after the first (the first is Mesa's own) are made the same way, so each is the run
    of its seed alone."""
    generator = np.random.default_rng(seed)
    if not isinstance(seed, int | np.integer):
        generator.integers(np.iinfo(np.int32).max)
    return generator


def _baseline() -> Path:
    """The baseline scenario: the working directory's, else the checkout's (a notebook
    opened in another folder still gets the calibrated baseline)."""
    if BASELINE.exists():
        return BASELINE
    checkout = Path(__file__).resolve().parents[1] / BASELINE
    return checkout if checkout.exists() else BASELINE


class ParkModel(mesa.Model):
    """An industrial park, its operator and the banks that serve it.

    Build it from a scenario file or object and one of its strategies; change parameters
    by their addresses (parksim.scenario.addresses), as a dict or as keywords for sweeps::

        model = ParkModel("scenarios/baseline.toml", strategy="tier2_light", rng=7)
        model = ParkModel("scenarios/baseline.toml", rng=7, overrides={"tiers.2.0.fixed_cost": 700})
        model = ParkModel("scenarios/baseline.toml", rng=7, bank_tier=3.0, risk_pool_share=0.5,
                          lifecycle__graduation__2=0.01, tiers__2_0__fixed_cost=700)

    `rng` is the only source of randomness. Without `strategy` the first one is used.
    Without `config` the model is the calibrated baseline, `scenarios/baseline.toml` of
    the working directory or, failing that, of the parksim checkout it is imported from.

    As in Mesa: `running` turns False once the scenario's horizon is reached (so
    `mesa.batch_run` needs no `max_steps`); `datacollector` holds one row per quarter of
    the time-series columns (docs/columns.md) and their running totals ``cum_<column>``
    of :data:`CUMULATIVE_COLUMNS`, and one row per agent and quarter of
    :data:`AGENT_REPORTERS` (`get_agent_vars_dataframe()`: the banks and the operator).
    """

    @holds_stops
    def __init__(
        self,
        config: Scenario | str | Path | None = None,
        strategy: str | None = None,
        *,
        rng: Any = None,
        collect: bool = True,
        replications: Sequence[Any] | None = None,
        **overrides: Any,
    ) -> None:
        """Build the park at quarter 0: its firms, its operator and its banks.

        Args:
            config: a scenario (parksim.scenario.schema.Scenario) or the path of its TOML
                file; default the calibrated baseline (see the class docstring).
            strategy: the name of one of the scenario's strategies; default its first.
            rng: seed or numpy Generator, the model's only source of randomness.
            collect: keep the DataCollector's tables (model and agent reporters); the
                ensemble runner turns it off and reads `records` instead.
            replications: the seeds of a batch, one per replication, in place of `rng`
                (see `ParkModel.batch`).
            **overrides: parameters by address, with ``__`` for dots
                (``tiers__2_0__fixed_cost=600``), or ``overrides={address: value}``;
                ``bank_tier``, ``operator_model`` and the policy levers set the
                strategy's own.

        Raises:
            parksim.scenario.errors.ScenarioError (a ValueError): a scenario file or an
            override that is not valid, with the field and what was expected.
        """
        seeds = [rng] if replications is None else list(replications)
        if replications is not None and (rng is not None or not seeds):
            raise ValueError("give `rng` (one park) or `replications` (a batch), not both")
        generators = [_generator_of(seed) for seed in seeds[1:]]
        super().__init__(rng=seeds[0])
        self.step = Held(self.step)  # Mesa's step, under a hold; see `step`
        scenario = config if isinstance(config, Scenario) else load_scenario(config or _baseline())
        chosen = scenario.strategy(strategy) if strategy else scenario.strategies[0]
        self.config, self.strategy = apply_overrides(scenario, chosen, **overrides)
        self.policy = self.strategy.policy
        self.quarter = 0
        self.replications = len(seeds)
        # Each replication's streams, its own as in a run of it alone.
        self.streams_of = [Streams.spawn(g) for g in (self.rng, *generators)]
        self.firm_streams = FirmStreams(tuple(s.firms.keys[0] for s in self.streams_of))
        self.sectors = SectorArrays.of(tuple(self.config.park.sector_mix))
        n_sectors = len(self.sectors.names)
        self.credit_engines = [
            CreditRiskEngine(self.config.credit, n_sectors) for _ in self.streams_of
        ]
        self.risk_pools = [RiskPool(self.policy) for _ in self.streams_of]
        self.n_banks = len(self.config.banks)  # a park's banks
        self.banks = self._make_banks()
        self.tiers = TierTable.of([bank.spec for bank in self.banks])
        self.moves = StrategyMoves(
            self.strategy.changes, self.config.tiers, competitors=self.config.banks[1:]
        )
        cfg = self.config
        self.loan_market = LoanMarket(
            cfg.lending,
            cfg.lifecycle,
            cfg.credit,
            self.sectors,
            self.policy,
            tuple(self.risk_pools),
            np.array([cfg.park.sector_mix[name] for name in self.sectors.names]),
            group=cfg.group,
        )
        # Each bank group's equity vehicle (banks/group.py) and its last quarter.
        self.groups = [GroupVehicle(room=cfg.group.committed_capital) for _ in self.banks]
        self.group_quarters: list[GroupQuarter | None] = [None] * len(self.banks)
        self.group_fv_income = [0.0] * len(self.banks)
        self.macros = [0.0] * self.replications
        # The stress path this strategy runs (its own or the scenario's), by quarter.
        self.stress_path = self.config.stress_of(self.strategy)
        self._stress = stress_schedule(self.stress_path, self.config.horizon)
        self.stress_now: StressQuarter = NO_STRESS
        self.last_gains: Gains | None = None
        # Room for each park to double before its columns are copied to larger buffers.
        capacity = self.replications * (2 * cfg.park.enterprises + BUFFER_HEADROOM_ROWS)
        self.enterprises = EnterprisePopulation(
            self.n_banks, self.sectors.names, capacity, self.replications
        )
        self._populate()
        self._update_failure_pd()
        self.operators = [self._make_operator(r) for r in range(self.replications)]
        self.loan_market.open_book(self.enterprises, self.banks, self.tiers, self.firm_streams)
        self.replication_records: list[list[dict[str, Any]]] = [
            [] for _ in range(self.replications)
        ]
        self.latest_of: list[dict[str, Any]] = [{} for _ in range(self.replications)]
        self.collect = collect
        self.datacollector = mesa.DataCollector(
            model_reporters={
                **{name: partial(_metric, name) for name in METRIC_NAMES},
                **{f"cum_{name}": partial(_cumulative, name) for name in CUMULATIVE_COLUMNS},
            }
            if collect
            else {},
            agent_reporters=AGENT_REPORTERS if collect else {},
        )
        loan_book.count_borrowers(self.enterprises, self.banks)
        for operator, occupancy in zip(self.operators, self._occupancies(), strict=True):
            operator.open_books(occupancy)
        self._close_books()
        self._record(np.zeros(self.replications, dtype=np.int64), LifecycleEvents.none())
        self._collect()

    @classmethod
    def batch(
        cls,
        config: Scenario | str | Path | None,
        strategy: str | None,
        seeds: Sequence[Any],
        *,
        collect: bool = False,
        **overrides: Any,
    ) -> ParkModel:
        """R replications of one strategy in one model: `seeds[r]` is replication r's.

        The replications share one population (its `replication` column tells their
        firms apart) and every kernel runs once a quarter for all of them, so a quarter's
        fixed cost is paid once. Each replication is the run of its seed alone:
        `records_of(r)` equals `ParkModel(config, strategy, rng=seeds[r]).records`, to the
        bit (tests/test_model_batch.py). Replication r's banks are `banks_of(r)`; its
        operator, streams and risk pool are `operators[r]`, `streams_of[r]` and
        `risk_pools[r]`.
        """
        return cls(config, strategy, collect=collect, replications=seeds, **overrides)

    def __repr__(self) -> str:
        live = int((self.enterprises.stage <= Stage.LISTED).sum())
        batch = f", replications={self.replications}" if self.replications > 1 else ""
        return (
            f"ParkModel(scenario={self.config.name!r}, strategy={self.strategy.name!r}, "
            f"quarter={self.quarter} of {self.config.horizon}, firms={live}, "
            f"focal_tier={self.focal_bank.tier}, operator={self.operator.model_name!r}{batch})"
        )

    # ------------------------------------------------- a model of one park (R = 1)

    @property
    def operator(self) -> ParkOperator:
        """The park's operator (of the first replication in a batch)."""
        return self.operators[0]

    @property
    def streams(self) -> Streams:
        """The run's random streams (of the first replication in a batch)."""
        return self.streams_of[0]

    @property
    def risk_pool(self) -> RiskPool:
        """The park's risk-compensation pool (of the first replication in a batch)."""
        return self.risk_pools[0]

    @property
    def credit_engine(self) -> CreditRiskEngine:
        """The park's credit engine (of the first replication in a batch)."""
        return self.credit_engines[0]

    @property
    def macro(self) -> float:
        """This quarter's macro factor (of the first replication in a batch)."""
        return self.macros[0]

    @property
    def records(self) -> list[dict[str, Any]]:
        """One dict of time-series columns per quarter run (the first replication's)."""
        return self.replication_records[0]

    @property
    def latest(self) -> dict[str, Any]:
        """The last quarter's record (the first replication's)."""
        return self.latest_of[0]

    def records_of(self, replication: int) -> list[dict[str, Any]]:
        """One replication's records: one dict of time-series columns per quarter run."""
        return self.replication_records[replication]

    def banks_of(self, replication: int) -> list[Bank]:
        """One replication's banks, the focal bank first."""
        return self.banks[replication * self.n_banks : (replication + 1) * self.n_banks]

    # ---------------------------------------------------------------- construction

    def _make_banks(self) -> list[Bank]:
        banks = []
        tax = self.config.income.tax_rate
        for replication in range(self.replications):
            for position, spec in enumerate(self.config.banks):
                tier = self.strategy.bank_tier if position == 0 else spec.tier
                changes = self.config.tiers.get(f"{tier:.1f}")
                index = replication * self.n_banks + position
                banks.append(Bank(self, index, spec.name, tier, tier_spec(tier, changes), tax))
        return banks

    def _refresh_tiers(self) -> None:
        """Remake the banks' spec arrays if a bank's `spec` has been replaced (a notebook
        user may swap one between steps)."""
        specs = self.tiers.specs
        if any(bank.spec is not spec for bank, spec in zip(self.banks, specs, strict=True)):
            park = self.banks_of(0)
            if any(bank.spec != park[bank.index % self.n_banks].spec for bank in self.banks):
                raise ValueError("every replication of a batch must give its banks the same tiers")
            self.tiers = TierTable.of([bank.spec for bank in self.banks])
            self._main_bank_cdf = cdf_of(np.array([b.spec.attraction for b in park]))

    def adopt_policy(self, policy: PolicyPackage) -> None:
        """A new policy package from this quarter on (a scheduled change): loans already
        booked keep the cover they were booked with."""
        self.policy = policy
        self.loan_market = replace(self.loan_market, policy=policy)
        for pool, operator in zip(self.risk_pools, self.operators, strict=True):
            pool.adopt(policy)
            operator.reits_available = policy.reits_available

    @property
    def focal_bank(self) -> Bank:
        return self.banks[0]

    def _populate(self) -> None:
        park = self.config.park
        park_mix = np.array([park.stage_mix.get(s, 0.0) for s in STAGES])
        entrant_mix = np.array([park.entrant_stage_mix.get(s, 0.0) for s in STAGES])
        self._entrant_stage_cdf = cdf_of(entrant_mix)
        self._sector_cdf = cdf_of(np.array(list(park.sector_mix.values())))
        self._main_bank_cdf = cdf_of(np.array([b.spec.attraction for b in self.banks_of(0)]))
        firms = self.config.firms
        count = np.array([park.enterprises])
        for replication, streams in enumerate(self.streams_of):
            rng = streams.entry_in(0)
            u = firm_draws(rng, park.enterprises, self.n_banks)
            ids = self._add_firms(u, cdf_of(park_mix), [0.0], count, replication)
            stages = self.enterprises.stage[ids]
            low = np.asarray(firms.initial_age_low)[stages]
            high = np.asarray(firms.initial_age_high)[stages]
            age = (low + rng.random(len(ids)) * (high - low)).astype(int)
            self.enterprises.entered_quarter[ids] = -age
            self.enterprises.stage_quarter[ids] = -np.minimum(age, firms.initial_stage_tenure)
            promote_chain_leaders(self.enterprises, ids, self.config.lifecycle, self.sectors)
            leaders = self.enterprises.chain_leaders(replication)
            link_suppliers(self.enterprises, ids, firms.initial_chain_link, u, leaders)

    def _add_firms(
        self,
        u: np.ndarray,
        stage_cdf: np.ndarray,
        quality_shift: Sequence[float],
        counts: np.ndarray,
        first_replication: int = 0,
    ) -> np.ndarray:
        """Add new firms of consecutive replications from their draws `u`: `counts[k]`
        firms of replication `first_replication + k`, whose cohort's quality is
        `quality_shift[k]`. Returns their rows."""
        replication = np.repeat(np.arange(len(counts)) + first_replication, counts)
        shift = np.repeat(np.asarray(quality_shift, dtype=float), counts)
        columns = draw_firms(
            u,
            stage_cdf,
            shift,
            self._sector_cdf,
            self.sectors,
            self.config.firms,
            self._main_bank_cdf,
        )
        columns["main_bank"] += replication * self.n_banks
        columns["replication"] = replication
        columns["quality_prior"] = shift
        columns["entered_quarter"] = np.full(len(u), self.quarter)
        columns["stream_id"] = np.concatenate(
            [stream_ids_of(self.quarter, int(count)) for count in counts]
        )
        columns["stage_quarter"] = np.full(len(u), self.quarter)
        rows = self.enterprises.add(**columns)
        set_firm_multipliers(self.enterprises, rows, self.config.lifecycle, self.sectors)
        return rows

    def _make_operator(self, replication: int) -> ParkOperator:
        params = self.config.operator
        used = space_used(self.enterprises, params)[replication]
        operator = ParkOperator(
            self,
            params,
            self.strategy.operator_model,
            floor_area=used / params.initial_occupancy,
            reits_available=self.policy.reits_available,
            park_fund=self.config.park.park_fund,
        )
        self._lend_to_operator(operator, replication)
        return operator

    def _lend_to_operator(self, operator: ParkOperator, replication: int) -> None:
        lend_to_operator(
            self.banks_of(replication),
            operator.development_loans,
            operator.params.focal_loan_share,
        )

    @property
    def pool_remaining(self) -> float:
        """Capital left in the risk-compensation pool, 万元."""
        return self.risk_pool.remaining

    # ---------------------------------------------------------------- the quarter

    def step(self) -> None:
        """Advance the park by one quarter: the schedule in the module docstring.

        `model.step()` (Mesa's: its clock, then this as the scheduled event) raises a
        Ctrl-C or SIGTERM of the quarter once the quarter has finished and Mesa has
        scheduled the next one (parksim.core.stops): a stop inside a compiled kernel
        could crash the process, and one raised inside Mesa's event would leave a model
        that no longer steps."""
        self.quarter += 1
        self._take_scheduled_changes()
        self._take_stress()
        self._open_books()
        factors = self._draw_factors()
        entries = self._enter()
        self._service_loans()
        self._raise_finance()
        events, stage_before = self._live_through_quarter(factors)
        equity_income = self._settle_exits(events, stage_before)
        self._earn_income(events)
        self._operator_quarter(equity_income)
        self._close_books()
        self._record(entries, events)
        self._collect()
        self._compact()
        self.running = self.quarter < self.config.horizon

    def _take_scheduled_changes(self) -> None:
        """The strategy's moves due this quarter: a tier (phasing in), the operator's model,
        the policy; and the competitors' moves, their own and their responses. They are
        scheduled, so every replication of a batch takes the same."""
        park = self.banks_of(0)
        bank, others = park[0], park[1:]
        due = self.moves.due(
            self.quarter, bank.tier, bank.spec, [(other.tier, other.spec) for other in others]
        )
        for replication in range(self.replications):
            bank, *others = self.banks_of(replication)
            if due.focal_tier is not None:
                bank.tier = due.focal_tier
                bank.investment_due += due.investment
            if due.focal_spec is not None:
                bank.spec = due.focal_spec
            for other, move in zip(others, due.competitors, strict=True):
                if move.tier is not None:
                    other.tier = move.tier
                    other.investment_due += move.investment
                if move.spec is not None:
                    other.spec = move.spec
            if due.operator_model is not None:
                self.operators[replication].change_model(due.operator_model)
        if due.policy:
            self.adopt_policy(replace(self.policy, **due.policy))

    def _open_books(self) -> None:
        """New ledgers; performing borrowers at quarter start (the default-rate base)."""
        self._refresh_tiers()
        for pool in self.risk_pools:
            pool.open_quarter()
        for bank in self.banks:
            bank.open_quarter()
        loan_book.count_borrowers(self.enterprises, self.banks)

    def _draw_factors(self) -> list[Any]:
        """Each replication's systematic factors of the quarter, from its macro stream."""
        factors = []
        shift = self.stress_now.macro_shift
        for r, (engine, streams) in enumerate(
            zip(self.credit_engines, self.streams_of, strict=True)
        ):
            drawn = engine.draw_factors(streams.macro, shift)
            self.macros[r] = float(drawn.macro)
            factors.append(drawn)
        return factors

    def _close_books(self) -> None:
        pop = self.enterprises
        bank_holds = self.config.group.holder == "bank"
        loan_book.close_books(
            pop, self.banks, pop.pd, len(self.sectors.names), self.quarter, bank_holds
        )

    def _collect(self) -> None:
        if self.collect:
            self.datacollector.collect(self)

    def _compact(self) -> None:
        """Archive firms that left and owe nothing, once they are a fifth of the rows."""
        pop = self.enterprises
        if pop.exited_share() > COMPACT_AT_EXITED_SHARE:
            pop.compact((pop.stage > Stage.LISTED) & (pop.loan_status == LoanStatus.NONE))

    def _occupancies(self) -> list[float]:
        """Each park's occupancy now (its operator's floor area in use)."""
        used = space_used(self.enterprises, self.config.operator).tolist()
        return [op.occupancy_of(u) for op, u in zip(self.operators, used, strict=True)]

    def _enter(self) -> np.ndarray:
        """Each park's entrants of the quarter; returns how many entered each."""
        best = self.tiers.brand
        counts = np.zeros(self.replications, dtype=np.int64)
        occupancies = self._occupancies()
        draws, shifts, links = [], [], []
        for r, (streams, operator) in enumerate(zip(self.streams_of, self.operators, strict=True)):
            rng = streams.entry_in(self.quarter)
            inflow, quality, _, _, link = operator.services()
            rate = (
                self.config.park.entries_per_quarter
                * inflow
                * best.inflow_uplift
                * operator.vacancy_room(occupancies[r])
            )
            counts[r] = entrant_count(rng.random(), rate)
            draws.append(firm_draws(rng, int(counts[r]), self.n_banks))
            shifts.append(quality + best.entrant_quality)
            links.append(link)
        rows = self._add_firms(np.concatenate(draws), self._entrant_stage_cdf, shifts, counts)
        promote_chain_leaders(self.enterprises, rows, self.config.lifecycle, self.sectors)
        leaders = self.enterprises.by_replication(self.enterprises.chain_leaders())
        first = 0
        for r, operator in enumerate(self.operators):
            new = rows[first : first + counts[r]]
            link_suppliers(self.enterprises, new, links[r], draws[r], leaders[r])
            operator.take_service_stakes(self.enterprises, new)
            first += counts[r]
        return counts

    def _service_loans(self) -> None:
        funding = self.funding_cost
        loan_book.service(self.enterprises, self.banks, funding)
        for r, operator in enumerate(self.operators):
            # Defaulted development loans in workout earn nothing and still cost funding.
            rate = 0.0 if operator.in_default else operator.params.development_loan_rate
            service_operator_loans(self.banks_of(r), rate, funding)
        if self.config.group.holder == "bank":
            fund_stakes(self.enterprises, self.banks, funding)

    def _raise_finance(self) -> None:
        """Equity rounds, then the loan market, over all live rows (no gathers)."""
        pop, firms, q = self.enterprises, self.firm_streams, self.quarter
        everyone = slice(None)
        bank_fund = self.tiers.fund_coinvest
        park_fund = np.array([op.light and op.park_fund > 0 for op in self.operators])
        room = np.array([vehicle.room for vehicle in self.groups])
        rounds = raise_equity(
            pop, everyone, self.config.equity, park_fund, bank_fund, firms, q, bank_room=room
        )
        for vehicle, left in zip(self.groups, room.tolist(), strict=True):
            vehicle.room = left
        if park_fund.any():
            # The last co-investments may overdraw the fund slightly; it then stops.
            ticket = self.config.equity.fund_ticket
            of = pop.replication[rounds.funded]
            for r, operator in enumerate(self.operators):
                if park_fund[r]:
                    amount = rounds.amount if self.replications == 1 else rounds.amount[of == r]
                    operator.park_fund = max(0.0, operator.park_fund - ticket * amount.sum())

        applicants, borrowers = self.loan_market.lend(pop, self.banks, self.tiers, firms, q)

        # Funded by either channel beats refused by the other; outcomes fade after a year.
        pop.finance_state *= (
            pop.finance_quarter >= q - self.config.lifecycle.finance_memory_quarters
        )
        for sought in (rounds.sought, applicants):
            pop.finance_state[sought] = FinanceState.REFUSED
            pop.finance_quarter[sought] = q
        pop.finance_state[rounds.funded] = FinanceState.FUNDED
        pop.finance_state[borrowers] = FinanceState.FUNDED

    def _live_through_quarter(self, factors: list[Any]) -> tuple[LifecycleEvents, np.ndarray]:
        """Correlated failures, then graduation, relocation, acquisition; revenue grows.

        Returns the events and every row's stage at quarter start.
        """
        pop, engine = self.enterprises, self.credit_engine
        stage_before = pop.stage.copy()
        size_before = pop.size.copy()
        services = [operator.services() for operator in self.operators]
        self._update_failure_pd()
        events = live_through_quarter(
            pop,
            self.config.lifecycle,
            self.sectors,
            np.array(
                [e.systematic_shift(f) for e, f in zip(self.credit_engines, factors, strict=True)]
            ),
            engine.idiosyncratic_loading,
            self.tiers.graduation_uplift,
            np.array([uplift for _, _, uplift, _, _ in services]),
            self.tiers.acquisition_uplift,
            np.array([relocation for _, _, _, relocation, _ in services]),
            self.firm_streams,
            self.quarter,
            ipo_open=np.array([self._ipo_open(r) for r in range(self.replications)]),
        )
        follow_revenue(pop.valuation, pop.size, size_before, pop.stage)
        return events, stage_before

    def _take_stress(self) -> None:
        """This quarter's stress (credit/stress.py): its loan-rate shift prices the
        quarter's loans; the macro shift, IPO window, valuations and funding cost are read
        where they act."""
        q = self.quarter
        self.stress_now = self._stress[q] if q < len(self._stress) else NO_STRESS
        lending = self.config.lending
        shift = self.stress_now.loan_rate_shift
        priced = replace(lending, base_rate=lending.base_rate + shift) if shift else lending
        if self.loan_market.lending != priced:
            self.loan_market = replace(self.loan_market, lending=priced)

    @property
    def funding_cost(self) -> float:
        """The banks' annual funding cost this quarter: the scenario's plus the stress's."""
        return self.config.lending.funding_cost + self.stress_now.funding_cost_shift

    def _ipo_open(self, replication: int = 0) -> bool:
        """The IPO window this quarter: forced by the stress path, else the model's rule."""
        forced = self.stress_now.ipo_window
        if forced is not None:
            return forced == "open"
        return ipo_window_open(self.config.equity, self.macros[replication])

    def _update_failure_pd(self) -> None:
        """Each firm's quarterly PD and its default threshold Φ⁻¹(PD)."""
        update_failure_pds(self.enterprises, self.config.lifecycle)

    def _settle_exits(self, events: LifecycleEvents, stage_before: np.ndarray) -> np.ndarray:
        """Defaults (less guarantee and pool), early repayments, M&A loans, stakes.

        Returns each replication's operator equity income of the quarter.
        """
        pop, cfg = self.enterprises, self.config
        rows, gross = loan_book.take_defaults(
            pop, self.banks, events.failed, stage_before, self.quarter
        )
        loan_book.take_losses(pop, self.banks, rows, gross, self.risk_pools)
        loan_book.repay_in_full(
            pop, self.banks, np.concatenate([events.relocated, events.acquired])
        )
        make_mna_loans(
            pop,
            self.banks,
            self.loan_market,
            self.tiers,
            events.acquired,
            self.firm_streams,
            self.quarter,
            cfg.income,
        )
        valuation = self.stress_now.valuation_factor
        cycle = [exit_multiples(cfg.income, cfg.equity, macro) for macro in self.macros]
        multiples = (
            np.array([listing * valuation for listing, _ in cycle]),
            np.array([acquisition * valuation for _, acquisition in cycle]),
        )
        lockup = cfg.group.lockup_quarters
        gains = realise_stakes(pop, events, multiples, self.quarter, lockup, len(self.banks))
        self.last_gains = gains  # for analysis: every sale's gain of the quarter
        self._book_equity(gains)
        return gains.operator

    def _book_equity(self, gains: Gains) -> None:
        """The quarter's equity at its holder (banks/group.py): the bank's equity income,
        or the group vehicle's P&L; then every holder's stakes marked to model."""
        pop, group = self.enterprises, self.config.group
        at_bank = group.holder == "bank"
        if at_bank:
            book_at_bank(self.banks, gains)
        n_banks = len(self.banks)
        held = cost_by_bank(pop.bank_stake_cost, pop.replication, n_banks).tolist()
        marks = mark_to_model(
            StakeColumns.of(pop),
            pop.valuation,
            self.stress_now.valuation_factor,
            pop.pd,
            pop.stage,
            1.0 if at_bank else group.group_share,
            group.illiquidity_discount,
            group.exit_horizon_quarters,
            n_banks,
        )
        fair, cost = marks.fair_value.tolist(), marks.cost.tolist()
        fund, warrants = gains.fund.tolist(), gains.warrants.tolist()
        fund_coinvest = self.tiers.fund_coinvest
        for b, vehicle in enumerate(self.groups):
            unrealised = fair[b] - cost[b]
            if at_bank:
                realised = fund[b] + warrants[b]
                self.group_quarters[b] = None
            else:
                fund_open = bool(fund_coinvest[b]) or held[b] > 0
                quarter = group_quarter(vehicle, fund[b], warrants[b], held[b], group, fund_open)
                realised = quarter.income
                self.group_quarters[b] = quarter
            self.group_fv_income[b] = realised + unrealised - vehicle.unrealised
            vehicle.unrealised = unrealised
            vehicle.fair_value = fair[b]

    def _earn_income(self, events: LifecycleEvents) -> None:
        """Fees, personal finance and costs; NPLs past their workout are written off."""
        pop, cfg, q = self.enterprises, self.config, self.quarter
        funding = self.funding_cost
        earn_income(pop, self.banks, cfg.income, events, self.firm_streams, q, funding)
        loan_book.write_off(pop, self.banks, q, cfg.credit.workout_quarters)

    def _operator_quarter(self, equity_income: np.ndarray) -> None:
        """Each park's operator: a REIT, its quarter's accounts, a default on its loans."""
        pop = self.enterprises
        occupancies = self._occupancies()
        tenants = pop.live_counts_by_stage()[:, : Stage.LISTED + 1].sum(axis=1).tolist()
        for r, operator in enumerate(self.operators):
            banks, occupancy = self.banks_of(r), occupancies[r]
            reit = operator.consider_conversion(occupancy)
            if reit > 0:
                self._lend_to_operator(operator, r)
                advisers = [b for b in banks if b.spec.advisory]
                if advisers:
                    lead = max(advisers, key=lambda b: (b.tier, -b.index))
                    lead.ledger.fee_reit += self.config.income.reit_fee * reit
            operator.settle_quarter(pop, occupancy, float(equity_income[r]), tenants[r])
            if operator.past_due:
                credit = self.config.credit
                _, written_off = operator.restructure(credit.lgd_secured, credit.workout_quarters)
                take_operator_default(banks, written_off)
            # The banks hold what the operator now owes them: amortised, new deficit loans.
            self._lend_to_operator(operator, r)

    # ---------------------------------------------------------------- data

    def _record(self, entries: np.ndarray, events: LifecycleEvents) -> None:
        """Each replication's row of time-series columns for the quarter."""
        pop, replications = self.enterprises, self.replications
        of = pop.replication

        def per_park(rows: np.ndarray) -> list[int]:
            return np.bincount(of[rows], minlength=replications).tolist()

        park = ParkTotals(
            entries=entries.tolist(),
            listings=per_park(events.listed),
            failures=per_park(events.failed),
            chain_leaders=per_park(pop.chain_leaders()),
            counts=pop.counts_by_stage().tolist(),
            output=(pop.sum_by_replication(pop.size * (pop.stage <= Stage.LISTED))).tolist(),
            subsidy=interest_subsidy_cost(pop, self.policy).tolist(),
        )
        for r in range(replications):
            row = self._record_of(r, park)
            self.latest_of[r] = row
            self.replication_records[r].append(row)

    def _record_of(self, r: int, park: ParkTotals) -> dict[str, Any]:
        op = self.operators[r].ledger
        banks = self.banks_of(r)
        focal = banks[0]
        led = focal.ledger
        risk = led.risk
        balance_sheet = led.balance_sheet
        # The ledger's derived lines, each worked once (a property works its whole chain).
        revenue, pre_tax_profit, tax = led.revenue, led.pre_tax_profit, led.tax
        net_profit, capital = led.net_profit, risk.capital
        focal_group = self.group_quarters[focal.index]
        group_income = focal_group.income if focal_group is not None else 0.0
        row: dict[str, Any] = dict(zip(COUNT_KEYS, park.counts[r], strict=True))
        row.update(
            entries=park.entries[r],
            listings=park.listings[r],
            failures=park.failures[r],
            n_chain_leaders=park.chain_leaders[r],
            output=park.output[r] / QUARTERS_PER_YEAR,
            exposure=led.exposure,
            new_loans=led.new_loans,
            repayments=led.repayments,
            written_off=led.written_off,
            defaults=led.defaults,
            defaulted_exposure=led.defaulted_exposure,
            npl_balance=led.npl_balance,
            npl_ratio=led.npl_balance / led.exposure if led.exposure > 0 else 0.0,
            borrowers=led.borrowers,
            credit_loss=led.credit_loss,
            policy_recoveries=led.policy_recoveries,
            collateral_recoveries=led.collateral_recoveries,
            expected_loss=led.expected_loss,
            operator_exposure=led.operator_exposure,
            interest_income=led.interest_income,
            ftp_charge=led.ftp_charge,
            interest_expense=led.interest_expense,
            ftp_credit=led.ftp_credit,
            net_interest_income=led.net_interest_income,
            fee_settlement=led.fee_settlement,
            fee_bond=led.fee_bond,
            fee_advisory=led.fee_advisory,
            fee_reit=led.fee_reit,
            fee_referral=led.fee_referral,
            fee_income=led.fee_income,
            group_fee_income=led.group_fee_income,
            equity_income=led.equity_income,
            group_equity_income=group_income,
            stakes_fair_value=self.groups[focal.index].fair_value,
            group_equity_fv_income=self.group_fv_income[focal.index],
            group_net_profit=net_profit
            + group_income
            + affiliate_income(led.group_fee_income, led.fee_referral, self.config.group),
            personal_finance_income=led.personal_finance_income,
            demand_deposits=led.demand_deposits,
            time_deposits=led.time_deposits,
            deposits=led.deposits,
            operating_cost=led.operating_cost,
            head_office_cost=led.head_office_cost,
            investment=led.investment,
            focal_tier=focal.tier,
            pre_tax_profit=pre_tax_profit,
            tax=tax,
            net_profit=net_profit,
            balance_sheet=balance_sheet,
            cost_income_ratio=led.operating_cost / revenue if revenue > 0 else 0.0,
            roa=QUARTERS_PER_YEAR * net_profit / balance_sheet if balance_sheet > 0 else 0.0,
            pretax_roa=(
                QUARTERS_PER_YEAR * pre_tax_profit / balance_sheet if balance_sheet > 0 else 0.0
            ),
            raroc=QUARTERS_PER_YEAR * net_profit / capital if capital > 0 else 0.0,
            sold_down=led.sold_down,
            allocated_capital=led.allocated_capital,
            single_name_limit=led.single_name_limit,
            largest_exposure_share=risk.largest_exposure_share,
            top10_exposure_share=risk.top10_exposure_share,
            hhi_exposure=risk.hhi_exposure,
            sector_hhi=risk.sector_hhi,
            capital_irb=risk.capital_irb,
            capital_operational=risk.capital_operational,
            capital_equity=risk.capital_equity,
            capital_operator=risk.capital_operator,
            capital=capital,
            granularity_adjustment=risk.granularity_adjustment,
            operator_revenue=op.revenue,
            operator_equity_income=op.equity_income,
            operator_leverage=op.leverage,
            operator_asset_model=self.operators[r].model_name,
            operator_in_default=int(op.in_default),
            occupancy=op.occupancy,
            fiscal_pool_paid=self.risk_pools[r].pool_paid,
            fiscal_guarantee_paid=self.risk_pools[r].guarantee_paid,
            fiscal_subsidy_cost=park.subsidy[r],
            pool_remaining=self.risk_pools[r].remaining,
            young_new_loans=sum(bank.ledger.new_loans_young for bank in banks),
            macro_factor=self.credit_engines[r].macro_factor or 0.0,
        )
        by_stage = zip(
            STAGE_KEYS,
            led.exposure_by_stage.tolist(),
            led.borrowers_by_stage.tolist(),
            led.defaults_by_stage.tolist(),
            strict=True,
        )
        for (exposure, borrowers, defaults, rate), value, base, failed in by_stage:
            row[exposure] = value
            row[borrowers] = int(base)
            row[defaults] = int(failed)
            row[rate] = failed / base if base > 0 else 0.0
        row.update(NO_SECTOR_EXPOSURE)
        by_sector = led.exposure_by_sector.tolist()
        row.update(zip((f"exposure_{name}" for name in self.sectors.names), by_sector, strict=True))
        return row

    def run(self, quarters: int | None = None) -> ParkModel:
        """Run for `quarters` (default: the scenario's horizon); return self.

        `quarters` may run past the horizon; `running` then stays False."""
        for _ in range(quarters if quarters is not None else self.config.horizon):
            self.step()
        return self

    def timeseries(self) -> Any:
        """The quarters run so far as a DataFrame (the time-series table, less its keys)."""
        import pandas as pd

        frame = pd.DataFrame(self.records, columns=list(METRIC_NAMES))
        frame.insert(0, "quarter", np.arange(len(frame)))
        return frame
