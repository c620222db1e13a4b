"""Results of a run or of a comparison of runs, and the results-folder contract.

A run folder (default `results/<scenario>/<run-id>/`) holds, once complete:

- `manifest.json`: resolved scenario, seed, replications, versions, start and end time,
  and `"status": "complete"`;
- `timeseries.parquet`: one row per strategy × replication × quarter (docs/columns.md);
- `summary.csv`: one row per strategy (parksim.analysis.summary);
- `differences.csv`: one row per strategy × metric, paired against the scenario's
  reference strategy, with intervals (parksim.analysis.differences);
- `figures/`: PNG and SVG charts (parksim.viz.charts).

While its run is going on, or after it was interrupted or some replications failed, the
folder's manifest says `"status": "incomplete"` and it holds `parts/` (one file per
finished chunk) and maybe `failures.json` instead of the tables; `parksim run --resume`
continues it (parksim.ensemble.runfolder). An incomplete folder never loads as a result.

Every file is written under a temporary name and renamed when complete, the manifest
last, so a crash never leaves a half-written file; an existing folder is never
overwritten. A comparison folder (`parksim compare`) holds `manifest.json`, `summary.csv`,
`differences.csv` and `figures/` for the strategies of several runs.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import hashlib
import json
import os
import platform
import shutil
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

import parksim
from parksim.analysis.differences import differences as difference_table
from parksim.analysis.summary import per_replication, summarise
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import to_dict
from parksim.viz import charts, difference_charts
from parksim.viz.i18n import tr

STATUS_COMPLETE, STATUS_INCOMPLETE = "complete", "incomplete"
# A run's charts are drawn on its workers up to this many rows of the time series (about
# 400 replications of six strategies): each worker gets a copy of the table, and at
# 1,000 x 6 the run's processes then peaked at 2.4 GiB together, to save seconds of a
# five-minute run.
CHARTS_ON_WORKERS_MAX_ROWS = 100_000
#: Versions that change the numbers of a run: a run is resumed only with the same ones.
NUMERIC_VERSIONS: tuple[str, ...] = ("parksim", "parksim_source", "mesa", "numpy", "scipy")


class ResultsFolderError(RuntimeError):
    """A results folder cannot be written (it exists) or read (it is not one)."""


class FolderUnwritable(ResultsFolderError):
    """The disk refused a write: no permission, a read-only or full file system, a file in
    the way. The message says what was kept (nothing, or a folder `--resume` finishes);
    `problem` is what `disk_problem` said, for a caller that words its own message."""

    def __init__(self, message: str, problem: str | None = None) -> None:
        super().__init__(message)
        self.problem = problem or message


def disk_problem(error: OSError) -> str:
    """What an OSError from writing results means, in a few words a user can act on."""
    where = f" ({error.filename})" if error.filename else ""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on the device{where}"
    if error.errno == errno.EROFS:
        return f"read-only file system{where}"
    if error.errno in (errno.EACCES, errno.EPERM):
        return f"permission denied{where}"
    if error.errno in (errno.ENOTDIR, errno.EEXIST) and error.filename:
        path = Path(error.filename)
        in_the_way = next((p for p in [path, *path.parents] if p.is_file()), path)
        return f"{in_the_way} is a file, not a folder"
    return f"{(error.strerror or str(error)).lower()}{where}"


def make_folder(path: Path, shown_as: Path | None = None) -> Path | None:
    """Make `path` and its missing parents (`path` must not exist); return the topmost
    folder made, for `remove_made` to take away again if what follows fails.

    Raises ResultsFolderError if `path` exists, FolderUnwritable (naming `shown_as`, by
    default `path`) if it cannot be made; then nothing it made is left.
    """
    made = next((p for p in reversed([path, *path.parents]) if not p.exists()), None)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir()
    except OSError as error:
        remove_made(made)
        if isinstance(error, FileExistsError) and Path(error.filename or "") == path:
            raise ResultsFolderError(
                f"{path}: already exists; results are never overwritten"
            ) from None
        problem = disk_problem(error)
        raise FolderUnwritable(
            f"{shown_as or path}: cannot create the folder: {problem}", problem
        ) from None
    return made


def remove_made(made: Path | None) -> None:
    """Remove a folder `make_folder` made (nothing if it made none)."""
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)


#: Source files that change no number of a replication (they present, store, schedule or
#: calibrate results), left out of the fingerprint so that, say, a chart fix does not stop
#: an interrupted run from being resumed. Every other file counts, new ones included.
NOT_NUMERIC_SOURCES: tuple[str, ...] = (
    "cli/",
    "viz/",
    "results.py",
    "ensemble/executors.py",
    "ensemble/runfolder.py",
    "analysis/summary.py",
    "analysis/differences.py",
    "analysis/calibration/",
    "scenario/describe.py",
    "data/targets.toml",  # calibration targets
)


@functools.cache
def source_fingerprint() -> str:
    """Hash of the parksim source that determines a replication's numbers.

    The version number does not move while the code is being worked on; this does, as
    soon as the model, a mechanism, the scenario schema or the seeding changes.
    """
    root = Path(parksim.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if (
            path.suffix in (".py", ".toml")
            and "__pycache__" not in path.parts
            and not name.startswith(NOT_NUMERIC_SOURCES)
        ):
            digest.update(name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def code_versions() -> dict[str, str]:
    """parksim's version and source fingerprint, its dependencies' versions, Python's."""
    packages = ("mesa", "numpy", "scipy", "pandas", "matplotlib", "pyarrow")
    found = {name: version(name) for name in packages}
    return {
        "parksim": parksim.__version__,
        "parksim_source": source_fingerprint(),
        **found,
        "python": platform.python_version(),
    }


def iso_time(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def command_line() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])


def build_manifest(
    scenario: Scenario,
    seed: int,
    replications: int,
    started: float,
    ended: float | None = None,
    *,
    status: str = STATUS_COMPLETE,
) -> dict[str, Any]:
    """What a reader needs to reproduce a run (and, while incomplete, to resume it)."""
    return {
        "scenario_name": scenario.name,
        "status": status,
        "seed": seed,
        "replications": replications,
        "strategies": scenario.names,
        "horizon_quarters": scenario.horizon,
        "versions": code_versions(),
        "started": iso_time(started),
        "ended": None if ended is None else iso_time(ended),
        "elapsed_seconds": None if ended is None else round(ended - started, 3),
        "command": command_line(),
        "scenario": to_dict(scenario),
    }


def finish_manifest(manifest: dict[str, Any], ended: float, **extra: Any) -> dict[str, Any]:
    """The manifest of a run that completed at `ended`; elapsed counts from the first start."""
    started = dt.datetime.fromisoformat(manifest["started"]).timestamp()
    return {
        **manifest,
        "status": STATUS_COMPLETE,
        "ended": iso_time(ended),
        "elapsed_seconds": round(ended - started, 3),
        **extra,
    }


# --- writing files ----------------------------------------------------------------------


def write_atomically(path: Path, write: Callable[[Path], Any]) -> None:
    """Call `write(temporary_path)`, then rename the result to `path` in one step.

    A reader sees the old file or the whole new one, never a part; a crash leaves only a
    dot-file that nothing reads.
    """
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        if temporary.is_dir():
            shutil.rmtree(temporary, ignore_errors=True)
        else:
            temporary.unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """JSON, indented, UTF-8, written atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def _write_figures(folder: Path, write: Callable[[Path], Any]) -> None:
    """Figures into a fresh `figures/`, which replaces an older one only when complete."""
    target = folder / "figures"
    staging = folder / f".figures.tmp-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir()
        write(staging)
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _new_folder(target: Path, write: Callable[[Path], None]) -> Path:
    """Write a whole folder under a temporary name and rename it; never overwrite."""
    if target.exists():
        raise ResultsFolderError(f"{target}: already exists; choose another --out")
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    made = make_folder(staging, shown_as=target)
    try:
        write(staging)
        os.rename(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        remove_made(made)
        raise FolderUnwritable(
            f"{target}: cannot write the folder: {disk_problem(error)}; nothing was kept"
        ) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        remove_made(made)
        raise
    return target


def _free_folder(base: Path) -> Path:
    """`base`, or `base-2`, `base-3`, ... whichever does not exist yet."""
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def default_run_folder(
    results_root: str | Path, scenario: Scenario, seed: int, started: str
) -> Path:
    """`<results_root>/<scenario>/<start time>Z-seed<seed>`, numbered if that exists."""
    return _free_folder(Path(results_root) / scenario.name / f"{_compact(started)}-seed{seed}")


def _compact(iso: str) -> str:
    """2024-01-01T12:00:00+00:00 -> 20240101T120000Z."""
    return iso.replace(":", "").replace("-", "").replace("+0000", "")[:15] + "Z"


# --- tables of an ensemble ----------------------------------------------------------------


@dataclass(kw_only=True)
class Ensemble:
    """Tables of strategies × replications and what is computed and drawn from them.

    The base of `RunResult` (one run) and `Comparison` (strategies of several runs).
    """

    timeseries: pd.DataFrame
    manifest: dict[str, Any]
    path: Path | None = None
    _summary: pd.DataFrame | None = field(default=None, repr=False)
    _per_replication: pd.DataFrame | None = field(default=None, repr=False)
    _differences: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def stamp(self) -> str:
        """The provenance line printed under every chart (in English)."""
        return self.stamp_in("en")

    def stamp_in(self, lang: str) -> str:
        """The provenance line in ``lang`` ("en" or "zh")."""
        raise NotImplementedError

    @property
    def summary(self) -> pd.DataFrame:
        """One row per strategy: means, 5/50/95 % quantiles and tail risk over replications."""
        if self._summary is None:
            self._summary = summarise(self.timeseries, self.reference)
        return self._summary

    @property
    def reference(self) -> str:
        """The strategy differences are taken against by default."""
        raise NotImplementedError

    @property
    def discount_rate(self) -> float:
        """Annual rate of `npv_net_profit` in the differences."""
        raise NotImplementedError

    @property
    def paired(self) -> bool:
        """Whether replication i of every strategy shares its seed, so differences pair."""
        return True

    def differences(self, reference: str | None = None) -> pd.DataFrame:
        """One row per strategy × metric: the difference from `reference` (default: the
        scenario's `reference`, else the first strategy) with its standard error, 95 %
        interval, share of replications where the strategy is better and break-even
        quarter (parksim.analysis.differences)."""
        if reference is None and self._differences is not None:
            return self._differences
        table = difference_table(
            self.timeseries,
            reference or self.reference,
            discount_rate=self.discount_rate,
            paired=self.paired,
        )
        if reference is None:
            self._differences = table
        return table

    @property
    def per_replication(self) -> pd.DataFrame:
        """One row per strategy × replication: cumulative loss, profit, listings, ..."""
        if self._per_replication is None:
            self._per_replication = per_replication(self.timeseries)
        return self._per_replication

    def figures(self) -> dict[str, charts.Draw]:
        """Every chart of this result, by file name, as draw(lang) -> Figure.

        The one list of charts: saving a run, `parksim plot` and `parksim report` all
        iterate over it, so a chart added here appears in all three.
        """
        return {
            **charts.timeseries_figures(self.timeseries, self.stamp_in),
            **self.difference_figures(),
        }

    def plot_risk(self, lang: str = "en"):
        """Mean exposure, NPL ratio, cumulative credit loss and defaults, per strategy."""
        return charts.risk_curves(self.timeseries, self.stamp_in(lang), lang=lang)

    def plot_revenue(self, lang: str = "en"):
        """Mean revenue lines, operating cost and cumulative net profit, per strategy."""
        return charts.revenue_curves(self.timeseries, self.stamp_in(lang), lang=lang)

    def plot_fan(self, measure: str = "cum_credit_loss", lang: str = "en"):
        """Fan chart of one measure (a key of charts.FAN_MEASURES), one panel per strategy."""
        return charts.fan_chart(self.timeseries, self.stamp_in(lang), measure, lang=lang)

    def plot_risk_return(self, lang: str = "en"):
        """Mean cumulative net profit against the 99 % expected shortfall of credit loss."""
        return charts.risk_return(self.timeseries, self.stamp_in(lang), lang=lang)

    def plot_losses(self, lang: str = "en"):
        """Distribution of cumulative credit loss over replications, per strategy."""
        return charts.loss_distribution(self.timeseries, self.stamp_in(lang), lang=lang)

    def plot_stages(self, lang: str = "en"):
        """The park's enterprises by stage, one panel per strategy."""
        return charts.stage_mix(self.timeseries, self.stamp_in(lang), lang=lang)

    def plot_operator(self, lang: str = "en"):
        """Operator revenue, leverage and occupancy, per strategy."""
        return charts.operator_curves(self.timeseries, self.stamp_in(lang), lang=lang)

    def save_figures(
        self,
        out_dir: str | Path,
        lang: str = "en",
        formats: Sequence[str] = ("png", "svg"),
    ) -> list[Path]:
        """Write every chart of :meth:`figures` into `out_dir`; return the paths.

        The same parksim version and tables give the same PNG and SVG bytes.
        """
        return charts.save_all(self.figures(), Path(out_dir), lang=lang, formats=formats)

    def _write_summary_and_figures(
        self, folder: Path, executor: Executor | None = None, slots: int = 1
    ) -> None:
        write_atomically(folder / "summary.csv", self.summary.to_csv)
        write_atomically(
            folder / "differences.csv", lambda tmp: self.differences().to_csv(tmp, index=False)
        )
        if len(self.timeseries) > CHARTS_ON_WORKERS_MAX_ROWS:
            executor = None  # each worker would hold a copy of the table
        _write_figures(
            folder,
            lambda out: charts.save_all(self.figures(), out, executor=executor, slots=slots),
        )

    def difference_figures(self) -> dict[str, Any]:
        """The charts of the differences from the reference, as name → draw(lang)."""
        return difference_charts.difference_figures(
            self.timeseries, self.stamp_in, self.reference, self.discount_rate, self.differences()
        )

    def plot_differences(self, measure: str = "cum_net_profit", reference: str | None = None):
        """Paired difference from the reference over time, per strategy: `measure` is
        cum_net_profit or cum_credit_loss."""
        return difference_charts.difference_fan(
            self.timeseries, self.stamp, measure, reference or self.reference
        )

    def plot_forest(self, reference: str | None = None):
        """The headline differences from the reference with their 95 % intervals."""
        return difference_charts.difference_forest(
            self.timeseries,
            self.stamp,
            reference or self.reference,
            self.discount_rate,
            self.differences(reference),
        )


@dataclass(kw_only=True)
class RunResult(Ensemble):
    """The tables of a run, with plot and save methods (for notebooks and the CLI)."""

    scenario: Scenario

    def stamp_in(self, lang: str) -> str:
        m = self.manifest
        return tr(
            "parksim {version} · scenario {scenario} · seed {seed} · {replications} replications",
            lang,
        ).format(
            version=m["versions"]["parksim"],
            scenario=m["scenario_name"],
            seed=m["seed"],
            replications=m["replications"],
        )

    @property
    def reference(self) -> str:
        return self.scenario.reference_strategy

    @property
    def discount_rate(self) -> float:
        return self.scenario.discount_rate

    def save(self, out: str | Path | None = None, results_root: str | Path = "results") -> Path:
        """Write the run folder; return its path. Never overwrites an existing folder."""
        if out is not None:
            target = Path(out)
        else:
            target = default_run_folder(
                results_root, self.scenario, self.manifest["seed"], self.manifest["started"]
            )

        def write(folder: Path) -> None:
            self.write_tables(folder)
            write_json(folder / "manifest.json", self.manifest)

        self.path = _new_folder(target, write)
        return self.path

    def write_tables(self, folder: Path, executor: Executor | None = None, slots: int = 1) -> None:
        """Write timeseries.parquet, summary.csv and figures/ into `folder`, each atomically.

        The manifest is the caller's to write, last: it is what marks a folder complete.
        With an `executor` of `slots` workers (the run's), the charts are drawn there.
        """
        table = self.timeseries.copy()
        table["strategy"] = table["strategy"].astype(str)
        write_atomically(
            folder / "timeseries.parquet", lambda tmp: table.to_parquet(tmp, index=False)
        )
        self._write_summary_and_figures(folder, executor, slots)

    @classmethod
    def load(cls, folder: str | Path) -> RunResult:
        """Read a complete run folder."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        if manifest.get("status", STATUS_COMPLETE) != STATUS_COMPLETE:
            raise ResultsFolderError(
                f"{folder}: an incomplete run; continue it with: parksim run --resume {folder}"
            )
        try:
            table = pd.read_parquet(folder / "timeseries.parquet")
        except (FileNotFoundError, NotADirectoryError) as error:
            raise ResultsFolderError(f"{folder}: not a parksim run folder ({error})") from None
        scenario = scenario_from_dict(manifest["scenario"], file=str(folder / "manifest.json"))
        table["strategy"] = pd.Categorical(table["strategy"], categories=scenario.names)
        return cls(scenario=scenario, timeseries=table, manifest=manifest, path=folder)


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a run folder, or ResultsFolderError saying it is not one."""
    try:
        text = (folder / "manifest.json").read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError) as error:
        raise ResultsFolderError(f"{folder}: not a parksim run folder ({error})") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsFolderError(f"{folder}: manifest.json is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or "scenario" not in manifest:
        raise ResultsFolderError(f"{folder}: not a parksim run folder (no scenario in manifest)")
    return manifest


# --- comparing runs -----------------------------------------------------------------------


@dataclass(kw_only=True)
class Comparison(Ensemble):
    """The strategies of several runs side by side, labelled ``<run>/<strategy>``."""

    runs: list[RunResult]

    def stamp_in(self, lang: str) -> str:
        run = tr("{label} (seed {seed}, {replications} reps)", lang)
        runs = ", ".join(
            run.format(label=r["label"], seed=r["seed"], replications=r["replications"])
            for r in self.manifest["runs"]
        )
        return tr("parksim {version} · compare {runs}", lang).format(
            version=self.manifest["versions"]["parksim"], runs=runs
        )

    @property
    def reference(self) -> str:
        first = self.manifest["runs"][0]
        return f"{first['label']}/{self.runs[0].reference}"

    @property
    def discount_rate(self) -> float:
        return self.runs[0].discount_rate

    @property
    def paired(self) -> bool:
        return bool(self.manifest["paired"])

    def save(self, out: str | Path | None = None, results_root: str | Path = "results") -> Path:
        """Write the comparison folder (manifest, summary, figures); never overwrites."""
        if out is not None:
            target = Path(out)
        else:
            target = _free_folder(
                Path(results_root) / "compare" / _compact(self.manifest["created"])
            )

        def write(folder: Path) -> None:
            self._write_summary_and_figures(folder)
            write_json(folder / "manifest.json", self.manifest)

        self.path = _new_folder(target, write)
        return self.path


def _labels(runs: Sequence[RunResult]) -> list[str]:
    """Short names for runs: scenario names if they differ, else folder names, else numbers."""
    for names in (
        [r.scenario.name for r in runs],
        [r.path.name if r.path else r.scenario.name for r in runs],
    ):
        if len(set(names)) == len(names):
            return names
    return [f"{r.scenario.name}#{i + 1}" for i, r in enumerate(runs)]


def pairing_problem(runs: Sequence[RunResult]) -> str | None:
    """Why replications of these runs cannot be paired, or None when they can: pairing
    needs replication i to have the same seed in every run, so the same root seed and
    the same replication count (the horizon is checked by `compare`)."""
    for key, what in (("seed", "root seeds"), ("replications", "replication counts")):
        values = {r.manifest[key] for r in runs}
        if len(values) > 1:
            listed = ", ".join(
                f"{label} {r.manifest[key]}" for label, r in zip(_labels(runs), runs, strict=True)
            )
            return (
                f"not paired: the runs have different {what} ({listed}); differences are "
                "between independent samples (Welch intervals)"
            )
    return None


def compare(folders: Sequence[str | Path]) -> Comparison:
    """Load complete run folders and put their strategies side by side.

    Raises ResultsFolderError if a folder is not a complete run or the runs' horizons
    differ (cumulative losses and profits over different horizons do not compare).
    """
    if not folders:
        raise ResultsFolderError("compare needs at least one run folder")
    runs = [RunResult.load(folder) for folder in folders]
    horizons = {r.manifest["horizon_quarters"] for r in runs}
    if len(horizons) > 1:
        listed = ", ".join(f"{r.path} ({r.manifest['horizon_quarters']} quarters)" for r in runs)
        raise ResultsFolderError(
            f"runs have different horizons: {listed}; compare runs over the same horizon"
        )
    labels = _labels(runs)
    unpaired = pairing_problem(runs)
    tables, names = [], []
    for label, run in zip(labels, runs, strict=True):
        table = run.timeseries.copy()
        table["strategy"] = label + "/" + table["strategy"].astype(str)
        tables.append(table)
        names += [f"{label}/{name}" for name in run.scenario.names]
    combined = pd.concat(tables, ignore_index=True)
    combined["strategy"] = pd.Categorical(combined["strategy"], categories=names)
    manifest = {
        "kind": "comparison",
        "status": STATUS_COMPLETE,
        "runs": [
            {
                "label": label,
                "path": str(run.path),
                "scenario_name": run.manifest["scenario_name"],
                "seed": run.manifest["seed"],
                "replications": run.manifest["replications"],
                "versions": run.manifest["versions"],
            }
            for label, run in zip(labels, runs, strict=True)
        ],
        "strategies": names,
        "paired": unpaired is None,
        "pairing": unpaired or "replication i of every run has the same seed: paired",
        "horizon_quarters": horizons.pop(),
        "versions": code_versions(),
        "created": iso_time(dt.datetime.now(dt.UTC).timestamp()),
        "command": command_line(),
    }
    return Comparison(timeseries=combined, manifest=manifest, runs=runs)
