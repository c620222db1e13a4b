"""Running a scenario: every strategy × replication, with common random numbers.

Replication i of every strategy gets the same child seed, spawned from the run's root seed
with `numpy.random.SeedSequence`, so strategies differ by their strategy, not their luck.
Each task is a pure function of (scenario, strategy, replication, seed), so the tables are
identical whatever runs them: a serial loop, or any `concurrent.futures.Executor`.
"""

from __future__ import annotations

import time
from concurrent.futures import Executor, as_completed
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parksim.model import ParkModel
from parksim.results import RunResult, build_manifest
from parksim.scenario.schema import Scenario


@dataclass(frozen=True)
class Task:
    """One model run: a strategy in one replication, with its seed."""

    strategy: str
    replication: int
    seed: np.random.SeedSequence


def replication_seeds(root_seed: int, replications: int) -> list[np.random.SeedSequence]:
    """Child seeds of the root seed, one per replication (shared by all strategies)."""
    return np.random.SeedSequence(root_seed).spawn(replications)


def plan(scenario: Scenario, replications: int, seed: int) -> list[Task]:
    """The tasks of a run, in table order: strategy by strategy, replication by replication."""
    seeds = replication_seeds(seed, replications)
    return [
        Task(strategy.name, r, seeds[r])
        for strategy in scenario.strategies
        for r in range(replications)
    ]


def run_task(scenario: Scenario, task: Task) -> pd.DataFrame:
    """Run one strategy × replication to the horizon; return its rows of the table."""
    model = ParkModel(scenario, task.strategy, rng=np.random.default_rng(task.seed), collect=False)
    frame = model.run().timeseries()
    frame.insert(0, "replication", task.replication)
    frame.insert(0, "strategy", task.strategy)
    return frame


def run(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    *,
    executor: Executor | None = None,
    progress: bool = True,
) -> RunResult:
    """Run every strategy of `scenario`; return the tables with plot and save methods.

    `replications` and `seed` default to the scenario's. `executor` (a process pool, a
    Dask client's executor, ...) runs the tasks; without one they run here, in order.
    """
    replications = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    tasks = plan(scenario, replications, seed)
    started = time.time()
    frames = _execute(scenario, tasks, executor, progress)
    order = {s: i for i, s in enumerate(scenario.names)}
    table = pd.concat(frames, ignore_index=True)
    table = table.sort_values(
        ["strategy", "replication", "quarter"],
        key=lambda c: c.map(order) if c.name == "strategy" else c,
    ).reset_index(drop=True)
    table["strategy"] = pd.Categorical(table["strategy"], categories=scenario.names)
    manifest = build_manifest(scenario, seed, replications, started, time.time())
    return RunResult(scenario=scenario, timeseries=table, manifest=manifest)


def _execute(
    scenario: Scenario, tasks: list[Task], executor: Executor | None, progress: bool
) -> list[pd.DataFrame]:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=scenario.name, unit="run", disable=not progress)
    try:
        if executor is None:
            frames = []
            for task in tasks:
                frames.append(run_task(scenario, task))
                bar.update()
            return frames
        futures = [executor.submit(run_task, scenario, task) for task in tasks]
        for _ in as_completed(futures):
            bar.update()
        return [f.result() for f in futures]
    finally:
        bar.close()
