"""Running a scenario: every strategy × replication, with common random numbers.

Seeds. Replication i of every strategy gets child i of the run's root seed (numpy
`SeedSequence` spawning), so strategies differ by their strategy, not their luck, and
each replication is a pure function of (scenario, strategy, root seed, i).

Chunks. Work goes to the executor (parksim.ensemble.executors) in chunks: one strategy × up to
`MAX_CHUNK` of its replications, or a batch when that is more. A chunk is a few seconds of
work, so the scenario (a few kB, already parsed) is pickled once per chunk, not per model
run, and results come back as numpy arrays, not one DataFrame per run. Chunks of one
strategy rather than of one replication: any number of strategies chunks the same way,
and the chunks are submitted replication block by block (every strategy's first block,
then every second block...), so all strategies progress together and an interrupted run
holds comparable subsets.

Parts. Each finished chunk is written to the run folder by itself, atomically, as soon
as it comes back (parksim.ensemble.runfolder); the tables are assembled from the parts at the end.
A run can therefore stop at any moment (Ctrl-C, a killed process, a lost worker) and be
resumed, and its tables never depend on the executor, the chunking or the completion
order. A replication that raises is recorded and the others go on.

Batches. A worker runs its chunk's replications together, in batches of at most the
batch size (parksim.ensemble.batches: from the park's size and the free memory, or as
asked), through `simulate_batch`, the one function every ensemble of this package runs
replications with. A batch that raises is run again one replication at a time, so only
the replications that raise on their own are recorded as failures.
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, Future, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parksim.core.metrics import metric_arrays
from parksim.ensemble.batches import batch_size_for, checked_batch_size
from parksim.ensemble.executors import ExecutorKind, Workers, open_executor
from parksim.ensemble.folders import (
    STATUS_INCOMPLETE,
    FolderUnwritable,
    ResultsFolderError,
    build_manifest,
    disk_problem,
    finish_manifest,
    source_fingerprint,
    write_timeseries,
)
from parksim.ensemble.runfolder import RunFolder
from parksim.model import ParkModel
from parksim.scenario.schema import Scenario

#: Replications per chunk at most: a few seconds of work, the most an interruption loses.
MAX_CHUNK = 25
#: Chunks per worker at least, so that workers finish together and progress moves smoothly.
CHUNKS_PER_SLOT = 8
#: Chunks in flight per worker: one running, one queued so the worker never waits.
IN_FLIGHT_PER_SLOT = 2
#: From this many model runs on, the runner says how long the run should take before it
#: starts (a one-off probe of well under a second of model time).
PROJECT_ABOVE_RUNS = 10_000
#: Quarters of the probe run, scaled to the horizon.
PROBE_QUARTERS = 4

#: Simulates replications of one strategy together, as `simulate_batch` does:
#: (scenario, strategy, seeds) -> one dict of metric arrays by column name per seed, in
#: the seeds' order. The runner also calls it with a single seed, to rerun the
#: replications of a batch that raised one at a time.
Simulate = Callable[[Scenario, str, Sequence[np.random.SeedSequence]], list[dict[str, np.ndarray]]]


@dataclass(kw_only=True)
class Tables:
    """What a run gives at this layer: its time series and manifest, and where they were
    written. `parksim.run` gives a `parksim.results.RunResult`, which adds the summary,
    the differences and the charts; any class with these fields and `write_tables` can
    be a run's `outcome`."""

    scenario: Scenario
    timeseries: pd.DataFrame
    manifest: dict[str, Any]
    path: Path | None = None

    def write_tables(self, folder: Path, executor: Executor | None = None, slots: int = 1) -> None:
        """timeseries.parquet, atomically (the manifest is the caller's, written last)."""
        write_timeseries(folder, self.timeseries)


#: Makes a run's result from its scenario, time series and manifest (keywords).
Outcome = Callable[..., Any]


# --- seeds and tasks -----------------------------------------------------------------------


def replication_seeds(root_seed: int, replications: int) -> list[np.random.SeedSequence]:
    """Child seeds of the root seed, one per replication (shared by all strategies)."""
    return np.random.SeedSequence(root_seed).spawn(replications)


def replication_seed(root_seed: int, replication: int) -> np.random.SeedSequence:
    """The seed of one replication: equal to `replication_seeds(root_seed, n)[replication]`."""
    return np.random.SeedSequence(root_seed, spawn_key=(replication,))


@dataclass(frozen=True)
class Task:
    """One model run: a strategy in one replication, with its seed."""

    strategy: str
    replication: int
    seed: np.random.SeedSequence


def plan(scenario: Scenario, replications: int, seed: int) -> list[Task]:
    """The model runs of a run, in table order: strategy by strategy, replication by replication."""
    seeds = replication_seeds(seed, replications)
    return [
        Task(strategy.name, r, seeds[r])
        for strategy in scenario.strategies
        for r in range(replications)
    ]


@dataclass(frozen=True)
class Chunk:
    """What one executor task runs: some replications of one strategy."""

    strategy: str
    replications: tuple[int, ...]
    root_seed: int


def default_chunk_size(replications_to_run: int, slots: int) -> int:
    """Replications per chunk: at least CHUNKS_PER_SLOT chunks a worker, at most MAX_CHUNK."""
    return max(1, min(MAX_CHUNK, math.ceil(replications_to_run / (slots * CHUNKS_PER_SLOT))))


def chunk_size_for(
    replications_to_run: int,
    slots: int,
    batch_size: int,
    chunk_size: int | None = None,
    batch_asked: bool = False,
) -> int:
    """Replications per chunk: `chunk_size` if given, else `default_chunk_size` raised to
    the batch size (a chunk is what a worker batches) as far as every slot still gets a
    chunk. A batch size the caller asked for raises a given chunk size too."""
    if chunk_size is None:
        share = math.ceil(replications_to_run / slots)
        chunk_size = max(default_chunk_size(replications_to_run, slots), min(batch_size, share))
    return max(chunk_size, batch_size) if batch_asked else chunk_size


def make_chunks(
    names: Sequence[str],
    todo: Mapping[str, Iterable[int]],
    root_seed: int,
    size: int,
    align: int = 1,
) -> Iterator[Chunk]:
    """Chunks of `size` replications of one strategy, block by block across strategies.

    With `align` > 1, replications come in groups of `align` (r // align: a design point
    of a study) and a chunk never mixes part of one group with another: it holds whole
    groups, as many as fit in `size`, or a part of one group when a group is larger.

    Lazy: a chunk is made when the runner is ready to submit it, so planning a run costs
    the same memory whatever the number of replications asked.
    """
    blocks = {s: _blocks(todo[s], size, align) for s in names}
    while blocks:
        for s in list(blocks):
            block = next(blocks[s], None)
            if block is None:
                del blocks[s]
            else:
                yield Chunk(s, block, root_seed)


def _blocks(replications: Iterable[int], size: int, align: int) -> Iterator[tuple[int, ...]]:
    """Consecutive blocks of at most `size` replications, cut between groups r // align
    (at most max(1, size // align) groups a block)."""
    groups_per_block = max(1, size // align)
    block: list[int] = []
    groups = 0
    for r in replications:
        new_group = not block or r // align != block[-1] // align
        if block and (len(block) == size or (new_group and groups == groups_per_block)):
            yield tuple(block)
            block, groups, new_group = [], 0, True
        block.append(r)
        groups += new_group
    if block:
        yield tuple(block)


def remaining(replications: int, finished: AbstractSet[int]) -> Iterator[int]:
    """The replications 0..replications-1 not in `finished`, in order, one at a time."""
    return (r for r in range(replications) if r not in finished)


# --- how long it will take -------------------------------------------------------------------


def seconds_per_run(scenario: Scenario) -> float:
    """A model run's seconds here, from a short run of the first strategy scaled to the
    horizon (after one warm-up, so imports and compiled-kernel loading are not counted)."""
    strategy = scenario.names[0]
    ParkModel(scenario, strategy, rng=0, collect=False).run(1)
    started = time.perf_counter()
    model = ParkModel(scenario, strategy, rng=1, collect=False)
    built = time.perf_counter()
    model.run(PROBE_QUARTERS)
    quarters = (time.perf_counter() - built) / PROBE_QUARTERS
    return built - started + quarters * scenario.horizon


def projection(scenario: Scenario, runs: int, workers: Workers) -> str:
    """What a long run will cost, said before it starts."""
    each = seconds_per_run(scenario)
    seconds = runs * each / workers.slots
    return (
        f"parksim: {runs:,} model runs of about {each:.3g} s each with {workers.description}: "
        f"projected {_duration(seconds)}. Ctrl-C stops the run and keeps what finished "
        "(continue it with --resume)."
    )


def _duration(seconds: float) -> str:
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds / 60:,.1f} minutes" if seconds >= 120 else f"{seconds:.0f} seconds"


# --- what a worker does ----------------------------------------------------------------------


def simulate_replication(
    scenario: Scenario, strategy: str, seed: np.random.SeedSequence
) -> dict[str, np.ndarray]:
    """Run one strategy × replication to the horizon; return its metrics as arrays (a
    batch of one)."""
    return simulate_batch(scenario, strategy, [seed])[0]


def simulate_batch(
    scenario: Scenario, strategy: str, seeds: Sequence[np.random.SeedSequence]
) -> list[dict[str, np.ndarray]]:
    """Run replications of one strategy together; return each one's metric arrays, in order.

    One model runs them all (`ParkModel.batch`), so each quarter's fixed cost is paid
    once; replication i equals `simulate_replication(scenario, strategy, seeds[i])` to
    the bit. Every ensemble of parksim (runs, studies, reverse stress, the degenerate-park
    check) runs its replications through this function.
    """
    rngs = [np.random.default_rng(seed) for seed in seeds]
    model = ParkModel.batch(scenario, strategy, rngs).run()
    return [metric_arrays(model.records_of(r)) for r in range(len(seeds))]


@dataclass(frozen=True)
class Failure:
    """A replication that raised instead of finishing."""

    strategy: str
    replication: int
    seed: dict[str, Any]  # SeedSequence(**seed) is the replication's seed
    error: str
    traceback: str

    @classmethod
    def of(cls, strategy: str, replication: int, root_seed: int, error: BaseException) -> Failure:
        return cls(
            strategy,
            replication,
            {"entropy": root_seed, "spawn_key": [replication]},
            f"{type(error).__name__}: {error}",
            "".join(traceback.format_exception(error)),
        )


@dataclass(frozen=True)
class ChunkResult:
    """The finished replications of a chunk (as table columns) and its failures."""

    chunk: Chunk
    columns: dict[str, np.ndarray]  # replication, quarter and every metric; rows in order
    failures: tuple[Failure, ...]
    source: str  # the worker's parksim source fingerprint

    @property
    def done(self) -> int:
        return len(self.chunk.replications) - len(self.failures)


def run_chunk(
    scenario: Scenario,
    chunk: Chunk,
    simulate: Simulate | None = None,
    batch_size: int | None = None,
    align: int = 1,
) -> ChunkResult:
    """Run a chunk's replications in batches of at most `batch_size` (default: the whole
    chunk), cut between groups of `align` as chunks are (`make_chunks`); a replication
    that raises is recorded, not fatal.

    `simulate` defaults to `simulate_batch`, looked up when the chunk runs. A batch that
    raises is run again one replication at a time (by `simulate_replication`, or by
    `simulate` with one seed when it is given), so the others of the batch are kept.
    """
    pieces: list[dict[str, np.ndarray]] = []
    failures = []
    for batch in _blocks(chunk.replications, batch_size or len(chunk.replications), align):
        outcomes = _batch_outcomes(scenario, chunk, batch, simulate)
        for replication, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                failures.append(Failure.of(chunk.strategy, replication, chunk.root_seed, outcome))
                continue
            quarters = len(next(iter(outcome.values())))
            pieces.append(
                {
                    "replication": np.full(quarters, replication, dtype=np.int64),
                    "quarter": np.arange(quarters, dtype=np.int64),
                    **outcome,
                }
            )
    columns = (
        {name: np.concatenate([p[name] for p in pieces]) for name in pieces[0]} if pieces else {}
    )
    return ChunkResult(chunk, columns, tuple(failures), source_fingerprint())


def _batch_outcomes(
    scenario: Scenario, chunk: Chunk, batch: Sequence[int], simulate: Simulate | None
) -> list[dict[str, np.ndarray] | Exception]:
    """The metric arrays of each replication of `batch`, or the exception it raised."""
    seeds = [replication_seed(chunk.root_seed, r) for r in batch]
    try:
        return _simulated(simulate or simulate_batch, scenario, chunk.strategy, seeds)
    except Exception as error:
        if len(seeds) == 1:
            return [error]
    outcomes: list[dict[str, np.ndarray] | Exception] = []
    for seed in seeds:
        try:
            if simulate is None:
                outcomes.append(simulate_replication(scenario, chunk.strategy, seed))
            else:
                outcomes.extend(_simulated(simulate, scenario, chunk.strategy, [seed]))
        except Exception as error:
            outcomes.append(error)
    return outcomes


def _simulated(
    simulate: Simulate, scenario: Scenario, strategy: str, seeds: list[np.random.SeedSequence]
) -> list[dict[str, np.ndarray]]:
    """`simulate`'s results, one per seed (a hook that returns another count raises)."""
    results = list(simulate(scenario, strategy, seeds))
    if len(results) != len(seeds):
        raise RuntimeError(f"simulate returned {len(results)} results for {len(seeds)} seeds")
    return results


# --- running -------------------------------------------------------------------------------


class RunIncomplete(RuntimeError):
    """Some replications of a run failed or could not run; the others are kept."""

    def __init__(
        self,
        folder: Path | None,
        done: int,
        total: int,
        failures: Sequence[Failure],
        executor_error: str | None = None,
    ) -> None:
        self.folder, self.done, self.total = folder, done, total
        self.failures, self.executor_error = list(failures), executor_error
        # A model run is one strategy in one replication: S strategies × R replications.
        message = f"{total - done} of {total} model runs did not finish"
        if failures:
            message += f"; {len(failures)} raised (first: {failures[0].error})"
        if executor_error:
            message += f"; the executor failed: {executor_error}"
        if folder is not None:
            message += f"; resume with: parksim run --resume {folder}"
        super().__init__(message)


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    out: str | Path | None = None,
    executor: Executor | ExecutorKind | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    simulate: Simulate | None = None,
    outcome: Outcome = Tables,
) -> Any:
    """Run every strategy of `scenario`; return `outcome` made of its tables.

    `replications` and `seed` default to the scenario's. With `out`, the run folder is
    written there as the run goes (resumable with `resume(out)`) and completed with the
    tables and charts; without it, parts go to a temporary folder and only the result is
    returned (`result.save()` writes it).

    Where chunks run: `executor` is an Executor you own (a process pool, a Dask
    `client.get_executor()`; give `workers` its size to size the chunks), or one of
    "serial", "processes", "dask" (a local Dask cluster), started for this run with
    `workers` workers; `scheduler` is a Dask scheduler address. The default: this process
    for one worker, processes for more. Results are identical, bit for bit, either way.
    `batch_size` is how many replications a worker runs together (default: chosen from the
    park's size and this machine's free memory, parksim.ensemble.batches); chunks are
    made at least that large. It changes no number of the tables either.

    Raises RunIncomplete when a replication fails or the executor breaks (the finished
    ones stay in `out`), and lets KeyboardInterrupt through after saving finished chunks.
    `simulate` replaces `simulate_batch`, the model runs of a batch of replications (tests
    use it to make a replication fail; it must pickle to run in other processes).
    """
    batch_size = checked_batch_size(batch_size)
    replications = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")
    manifest = build_manifest(scenario, seed, replications, time.time(), status=STATUS_INCOMPLETE)
    options = {
        "executor": executor,
        "workers": workers,
        "scheduler": scheduler,
        "chunk_size": chunk_size,
        "batch_size": batch_size,
        "progress": progress,
        "simulate": simulate,
        "outcome": outcome,
    }
    if out is not None:
        return _run_in(RunFolder.create(out, manifest), scenario, keep=True, **options)
    with tempfile.TemporaryDirectory(prefix="parksim-run-") as tmp:
        folder = RunFolder.create(Path(tmp) / scenario.name, manifest)
        return _run_in(folder, scenario, keep=False, **options)


def resume(
    folder: str | Path,
    scenario: Scenario | None = None,
    *,
    executor: Executor | ExecutorKind | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    simulate: Simulate | None = None,
    outcome: Outcome = Tables,
) -> Any:
    """Continue an incomplete run folder: keep its finished replications, run the missing
    and failed ones, then write the tables. The result equals an uninterrupted run's.

    Refuses (ResultsFolderError) a folder that is complete, that other code started, or
    whose scenario differs from `scenario` when one is given. Options are `run`'s.
    """
    batch_size = checked_batch_size(batch_size)
    run_folder = RunFolder.open(folder)
    scenario = run_folder.resumable_scenario(scenario)
    return _run_in(
        run_folder,
        scenario,
        keep=True,
        resumed=True,
        executor=executor,
        workers=workers,
        scheduler=scheduler,
        chunk_size=chunk_size,
        batch_size=batch_size,
        progress=progress,
        simulate=simulate,
        outcome=outcome,
    )


def _run_in(folder: RunFolder, scenario: Scenario, *, keep: bool, **options: Any) -> Any:
    """Run what `folder` still lacks, then assemble (and, if `keep`, complete) it.

    Raises FolderUnwritable when the disk refuses a write (full, read-only, no
    permission): the parts written so far stay, and `resume` finishes the folder.
    """
    try:
        return _run_locked(folder, scenario, keep=keep, **options)
    except OSError as error:
        raise _unwritable(folder, keep, error) from None


def _unwritable(folder: RunFolder, keep: bool, error: OSError) -> FolderUnwritable:
    """The one line saying what the disk refused, what was kept and how to go on."""
    problem = disk_problem(error)
    if not keep:
        return FolderUnwritable(f"cannot write the run's temporary files: {problem}")
    try:
        kept = folder.progress_text()
    except (OSError, ResultsFolderError):
        return FolderUnwritable(
            f"{folder.path}: {problem}; the folder is incomplete; once the disk is fixed, "
            f"continue with: parksim run --resume {folder.path}"
        )
    return FolderUnwritable(
        f"{folder.path}: {problem}; {kept} are kept there; once the disk is fixed (space "
        f"freed), continue with: parksim run --resume {folder.path}"
    )


def _run_locked(
    folder: RunFolder,
    scenario: Scenario,
    *,
    keep: bool,
    resumed: bool = False,
    executor: Executor | ExecutorKind | None,
    workers: int,
    scheduler: str | None,
    chunk_size: int | None,
    batch_size: int | None,
    progress: bool,
    simulate: Simulate | None,
    outcome: Outcome,
) -> Any:
    with folder.locked(), _workers(executor, workers, scheduler) as opened:
        if resumed:
            folder.start_session()
        # The count asked for (an executor the caller owns, such as the command's, is
        # `workers` large: its slots are guessed), which `parksim run --resume` reuses.
        folder.record_workers(workers if isinstance(executor, Executor) else opened.slots)
        started = time.perf_counter()
        run_missing(
            folder,
            scenario,
            executor=opened,
            chunk_size=chunk_size,
            batch_size=batch_size,
            progress=progress,
            simulate=simulate,
            report_folder=keep,
        )
        timings = {"simulation": time.perf_counter() - started}
        started = time.perf_counter()
        table = folder.assemble(scenario)
        timings["assembly"] = time.perf_counter() - started
        result = outcome(scenario=scenario, timeseries=table, manifest=folder.manifest)
        if keep:
            # The run's workers render the charts too, while the tables are written here.
            folder.complete(result, opened.executor, opened.slots, **timings)
            result.path = folder.path
        else:
            rounded = {name: round(seconds, 3) for name, seconds in timings.items()}
            result.manifest = finish_manifest(folder.manifest, time.time(), timings=rounded)
    return result


def run_missing(
    folder: RunFolder,
    scenario: Scenario,
    *,
    executor: Workers | Executor | ExecutorKind | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    simulate: Simulate | None = None,
    unit: str = "run",
    per_unit: int = 1,
    align: int = 1,
    report_folder: bool = True,
) -> None:
    """Run the replications `folder` lacks, writing each chunk's part as it finishes.

    The caller holds the folder's lock. Raises RunIncomplete when a replication failed or
    the executor broke (the finished ones stay in the folder). The progress bar counts
    `unit`s of `per_unit` replications each (a sensitivity study counts design points);
    chunks keep groups of `align` replications together (`make_chunks`: a study's point).
    Workers run a chunk in batches of `batch_size` (default: `batch_size_for` the slots).
    """
    replications, seed = folder.manifest["replications"], folder.manifest["seed"]
    in_parts = folder.finished()
    finished = {s: in_parts.get(s, set()) for s in scenario.names}
    todo = {s: remaining(replications, finished[s]) for s in scenario.names}
    total = len(scenario.names) * replications
    n_todo = total - sum(len(reps) for reps in finished.values())
    if not n_todo:
        return
    with _workers(executor, workers, scheduler) as opened:
        batch = batch_size or batch_size_for(scenario, opened.slots)
        size = chunk_size_for(n_todo, opened.slots, batch, chunk_size, batch_size is not None)
        if progress and n_todo >= PROJECT_ABOVE_RUNS:
            print(projection(scenario, n_todo, opened), file=sys.stderr, flush=True)
        chunks = make_chunks(scenario.names, todo, seed, size, align)
        ledger = _FailureLedger(folder)
        bar = _Bar(scenario.name, total, total - n_todo, progress, unit, per_unit)
        batching = (batch, align)
        broken = _execute(folder, scenario, chunks, opened, ledger, bar, simulate, batching)
    if ledger.failures or broken:
        done = sum(len(r) for r in folder.finished().values())
        where = folder.path if report_folder else None
        raise RunIncomplete(where, done, total, ledger.failures, broken)


@dataclass(frozen=True)
class _Bar:
    """What the progress bar shows: replications, or units of several (design points)."""

    name: str
    total: int
    initial: int
    show: bool
    unit: str = "run"  # a model run: one strategy in one replication
    per_unit: int = 1

    @property
    def layout(self) -> str | None:
        """tqdm's layout, counting whole units (a unit of several replications fills in
        fractions)."""
        if self.per_unit == 1:
            return None
        return (
            "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} "
            + self.unit
            + "s [{elapsed}<{remaining}, {rate_fmt}]"
        )


@contextmanager
def _workers(
    executor: Workers | Executor | ExecutorKind | None, workers: int, scheduler: str | None
) -> Iterator[Workers]:
    if isinstance(executor, Workers):
        # Already open (a run that draws its charts on the same workers).
        yield executor
    elif isinstance(executor, Executor):
        # Not ours to shut down; its size is unknown, so assume the machine's.
        slots = workers if workers > 1 else (os.cpu_count() or 1)
        yield Workers(executor, slots, type(executor).__name__)
    else:
        with open_executor(workers, executor, scheduler) as opened:
            yield opened


class _FailureLedger:
    """The run's failures: those of earlier sessions not retried yet, and new ones.

    Kept in failures.json, rewritten when it changes, so a stop at any moment leaves an
    accurate record.
    """

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder
        self._by_key = {
            (f["strategy"], f["replication"]): Failure(**f) for f in folder.read_failures()
        }
        self.failures: list[Failure] = []

    def settle(self, chunk: Chunk, failures: Sequence[Failure]) -> None:
        before = dict(self._by_key)
        for replication in chunk.replications:
            self._by_key.pop((chunk.strategy, replication), None)
        for failure in failures:
            self._by_key[(failure.strategy, failure.replication)] = failure
        self.failures.extend(failures)
        if self._by_key != before:
            self.folder.write_failures([asdict(f) for f in self._by_key.values()])


def _execute(
    folder: RunFolder,
    scenario: Scenario,
    chunks: Iterator[Chunk],
    workers: Workers,
    ledger: _FailureLedger,
    progress: _Bar,
    simulate: Simulate | None,
    batching: tuple[int, int],
) -> str | None:
    """Submit the chunks, a window at a time; write each result as it comes back.

    `batching` is run_chunk's (batch size, align). Returns the executor's error if it broke
    (the chunks not run stay missing). On KeyboardInterrupt: stop submitting, keep what
    finished, and re-raise.
    """
    from tqdm.auto import tqdm

    bar = tqdm(
        total=progress.total,
        initial=progress.initial,
        desc=progress.name,
        unit=progress.unit,
        unit_scale=1 / progress.per_unit if progress.per_unit > 1 else False,
        bar_format=progress.layout,
        disable=not progress.show,
        smoothing=0.05,
    )
    window = IN_FLIGHT_PER_SLOT * workers.slots
    pending = chunks
    in_flight: dict[Future, Chunk] = {}
    broken: str | None = None

    def settle(future: Future, chunk: Chunk) -> None:
        result = _result_of(future, chunk)
        if result is None:
            return
        if result.columns:
            folder.write_part(chunk.strategy, result.columns)
        ledger.settle(chunk, result.failures)
        bar.update(result.done)
        if ledger.failures:
            bar.set_postfix(failed=len(ledger.failures))

    try:
        while True:
            while broken is None and len(in_flight) < window:
                chunk = next(pending, None)
                if chunk is None:
                    break
                try:
                    task = workers.executor.submit(run_chunk, scenario, chunk, simulate, *batching)
                    in_flight[task] = chunk
                except Exception as error:  # a broken pool, a closed client
                    broken = f"{type(error).__name__}: {error}"
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                settle(future, in_flight.pop(future))
    except KeyboardInterrupt:
        _stop(in_flight, settle)
        raise
    except OSError:  # the disk refused a part: nothing more can be kept
        for future in in_flight:
            future.cancel()
        raise
    finally:
        bar.close()
    return broken


def _stop(in_flight: dict[Future, Chunk], settle: Callable[[Future, Chunk], None]) -> None:
    """After Ctrl-C: cancel what has not started, keep what finishes."""
    for future in in_flight:
        future.cancel()
    running = [f for f in in_flight if not f.cancelled()]
    wait(running)
    for future in running:
        settle(future, in_flight[future])


def _result_of(future: Future, chunk: Chunk) -> ChunkResult | None:
    """The chunk's result; its replications as failures if the chunk itself was lost."""
    try:
        result = future.result()
    except CancelledError:
        return None
    except Exception as error:  # a lost worker, a task that could not be sent
        failures = tuple(
            Failure.of(chunk.strategy, r, chunk.root_seed, error) for r in chunk.replications
        )
        return ChunkResult(chunk, {}, failures, source_fingerprint())
    if result.source != source_fingerprint():
        error = RuntimeError(
            f"the worker runs other parksim code (source {result.source}, "
            f"here {source_fingerprint()}); install the same version on every worker"
        )
        failures = tuple(
            Failure.of(chunk.strategy, r, chunk.root_seed, error) for r in chunk.replications
        )
        return ChunkResult(chunk, {}, failures, result.source)
    return result
