"""What a user holds after a run: the tables of strategies × replications, what is
computed from them (summary, paired differences) and drawn from them (charts), and the
run folder they are saved to (its contract: parksim.ensemble.folders).

`run` and `resume` are the ensemble runner's, returning a `RunResult`; `compare` puts
the strategies of several run folders side by side.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from parksim.analysis.differences import differences as difference_table
from parksim.analysis.summary import per_replication, summarise
from parksim.ensemble import runner
from parksim.ensemble.folders import (
    STATUS_COMPLETE,
    ResultsFolderError,
    code_versions,
    command_line,
    compact_time,
    default_run_folder,
    free_folder,
    iso_time,
    new_folder,
    read_manifest,
    write_atomically,
    write_folder_atomically,
    write_json,
    write_timeseries,
)
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.viz import charts, difference_charts
from parksim.viz.i18n import tr

#: Strategies named in a result's repr; the rest are counted.
REPR_STRATEGIES = 6


# --- tables of an ensemble ----------------------------------------------------------------


@dataclass(kw_only=True, repr=False)
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
    #: Whether saving draws figures/ (`parksim run --no-charts`: the tables only).
    draw_charts: bool = field(default=True, repr=False)

    def __repr__(self) -> str:
        """A few lines: what was run and where it is (the tables are attributes)."""
        strategies = [str(s) for s in pd.unique(self.timeseries["strategy"])]
        shown = ", ".join(strategies[:REPR_STRATEGIES])
        if len(strategies) > REPR_STRATEGIES:
            shown += f", … ({len(strategies) - REPR_STRATEGIES} more)"
        lines = [
            f"{type(self).__name__}({self._title()}",
            f"  strategies: {shown}",
            f"  {self._sampling()}",
            f"  folder: {self.path if self.path is not None else 'not saved'})",
        ]
        return "\n".join(lines)

    def _title(self) -> str:
        raise NotImplementedError

    def _sampling(self) -> str:
        raise NotImplementedError

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
    def paired(self) -> bool | dict[str, str]:
        """True when replication i of every strategy shares its seed, so every difference
        pairs; else each strategy's seed group (its run), differences pairing within one."""
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

    def _rendering(
        self, executor: Executor | None = None, slots: int = 1
    ) -> charts.Rendering | None:
        """The charts' `charts.Rendering` (started on `executor` if it has several
        slots), or None when the result draws no charts."""
        if not self.draw_charts:
            return None
        return charts.start_rendering(self.figures(), executor=executor, slots=slots)

    def _write_summary_and_figures(
        self, folder: Path, rendering: charts.Rendering | None = None
    ) -> None:
        """summary.csv, differences.csv and, given a `rendering`, figures/."""
        write_atomically(folder / "summary.csv", self.summary.to_csv)
        write_atomically(
            folder / "differences.csv", lambda tmp: self.differences().to_csv(tmp, index=False)
        )
        if rendering is not None:
            write_folder_atomically(folder, rendering.write)

    def difference_figures(self) -> dict[str, Any]:
        """The charts of the differences from the reference, as name → draw(lang)."""
        return difference_charts.difference_figures(
            self.timeseries,
            self.stamp_in,
            self.reference,
            self.discount_rate,
            self.differences(),
            paired=self.paired,
        )

    def plot_differences(self, measure: str = "cum_net_profit", reference: str | None = None):
        """Paired difference from the reference over time, per strategy: `measure` is
        cum_net_profit or cum_credit_loss."""
        return difference_charts.difference_fan(
            self.timeseries, self.stamp, measure, reference or self.reference, paired=self.paired
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


@dataclass(kw_only=True, repr=False)
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

    def _title(self) -> str:
        m = self.manifest
        return f"scenario {m['scenario_name']!r}, {m['horizon_quarters']} quarters"

    def _sampling(self) -> str:
        m = self.manifest
        return (
            f"replications: {m['replications']}, seed: {m['seed']}, "
            f"parksim {m['versions']['parksim']}"
        )

    @property
    def reference(self) -> str:
        return self.scenario.reference_strategy

    @property
    def discount_rate(self) -> float:
        return self.scenario.discount_rate

    def save(self, out: str | Path | None = None, results_root: str | Path = "results") -> Path:
        """Write the run folder; return its path. Never overwrites an existing folder.

        Without `out`, a new folder under `results_root`, named after the scenario, seed
        and start time. A result that already has a folder (loaded, or saved before) is
        not written again without `out`: its folder holds it, and a second copy under the
        working directory would be a surprise. Raises ResultsFolderError then.
        """
        if out is not None:
            target = Path(out)
        elif self.path is not None:
            raise ResultsFolderError(
                f"this run is already saved in {self.path}; to write a copy, give the new "
                "folder: save(out=...)"
            )
        else:
            target = default_run_folder(
                results_root, self.scenario, self.manifest["seed"], self.manifest["started"]
            )

        def write(folder: Path) -> None:
            self.write_tables(folder)
            write_json(folder / "manifest.json", self.manifest)

        self.path = new_folder(target, write)
        return self.path

    def write_tables(self, folder: Path, executor: Executor | None = None, slots: int = 1) -> None:
        """Write timeseries.parquet, summary.csv and figures/ into `folder`, each atomically.

        The manifest is the caller's to write, last: it is what marks a folder complete.
        With an `executor` of `slots` workers (the run's), the charts are rendered there
        while the tables are written here (`charts.start_rendering`).
        """
        rendering = self._rendering(executor, slots)
        write_timeseries(folder, self.timeseries)
        self._write_summary_and_figures(folder, rendering)

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
        except (FileNotFoundError, NotADirectoryError):
            raise ResultsFolderError(
                f"{folder}: not a parksim run folder (it has no timeseries.parquet)"
            ) from None
        scenario = scenario_from_dict(manifest["scenario"], file=str(folder / "manifest.json"))
        table["strategy"] = pd.Categorical(table["strategy"], categories=scenario.names)
        return cls(scenario=scenario, timeseries=table, manifest=manifest, path=folder)


# --- comparing runs -----------------------------------------------------------------------


@dataclass(kw_only=True, repr=False)
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

    def _title(self) -> str:
        labels = ", ".join(r["label"] for r in self.manifest["runs"])
        return f"runs {labels}, {self.manifest['horizon_quarters']} quarters"

    def _sampling(self) -> str:
        runs = "; ".join(
            f"{r['label']}: {r['replications']} replications, seed {r['seed']}"
            for r in self.manifest["runs"]
        )
        paired = "paired" if self.manifest["paired"] else "paired within runs only"
        return f"{runs} ({paired}), parksim {self.manifest['versions']['parksim']}"

    @property
    def reference(self) -> str:
        first = self.manifest["runs"][0]
        return f"{first['label']}/{self.runs[0].reference}"

    @property
    def discount_rate(self) -> float:
        return self.runs[0].discount_rate

    @property
    def paired(self) -> bool | dict[str, str]:
        if self.manifest["paired"]:
            return True
        # Strategies of one run share its seeds: their differences stay paired.
        return {
            f"{run['label']}/{name}": run["label"]
            for run, result in zip(self.manifest["runs"], self.runs, strict=True)
            for name in result.scenario.names
        }

    def save(self, out: str | Path | None = None, results_root: str | Path = "results") -> Path:
        """Write the comparison folder (manifest, summary, figures); never overwrites.
        As `RunResult.save`, a comparison already saved needs `out` for a copy."""
        if out is not None:
            target = Path(out)
        elif self.path is not None:
            raise ResultsFolderError(
                f"this comparison is already saved in {self.path}; to write a copy, give "
                "the new folder: save(out=...)"
            )
        else:
            target = free_folder(
                Path(results_root) / "compare" / compact_time(self.manifest["created"])
            )

        def write(folder: Path) -> None:
            self._write_summary_and_figures(folder, self._rendering())
            write_json(folder / "manifest.json", self.manifest)

        self.path = new_folder(target, write)
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
                f"not paired across runs: the runs have different {what} ({listed}); "
                "differences between runs are between independent samples (Welch "
                "intervals), differences within a run stay paired"
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


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    charts: bool = True,
    **options: Any,
) -> RunResult:
    """Run every strategy of `scenario`: `parksim.ensemble.runner.run`, whose options these
    are, with the tables' summary, differences, charts and run folder of a `RunResult`
    (`charts=False`: the folder gets the tables only, no figures/)."""
    outcome = functools.partial(RunResult, draw_charts=charts)
    return runner.run(scenario, replications, seed, outcome=outcome, **options)


def resume(
    folder: str | Path, scenario: Scenario | None = None, *, charts: bool = True, **options: Any
) -> RunResult:
    """Continue an incomplete run folder (`parksim.ensemble.runner.resume`) to a `RunResult`."""
    outcome = functools.partial(RunResult, draw_charts=charts)
    return runner.resume(folder, scenario, outcome=outcome, **options)
