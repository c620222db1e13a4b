"""A run folder while its run is going on: parts, failures, a lock, and resuming.

    RUN_DIR/
      manifest.json   "status": "incomplete" until the tables are assembled
      parts/          one Parquet file per finished chunk: the rows of its replications,
                      written atomically as soon as the chunk comes back
      failures.json   replications that raised: strategy, replication, seed, error
      .lock           the process working on the folder (host and pid)

When every replication is in, the tables are assembled from the parts and written with
the charts (the final files of parksim.results), the manifest says "complete", and
parts/ is removed. Assembly sorts by strategy, replication and quarter, so the tables
are the same however the run was chunked, executed, ordered or interrupted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parksim.core.metrics import COLUMN_NAMES
from parksim.ensemble.folders import (
    NUMERIC_VERSIONS,
    STATUS_COMPLETE,
    FolderUnwritable,
    ResultsFolderError,
    code_versions,
    command_line,
    disk_problem,
    finish_manifest,
    iso_time,
    make_folder,
    read_manifest,
    remove_made,
    write_atomically,
    write_json,
)
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import to_dict

PARTS, FAILURES, LOCK = "parts", "failures.json", ".lock"


class RunAlreadyComplete(ResultsFolderError):
    """`--resume` was given a run folder whose run is complete."""


class RunFolder:
    """The folder of one run, from its first chunk to its final tables."""

    def __init__(self, path: Path, manifest: dict[str, Any]) -> None:
        self.path = path
        self.manifest = manifest
        # The columns of a part: the time series (a sensitivity study keeps fewer).
        self.columns: tuple[str, ...] = COLUMN_NAMES

    @property
    def parts(self) -> Path:
        return self.path / PARTS

    # --- creating and reopening -----------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, manifest: dict[str, Any]) -> RunFolder:
        """Make the folder (it must not exist) with its incomplete manifest.

        Raises ResultsFolderError if it exists, FolderUnwritable if the disk refuses; then
        no folder is left.
        """
        path = Path(path)
        made = make_folder(path)
        try:
            (path / PARTS).mkdir()
            write_json(path / "manifest.json", manifest)
        except OSError as error:
            remove_made(made)
            problem = disk_problem(error)
            raise FolderUnwritable(
                f"{path}: cannot create the run folder: {problem}; nothing was kept", problem
            ) from None
        return cls(path, manifest)

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        """An incomplete run folder, to resume."""
        path = Path(path)
        manifest = read_manifest(path)
        if manifest.get("status", STATUS_COMPLETE) == STATUS_COMPLETE:
            raise RunAlreadyComplete(f"{path}: the run is complete; there is nothing to resume")
        return cls(path, manifest)

    def resumable_scenario(self, scenario: Scenario | None = None) -> Scenario:
        """The run's scenario, after checking that this code may continue the run.

        Refuses (ResultsFolderError) when the code that changes the numbers differs from
        the code that started the run, or when `scenario` is given and differs from the
        run's: a resumed run must equal an uninterrupted one.
        """
        theirs, ours = self.manifest.get("versions", {}), code_versions()
        changed = [
            f"{name} {theirs.get(name, '?')} (now {ours[name]})"
            for name in NUMERIC_VERSIONS
            if theirs.get(name) != ours[name]
        ]
        if changed:
            raise ResultsFolderError(
                f"{self.path}: the run was started by other code ({', '.join(changed)}); "
                "continuing it would mix results of two versions. Start a new run."
            )
        try:
            recorded = scenario_from_dict(self.manifest["scenario"], file=str(self.path))
        except ScenarioError as error:
            raise ResultsFolderError(
                f"{self.path}: unreadable scenario in manifest: {error}"
            ) from None
        if scenario is not None and scenario != recorded:
            where = _first_difference(to_dict(recorded), to_dict(scenario)) or "?"
            raise ResultsFolderError(
                f"{self.path}: the scenario given differs from the run's (at {where}); "
                "resume without a scenario file, or start a new run"
            )
        return recorded

    def start_session(self) -> None:
        """Note in the manifest that the run was resumed, by which command and when."""
        entry = {"command": command_line(), "started": iso_time(time.time())}
        self.manifest = {**self.manifest, "resumed": [*self.manifest.get("resumed", []), entry]}
        write_json(self.path / "manifest.json", self.manifest)

    def record_workers(self, slots: int) -> None:
        """Note in the manifest how many workers this session runs on (`parksim run
        --resume` reuses the count); it changes no result."""
        self.manifest = {**self.manifest, "workers": slots}
        write_json(self.path / "manifest.json", self.manifest)

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder's lock: two processes must never add parts to one run."""
        lock = self.path / LOCK
        me = {"host": socket.gethostname(), "pid": os.getpid()}
        for _ in range(2):
            try:
                with open(lock, "x", encoding="utf-8") as handle:
                    json.dump(me, handle)
                break
            except FileExistsError:
                self._clear_stale_lock(lock, me)
        else:
            raise ResultsFolderError(f"{self.path}: could not take the lock {lock}")
        try:
            yield
        finally:
            # A lock left behind (a folder that turned read-only) is cleared as stale.
            with suppress(OSError):
                lock.unlink(missing_ok=True)

    def _clear_stale_lock(self, lock: Path, me: dict[str, Any]) -> None:
        try:
            owner = json.loads(lock.read_text(encoding="utf-8"))
            host, pid = owner["host"], int(owner["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            host, pid = me["host"], -1  # unreadable: written by a process that died
        if host != me["host"]:
            raise ResultsFolderError(
                f"{self.path}: in use by process {pid} on {host}; if that process has "
                f"stopped, delete {lock} and resume again"
            )
        if pid != me["pid"] and _alive(pid):
            raise ResultsFolderError(
                f"{self.path}: in use by process {pid}; wait for it to finish or stop it "
                f"(if it has stopped, delete {lock})"
            )
        lock.unlink(missing_ok=True)

    # --- parts and failures ---------------------------------------------------------------

    def finished(self) -> dict[str, set[int]]:
        """Replications already in parts/, by strategy."""
        done: dict[str, set[int]] = {}
        for part in self._part_files():
            keys = pq.read_table(part, columns=["strategy", "replication"])
            names = keys.column("strategy").to_pylist()
            replications = keys.column("replication").to_pylist()
            for name, replication in zip(names, replications, strict=True):
                done.setdefault(name, set()).add(replication)
        return done

    def write_part(self, strategy: str, columns: Mapping[str, np.ndarray]) -> Path:
        """Write one chunk's rows (`replication`, `quarter` and metric arrays) atomically."""
        frame = pd.DataFrame({"strategy": strategy, **columns}, columns=list(self.columns))
        replications = frame["replication"]
        index = self.manifest["strategies"].index(strategy)
        stem = f"{index:03d}-{replications.min():06d}-{replications.max():06d}"
        path, n = self.parts / f"{stem}.parquet", 1
        while path.exists():
            n += 1
            path = self.parts / f"{stem}-{n}.parquet"
        write_atomically(path, lambda tmp: frame.to_parquet(tmp, index=False))
        return path

    def _part_files(self) -> list[Path]:
        # Dot-files are parts being written (or left by a crash mid-write): not parts.
        return sorted(p for p in self.parts.glob("*.parquet") if not p.name.startswith("."))

    def read_failures(self) -> list[dict[str, Any]]:
        try:
            return json.loads((self.path / FAILURES).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []

    def write_failures(self, failures: list[dict[str, Any]]) -> None:
        if failures:
            write_json(self.path / FAILURES, failures)
        else:
            (self.path / FAILURES).unlink(missing_ok=True)

    # --- the end ---------------------------------------------------------------------------

    def assemble(self, scenario: Scenario) -> pd.DataFrame:
        """The time-series table from the parts, in strategy, replication, quarter order."""
        files = self._part_files()
        if not files:
            raise ResultsFolderError(f"{self.parts}: no parts to assemble")
        table = pa.concat_tables([pq.read_table(p) for p in files]).to_pandas()
        strategy = pd.Categorical(table["strategy"], categories=scenario.names)
        order = np.lexsort((table["quarter"], table["replication"], strategy.codes))
        table = table.take(order).reset_index(drop=True)
        table["strategy"] = pd.Categorical(table["strategy"], categories=scenario.names)
        repeated = table.duplicated(["strategy", "replication", "quarter"])
        if repeated.any():
            first = table.loc[repeated.idxmax(), ["strategy", "replication"]].tolist()
            raise ResultsFolderError(
                f"{self.parts}: replication {first[1]} of {first[0]} is in more than one part"
            )
        return table

    def complete(
        self,
        result: Any,
        executor: Executor | None = None,
        slots: int = 1,
        **timings: float,
    ) -> None:
        """Write the final tables, charts and the complete manifest; drop the parts.

        `timings` (seconds) go into the manifest's "timings", with the time taken here.
        The charts are rendered on `executor` (the run's workers) when it has several slots.
        """
        started = time.perf_counter()
        result.write_tables(self.path, executor, slots)
        timings["writing"] = time.perf_counter() - started
        rounded = {name: round(seconds, 3) for name, seconds in timings.items()}
        result.manifest = finish_manifest(self.manifest, time.time(), timings=rounded)
        write_json(self.path / "manifest.json", result.manifest)
        self.manifest = result.manifest
        shutil.rmtree(self.parts, ignore_errors=True)
        (self.path / FAILURES).unlink(missing_ok=True)

    def progress(self) -> tuple[int, int]:
        """(model runs finished, model runs planned): a model run is one strategy in one
        replication, so a run of S strategies × R replications plans S × R."""
        done = sum(len(r) for r in self.finished().values())
        return done, len(self.manifest["strategies"]) * self.manifest["replications"]

    def progress_text(self) -> str:
        """What `progress` counts, in words: "95 of 300 model runs (3 strategies × 100
        replications)"."""
        done, _ = self.progress()
        return runs_text(done, len(self.manifest["strategies"]), self.manifest["replications"])


def runs_text(done: int, strategies: int, replications: int) -> str:
    """ "95 of 300 model runs (3 strategies × 100 replications)": a replication is one draw
    of the park's luck, run by every strategy, so a count of model runs says both."""
    total = strategies * replications
    s = "strategy" if strategies == 1 else "strategies"
    r = "replication" if replications == 1 else "replications"
    return f"{done} of {total} model runs ({strategies} {s} × {replications} {r})"


def _alive(pid: int) -> bool:
    """Whether process `pid` of this machine is running (on Windows: assume it is)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        # os.kill(pid, 0) would send Ctrl-C there; the message says how to clear a stale lock.
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _first_difference(a: Any, b: Any, key: str = "") -> str | None:
    """The key path of the first difference between two nested dicts/lists, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for name in sorted(set(a) | set(b)):
            inner = _first_difference(a.get(name), b.get(name), f"{key}.{name}" if key else name)
            if inner:
                return inner
        return None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            inner = _first_difference(x, y, f"{key}[{i}]")
            if inner:
                return inner
        return None
    return None if a == b else (key or "(top level)")
