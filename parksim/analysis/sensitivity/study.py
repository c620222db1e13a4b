"""A sensitivity study: every strategy at every point of a Morris, Sobol or one-at-a-time
design.

    STUDY_DIR/
      manifest.json      method, parameters and ranges, replications, seed, scenario,
                         versions; "status": "incomplete" until every point is in
      design.parquet     point, parameter, level (probability in [0, 1]), value: long,
                         one row per point × parameter (what the analysis reads)
      design_matrix.parquet  the same values wide: one row per point, a column per
                         parameter (its address), for a regression or a plot
      runs/              the ensemble runner's folder while the study runs (parts, failures)
      replications.parquet  point × strategy × replication: every metric at the horizon
      outputs.parquet    point × strategy (× versus): mean over replications and its se
      indices.csv        Morris or Sobol indices per parameter × outcome
      robustness.csv     share of the plausible space in which each strategy wins (an
                         interval that respects the design), and the region where the
                         ranking flips (PRIM: its significant restrictions)
      flip_boxes.csv     every PRIM restriction: bounds, quasi-p-value, recurrence over
                         resamples, and whether it is a finding (qp <= 0.05)
      peeling.csv        PRIM's peeling trajectory: coverage, density, mass per step
      feature_scores.csv extra-trees score of each parameter per difference (a second
                         screen; needs scikit-learn, the `study` extra)
      figures/           Morris μ*–σ or Sobol bars; the tornado on Sobol and one-at-a-time
                         designs only

A one-at-a-time study (`--method oat`) runs the scenario's own values and each parameter
at the 10th and 90th percentiles of its range, the others held: its indices.csv holds
the swings and its robustness tables stay empty (its points sample no space).

Common random numbers: replication r of every strategy at every point runs with child r
of the root seed, so two points differ by their parameters, not their luck. The points run
through the ensemble runner (parksim.ensemble.runner): replication k of the runs folder is
replication k mod R of point k div R, so parts land on disk as they finish, an interrupted
study resumes, and a point whose run raises is recorded while the others go on. A chunk
holds whole points (or part of one), and a point's replications run as one batch.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from parksim.analysis.differences import DIFFERENCE_METRICS, DifferenceMetric
from parksim.analysis.sensitivity.analysis import (
    METHODS,
    Design,
    design_from_table,
    design_points,
    design_table,
    indices_of,
)
from parksim.analysis.sensitivity.assumptions import (
    Parameter,
    apply_values,
    current_levels,
    load_assumptions,
    with_defaults,
)
from parksim.analysis.sensitivity.robustness import robustness
from parksim.analysis.sensitivity.screening import feature_scores
from parksim.ensemble.batches import checked_batch_size
from parksim.ensemble.folders import (
    STATUS_COMPLETE,
    STATUS_INCOMPLETE,
    FolderUnwritable,
    ResultsFolderError,
    build_manifest,
    code_versions,
    command_line,
    disk_problem,
    iso_time,
    make_folder,
    read_manifest,
    remove_made,
    write_json,
)
from parksim.ensemble.runfolder import RunFolder
from parksim.ensemble.runner import (
    RunIncomplete,
    replication_seed,
    run_missing,
    simulate_batch,
)
from parksim.scenario.addresses import scenario_leaves
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import to_dict

RUNS = "runs"
DESIGN_MATRIX = "design_matrix.parquet"
STUDY_KIND = "sensitivity"
METRICS_BY_NAME = {m.name: m for m in DIFFERENCE_METRICS}


# --- what a worker runs --------------------------------------------------------------------


def horizon_value(arrays: dict[str, np.ndarray], metric: DifferenceMetric, rate: float) -> float:
    """A metric of one run at the horizon, as differences.csv defines it: the stock in the
    last quarter, or the sum over the quarters (DifferenceMetric.per_quarter)."""
    quarter = np.arange(len(next(iter(arrays.values()))))
    value = metric.per_quarter(lambda name: arrays[name].astype(np.float64), quarter, rate)
    return float(value[-1]) if metric.stock is not None else float(value.sum())


@dataclass
class PointSimulator:
    """Runs replication k of the study's runs: point k // R, replication k % R.

    Called by the runner as `simulate(scenario, strategy, seeds)` (its batch form); each
    seed it is given (child k) is replaced by child k % R, the same at every point. The
    seeds of one point run together, as one batch of `simulate_batch` with the point's
    scenario; results come back in the seeds' order.
    """

    scenario: Scenario
    keys: tuple[str, ...]
    scaled: frozenset[str]
    values: np.ndarray  # (points, parameters)
    replications: int
    root_seed: int
    metrics: tuple[str, ...]
    parameters: tuple[Parameter, ...] = ()  # those with levels write their level
    _last: tuple[int, Scenario] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_last": None}

    def scenario_at(self, point: int) -> Scenario:
        """The scenario with the parameters of `point`."""
        if self._last is None or self._last[0] != point:
            values = dict(zip(self.keys, self.values[point].tolist(), strict=True))
            by_key = {p.key: p for p in self.parameters}
            self._last = (point, apply_values(self.scenario, values, self.scaled, by_key))
        return self._last[1]

    def __call__(
        self, scenario: Scenario, strategy: str, seeds: Sequence[np.random.SeedSequence]
    ) -> list[dict[str, np.ndarray]]:
        by_point: dict[int, list[tuple[int, int]]] = {}  # point -> (position, replication)
        for position, seed in enumerate(seeds):
            point, replication = divmod(seed.spawn_key[0], self.replications)
            by_point.setdefault(point, []).append((position, replication))
        results: list[dict[str, np.ndarray]] = [{} for _ in seeds]
        for point, members in by_point.items():
            here = self.scenario_at(point)
            batch = [replication_seed(self.root_seed, replication) for _, replication in members]
            for (position, _), arrays in zip(
                members, simulate_batch(here, strategy, batch), strict=True
            ):
                results[position] = {
                    name: np.array(
                        [horizon_value(arrays, METRICS_BY_NAME[name], here.discount_rate)]
                    )
                    for name in self.metrics
                }
        return results


class StudyRuns(RunFolder):
    """The runs folder of a study: one row per run (metrics at the horizon), not per quarter."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        super().__init__(path, manifest)
        self.columns = ("strategy", "replication", "quarter", *manifest["study_metrics"])


# --- the plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyPlan:
    """What a study runs: the design's method and size, the parameters, the outcomes."""

    method: str
    parameters: tuple[Parameter, ...]
    size: int  # Morris trajectories or Sobol base samples
    replications: int
    seed: int
    metrics: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...] = ()  # --pair: the pairs compared (else the rule's)

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parameters)


def available_metrics(scenario: Scenario) -> list[str]:
    """Metrics a study can compute: those of differences.csv whose columns the model has."""
    from parksim.core.metrics import COLUMN_NAMES

    return [m.name for m in DIFFERENCE_METRICS if set(m.columns) <= set(COLUMN_NAMES)]


def make_plan(
    scenario: Scenario,
    method: str = "morris",
    size: int | None = None,
    replications: int = 4,
    seed: int | None = None,
    parameters: Sequence[str] | None = None,
    metrics: Sequence[str] | None = None,
    pairs: Sequence[str] | None = None,
    structural: bool = False,
) -> StudyPlan:
    """Check a study's options; raise ValueError naming the option and what was expected.

    `pairs` ("A:B", strategy A against B) choose the differences the study reports; the
    study then runs only their strategies. `structural` adds the structural parameters
    (the park, the competitors, equity booking, stress severity) to those chosen."""
    if method not in METHODS:
        raise ValueError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    size = {"morris": 10, "sobol": 64}.get(method, 1) if size is None else size
    if method == "oat":
        size = 1  # one centre: the scenario's values
    option = "--trajectories" if method == "morris" else "--samples"
    if size < 2 and method != "oat":
        raise ValueError(f"{option}: expected an integer of at least 2, got {size}")
    if method == "sobol" and size & (size - 1):
        raise ValueError(f"--samples: expected a power of two (Sobol' sequence), got {size}")
    if replications < 1:
        raise ValueError(f"--replications: expected a positive integer, got {replications}")
    seed = scenario.seed if seed is None else seed
    if seed < 0:
        raise ValueError(f"--seed: expected a non-negative integer, got {seed}")
    assumptions = load_assumptions()
    chosen = assumptions.ranged(parameters)  # a ScenarioError (a ValueError) names the key
    if structural:
        chosen += [p for p in assumptions.structural() if p not in chosen]
    here = scenario_leaves(scenario)
    absent = [p.key for p in chosen if p.key not in here]
    if absent:  # a bank the scenario does not have
        raise ValueError(
            f"--parameters: {', '.join(absent)} not in scenario {scenario.name} "
            f"(it has {len(scenario.banks)} bank(s)); name parameters it has"
        )
    if len(chosen) < 2:
        raise ValueError("--parameters: expected at least two ranged parameters")
    known = available_metrics(scenario)
    metrics = known if metrics is None else list(metrics)
    unknown = [m for m in metrics if m not in known]
    if unknown or not metrics:
        raise ValueError(f"--metrics: expected some of {', '.join(known)}, got {unknown or '[]'}")
    chosen_pairs = parse_pairs(scenario, pairs or ())
    return StudyPlan(method, tuple(chosen), size, replications, seed, tuple(metrics), chosen_pairs)


def parse_pairs(scenario: Scenario, pairs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`--pair A:B` options as (strategy, versus); ValueError naming a bad one."""
    out = []
    for text in pairs:
        strategy, sep, versus = str(text).partition(":")
        unknown = [n for n in (strategy, versus) if n not in scenario.names]
        if not sep or not strategy or not versus or strategy == versus or unknown:
            raise ValueError(
                f"--pair: expected STRATEGY:VERSUS, two different strategies of "
                f"{scenario.name} ({', '.join(scenario.names)}), got {text!r}"
            )
        if (strategy, versus) not in out:
            out.append((strategy, versus))
    return tuple(out)


def study_scenario(scenario: Scenario, plan: StudyPlan) -> Scenario:
    """The scenario a study runs: the parameters' `defaults` added (a severity gets its
    preset) and, with --pair, only the strategies of the pairs (the first pair's `versus`
    the reference)."""
    scenario = with_defaults(scenario, plan.parameters)
    if not plan.pairs:
        return scenario
    names = {name for pair in plan.pairs for name in pair}
    data = to_dict(scenario)
    data["strategies"] = [s for s in data["strategies"] if s["name"] in names]
    data["reference"] = plan.pairs[0][1]
    return scenario_from_dict(data, file="<sensitivity --pair>")


def study_pairs(scenario: Scenario, plan: StudyPlan) -> list[tuple[str, str]]:
    """The pairs a study reports: those of --pair, else `strategy_pairs`."""
    return list(plan.pairs) if plan.pairs else strategy_pairs(scenario)


def design_matrix(keys: Sequence[str], values: np.ndarray) -> pd.DataFrame:
    """design_matrix.parquet: one row per point (`point` 0, 1, ...), one column per
    parameter, named by its address, holding the value the point runs with."""
    values = np.asarray(values, dtype=float)
    table = pd.DataFrame(values, columns=list(keys))
    table.insert(0, "point", np.arange(len(values)))
    return table


def design_values(plan: StudyPlan, design: Design) -> np.ndarray:
    """Parameter values of every point (columns in the plan's order)."""
    return np.column_stack(
        [p.from_unit(design.levels[:, i]) for i, p in enumerate(plan.parameters)]
    )


# --- outcomes: strategies and the pairs compared ------------------------------------------


def strategy_pairs(scenario: Scenario) -> list[tuple[str, str]]:
    """(strategy, versus) pairs whose difference a study reports.

    Every strategy against the scenario's reference, then the one-step moves the other
    pairs miss: one tier up (1.0 → 2.0, 2.0 → 3.0) with the same operator and policy, and
    heavy → light with the same tier and policy (and the same [strategies.params]).
    """
    reference = scenario.reference_strategy
    pairs = [(s.name, reference) for s in scenario.strategies if s.name != reference]
    for a in scenario.strategies:
        for b in scenario.strategies:
            # Same policy and own parameters ([strategies.params]): one step apart only.
            same_policy = a.policy == b.policy and a.params == b.params
            tier_step = (
                a.operator_model == b.operator_model
                and same_policy
                and b.bank_tier == a.bank_tier + 1.0
            )
            light_step = (
                a.bank_tier == b.bank_tier
                and same_policy
                and (a.operator_model, b.operator_model) == ("heavy", "light")
            )
            if (tier_step or light_step) and (b.name, a.name) not in pairs:
                pairs.append((b.name, a.name))
    return pairs


def outputs_table(
    replications: pd.DataFrame, metrics: Sequence[str], pairs: Sequence[tuple[str, str]]
) -> pd.DataFrame:
    """outputs.parquet: per point × strategy, each metric's mean over replications and its
    standard error (`versus` empty); per point × pair, the paired difference."""
    frames = []
    long = replications.melt(
        id_vars=["point", "strategy", "replication"], value_vars=list(metrics), var_name="metric"
    )
    levels = _mean_se(long, ["point", "strategy", "metric"])
    levels.insert(2, "versus", "")
    frames.append(levels)
    wide = long.pivot_table(
        index=["point", "replication", "metric"], columns="strategy", values="value"
    )
    for strategy, versus in pairs:
        if strategy not in wide or versus not in wide:
            continue
        diff = (wide[strategy] - wide[versus]).rename("value").reset_index().dropna()
        diff["strategy"], diff["versus"] = strategy, versus
        frames.append(_mean_se(diff, ["point", "strategy", "versus", "metric"]))
    table = pd.concat(frames, ignore_index=True)
    return table[["point", "strategy", "versus", "metric", "value", "se", "replications"]]


def _mean_se(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = frame.groupby(keys, sort=True)["value"]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["se"] = out["std"] / np.sqrt(out["count"])
    return out.rename(columns={"mean": "value", "count": "replications"}).drop(columns="std")


# --- running -------------------------------------------------------------------------------


def study_manifest(scenario: Scenario, plan: StudyPlan, design: Design) -> dict[str, Any]:
    """The study's manifest at its start."""
    return {
        "kind": STUDY_KIND,
        "status": STATUS_INCOMPLETE,
        "method": plan.method,
        "size": plan.size,
        "points": design.points,
        "replications": plan.replications,
        "seed": plan.seed,
        "metrics": list(plan.metrics),
        "parameters": [asdict(p) for p in plan.parameters],
        "strategies": scenario.names,
        "pairs": [list(p) for p in study_pairs(scenario, plan)],
        "chosen_pairs": [list(p) for p in plan.pairs],
        "scenario": to_dict(scenario),
        "versions": code_versions(),
        "command": command_line(),
        "started": iso_time(time.time()),
    }


def plan_of(manifest: dict[str, Any]) -> StudyPlan:
    """The plan a study's manifest records (its ranges, not today's assumptions file)."""
    parameters = tuple(Parameter(**p) for p in manifest["parameters"])
    return StudyPlan(
        manifest["method"],
        parameters,
        manifest["size"],
        manifest["replications"],
        manifest["seed"],
        tuple(manifest["metrics"]),
        tuple((a, b) for a, b in manifest.get("chosen_pairs", [])),
    )


def run_study(
    scenario: Scenario,
    plan: StudyPlan,
    out: str | Path,
    *,
    executor=None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
    draw: Draw | None = None,
    batch_size: int | None = None,
) -> Path:
    """Run a new study into `out` (which must not exist); return the folder.

    `draw(out, tables)` draws the study's figures once its tables are written
    (`parksim.viz.sensitivity_report.draw_study`; the command line passes it).
    `batch_size` is the runner's (replications of a point run together; default: chosen
    from the park's size and the free memory).

    Raises RunIncomplete when some points failed: the others are analysed and kept, and
    `resume_study(out)` retries the failed ones. Raises FolderUnwritable when the disk
    refuses a write: before the first point, no folder is left; after, the folder keeps
    the runs done and `resume_study(out)` finishes it.
    """
    out = Path(out)
    batch_size = checked_batch_size(batch_size)
    scenario = study_scenario(scenario, plan)
    centre = current_levels(scenario, plan.parameters) if plan.method == "oat" else None
    design = design_points(plan.method, plan.keys, plan.size, plan.seed, centre)
    values = design_values(plan, design)
    manifest = study_manifest(scenario, plan, design)
    # How many run at once: `parksim sensitivity --resume` continues with as many.
    manifest["workers"] = workers
    made = make_folder(out)
    try:
        runs = _create_runs(out, scenario, plan, design)
        write_json(out / "manifest.json", manifest)
        design_table(design, values).to_parquet(out / "design.parquet", index=False)
        design_matrix(plan.keys, values).to_parquet(out / DESIGN_MATRIX, index=False)
    except (OSError, FolderUnwritable) as error:
        remove_made(made)
        problem = disk_problem(error) if isinstance(error, OSError) else error.problem
        raise FolderUnwritable(
            f"{out}: cannot create the study folder: {problem}; nothing was kept", problem
        ) from None
    except BaseException:
        remove_made(made)
        raise
    executing = Executing(executor, workers, scheduler, progress, batch_size)
    return _run(out, scenario, plan, design, values, runs, executing, draw)


def resume_study(
    folder: str | Path,
    *,
    executor=None,
    workers: int = 1,
    scheduler=None,
    progress=True,
    draw: Draw | None = None,
    batch_size: int | None = None,
) -> Path:
    """Continue an interrupted or failed study: run only the points' runs that are missing
    (`draw` and `batch_size` as for `run_study`)."""
    batch_size = checked_batch_size(batch_size)
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != STUDY_KIND:
        raise ResultsFolderError(f"{folder}: not a sensitivity study (no study manifest)")
    if manifest["status"] == STATUS_COMPLETE:
        raise ResultsFolderError(f"{folder}: the study is complete; there is nothing to resume")
    scenario = scenario_from_dict(manifest["scenario"], file=str(folder / "manifest.json"))
    plan = plan_of(manifest)
    try:
        table = pd.read_parquet(folder / "design.parquet")
    except OSError as error:
        raise ResultsFolderError(
            f"{folder}: cannot read design.parquet ({disk_problem(error)}); the study cannot "
            "be resumed"
        ) from None
    design = design_from_table(plan.method, table, plan.keys)
    values = table.pivot(index="point", columns="parameter", values="value")[list(plan.keys)]
    if not (folder / DESIGN_MATRIX).exists():  # a study started before 0.5.0
        design_matrix(plan.keys, values.to_numpy()).to_parquet(folder / DESIGN_MATRIX, index=False)
    runs = StudyRuns.open(folder / RUNS)
    runs.resumable_scenario(scenario)
    try:
        runs.start_session()
    except OSError as error:
        raise _unwritable(folder, runs, error) from None
    executing = Executing(executor, workers, scheduler, progress, batch_size)
    return _run(folder, scenario, plan, design, values.to_numpy(), runs, executing, draw)


def _create_runs(out: Path, scenario: Scenario, plan: StudyPlan, design: Design) -> StudyRuns:
    total = design.points * plan.replications
    manifest = build_manifest(scenario, plan.seed, total, time.time(), status=STATUS_INCOMPLETE)
    manifest["study_metrics"] = list(plan.metrics)
    return StudyRuns.create(out / RUNS, manifest)


def _unwritable(out: Path, runs: StudyRuns, error: OSError) -> FolderUnwritable:
    """The one line saying what the disk refused, what was kept and how to go on."""
    try:
        done, total = runs.progress()
        kept = f"{done} of {total} runs are kept there"
    except (OSError, ResultsFolderError):
        kept = "the folder is incomplete"
    return FolderUnwritable(
        f"{out}: {disk_problem(error)}; {kept}; once the disk is fixed (space freed), "
        f"continue with: parksim sensitivity --resume {out}"
    )


@dataclass(frozen=True)
class Executing:
    """Where and how a study's runs execute: the runner's options."""

    executor: Any
    workers: int
    scheduler: str | None
    progress: bool
    batch_size: int | None


def _run(out, scenario, plan, design, values, runs, executing, draw):
    """Run the missing runs and analyse; FolderUnwritable (resumable) if the disk refuses."""
    try:
        return _run_and_analyse(out, scenario, plan, design, values, runs, executing, draw)
    except OSError as error:
        raise _unwritable(out, runs, error) from None


def _run_and_analyse(out, scenario, plan, design, values, runs, executing, draw):
    simulate = PointSimulator(
        scenario,
        plan.keys,
        frozenset(p.key for p in plan.parameters if p.scale),
        np.asarray(values, dtype=float),
        plan.replications,
        plan.seed,
        plan.metrics,
        plan.parameters,
    )
    started = time.perf_counter()
    incomplete: RunIncomplete | None = None
    with runs.locked():
        try:
            run_missing(
                runs,
                scenario,
                executor=executing.executor,
                workers=executing.workers,
                scheduler=executing.scheduler,
                batch_size=executing.batch_size,
                progress=executing.progress,
                simulate=simulate,
                unit="point",
                per_unit=len(scenario.names) * plan.replications,
                align=plan.replications,  # a chunk, and a batch, of whole points
            )
        except RunIncomplete as error:
            incomplete = error
        simulation = time.perf_counter() - started
        table = runs.assemble(scenario)
    replications = _replication_table(table, plan.replications)
    replications.to_parquet(out / "replications.parquet", index=False)
    jobs = max(1, min(executing.workers, os.cpu_count() or 1))  # this machine's share
    tables = write_analysis(out, design, replications, plan, scenario, jobs=jobs)
    if draw is not None:
        draw(out, tables)
    manifest = read_manifest(out)
    manifest["timings"] = {
        "simulation": round(simulation, 3),
        "analysis": round(time.perf_counter() - started - simulation, 3),
    }
    manifest["failed_runs"] = len(runs.read_failures())
    if incomplete is None:
        manifest["status"] = STATUS_COMPLETE
        manifest["finished"] = iso_time(time.time())
    write_json(out / "manifest.json", manifest)
    if incomplete is None:
        # Only once the manifest says complete: until then --resume needs the runs.
        shutil.rmtree(out / RUNS, ignore_errors=True)
    if incomplete is not None:
        failures = pd.DataFrame(runs.read_failures())
        if not failures.empty:
            point, replication = np.divmod(failures["replication"], plan.replications)
            failures.insert(1, "point", point)
            failures["replication"] = replication
            failures.drop(columns=["seed", "traceback"]).to_csv(out / "failures.csv", index=False)
        raise RunIncomplete(
            out, incomplete.done, incomplete.total, incomplete.failures, incomplete.executor_error
        )
    return out


@dataclass(frozen=True)
class StudyTables:
    """A study's analysed tables, as written to its folder, and what its charts show."""

    plan: StudyPlan
    scenario: Scenario
    design: Design
    outputs: pd.DataFrame
    indices: pd.DataFrame
    levels: pd.DataFrame
    pairs: list[tuple[str, str]]


#: Draws a study's figures into `<out>/figures` from its tables.
Draw = Callable[[Path, StudyTables], None]


def write_analysis(
    out: Path,
    design: Design,
    replications: pd.DataFrame,
    plan: StudyPlan,
    scenario: Scenario,
    jobs: int = 1,
) -> StudyTables:
    """outputs.parquet, indices.csv, robustness.csv, flip_boxes.csv, peeling.csv and
    feature_scores.csv of a study (the extra trees grown in `jobs` threads: the study's
    workers, idle by then)."""
    pairs = study_pairs(scenario, plan)
    outputs = outputs_table(replications, plan.metrics, pairs)
    outputs.to_parquet(out / "outputs.parquet", index=False)
    indices = indices_from_folder(out)
    levels = pd.DataFrame(design.levels, columns=list(design.names))
    better = {m.name: m.sign for m in DIFFERENCE_METRICS}
    # A one-at-a-time design is no sample of the space: no shares, no PRIM and no
    # feature scores (the tables keep their columns, empty).
    sample = outputs.iloc[:0] if plan.method == "oat" else outputs
    table, boxes, peeling = robustness(
        sample,
        levels,
        plan.parameters,
        better,
        method=plan.method,
        indices=indices,
        seed=plan.seed,
    )
    table.to_csv(out / "robustness.csv", index=False)
    boxes.to_csv(out / "flip_boxes.csv", index=False)
    peeling.to_csv(out / "peeling.csv", index=False)
    if plan.method != "oat":
        scores = feature_scores(outputs, levels, plan.keys, plan.method, seed=plan.seed, jobs=jobs)
        if scores is None:
            warnings.warn(
                "feature_scores.csv not written: the extra-trees screen needs scikit-learn "
                "(pip install 'parksim[study]')",
                stacklevel=2,
            )
        else:
            scores.to_csv(out / "feature_scores.csv", index=False)
    return StudyTables(plan, scenario, design, outputs, indices, levels, pairs)


def is_study(folder: str | Path) -> bool:
    """Whether `folder` holds a sensitivity study (its manifest says so)."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(manifest, dict) and manifest.get("kind") == STUDY_KIND


def load_tables(folder: str | Path) -> StudyTables:
    """The analysed tables of a study folder (complete, or incomplete with its analysis of
    the points that finished), to draw its charts again."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest.get("kind") != STUDY_KIND:
        raise ResultsFolderError(f"{folder}: not a sensitivity study (no study manifest)")
    if not (folder / "outputs.parquet").exists():
        raise ResultsFolderError(
            f"{folder}: the study has no results yet; continue it with: "
            f"parksim sensitivity --resume {folder}"
        )
    scenario = scenario_from_dict(manifest["scenario"], file=str(folder / "manifest.json"))
    plan = plan_of(manifest)
    design = design_from_table(plan.method, pd.read_parquet(folder / "design.parquet"), plan.keys)
    return StudyTables(
        plan,
        scenario,
        design,
        pd.read_parquet(folder / "outputs.parquet"),
        _read_indices(folder / "indices.csv"),
        pd.DataFrame(design.levels, columns=list(design.names)),
        [(strategy, versus) for strategy, versus in manifest["pairs"]],
    )


def _read_indices(path: Path) -> pd.DataFrame:
    """indices.csv as written: the outcome's text columns as text (`versus` empty, not NaN)."""
    table = pd.read_csv(path)
    for name in ("strategy", "versus", "metric"):
        table[name] = table[name].fillna("").astype(str)
    return table


def _replication_table(table: pd.DataFrame, replications: int) -> pd.DataFrame:
    """The runs' rows as point, strategy, replication and the metrics."""
    point, replication = np.divmod(table["replication"].to_numpy(), replications)
    out = table.drop(columns=["quarter", "replication"])
    out.insert(0, "point", point)
    out.insert(2, "replication", replication)
    out["strategy"] = out["strategy"].astype(str)
    return out


def indices_from_folder(folder: str | Path) -> pd.DataFrame:
    """indices.csv of a study folder, recomputed from its design.parquet and outputs.parquet."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    names = [p["key"] for p in manifest["parameters"]]
    design = pd.read_parquet(folder / "design.parquet")
    outputs = pd.read_parquet(folder / "outputs.parquet")
    table = indices_of(manifest["method"], design, outputs, names, seed=manifest["seed"])
    table.to_csv(folder / "indices.csv", index=False)
    return table
