"""Ensembles: many replications in parallel, written part by part, resumable, with tail risk.

Specification (issue 3): the table of a run is identical, bit for bit, whatever executes
it (a loop, processes, threads finishing in any order, a Dask cluster) and however it is
chunked; a run stopped at any point and resumed equals an uninterrupted one; a
replication that raises is recorded and retried by --resume; the summary reports VaR,
expected shortfall, unexpected loss and return on risk with the documented estimators.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim import RunIncomplete, RunResult, Scenario
from parksim.analysis.summary import (
    TAIL_METRICS,
    expected_shortfall,
    summarise,
    tail_risk,
    value_at_risk,
)
from parksim.cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, main
from parksim.core.metrics import COLUMN_NAMES
from parksim.core.stops import deliver_held_stop
from parksim.ensemble.executors import SerialExecutor
from parksim.ensemble.folders import ResultsFolderError
from parksim.ensemble.runfolder import RunFolder
from parksim.ensemble.runner import (
    MAX_CHUNK,
    default_chunk_size,
    make_chunks,
    remaining,
    replication_seed,
    replication_seeds,
    simulate_batch,
    simulate_replication,
)
from parksim.viz import charts

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
QUARTERS = 4
REPLICATIONS = 6
SEED = 11


def small(base: Scenario, strategies: int = 2, quarters: int = QUARTERS) -> Scenario:
    return dataclasses.replace(
        base,
        park=dataclasses.replace(base.park, enterprises=100),
        strategies=base.strategies[:strategies],
        horizon=quarters,
    )


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """The baseline cut to two strategies, 100 firms and four quarters."""
    return small(parksim.load_scenario(BASELINE))


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory, scenario: Scenario) -> Path:
    """The same scenario as a TOML file, for the command line."""
    text = BASELINE.read_text(encoding="utf-8")
    head, *strategies = text.split("[[strategies]]")
    text = "[[strategies]]".join([head, *strategies[:2]])
    text = text.replace("horizon = 40", f"horizon = {QUARTERS}", 1)
    text = text.replace("enterprises = 800", "enterprises = 100", 1)
    path = tmp_path_factory.mktemp("scenario") / "small.toml"
    path.write_text(text, encoding="utf-8")
    assert parksim.load_scenario(path) == scenario
    return path


@pytest.fixture(scope="module")
def reference(scenario: Scenario) -> RunResult:
    """The uninterrupted serial run every other way of running must reproduce."""
    return parksim.run(scenario, REPLICATIONS, SEED, progress=False, chunk_size=MAX_CHUNK)


@pytest.fixture
def no_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    # Charts have their own tests (test_reporting, test_cli); here they only cost time.
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )


def assert_same_tables(result: RunResult, reference: RunResult) -> None:
    pd.testing.assert_frame_equal(result.timeseries, reference.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(result.summary, reference.summary, check_exact=True)


# --- seeds and chunks -----------------------------------------------------------------------


def test_a_replication_seed_is_the_ith_child_of_the_root_seed() -> None:
    children = replication_seeds(SEED, 5)
    for i, child in enumerate(children):
        assert (replication_seed(SEED, i).generate_state(4) == child.generate_state(4)).all()


def test_chunks_cover_every_replication_once_block_by_block() -> None:
    names = ["a", "b", "c"]
    todo = {"a": list(range(7)), "b": [0, 3, 4], "c": []}
    chunks = list(make_chunks(names, todo, SEED, 3))
    covered = sorted((c.strategy, r) for c in chunks for r in c.replications)
    assert covered == sorted((s, r) for s in names for r in todo[s])
    assert all(len(c.replications) <= 3 and c.root_seed == SEED for c in chunks)
    # Every strategy's first block before any second block.
    assert [(c.strategy, c.replications[0]) for c in chunks] == [
        ("a", 0),
        ("b", 0),
        ("a", 3),
        ("a", 6),
    ]


def test_chunks_are_planned_lazily_one_at_a_time() -> None:
    todo = {s: remaining(10**12, {1}) for s in ("a", "b")}  # a list would not fit in memory
    first = list(itertools.islice(make_chunks(["a", "b"], todo, SEED, 3), 3))
    assert [(c.strategy, c.replications) for c in first] == [
        ("a", (0, 2, 3)),
        ("b", (0, 2, 3)),
        ("a", (4, 5, 6)),
    ]


@pytest.mark.parametrize(
    ("replications", "slots", "expected"),
    [(6000, 2, MAX_CHUNK), (300, 1, MAX_CHUNK), (48, 2, 3), (4, 8, 1)],
)
def test_chunks_are_small_enough_to_share_and_big_enough_to_pay(
    replications: int, slots: int, expected: int
) -> None:
    assert default_chunk_size(replications, slots) == expected


# --- identical whatever runs it -------------------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 4])
def test_chunking_does_not_change_the_table(
    scenario: Scenario, reference: RunResult, chunk_size: int
) -> None:
    result = parksim.run(scenario, REPLICATIONS, SEED, progress=False, chunk_size=chunk_size)
    assert_same_tables(result, reference)


def test_completion_order_does_not_change_the_table(
    scenario: Scenario, reference: RunResult
) -> None:
    finished: list[tuple[str, int]] = []
    lock = threading.Lock()

    def late_first(scenario: Scenario, strategy: str, seeds: list[np.random.SeedSequence]):
        # Earlier replications sleep longer, so chunks finish roughly in reverse.
        [replication] = [seed.spawn_key[0] for seed in seeds]  # chunks of one
        time.sleep(0.01 * (REPLICATIONS - replication))
        metrics = simulate_batch(scenario, strategy, seeds)
        with lock:
            finished.append((strategy, replication))
        return metrics

    with ThreadPoolExecutor(4) as pool:
        result = parksim.run(
            scenario,
            REPLICATIONS,
            SEED,
            executor=pool,
            workers=4,
            chunk_size=1,
            progress=False,
            simulate=late_first,
        )
    assert finished != sorted(finished, key=lambda key: (scenario.names.index(key[0]), key[1]))
    assert_same_tables(result, reference)


@pytest.mark.slow
def test_two_worker_processes_give_the_serial_table(
    scenario: Scenario, reference: RunResult
) -> None:
    result = parksim.run(
        scenario, REPLICATIONS, SEED, executor="processes", workers=2, progress=False
    )
    assert_same_tables(result, reference)


@pytest.mark.dask
@pytest.mark.slow
def test_a_dask_cluster_on_loopback_gives_the_serial_table(
    scenario: Scenario,
    scenario_file: Path,
    reference: RunResult,
    tmp_path: Path,
    no_figures: None,
) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            protocol="tcp://",
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        result = parksim.run(
            scenario,
            REPLICATIONS,
            SEED,
            executor=client.get_executor(),
            workers=2,
            chunk_size=2,
            progress=False,
        )
        assert_same_tables(result, reference)
        # The command line, pointed at the same cluster.
        out = tmp_path / "on-dask"
        args = ["run", str(scenario_file), "--replications", str(REPLICATIONS)]
        args += ["--seed", str(SEED), "--out", str(out), "--quiet"]
        assert main([*args, "--scheduler", cluster.scheduler_address]) == EXIT_OK
    assert_same_tables(RunResult.load(out), reference)


@pytest.mark.dask
def test_an_unreachable_scheduler_is_bad_input_and_writes_nothing(
    scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("distributed")
    monkeypatch.setattr("parksim.ensemble.executors.CONNECT_TIMEOUT_S", 1)
    results = tmp_path / "results"
    args = ["run", str(scenario_file), "--results", str(results), "--quiet"]
    assert main([*args, "--scheduler", "tcp://127.0.0.1:9"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err
    assert "Traceback" not in err
    assert not results.exists()


# --- parts, interruption and resume -----------------------------------------------------------


class StopAfter:
    """A simulate function that presses Ctrl-C in the batch that would take it past `n`
    replications; `calls` counts the replications asked for."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def __call__(self, scenario: Scenario, strategy: str, seeds: list[np.random.SeedSequence]):
        self.calls += len(seeds)
        if self.calls > self.n:
            raise KeyboardInterrupt
        return simulate_batch(scenario, strategy, seeds)


def test_a_huge_run_says_its_projected_time_and_plans_without_allocating(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Planned up front, 10 million replications of two strategies took ~1 GB of lists.
    tracemalloc.start()
    with pytest.raises(KeyboardInterrupt):
        parksim.run(
            scenario, 10**7, SEED, out=tmp_path / "run", chunk_size=2, simulate=StopAfter(4)
        )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 2**20
    err = capsys.readouterr().err
    assert "20,000,000 model runs" in err and "projected" in err
    assert RunFolder.open(tmp_path / "run").progress()[0] == 4


def test_an_interrupted_run_keeps_its_parts_and_resumes_to_the_uninterrupted_result(
    scenario: Scenario, reference: RunResult, tmp_path: Path, no_figures: None
) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        parksim.run(
            scenario,
            REPLICATIONS,
            SEED,
            out=out,
            chunk_size=2,
            progress=False,
            simulate=StopAfter(5),
        )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "incomplete"
    assert not (out / "timeseries.parquet").exists()
    parts = sorted(p.name for p in (out / "parts").iterdir())
    assert parts == ["000-000000-000001.parquet", "001-000000-000001.parquet"]
    assert RunFolder.open(out).progress() == (4, 2 * REPLICATIONS)
    with pytest.raises(ResultsFolderError, match="--resume"):
        RunResult.load(out)

    counted = StopAfter(10**9)
    resumed = parksim.resume(out, progress=False, simulate=counted)
    assert counted.calls == 2 * REPLICATIONS - 4
    assert_same_tables(resumed, reference)
    assert_same_tables(RunResult.load(out), reference)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete"
    assert len(manifest["resumed"]) == 1
    assert not (out / "parts").exists()
    assert not (out / ".lock").exists()


def start_run(scenario_file: Path, out: Path, replications: int, *options: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "parksim.cli", "run", str(scenario_file), "--quiet"]
    command += ["--replications", str(replications), "--seed", str(SEED), "--out", str(out)]
    return subprocess.Popen(
        [*command, "--chunk-size", "1", *options],
        stderr=subprocess.PIPE,
        text=True,
        cwd=out.parent,
        preexec_fn=_interruptible,
    )


def _interruptible() -> None:
    """Ctrl-C as a terminal delivers it: a suite started in the background by a shell
    without job control (as some CI runners do) ignores SIGINT, and its children inherit
    that, so the run would finish instead of stopping."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for_parts(process: subprocess.Popen, parts: Path, at_least: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if parts.is_dir() and len(list(parts.glob("0*.parquet"))) >= at_least:
            return
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"the run ended or stalled before writing {at_least} parts: {process.stderr}")


#: Enough replications that the command is still running when it is stopped. A test sees
#: three parts, then signals; the run must outlast any delay of that test process. With 60
#: (a batch-fast 0.7.0 finished the rest in 1.3 s on 2 workers) a loaded CI machine saw
#: the run complete first and exit 0. 600 leave about 12 s on 2 workers, 24 s serial.
STOPPED_REPLICATIONS = 600


@pytest.fixture(scope="module")
def uninterrupted(scenario: Scenario) -> RunResult:
    """The run a stopped command must resume to, the same for Ctrl-C and a kill."""
    return parksim.run(scenario, STOPPED_REPLICATIONS, SEED, progress=False)


def _stopped_midway(signum: int, value: int) -> int:
    """A task that is sent `signum` while it runs, then finishes its work."""
    os.kill(os.getpid(), signum)
    time.sleep(0.01)  # a signal is handled between bytecodes, so it has arrived by now
    return value


def test_the_serial_executor_holds_ctrl_c_and_sigterm_until_its_task_has_finished(
    ctrl_c_raises: None,
) -> None:
    """Ctrl-C in the middle of a replication must not land inside compiled code (it crashed
    the process with SIGSEGV, or failed the replication): the task finishes and is kept,
    and the stop comes at the next submit."""

    class Stop(Exception):
        pass

    def on_term(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        executor = SerialExecutor()
        for signum, raised in ((signal.SIGINT, KeyboardInterrupt), (signal.SIGTERM, Stop)):
            future = executor.submit(_stopped_midway, signum, 7)
            assert future.result() == 7
            with pytest.raises(raised):
                executor.submit(_stopped_midway, signum, 8)
        assert executor.submit(int, "3").result() == 3  # nothing held any more
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_stop_during_the_last_task_is_dropped_when_the_serial_executor_shuts_down(
    ctrl_c_raises: None,
) -> None:
    """Ctrl-C in a run's last chunk: the run completes, and the stop must not outlive it
    to break off whatever runs next in the process (a notebook's next model step)."""
    with SerialExecutor() as executor:
        assert executor.submit(_stopped_midway, signal.SIGINT, 7).result() == 7
    deliver_held_stop()  # where a later model step would raise it: nothing is left


def _stopped_twice() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.01)
    pytest.fail("a second Ctrl-C while one is held must stop at once")


def test_a_second_ctrl_c_stops_the_serial_executor_at_once(ctrl_c_raises: None) -> None:
    with pytest.raises(KeyboardInterrupt):
        SerialExecutor().submit(_stopped_twice)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.slow
@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_a_killed_or_interrupted_command_resumes_to_the_uninterrupted_result(
    how: str,
    scenario_file: Path,
    uninterrupted: RunResult,
    tmp_path: Path,
    no_figures: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    replications = STOPPED_REPLICATIONS
    out = tmp_path / "run"
    process = start_run(scenario_file, out, replications)
    wait_for_parts(process, out / "parts", at_least=3)
    process.send_signal(signal.SIGINT if how == "ctrl-c" else signal.SIGKILL)
    _, stderr = process.communicate(timeout=60)
    if how == "ctrl-c":
        assert process.returncode == EXIT_INTERRUPTED, stderr
        assert "Traceback" not in stderr
        assert f"parksim run --resume {out}" in stderr
    else:
        assert process.returncode == -signal.SIGKILL
        assert (out / ".lock").exists()  # left by the dead process; resume takes it over
    done, total = RunFolder.open(out).progress()
    assert 3 <= done < total

    assert main(["run", "--resume", str(out), "--quiet"]) == EXIT_OK
    assert_same_tables(RunResult.load(out), uninterrupted)
    assert capsys.readouterr().err == ""


def children_of(pid: int) -> set[int]:
    """The processes whose parent is `pid`, from /proc (Linux)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # ended while being read
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its ')'.
        if int(text.rsplit(")", 1)[1].split()[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
def test_sigterm_stops_a_run_with_workers_as_cleanly_as_ctrl_c(
    scenario_file: Path,
    uninterrupted: RunResult,
    tmp_path: Path,
    no_figures: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`kill -TERM` of `parksim run --workers 2`: once it left both workers
    (~400 MB each) running and a stale .lock behind."""
    out = tmp_path / "run"
    process = start_run(scenario_file, out, STOPPED_REPLICATIONS, "--workers", "2")
    wait_for_parts(process, out / "parts", at_least=3)
    workers = children_of(process.pid)
    try:
        assert len(workers) >= 2, workers  # the pool's two workers (and its resource tracker)
        process.send_signal(signal.SIGTERM)
        # Workers left running would hold stderr open: communicate would time out.
        _, stderr = process.communicate(timeout=120)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(running(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if running(pid)]
    finally:  # never leave the run's processes behind, even when the test fails
        for pid in [process.pid, *workers]:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    assert f"parksim run --resume {out} --workers 2" in stderr
    assert not (out / ".lock").exists()
    done, total = RunFolder.open(out).progress()
    assert 3 <= done < total

    assert main(["run", "--resume", str(out), "--quiet"]) == EXIT_OK
    assert_same_tables(RunResult.load(out), uninterrupted)
    assert capsys.readouterr().err == ""


def test_a_resumed_command_runs_on_the_workers_the_run_had(
    scenario_file: Path,
    reference: RunResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`parksim run --workers 2`, stopped, resumes on 2 workers without --workers (at
    most the machine's CPUs), on 1 with --workers 1, and ends with the serial tables."""
    import parksim.ensemble.executors as executors
    import parksim.ensemble.runner as runner

    real_run_missing, real_open = runner.run_missing, executors.open_executor
    opened: list[tuple] = []

    def recording_open(workers=1, kind=None, scheduler=None):
        opened.append((workers, kind, scheduler))
        return real_open(workers, kind, scheduler)

    def stopped_after_4(folder, scenario, **options):
        # The first session's replications run in this process: Ctrl-C after four.
        options = {**options, "executor": "serial", "simulate": StopAfter(4)}
        return real_run_missing(folder, scenario, **options)

    monkeypatch.setattr(executors, "open_executor", recording_open)
    monkeypatch.setattr(runner, "run_missing", stopped_after_4)
    out = tmp_path / "run"
    command = [*("run", str(scenario_file), "--out", str(out), "--seed", str(SEED))]
    command += [*("--replications", str(REPLICATIONS), "--chunk-size", "2", "--quiet")]
    assert main([*command, "--no-charts", "--workers", "2"]) == EXIT_INTERRUPTED
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["workers"] == 2
    assert opened == [(2, None, None)]
    assert RunFolder.open(out).progress()[0] == 4

    def stopped_at_once(folder, scenario, **options):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_missing", stopped_at_once)
    resume = ["run", "--resume", str(out), "--quiet", "--no-charts"]
    assert main([*resume, "--workers", "1"]) == EXIT_INTERRUPTED  # an explicit count wins
    assert opened[-1] == (1, None, None)
    # The session that ran last set the count; the run had 2: put them back.
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["workers"] == 1
    (out / "manifest.json").write_text(json.dumps({**manifest, "workers": 2}), encoding="utf-8")

    monkeypatch.setattr(runner, "run_missing", real_run_missing)
    capsys.readouterr()
    assert main(resume) == EXIT_OK
    assert opened[-1] == (min(2, os.cpu_count() or 1), None, None)
    assert_same_tables(RunResult.load(out), reference)
    assert capsys.readouterr().err == ""


def test_resume_refuses_another_scenario_other_code_and_other_options(
    scenario: Scenario, scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        parksim.run(scenario, 4, SEED, out=out, progress=False, simulate=StopAfter(1))
    before = {p.name: p.read_bytes() for p in (out / "parts").iterdir()}

    other = scenario_file.with_name("other.toml")
    other.write_text(scenario_file.read_text().replace("horizon = 4", "horizon = 5"))
    assert main(["run", str(other), "--resume", str(out)]) == EXIT_BAD_INPUT
    assert "differs from the run's (at horizon)" in capsys.readouterr().err

    assert main(["run", "--resume", str(out), "--seed", "12"]) == EXIT_BAD_INPUT
    assert "--seed" in capsys.readouterr().err

    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["versions"]["parksim_source"] = "0" * 16
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    assert main(["run", "--resume", str(out)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "other code" in err and "parksim_source" in err
    assert "Traceback" not in err
    assert {p.name: p.read_bytes() for p in (out / "parts").iterdir()} == before


def test_resume_refuses_a_folder_another_live_process_is_running(
    scenario: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        parksim.run(scenario, 4, SEED, out=out, progress=False, simulate=StopAfter(1))
    lock = {"host": socket.gethostname(), "pid": os.getppid()}
    (out / ".lock").write_text(json.dumps(lock), encoding="utf-8")
    manifest = (out / "manifest.json").read_bytes()
    assert main(["run", "--resume", str(out), "--quiet"]) == EXIT_BAD_INPUT
    assert f"in use by process {os.getppid()}" in capsys.readouterr().err
    assert (out / "manifest.json").read_bytes() == manifest


def test_resume_of_a_complete_run_or_of_no_run_folder(
    reference: RunResult, tmp_path: Path, no_figures: None, capsys: pytest.CaptureFixture[str]
) -> None:
    done = reference.save(tmp_path / "done")
    assert main(["run", "--resume", str(done)]) == EXIT_OK
    assert "nothing to resume" in capsys.readouterr().out
    assert main(["run", "--resume", str(tmp_path / "nowhere")]) == EXIT_BAD_INPUT
    assert "not a parksim run folder" in capsys.readouterr().err
    assert main(["run"]) == EXIT_BAD_INPUT
    assert "--resume" in capsys.readouterr().err


def die_at_replication_3(scenario: Scenario, strategy: str, seeds: list[np.random.SeedSequence]):
    """A worker process that dies mid-run (a lost worker), as an OOM kill would end it."""
    if any(seed.spawn_key[0] == 3 for seed in seeds):
        os._exit(1)
    return simulate_batch(scenario, strategy, seeds)


@pytest.mark.slow
def test_a_lost_worker_process_leaves_a_resumable_run(
    scenario: Scenario, reference: RunResult, tmp_path: Path, no_figures: None
) -> None:
    out = tmp_path / "run"
    with pytest.raises(RunIncomplete) as raised:
        parksim.run(
            scenario,
            REPLICATIONS,
            SEED,
            out=out,
            executor="processes",
            workers=2,
            chunk_size=1,
            progress=False,
            simulate=die_at_replication_3,
        )
    assert raised.value.done < 2 * REPLICATIONS
    assert "BrokenProcessPool" in str(raised.value)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "incomplete"
    assert_same_tables(parksim.resume(out, progress=False), reference)


# --- failures -------------------------------------------------------------------------------


def failing_on(strategy: str, replication: int):
    """A simulate function whose batches raise when they hold `replication` of `strategy`."""

    def simulate(scenario: Scenario, name: str, seeds: list[np.random.SeedSequence]):
        if name == strategy and any(seed.spawn_key[0] == replication for seed in seeds):
            raise ValueError("deliberately broken replication")
        return simulate_batch(scenario, name, seeds)

    return simulate


def failing_alone_on(strategy: str, replication: int):
    """`simulate_replication`, raising for `replication` of `strategy`."""

    def simulate(scenario: Scenario, name: str, seed: np.random.SeedSequence):
        if (name, seed.spawn_key[0]) == (strategy, replication):
            raise ValueError("deliberately broken replication")
        return simulate_replication(scenario, name, seed)

    return simulate


def test_a_failing_replication_is_recorded_and_the_rest_go_on(
    scenario: Scenario, reference: RunResult, tmp_path: Path, no_figures: None
) -> None:
    out = tmp_path / "run"
    broken = scenario.names[1]
    with pytest.raises(RunIncomplete) as raised:
        parksim.run(
            scenario, REPLICATIONS, SEED, out=out, progress=False, simulate=failing_on(broken, 3)
        )
    incomplete = raised.value
    assert (incomplete.done, incomplete.total) == (2 * REPLICATIONS - 1, 2 * REPLICATIONS)
    assert f"--resume {out}" in str(incomplete)
    [failure] = json.loads((out / "failures.json").read_text(encoding="utf-8"))
    assert failure["strategy"] == broken
    assert failure["replication"] == 3
    assert failure["seed"] == {"entropy": SEED, "spawn_key": [3]}
    assert failure["error"] == "ValueError: deliberately broken replication"
    assert "Traceback" in failure["traceback"]

    counted = StopAfter(10**9)
    resumed = parksim.resume(out, progress=False, simulate=counted)
    assert counted.calls == 1
    assert_same_tables(resumed, reference)
    assert not (out / "failures.json").exists()


def test_the_command_reports_failures_exits_1_and_resume_retries_only_them(
    scenario_file: Path,
    scenario: Scenario,
    reference: RunResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_figures: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "run"
    args = ["run", str(scenario_file), "--replications", str(REPLICATIONS), "--seed", str(SEED)]
    # The runner's batches and its one-at-a-time reruns of a batch that raised.
    monkeypatch.setattr("parksim.ensemble.runner.simulate_batch", failing_on(scenario.names[0], 2))
    monkeypatch.setattr(
        "parksim.ensemble.runner.simulate_replication", failing_alone_on(scenario.names[0], 2)
    )
    assert main([*args, "--out", str(out), "--quiet"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert f"{scenario.names[0]} replication 2" in err
    assert "ValueError: deliberately broken replication" in err
    assert f"parksim run --resume {out}" in err
    assert "Traceback" not in err

    calls: list[int] = []

    def counting(scenario: Scenario, name: str, seeds: list[np.random.SeedSequence]):
        calls.extend(seed.spawn_key[0] for seed in seeds)
        return simulate_batch(scenario, name, seeds)

    monkeypatch.setattr("parksim.ensemble.runner.simulate_batch", counting)
    monkeypatch.setattr("parksim.ensemble.runner.simulate_replication", simulate_replication)
    assert main(["run", "--resume", str(out), "--quiet"]) == EXIT_OK
    assert calls == [2]
    assert_same_tables(RunResult.load(out), reference)


# --- what an ensemble reports -----------------------------------------------------------------


def test_var_and_es_follow_the_documented_order_statistics() -> None:
    rng = np.random.default_rng(0)
    losses = rng.permutation(np.arange(1.0, 1001.0))  # 1, 2, ..., 1000 in random order
    # VaR_a = the ceil(a n)-th smallest loss; ES_a = mean of the losses >= VaR_a.
    for level, var in ((0.95, 950.0), (0.99, 990.0), (0.999, 999.0)):
        assert value_at_risk(losses, level) == var
        assert expected_shortfall(losses, level) == (var + 1000.0) / 2
    few = losses[losses <= 200]  # fewer than 1,000: at 99.9 % both are the worst loss
    assert value_at_risk(few, 0.999) == expected_shortfall(few, 0.999) == 200.0
    assert value_at_risk(few, 0.99) == 198.0
    assert np.isnan(value_at_risk(np.array([]), 0.99))


def test_unexpected_loss_and_return_on_risk() -> None:
    losses = np.arange(1.0, 1001.0)
    metrics = tail_risk(losses, profits=np.full(1000, 249.25))
    assert metrics["unexpected_loss_99_9"] == 999.0 - 500.5
    assert metrics["return_on_risk"] == 249.25 / 498.5
    # No loss beyond the expected one: return on risk is undefined, not infinite.
    flat = tail_risk(np.zeros(50), profits=np.ones(50))
    assert flat["unexpected_loss_99_9"] == 0.0
    assert np.isnan(flat["return_on_risk"])


def synthetic_table(losses: dict[str, np.ndarray], profits: dict[str, np.ndarray]) -> pd.DataFrame:
    """Two quarters per replication; the loss and profit arrive in quarter 1."""
    rows = []
    for strategy, values in losses.items():
        for replication, (loss, profit) in enumerate(zip(values, profits[strategy], strict=True)):
            for quarter in (0, 1):
                row = dict.fromkeys(COLUMN_NAMES, 0.0)
                row.update(strategy=strategy, replication=replication, quarter=quarter)
                row.update(borrowers=10.0, credit_loss=loss * quarter, net_profit=profit * quarter)
                rows.append(row)
    return pd.DataFrame(rows, columns=list(COLUMN_NAMES))


def test_the_summary_reports_tail_risk_per_strategy() -> None:
    rng = np.random.default_rng(1)
    losses = {
        "cautious": rng.permutation(np.arange(1.0, 201.0)),
        "bold": np.arange(0.0, 2000.0, 10),
    }
    profits = {"cautious": np.full(200, 30.0), "bold": np.linspace(0.0, 200.0, 200)}
    summary = summarise(synthetic_table(losses, profits))
    assert list(summary.index) == ["cautious", "bold"]
    assert set(TAIL_METRICS) <= set(summary.columns)
    cautious = summary.loc["cautious"]
    assert cautious["cum_credit_loss_mean"] == 100.5  # the expected loss
    assert cautious["cum_credit_loss_var95"] == 190.0
    assert cautious["cum_credit_loss_es95"] == 195.0
    assert cautious["cum_credit_loss_var99"] == 198.0
    assert cautious["cum_credit_loss_es99_9"] == 200.0
    assert cautious["unexpected_loss_99_9"] == 200.0 - 100.5
    assert cautious["return_on_risk"] == pytest.approx(30.0 / 99.5)
    bold = summary.loc["bold"]
    assert bold["cum_credit_loss_var99"] == 1970.0  # the 198th of 0, 10, ..., 1990
    assert bold["cum_net_profit_mean"] == pytest.approx(100.0)
    # Tail columns sit right after the cumulative credit loss columns.
    columns = list(summary.columns)
    start = columns.index("cum_credit_loss_p95") + 1
    assert columns[start : start + len(TAIL_METRICS)] == list(TAIL_METRICS)


def test_the_result_object_gives_tail_risk_and_per_replication_tables(
    reference: RunResult,
) -> None:
    per = reference.per_replication
    assert len(per) == 2 * REPLICATIONS
    first = reference.scenario.names[0]
    losses = per.loc[first, "cum_credit_loss"].to_numpy()
    assert reference.summary.loc[first, "cum_credit_loss_es95"] == expected_shortfall(losses, 0.95)


# --- comparing runs -------------------------------------------------------------------------


def test_compare_puts_runs_side_by_side_and_refuses_other_horizons(
    scenario: Scenario,
    reference: RunResult,
    tmp_path: Path,
    no_figures: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = reference.save(tmp_path / "first")
    second = parksim.run(scenario, 3, SEED + 1, progress=False).save(tmp_path / "second")
    out = tmp_path / "compared"
    assert main(["compare", str(first), str(second), "--out", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    summary = pd.read_csv(out / "summary.csv", index_col="strategy")
    expected = [f"{run}/{name}" for run in ("first", "second") for name in scenario.names]
    assert list(summary.index) == expected
    assert all(label in printed for label in expected)
    assert summary.loc[expected[0], "cum_credit_loss_es99"] == pytest.approx(
        reference.summary.iloc[0]["cum_credit_loss_es99"]
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [r["replications"] for r in manifest["runs"]] == [REPLICATIONS, 3]

    longer = parksim.run(small(scenario, quarters=5), 2, SEED, progress=False)
    longer_folder = longer.save(tmp_path / "longer")
    code = main(["compare", str(first), str(longer_folder), "--out", str(tmp_path / "no")])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "different horizons" in err and "4 quarters" in err and "5 quarters" in err
    assert not (tmp_path / "no").exists()


# --- progress ---------------------------------------------------------------------------------


def test_progress_shows_model_runs_rate_and_time_left_unless_quiet(
    scenario_file: Path, tmp_path: Path, no_figures: None, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", str(scenario_file), "--replications", "2", "--results", str(tmp_path)]
    assert main(args) == EXIT_OK
    err = capsys.readouterr().err
    # done/total model runs (2 strategies × 2 replications), rate, elapsed<left
    assert "4/4" in err and "run/s" in err and "<" in err
    assert main([*args, "--quiet"]) == EXIT_OK
    captured = capsys.readouterr()
    assert captured.out == captured.err == ""


def _worker_state() -> tuple[int, bool]:
    return gc.get_freeze_count(), signal.getsignal(signal.SIGINT) is signal.SIG_IGN


@pytest.mark.slow
def test_pool_workers_ignore_ctrl_c_and_keep_their_modules_out_of_full_collections() -> None:
    """A worker's modules are frozen out of the garbage collector's full collections (a
    batch runs 2-5 % faster); the parent, which may be a notebook, is never frozen."""
    from parksim.ensemble.executors import open_executor

    frozen_here = gc.get_freeze_count()
    with open_executor(2) as workers:
        frozen, ignores_ctrl_c = workers.executor.submit(_worker_state).result()
    assert frozen > 100_000
    assert ignores_ctrl_c
    assert gc.get_freeze_count() == frozen_here
