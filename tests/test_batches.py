"""Batches: everything that runs many replications runs them through `simulate_batch`.

Specification (issue item 4): a run's tables do not depend on the batch size; a batch
that raises loses only the replications that raise on their own; the batch size is
chosen from the park's size and the free memory (smaller for a bigger park, between 1
and a cap) unless asked for, and a bad one is refused with the option's name; chunks and
batches of a study hold whole design points.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parksim
import parksim.ensemble.runner as runner
from parksim import RunIncomplete, RunResult, Scenario
from parksim.analysis import reverse_stress as reverse
from parksim.analysis.sensitivity import study
from parksim.cli import EXIT_BAD_INPUT, main
from parksim.credit.stress import StressPath
from parksim.ensemble import batches
from parksim.ensemble.batches import (
    BATCH_CAP,
    BATCH_FIRMS,
    MEMORY_SHARE,
    available_memory,
    batch_size_for,
    checked_batch_size,
    replication_bytes,
)
from parksim.ensemble.runner import (
    Chunk,
    chunk_size_for,
    make_chunks,
    run_chunk,
    simulate_batch,
)

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
UPGRADE = ROOT / "scenarios" / "upgrade_paths.toml"
SEED = 11
REPLICATIONS = 6


def small(path: Path = BASELINE, strategies: int = 2, quarters: int = 4) -> Scenario:
    base = parksim.load_scenario(path)
    kept = tuple(s for s in base.strategies if all(c.quarter <= quarters for c in s.changes))
    return dataclasses.replace(
        base,
        park=dataclasses.replace(base.park, enterprises=100),
        strategies=kept[:strategies],
        horizon=quarters,
    )


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """The baseline cut to two strategies, 100 firms and four quarters."""
    return small()


class Spy:
    """`simulate_batch`, recording the replications of every batch it is given."""

    def __init__(self, real=simulate_batch) -> None:
        self.real, self.batches = real, []

    def __call__(self, scenario: Scenario, strategy: str, seeds):
        self.batches.append((strategy, [seed.spawn_key[0] for seed in seeds]))
        return self.real(scenario, strategy, seeds)


# --- the tables do not depend on the batches ------------------------------------------------


def test_batches_of_four_give_the_tables_of_batches_of_one(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    tables = {}
    for size in (1, 4):
        spy = Spy()
        monkeypatch.setattr(runner, "simulate_batch", spy)
        tables[size] = parksim.run(
            scenario, REPLICATIONS, SEED, progress=False, charts=False, batch_size=size
        )
        # The runs really went in batches of `size` (chunks at least that large).
        assert max(len(reps) for _, reps in spy.batches) == size
        ran = sorted((s, r) for s, reps in spy.batches for r in reps)
        assert ran == sorted((s, r) for s in scenario.names for r in range(REPLICATIONS))
    for table in ("timeseries", "summary"):
        one, four = getattr(tables[1], table), getattr(tables[4], table)
        pd.testing.assert_frame_equal(one, four, check_exact=True)


# --- a batch that raises ---------------------------------------------------------------------


def raising_for(replication: int, calls: list[list[int]]):
    """A simulate hook whose batches raise when they hold `replication`."""

    def simulate(scenario: Scenario, strategy: str, seeds):
        keys = [seed.spawn_key[0] for seed in seeds]
        calls.append(keys)
        if replication in keys:
            raise ValueError(f"replication {replication} is broken")
        return simulate_batch(scenario, strategy, seeds)

    return simulate


def test_a_batch_with_one_failing_replication_loses_only_that_one(scenario: Scenario) -> None:
    chunk = Chunk(scenario.names[0], (0, 1, 2, 3, 4), SEED)
    calls: list[list[int]] = []
    result = run_chunk(scenario, chunk, raising_for(2, calls), batch_size=5)
    # The batch, then its replications one at a time.
    assert calls == [[0, 1, 2, 3, 4], [0], [1], [2], [3], [4]]
    [failure] = result.failures
    assert (failure.strategy, failure.replication) == (scenario.names[0], 2)
    assert failure.error == "ValueError: replication 2 is broken"
    assert failure.seed == {"entropy": SEED, "spawn_key": [2]}
    assert result.done == 4
    clean = run_chunk(scenario, Chunk(scenario.names[0], (0, 1, 3, 4), SEED), batch_size=4)
    assert clean.columns.keys() == result.columns.keys()
    for name, column in clean.columns.items():
        np.testing.assert_array_equal(result.columns[name], column, err_msg=name)


def test_a_batch_of_one_that_raises_is_not_run_again(scenario: Scenario) -> None:
    calls: list[list[int]] = []
    chunk = Chunk(scenario.names[0], (1, 2, 3), SEED)
    result = run_chunk(scenario, chunk, raising_for(2, calls), batch_size=1)
    assert calls == [[1], [2], [3]]
    assert [f.replication for f in result.failures] == [2]


def test_a_run_records_the_failing_replication_of_a_batch_and_keeps_the_others(
    scenario: Scenario, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    with pytest.raises(RunIncomplete) as raised:
        parksim.run(
            scenario,
            REPLICATIONS,
            SEED,
            out=out,
            progress=False,
            charts=False,
            batch_size=REPLICATIONS,
            simulate=raising_for(3, []),
        )
    assert (raised.value.done, raised.value.total) == (2 * REPLICATIONS - 2, 2 * REPLICATIONS)
    failures = json.loads((out / "failures.json").read_text(encoding="utf-8"))
    assert sorted((f["strategy"], f["replication"]) for f in failures) == sorted(
        (s, 3) for s in scenario.names
    )
    resumed = parksim.resume(out, progress=False, charts=False)
    reference = parksim.run(scenario, REPLICATIONS, SEED, progress=False, charts=False)
    assert isinstance(resumed, RunResult)
    pd.testing.assert_frame_equal(resumed.timeseries, reference.timeseries, check_exact=True)


# --- asking for a batch size -----------------------------------------------------------------


@pytest.mark.parametrize("bad", [0, -3, 2.5, "4", True])
def test_a_batch_size_must_be_a_positive_integer(scenario: Scenario, bad: object) -> None:
    with pytest.raises(ValueError, match=r"batch_size: expected a positive integer, got"):
        parksim.run(scenario, 2, SEED, progress=False, batch_size=bad)
    assert checked_batch_size(np.int64(3)) == 3 and checked_batch_size(None) is None


@pytest.mark.parametrize("command", ["run", "sensitivity", "reverse-stress"])
def test_the_commands_refuse_a_batch_size_below_one(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [command, str(UPGRADE), "--batch-size", "0"]
    if command == "run":
        args += ["--results", str(tmp_path / "results")]
    if command == "sensitivity":
        args += ["--out", str(tmp_path / "study")]
    if command == "reverse-stress":
        args += ["--strategy", "to2_q4_heavy"]
    assert main(args) == EXIT_BAD_INPUT
    assert "--batch-size: expected a positive integer, got 0" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_an_asked_batch_size_makes_chunks_at_least_that_large() -> None:
    assert chunk_size_for(12, 1, 4, chunk_size=2, batch_asked=True) == 4
    assert chunk_size_for(12, 1, 4, chunk_size=2) == 2  # a chosen batch size does not
    assert chunk_size_for(12, 1, 8, chunk_size=10, batch_asked=True) == 10
    # Default chunks grow to the batch size while every slot still gets a chunk.
    assert chunk_size_for(6000, 2, BATCH_CAP) == BATCH_CAP
    assert chunk_size_for(48, 2, BATCH_CAP) == 24
    assert chunk_size_for(6000, 2, 1) == runner.MAX_CHUNK


# --- the batch size from memory ---------------------------------------------------------------


def test_the_batch_size_is_what_the_memory_share_holds_between_one_and_the_cap(
    scenario: Scenario,
) -> None:
    each = replication_bytes(scenario)
    for k in (1, 5, BATCH_CAP):
        # k replications' memory as the share of the free memory, for one slot or for three.
        assert batch_size_for(scenario, 1, memory=int(k * each / MEMORY_SHARE) + 1) == k
        assert batch_size_for(scenario, 3, memory=int(3 * k * each / MEMORY_SHARE) + 1) == k
    assert batch_size_for(scenario, 1, memory=10**15) == BATCH_CAP
    assert batch_size_for(scenario, 1, memory=0) == 1
    assert batch_size_for(scenario, 10**6) == 1  # a slot's share holds no replication


def test_a_bigger_park_gets_a_smaller_batch(scenario: Scenario) -> None:
    big = dataclasses.replace(scenario, park=dataclasses.replace(scenario.park, enterprises=80_000))
    more = tuple(dataclasses.replace(b, name=f"{b.name}_2") for b in scenario.banks[1:])
    banks = dataclasses.replace(scenario, banks=scenario.banks + more)
    assert replication_bytes(big) > 100 * replication_bytes(scenario)
    assert replication_bytes(banks) > replication_bytes(scenario)
    memory = int(20 * replication_bytes(big) / MEMORY_SHARE)
    assert batch_size_for(scenario, 1, memory) == BATCH_CAP
    # An 80,000-firm park: a few hundred MB per replication (Qilu ran 115 MB over 40
    # quarters, traced); whatever the memory, it runs alone (past BATCH_FIRMS a batch is
    # slower per run, not faster).
    assert 200 * 2**20 < replication_bytes(big) < 400 * 2**20
    assert batch_size_for(big, 1, memory) == 1
    assert batch_size_for(big, 2, 10**15) == 1
    # A park of a quarter of BATCH_FIRMS batches four at most; memory may cut it further.
    mid = dataclasses.replace(
        scenario, park=dataclasses.replace(scenario.park, enterprises=BATCH_FIRMS // 4)
    )
    assert batch_size_for(mid, 1, 10**15) == 4
    assert batch_size_for(mid, 1, int(2 * replication_bytes(mid) / MEMORY_SHARE) + 1) == 2


def test_the_free_memory_is_read_from_meminfo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:  8000 kB\nMemAvailable:  1000 kB\n", encoding="ascii")
    monkeypatch.setattr(batches, "MEMINFO", str(meminfo))
    assert available_memory() == 1000 * 1024
    monkeypatch.setattr(batches, "MEMINFO", str(tmp_path / "none"))
    memory = available_memory()  # sysconf's free pages, where it has them
    assert memory is None or memory > 0


# --- studies: chunks and batches of whole points ----------------------------------------------


def test_chunks_and_batches_hold_whole_points() -> None:
    todo = {"a": list(range(12)), "b": [1, 2, 3, 4, 5, 9]}
    whole = [(c.strategy, c.replications) for c in make_chunks(["a", "b"], todo, SEED, 8, 4)]
    assert whole == [
        ("a", (0, 1, 2, 3, 4, 5, 6, 7)),
        ("b", (1, 2, 3, 4, 5)),
        ("a", (8, 9, 10, 11)),
        ("b", (9,)),
    ]
    parts = [c.replications for c in make_chunks(["a"], todo, SEED, 3, 4)]
    assert parts == [(0, 1, 2), (3,), (4, 5, 6), (7,), (8, 9, 10), (11,)]
    # Without points (align 1) chunks are plain blocks of the size.
    assert [c.replications for c in make_chunks(["b"], todo, SEED, 4)] == [(1, 2, 3, 4), (5, 9)]


def test_a_study_runs_each_point_as_one_batch(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = Spy()
    monkeypatch.setattr(study, "simulate_batch", spy)
    values = np.array([[1.5, 0.6], [1.2, 0.5]])
    keys = ("lifecycle.refused_failure_mult", "tiers.2.0.signal_noise")
    simulate = study.PointSimulator(scenario, keys, frozenset(), values, 3, 7, ("cum_net_profit",))
    chunk = Chunk(scenario.names[0], (1, 2, 3, 4, 5), 7)  # points 0 (1, 2) and 1 (3, 4, 5)
    result = run_chunk(scenario, chunk, simulate, batch_size=6, align=3)
    assert spy.batches == [(scenario.names[0], [1, 2]), (scenario.names[0], [0, 1, 2])]
    assert list(result.columns["replication"]) == [1, 2, 3, 4, 5]
    spy.batches.clear()
    run_chunk(scenario, chunk, simulate, batch_size=3, align=3)
    assert spy.batches == [(scenario.names[0], [1, 2]), (scenario.names[0], [0, 1, 2])]


# --- reverse stress ---------------------------------------------------------------------------


def test_reverse_stress_runs_blocks_of_replications_as_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scenario = small(UPGRADE, strategies=10, quarters=4)
    args = ("to2_q4_heavy", "stay_1_heavy", StressPath(preset="severe"))
    options = {"replications": 5, "seed": 3, "max_severity": 1.0, "tolerance": 1.0}
    results = {}
    for size in (5, 2):
        spy = Spy()
        monkeypatch.setattr(reverse, "simulate_batch", spy)
        results[size] = reverse.reverse_stress(scenario, *args, batch_size=size, **options)
        first = spy.batches[:6] if size == 2 else spy.batches[:2]
        expected = [[0, 1, 2, 3, 4]] if size == 5 else [[0, 1], [2, 3], [4]]
        assert [reps for _, reps in first[::2]] == expected
    for one, other in zip(results[5].evaluations, results[2].evaluations, strict=True):
        np.testing.assert_array_equal(one.differences, other.differences)
