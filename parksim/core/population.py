"""The enterprise population: every enterprise of the park as columns of numpy arrays.

Enterprises are many (500 to 80,000+) and simple, so they are not `mesa.Agent`s: a quarter
is a handful of vectorised operations on these columns. The columns hold the park's
current ("live") rows; firms that have left and have nothing left on a bank's book are
moved to an archive now and then (`compact`), so the hot loops do not scan the dead.
Every firm keeps its `id` for the whole run. `to_frame()` and `get()` give researchers the
agent view of all firms ever in the park, live and archived, one row per enterprise.

Convention in the hot code: find rows with `mask.nonzero()[0]` and index with integers.
Boolean-mask indexing of large random masks is about ten times slower than integer
indexing, and `np.flatnonzero` adds a microsecond of wrapper per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from parksim.core.codes import (
    EXITS,
    PRODUCTS,
    STAGES,
    CreditDecision,
    FinanceState,
    LoanStatus,
    Stage,
    enum_names,
)

STAGE_NAMES: tuple[str, ...] = (*STAGES, *EXITS)
N_ACTIVE_STAGES = len(STAGES)


def stage_table(values: Sequence[float]) -> np.ndarray:
    """A read-only table indexed by stage code: `values` for the first stages (seed
    onwards), 0 for the rest. Shared between calls: copy it before changing it."""
    return _stage_table(tuple(values))


@lru_cache(maxsize=256)
def _stage_table(values: tuple[float, ...]) -> np.ndarray:
    table = np.zeros(len(Stage))
    table[: len(values)] = values
    table.flags.writeable = False
    return table


class Column:
    """A declared column of the population: a view of the first `n` rows of its buffer.

    The population keeps each column's current view in its instance dict, so reading a
    column is a plain attribute look-up (this descriptor is the fallback and the class-level
    documentation); assigning to a column writes into its buffer.
    """

    def __init__(
        self,
        dtype: type | np.dtype,
        fill: Any,
        description: str,
        per_bank: bool = False,
        categories: Sequence[str] = (),
    ):
        self.dtype = np.dtype(dtype)
        self.fill = fill
        self.description = description
        self.per_bank = per_bank
        # Names of the codes 0, 1, ... of an enum column (-1: none); to_frame shows them.
        self.categories = tuple(categories)
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, population: EnterprisePopulation | None, owner: type | None = None) -> Any:
        if population is None:
            return self
        return population._buffers[self.name][: population.n]


class EnterprisePopulation:
    """All enterprises ever in the park, one array per attribute (amounts in 万元).

    Rows are positions in the live columns and change when the population is compacted;
    ids never change. Code inside a quarter works with rows; references that outlive a
    quarter (`leader_id`) hold ids.
    """

    # Codes used to index small tables (stage, sector, banks, finance state) are np.intp:
    # numpy looks tables up three times faster with it than with int8.
    id = Column(np.int64, -1, "enterprise id, unique and stable for the whole run")
    stream_id = Column(
        np.int64, -1, "key of the firm's random draws: entry quarter × 2**24 + order of entry"
    )
    replication = Column(
        np.int16, 0, "the replication of a batch the firm is in (0 in a model of one park)"
    )
    stage = Column(np.intp, -1, "lifecycle stage code (Stage)", categories=STAGE_NAMES)
    sector = Column(np.intp, -1, "sector index into the scenario's sector list")
    entered_quarter = Column(np.int16, -1, "quarter the enterprise entered the park")
    stage_quarter = Column(np.int16, -1, "quarter the enterprise reached its current stage")
    exit_quarter = Column(np.int16, -1, "quarter the enterprise left (failed/relocated/acquired)")
    listed_quarter = Column(np.int16, -1, "quarter of listing (IPO), -1 if never listed")
    quality_prior = Column(
        np.float64, 0.0, "mean quality of the cohort the firm was drawn from (banks' prior)"
    )
    quality = Column(np.float64, 0.0, "latent quality, standard-normal scale; no bank sees it")
    failure_risk = Column(np.float64, 0.0, "sector × quality multiplier of the failure hazard")
    pd = Column(np.float64, -1.0, "quarterly failure probability, as of the last quarter run")
    default_threshold = Column(
        np.float64, -np.inf, "Φ⁻¹(pd): the latent-variable threshold below which it defaults"
    )
    graduation_drive = Column(np.float64, 0.0, "sector × quality multiplier of graduation")
    size = Column(np.float64, 0.0, "annual revenue, 万元")
    collateral = Column(np.float64, 0.0, "tangible collateral, 万元")
    ip_value = Column(np.float64, 0.0, "pledgeable intellectual property (patents), 万元")
    equity_raised = Column(np.float64, 0.0, "equity raised since entry, 万元")
    last_round_quarter = Column(np.int16, -1, "quarter of the last equity round")
    last_round_size = Column(np.float64, 0.0, "size of the last equity round, 万元")
    valuation = Column(np.float64, 0.0, "latest post-money valuation, 万元")
    chain_leader = Column(np.bool_, False, "chain leader (链主) with linked suppliers")
    leader_id = Column(np.int64, -1, "id of the chain leader this firm supplies, -1 if none")
    leader_row = Column(np.intp, -1, "live row of that chain leader, -1 if none or archived")
    # A bank's index is its place among the model's banks: in a batch of replications,
    # replication × (banks of a park) + its place in the park (Bank.index).
    main_bank = Column(np.intp, -1, "index of the enterprise's settlement (main) bank")
    lender = Column(np.intp, -1, "index of the bank holding the enterprise's loan, -1 if none")
    debt = Column(np.float64, 0.0, "outstanding bank loan balance, 万元")
    loan_rate = Column(np.float64, 0.0, "annual interest rate of the loan")
    loan_lgd = Column(np.float64, 0.0, "loss given default of the loan, before policy cover")
    loan_product = Column(
        np.int8, -1, "product of the loan: index into banks.tiers.PRODUCTS", categories=PRODUCTS
    )
    loan_quarters_left = Column(np.int16, 0, "quarters until the loan is fully amortised")
    loan_status = Column(np.int8, 0, "LoanStatus of the loan", categories=enum_names(LoanStatus))
    loan_policy_cover = Column(np.float64, 0.0, "share of the loan's loss covered by policy")
    loan_pd = Column(np.float64, 0.0, "the lender's annual PD estimate when it made the loan")
    loan_irb_loss = Column(
        np.float64,
        0.0,
        "Basel IRB capital per unit of EAD before the maturity adjustment: net LGD × "
        "(stressed PD − PD), fixed at booking",
    )
    loan_irb_slope = Column(
        np.float64, 0.0, "Basel maturity slope b of the loan's PD estimate, fixed at booking"
    )
    default_quarter = Column(np.int16, -1, "quarter the loan defaulted, -1 if it has not")
    finance_state = Column(
        np.intp,
        0,
        "FinanceState after the last finance request (equity or loan; fades after a year)",
        categories=enum_names(FinanceState),
    )
    finance_quarter = Column(np.int16, -1, "quarter of the last finance request")
    loan_applied_quarter = Column(np.int16, -1, "quarter of the last loan application, -1 if none")
    loan_outcome = Column(
        np.int8,
        0,
        "FinanceState of the last loan application: funded, or refused by every bank",
        categories=enum_names(FinanceState),
    )
    last_active_stage = Column(
        np.int8, -1, "stage held just before leaving the park", categories=STAGE_NAMES
    )
    operator_stake = Column(np.float64, 0.0, "equity share held by the operator and park fund")
    operator_stake_cost = Column(np.float64, 0.0, "what the operator paid for its stake, 万元")
    signal_error = Column(
        np.float64, 0.0, "each bank's persistent standard-normal error on quality", per_bank=True
    )
    bank_stake = Column(
        np.float64, 0.0, "equity share held by each bank's group fund", per_bank=True
    )
    bank_stake_cost = Column(np.float64, 0.0, "cost of each bank's stake, 万元", per_bank=True)
    warrant_notional = Column(
        np.float64, 0.0, "notional of each bank's warrant (认股权), 万元; 0 if none", per_bank=True
    )
    warrant_strike = Column(
        np.float64,
        0.0,
        "strike of each bank's warrant: the valuation at grant, 万元",
        per_bank=True,
    )
    bank_view = Column(
        np.float64,
        np.nan,
        "each bank's estimate of quality at the last loan application: the posterior mean of "
        "its noisy view, on the latent quality's scale (NaN: never applied)",
        per_bank=True,
    )
    bank_pd = Column(
        np.float64,
        np.nan,
        "each bank's annual PD estimate at the last loan application (NaN: never applied)",
        per_bank=True,
    )
    bank_decision = Column(
        np.int8,
        0,
        "CreditDecision of each bank on the last loan application",
        per_bank=True,
        categories=enum_names(CreditDecision),
    )

    def __init__(
        self,
        n_banks: int,
        sector_names: tuple[str, ...] = (),
        capacity: int = 1024,
        replications: int = 1,
    ) -> None:
        self.n_banks = n_banks  # a park's banks (per-bank columns have one each)
        self.replications = replications  # parks of a batch, told apart by `replication`
        most = np.iinfo(type(self).__dict__["replication"].dtype).max
        if not 1 <= replications <= most:
            raise ValueError(f"replications: expected 1 to {most:,}, got {replications}")
        self.sector_names = tuple(sector_names)
        self.n = 0  # live rows
        self.next_id = 0
        self._buffers: dict[str, np.ndarray] = {}
        # Rows n .. _filled - 1 of every buffer hold their column's fill, ready for `add`;
        # rows past _filled are untouched memory, which costs nothing until it is used,
        # so a generous capacity is free.
        self._filled = 0
        for col in self.columns():
            shape = (capacity, n_banks) if col.per_bank else (capacity,)
            self._buffers[col.name] = np.empty(shape, dtype=col.dtype)
        self._archive: list[dict[str, np.ndarray]] = []
        self._archived_ids = np.zeros(0, dtype=np.int64)
        self.archived_by_stage = np.zeros((replications, len(Stage)), dtype=np.int64)
        self._refresh_views()

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(type(self).__dict__.get(name), Column):
            self._buffers[name][: self.n] = value
        else:
            object.__setattr__(self, name, value)

    def _refresh_views(self) -> None:
        """Point each column attribute at the live rows of its buffer (after n changes)."""
        n = self.n
        self.__dict__.update({name: buffer[:n] for name, buffer in self._buffers.items()})

    @classmethod
    def columns(cls) -> tuple[Column, ...]:
        """The declared columns, in declaration order."""
        if "_columns" not in cls.__dict__:
            cls._columns = tuple(v for v in vars(cls).values() if isinstance(v, Column))
        return cls._columns

    @property
    def capacity(self) -> int:
        return len(self._buffers["stage"])

    def add(self, **values: np.ndarray) -> np.ndarray:
        """Append enterprises with new ids; return their rows. Unset columns take their fill."""
        unknown = set(values) - set(self._buffers) - {"id"}
        if unknown:
            raise KeyError(f"unknown enterprise columns: {sorted(unknown)}")
        count = len(values["stage"])
        self._reserve(self.n + count)
        self._prefill(self.n + count)
        rows = np.arange(self.n, self.n + count)
        new = slice(self.n, self.n + count)
        for name, value in values.items():
            self._buffers[name][new] = value
        self._buffers["id"][new] = np.arange(self.next_id, self.next_id + count)
        self.next_id += count
        self.n += count
        self._refresh_views()
        return rows

    def _reserve(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        # Doubling keeps appends amortised O(1) per enterprise.
        new_capacity = max(needed, 2 * self.capacity)
        for col in self.columns():
            old = self._buffers[col.name]
            grown = np.empty((new_capacity, *old.shape[1:]), dtype=col.dtype)
            grown[: self.n] = old[: self.n]
            self._buffers[col.name] = grown
        self._filled = self.n

    def _prefill(self, needed: int) -> None:
        """Fill rows up to `needed` and a margin beyond, so most appends write only the
        columns they set (a small park adds a handful of firms a quarter)."""
        if needed <= self._filled:
            return
        end = min(self.capacity, max(needed, self._filled + 4096, self._filled + self.n // 4))
        for col in self.columns():
            self._buffers[col.name][self._filled : end] = col.fill
        self._filled = end

    def active(self) -> np.ndarray:
        """Rows of enterprises still in the park (seed to listed)."""
        return (self.stage <= Stage.LISTED).nonzero()[0]

    def chain_leaders(self, replication: int | None = None) -> np.ndarray:
        """Rows of chain leaders (链主) still in the park (of one replication's park)."""
        leaders = self.chain_leader.nonzero()[0]
        leaders = leaders[(self.stage[leaders] <= Stage.LISTED).nonzero()[0]]
        return self.of_replication(leaders, replication)

    def loan_rows(self) -> np.ndarray:
        """Rows of firms that owe a bank (performing or not)."""
        return (self.lender >= 0).nonzero()[0]

    def by_replication(self, rows: np.ndarray) -> list[np.ndarray]:
        """`rows` split by replication: entry r holds replication r's, in order."""
        if self.replications == 1:
            return [rows]
        of = self.replication[rows]
        order = np.argsort(of, kind="stable")
        ends = np.cumsum(np.bincount(of, minlength=self.replications))
        return np.split(rows[order], ends[:-1])

    def of_replication(self, rows: np.ndarray, replication: int | None) -> np.ndarray:
        """Those of `rows` in `replication`'s park, in order (all of them for None or in
        a population of one park)."""
        if replication is None or self.replications == 1:
            return rows
        return rows[(self.replication[rows] == replication).nonzero()[0]]

    def sum_by_replication(self, values: np.ndarray) -> np.ndarray:
        """`values` (one per live row) summed over each replication's rows, one by one in
        row order: rows that add 0, such as firms that left and are not yet archived,
        change no sum."""
        return _sum_by(np.asarray(values, dtype=np.float64), self.replication, self.replications)

    def stage_table_sums(self, table: np.ndarray) -> np.ndarray:
        """Σ `table`[stage] over each replication's rows (`sum_by_replication` of the
        table looked up by stage; a stage table is 0 for firms that left)."""
        return _stage_table_sums(self.stage, table, self.replication, self.replications)

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Live rows of the given ids; -1 for ids that are archived or unknown."""
        ids = np.asarray(ids, dtype=np.int64)
        live_ids = self.id
        rows = np.searchsorted(live_ids, ids)
        found = rows < self.n
        found[found] = live_ids[rows[found]] == ids[found]
        return np.where(found, rows, -1)

    def exited_share(self) -> float:
        """Share of live rows that have left the park."""
        return float(np.count_nonzero(self.stage > Stage.LISTED)) / self.n if self.n else 0.0

    def compact(self, archivable: np.ndarray) -> None:
        """Move rows `archivable` (a boolean mask) to the archive; ids are kept.

        Only firms that have left the park and owe nothing should be archived: the model
        calls this when such rows are a large share of the live ones.
        """
        n_gone = int(np.count_nonzero(archivable))
        if n_gone == 0:
            return
        kept = self.n - n_gone
        # One pass per column splits it into the archived rows and the kept ones, moved up
        # in place: a large park's columns do not fit in cache, so passes are what cost.
        moved = {}
        for col in self.columns():
            buffer = self._buffers[col.name]
            part = np.empty((n_gone + 1, *buffer.shape[1:]), dtype=buffer.dtype)
            if buffer.ndim == 1:
                _split_rows(buffer[: self.n], archivable, part)
            else:
                _split_row_values(buffer[: self.n], archivable, part)
            buffer[kept : self.n] = col.fill
            moved[col.name] = part[:n_gone]
        self._archive.append(moved)
        self._archived_ids = np.concatenate([self._archived_ids, moved["id"]])
        np.add.at(self.archived_by_stage, (moved["replication"], moved["stage"]), 1)
        self.n = kept
        self._refresh_views()
        # Rows moved: point suppliers at their leaders' new rows (or -1 if archived).
        linked = (self.leader_id >= 0).nonzero()[0]
        self.leader_row[linked] = self.rows_of(self.leader_id[linked])

    def count_by_stage(self, replication: int = 0) -> np.ndarray:
        """Number of enterprises ever in one park in each Stage (all eight codes)."""
        return self.counts_by_stage()[replication]

    def counts_by_stage(self) -> np.ndarray:
        """`count_by_stage` of every replication: (replications, eight stage codes)."""
        return self.live_counts_by_stage() + self.archived_by_stage

    def live_counts_by_stage(self) -> np.ndarray:
        """Live rows by replication and Stage code: (replications, eight stage codes)."""
        return _stage_counts(self.stage, self.replication, self.replications, len(Stage))

    def _all_columns(self) -> dict[str, np.ndarray]:
        """Every column over archived and live firms, in id order."""
        parts = [*self._archive, {c.name: getattr(self, c.name) for c in self.columns()}]
        merged = {c.name: np.concatenate([p[c.name] for p in parts]) for c in self.columns()}
        order = np.argsort(merged["id"], kind="stable")
        return {name: values[order] for name, values in merged.items()}

    def to_frame(self, active_only: bool = False) -> pd.DataFrame:
        """One row per enterprise ever in the park, indexed by id: the agent view."""
        columns = self._all_columns()
        data: dict[str, Any] = {}
        for col in self.columns():
            if col.name == "id":
                continue
            values = columns[col.name]
            if col.per_bank:
                for b, name in enumerate(self.field_names(col)):
                    data[name] = values[:, b]
            else:
                data[col.name] = values
        frame = pd.DataFrame(data, index=pd.Index(columns["id"], name="id"))
        for col in self.columns():
            if col.categories:
                for name in self.field_names(col):
                    frame[name] = pd.Categorical.from_codes(frame[name], categories=col.categories)
        if self.sector_names:
            frame["sector"] = pd.Categorical.from_codes(
                frame["sector"], categories=list(self.sector_names)
            )
        if active_only:
            frame = frame[frame["stage"].isin(STAGES)]
        return frame

    def field_names(self, col: Column) -> list[str]:
        """The names a column's values go by in `to_frame` and `get`: its name, or one
        ``<name>_<bank index>`` per bank for a per-bank column (bank 0 is the focal bank)."""
        if col.per_bank:
            return [f"{col.name}_{b}" for b in range(self.n_banks)]
        return [col.name]

    def get(self, enterprise_id: int) -> dict[str, Any]:
        """One enterprise's attributes as a dict: the id and a row of `to_frame` (codes
        by name, a per-bank field as ``<name>_<bank index>``)."""
        row = int(self.rows_of(np.array([enterprise_id]))[0])
        if row >= 0:
            source, index = {c.name: getattr(self, c.name) for c in self.columns()}, row
        else:
            source, index = self._archived_record(enterprise_id)
        record: dict[str, Any] = {}
        for col in self.columns():
            values = np.atleast_1d(source[col.name][index])
            for name, value in zip(self.field_names(col), values, strict=True):
                record[name] = _category(col, value) if col.categories else value.item()
        if self.sector_names:
            record["sector"] = self.sector_names[record["sector"]]
        return record

    def _archived_record(self, enterprise_id: int) -> tuple[dict[str, np.ndarray], int]:
        for part in self._archive:
            hits = (part["id"] == enterprise_id).nonzero()[0]
            if len(hits):
                return part, int(hits[0])
        raise KeyError(f"no enterprise with id {enterprise_id} (ids run 0..{self.next_id - 1})")

    def __len__(self) -> int:
        """Enterprises ever in the park, live and archived."""
        return self.next_id


@njit(cache=True)
def _sum_by(values: np.ndarray, replication: np.ndarray, replications: int) -> np.ndarray:
    """`values` summed by replication, row by row (as `np.bincount` with weights)."""
    sums = np.zeros(replications)
    for i in range(len(values)):
        sums[replication[i]] += values[i]
    return sums


@njit(cache=True)
def _stage_table_sums(
    stage: np.ndarray, table: np.ndarray, replication: np.ndarray, replications: int
) -> np.ndarray:
    """Σ table[stage] by replication, row by row."""
    sums = np.zeros(replications)
    for i in range(len(stage)):
        sums[replication[i]] += table[stage[i]]
    return sums


@njit(cache=True)
def _stage_counts(
    stage: np.ndarray, replication: np.ndarray, replications: int, stages: int
) -> np.ndarray:
    """Rows counted by replication × stage code."""
    counts = np.zeros((replications, stages), dtype=np.int64)
    for i in range(len(stage)):
        counts[replication[i], stage[i]] += 1
    return counts


@njit(cache=True)
def _split_rows(column: np.ndarray, archivable: np.ndarray, archived: np.ndarray) -> None:
    """Compaction's split of one column (bookkeeping, no mechanism of the book): copy the
    `archivable` rows to `archived` (one spare row at its end) and move the others to the
    top of the column, in order and in place (see `EnterprisePopulation.compact`)."""
    kept, gone = 0, 0
    for i in range(len(column)):
        # Branch-free, both writes every row: a kept row only ever moves up, so a write
        # to `column[kept]` lands on a row already read, and a later kept row or the
        # caller's fill overwrites it.
        value, out = column[i], archivable[i]
        archived[gone] = value
        column[kept] = value
        gone += out
        kept += 1 - out


@njit(cache=True)
def _split_row_values(column: np.ndarray, archivable: np.ndarray, archived: np.ndarray) -> None:
    """`_split_rows` for a per-bank (rows × banks) column."""
    kept, gone = 0, 0
    for i in range(column.shape[0]):
        out = archivable[i]
        for b in range(column.shape[1]):
            value = column[i, b]
            archived[gone, b] = value
            column[kept, b] = value
        gone += out
        kept += 1 - out


def _category(column: Column, code: int) -> str | None:
    """The name of one code of an enum column (None for -1, "none given")."""
    return column.categories[code] if code >= 0 else None
