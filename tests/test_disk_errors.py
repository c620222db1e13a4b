"""A disk that refuses a write: one line, no traceback, exit status 3, and either no
folder at all or one that `parksim run --resume` finishes.

Where this machine allows it (root, mounts permitted), the disk is real: a read-only
bind mount and a tmpfs too small for the run. Elsewhere, and for permission denied
(root may write anywhere), the refusal is an OSError patched into the write.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from test_cli import tiny_scenario_text, write

import parksim
import parksim.ensemble.runfolder
from parksim.cli import EXIT_OK, EXIT_UNWRITABLE, main

MOUNT = shutil.which("mount")
UMOUNT = shutil.which("umount")


def _mount(*args: str) -> bool:
    if os.name == "nt" or os.geteuid() != 0 or MOUNT is None:
        return False
    return subprocess.run([MOUNT, *args], capture_output=True, check=False).returncode == 0


def _umount(path: Path) -> None:
    subprocess.run([UMOUNT, "-l", str(path)], capture_output=True, check=False)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write(tmp_path, tiny_scenario_text(), "tiny.toml")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The tiny scenario's time series from a run nothing interrupted."""
    path = write(tmp_path_factory.mktemp("whole"), tiny_scenario_text(), "tiny.toml")
    result = parksim.run(parksim.load_scenario(path), replications=4, progress=False)
    return result.timeseries


@pytest.fixture(autouse=True)
def quick_charts(monkeypatch: pytest.MonkeyPatch) -> None:
    """One small file for the charts: drawing them is seconds, and not what is tested."""

    monkeypatch.setattr(parksim.results.charts, "start_rendering", _Quick)


class _Quick:
    """The charts as one small file naming them."""

    def __init__(self, figures: dict, *args, **kwargs) -> None:
        self.figures = figures

    def write(self, out_dir: Path) -> list[Path]:
        path = Path(out_dir) / "chart.txt"
        path.write_text("\n".join(self.figures))
        return [path]


class _FullDisk(_Quick):
    """The charts on a disk that fills up as they are written."""

    def write(self, out_dir: Path) -> list[Path]:
        raise OSError(errno.ENOSPC, "No space left on device", "figures/risk_curves.png")


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """A folder on a read-only file system (a read-only bind mount)."""
    source, target = tmp_path / "source", tmp_path / "read-only"
    source.mkdir()
    target.mkdir()
    if not _mount("--bind", "-o", "ro", str(source), str(target)):
        pytest.skip("read-only bind mounts are not permitted here")
    yield target
    _umount(target)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 160 kB tmpfs: room for a run folder's manifest and a part or two, not a run."""
    target = tmp_path / "small-disk"
    target.mkdir()
    if not _mount("-t", "tmpfs", "-o", "size=160k", "tmpfs", str(target)):
        pytest.skip("mounting a tmpfs is not permitted here")
    yield target
    _umount(target)


def _refused(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    """The one line printed, after checking it says `words` and is not a traceback."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for word in words:
        assert word in lines[0]
    return lines[0]


def _run(scenario: Path, *options: str) -> int:
    return main(["run", str(scenario), "--quiet", "--replications", "4", *options])


def _status(folder: Path) -> str:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["status"]


# --- the folder cannot be made ----------------------------------------------------------


def test_read_only_file_system_is_one_line_and_no_folder(
    tiny: Path, read_only: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tiny, "--out", str(read_only / "a" / "run")) == EXIT_UNWRITABLE
    _refused(capsys, str(read_only / "a" / "run"), "read-only file system")
    assert list(read_only.iterdir()) == []


def test_a_file_in_the_way_is_named(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    in_the_way = tmp_path / "results"
    in_the_way.write_text("not a folder")
    assert _run(tiny, "--results", str(in_the_way)) == EXIT_UNWRITABLE
    _refused(capsys, f"{in_the_way} is a file, not a folder")
    assert in_the_way.read_text() == "not a folder"


def test_permission_denied_leaves_no_folder(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_mkdir = Path.mkdir

    def refuse_the_run_folder(path: Path, *args, **kwargs) -> None:
        if path.name == "run":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse_the_run_folder)
    assert _run(tiny, "--out", str(tmp_path / "new" / "run")) == EXIT_UNWRITABLE
    _refused(capsys, "permission denied")
    assert not (tmp_path / "new").exists()  # the parent it made is taken away again


# --- the disk fills up during the run -----------------------------------------------------


def _check_resumes_to(uninterrupted: pd.DataFrame, folder: Path) -> None:
    assert _status(folder) == "incomplete"
    assert main(["run", "--resume", str(folder), "--quiet"]) == EXIT_OK
    pd.testing.assert_frame_equal(parksim.RunResult.load(folder).timeseries, uninterrupted)


def test_a_full_disk_says_what_was_kept_and_resume_finishes_it(
    tiny: Path,
    small_disk: Path,
    tmp_path: Path,
    uninterrupted: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = small_disk / "run"
    # One replication per part: the disk fills part by part, and parts kept are many.
    assert _run(tiny, "--out", str(out), "--chunk-size", "1") == EXIT_UNWRITABLE
    line = _refused(capsys, "no space left", f"parksim run --resume {out}")
    kept = int(
        line.split(" of 8 model runs (2 strategies × 4 replications) are kept")[0].rsplit(" ", 1)[1]
    )
    assert kept < 8
    assert kept == sum(
        len(r) for r in parksim.ensemble.runfolder.RunFolder.open(out).finished().values()
    )
    assert not [p for p in (out / "parts").iterdir() if p.name.startswith(".")]
    moved = tmp_path / "moved"  # "space freed": the folder goes where there is room
    shutil.copytree(out, moved)
    _check_resumes_to(uninterrupted, moved)


def test_disk_full_while_writing_a_part(
    tiny: Path,
    tmp_path: Path,
    uninterrupted: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_write_part = parksim.ensemble.runfolder.RunFolder.write_part
    written = []

    def fill_up(self, strategy, columns):
        if written:
            raise OSError(errno.ENOSPC, "No space left on device", str(self.parts / "x"))
        written.append(strategy)
        return real_write_part(self, strategy, columns)

    monkeypatch.setattr(parksim.ensemble.runfolder.RunFolder, "write_part", fill_up)
    out = tmp_path / "run"
    assert _run(tiny, "--out", str(out), "--chunk-size", "2") == EXIT_UNWRITABLE
    _refused(
        capsys,
        "no space left",
        "2 of 8 model runs (2 strategies × 4 replications) are kept",
        "--resume",
    )
    monkeypatch.setattr(parksim.ensemble.runfolder.RunFolder, "write_part", real_write_part)
    _check_resumes_to(uninterrupted, out)


def test_disk_full_while_writing_the_charts(
    tiny: Path,
    tmp_path: Path,
    uninterrupted: pd.DataFrame,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(parksim.results.charts, "start_rendering", _FullDisk)
    out = tmp_path / "run"
    assert _run(tiny, "--out", str(out)) == EXIT_UNWRITABLE
    _refused(
        capsys,
        "no space left",
        "8 of 8 model runs (2 strategies × 4 replications) are kept",
        "--resume",
    )
    assert not (out / "figures").exists()
    monkeypatch.setattr(parksim.results.charts, "start_rendering", _Quick)
    _check_resumes_to(uninterrupted, out)


def test_compare_on_a_full_disk_leaves_no_folder(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    assert _run(tiny, "--out", str(run)) == EXIT_OK

    monkeypatch.setattr(parksim.results.charts, "start_rendering", _FullDisk)
    out = tmp_path / "comparisons" / "c"
    assert main(["compare", str(run), str(run), "--out", str(out), "--quiet"]) == EXIT_UNWRITABLE
    _refused(capsys, str(out), "no space left", "nothing was kept")
    assert not (tmp_path / "comparisons").exists()
