"""Run folders on disk: their manifest, atomic writes, and what a refused write means.

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
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import parksim
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import to_dict

STATUS_COMPLETE, STATUS_INCOMPLETE = "complete", "incomplete"
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


def unreadable_folder(folder: Path, error: OSError) -> str:
    """Why a results folder's manifest cannot be read, in plain words (not `[Errno 2] ...`)."""
    if not folder.exists():
        return "not a parksim run folder (there is no such folder)"
    if not folder.is_dir():
        return "not a parksim run folder (it is a file)"
    if isinstance(error, FileNotFoundError):
        return "not a parksim run folder (it has no manifest.json)"
    return f"cannot read its manifest.json: {disk_problem(error)}"


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
    "ensemble/folders.py",
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


def write_timeseries(folder: Path, timeseries: Any) -> None:
    """timeseries.parquet of a run folder (strategy names as text), atomically."""
    table = timeseries.copy()
    table["strategy"] = table["strategy"].astype(str)
    write_atomically(folder / "timeseries.parquet", lambda tmp: table.to_parquet(tmp, index=False))


def write_json(path: Path, data: Any) -> None:
    """JSON, indented, UTF-8, written atomically."""
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_folder_atomically(folder: Path, write: Callable[[Path], Any]) -> None:
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


def new_folder(target: Path, write: Callable[[Path], None]) -> Path:
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


def free_folder(base: Path) -> Path:
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
    return free_folder(Path(results_root) / scenario.name / f"{compact_time(started)}-seed{seed}")


def compact_time(iso: str) -> str:
    """2024-01-01T12:00:00+00:00 -> 20240101T120000Z."""
    return iso.replace(":", "").replace("-", "").replace("+0000", "")[:15] + "Z"


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest of a run folder, or ResultsFolderError saying it is not one."""
    try:
        text = (folder / "manifest.json").read_text(encoding="utf-8")
    except OSError as error:
        raise ResultsFolderError(f"{folder}: {unreadable_folder(folder, error)}") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsFolderError(f"{folder}: manifest.json is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or "scenario" not in manifest:
        raise ResultsFolderError(f"{folder}: not a parksim run folder (no scenario in manifest)")
    return manifest
