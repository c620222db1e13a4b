"""Results of a run and the results-folder contract.

A run folder (default `results/<scenario>/<run-id>/`) holds:

- `manifest.json`: resolved scenario, seed, replications, versions, start and end time;
- `timeseries.parquet`: one row per strategy × replication × quarter (docs/columns.md);
- `summary.csv`: one row per strategy (parksim.reporting.summary);
- `figures/`: PNG and SVG charts.

A folder is written under a temporary name and renamed when complete, so a crash never
leaves a half-written result, and an existing folder is never overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sys
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd

import parksim
from parksim.reporting import charts
from parksim.reporting.summary import summarise
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import to_dict


class ResultsFolderError(RuntimeError):
    """A results folder cannot be written (it exists) or read (it is not one)."""


def _versions() -> dict[str, str]:
    packages = ("mesa", "numpy", "scipy", "pandas", "matplotlib", "pyarrow")
    found = {name: version(name) for name in packages}
    return {"parksim": parksim.__version__, **found, "python": platform.python_version()}


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).isoformat(timespec="seconds")


def build_manifest(
    scenario: Scenario, seed: int, replications: int, started: float, ended: float
) -> dict[str, Any]:
    """What a reader needs to reproduce a run."""
    return {
        "scenario_name": scenario.name,
        "seed": seed,
        "replications": replications,
        "strategies": scenario.names,
        "horizon_quarters": scenario.horizon,
        "versions": _versions(),
        "started": _iso(started),
        "ended": _iso(ended),
        "elapsed_seconds": round(ended - started, 3),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "scenario": to_dict(scenario),
    }


@dataclass
class RunResult:
    """The tables of a run, with plot and save methods (for notebooks and the CLI)."""

    scenario: Scenario
    timeseries: pd.DataFrame
    manifest: dict[str, Any]
    path: Path | None = None
    _summary: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def summary(self) -> pd.DataFrame:
        """One row per strategy: means and 5/50/95% quantiles over replications."""
        if self._summary is None:
            self._summary = summarise(self.timeseries)
        return self._summary

    @property
    def stamp(self) -> str:
        """The provenance line printed under every chart."""
        m = self.manifest
        return (
            f"parksim {m['versions']['parksim']} · scenario {m['scenario_name']} · "
            f"seed {m['seed']} · {m['replications']} replications"
        )

    def plot_risk(self):
        """Exposure, NPL ratio, cumulative credit loss and defaults, per strategy."""
        return charts.risk_curves(self.timeseries, self.stamp)

    def plot_revenue(self):
        """Revenue lines, operating cost and cumulative net profit, per strategy."""
        return charts.revenue_curves(self.timeseries, self.stamp)

    def plot_stages(self):
        """The park's enterprises by stage, one panel per strategy."""
        return charts.stage_mix(self.timeseries, self.stamp)

    def plot_operator(self):
        """Operator revenue, leverage and occupancy, per strategy."""
        return charts.operator_curves(self.timeseries, self.stamp)

    def save(self, out: str | Path | None = None, results_root: str | Path = "results") -> Path:
        """Write the run folder; return its path. Never overwrites an existing folder."""
        target = Path(out) if out is not None else self._default_folder(Path(results_root))
        if target.exists():
            raise ResultsFolderError(f"{target}: already exists; choose another --out")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.parent / f".{target.name}.partial-{os.getpid()}"
        if staging.exists():
            shutil.rmtree(staging)
        try:
            staging.mkdir()
            self._write(staging)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.path = target
        return target

    def _default_folder(self, root: Path) -> Path:
        stamp = self.manifest["started"].replace(":", "").replace("-", "").replace("+0000", "")
        base = root / self.scenario.name / f"{stamp[:15]}Z-seed{self.manifest['seed']}"
        candidate, n = base, 1
        while candidate.exists():
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        return candidate

    def _write(self, folder: Path) -> None:
        (folder / "manifest.json").write_text(
            json.dumps(self.manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        table = self.timeseries.copy()
        table["strategy"] = table["strategy"].astype(str)
        table.to_parquet(folder / "timeseries.parquet", index=False)
        self.summary.to_csv(folder / "summary.csv")
        charts.save_all(self.timeseries, folder / "figures", self.stamp)

    @classmethod
    def load(cls, folder: str | Path) -> RunResult:
        """Read a run folder written by `save`."""
        folder = Path(folder)
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
            table = pd.read_parquet(folder / "timeseries.parquet")
        except (FileNotFoundError, NotADirectoryError) as error:
            raise ResultsFolderError(f"{folder}: not a parksim run folder ({error})") from None
        scenario = scenario_from_dict(manifest["scenario"], file=str(folder / "manifest.json"))
        table["strategy"] = pd.Categorical(table["strategy"], categories=scenario.names)
        return cls(scenario=scenario, timeseries=table, manifest=manifest, path=folder)
