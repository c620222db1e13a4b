"""Benchmark: an ensemble of the baseline scenario with 1 and with 2 worker processes.

    python benchmarks/bench_ensemble.py                      # 1,000 replications x 6 strategies
    python benchmarks/bench_ensemble.py --replications 100   # a quick look

Each measurement runs `parksim run SCENARIO --replications N --workers W --quiet` as its
own process, as a user would, and records:

- wall time of the whole command, split (from the run's manifest) into simulation,
  assembling the table from the parts, writing the tables and charts, and the rest
  (start-up: imports, starting the worker processes);
- peak memory: the largest sum of the resident memory of the command and all its worker
  processes, sampled every 0.1 s, and the largest single process (getrusage);
- the machine's load average at the start, since other work on the machine slows a run.

With --floor it also times the same number of runs of the do-nothing Mesa model (a bare
mesa.Model with as many plain agents as the scenario's park, built and stepped
`horizon` times with shuffle_do("step")) spread over the same workers, the floor of any
per-agent Mesa model of the park.

The results go to benchmarks/results_ensemble.json. Target (issue 3): 1,000 x 6 with
--workers 2 in under 2 minutes and under 2 GiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 120.0
TARGET_MIB = 2048.0
SAMPLE_S = 0.1
MIB = 1024.0 * 1024.0


def _tree_rss_psutil(pid: int) -> int:
    import psutil

    try:
        parent = psutil.Process(pid)
        processes = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_info().rss
    return total


def _tree_rss_proc(pid: int) -> int:
    """The same from /proc, for machines without psutil (Linux only)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            pages = int((entry / "statm").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        rss[int(entry.name)] = pages * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack += children.get(current, [])
    return total


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes."""
    try:
        return _tree_rss_psutil(pid)
    except ImportError:
        return _tree_rss_proc(pid)


# The command runs under this wrapper so that getrusage(RUSAGE_CHILDREN) covers only it.
WRAPPER = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(json.dumps({"returncode": code, "ru_maxrss_kib": peak}))
"""


def measure(scenario: Path, replications: int, workers: int, folder: Path) -> dict:
    out = folder / f"run-{workers}-workers"
    command = [sys.executable, "-m", "parksim.cli", "run", str(scenario), "--quiet"]
    command += ["--replications", str(replications), "--workers", str(workers), "--out", str(out)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", WRAPPER, *command], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    peak = [0]

    def sample() -> None:
        while process.poll() is None:
            peak[0] = max(peak[0], tree_rss(process.pid))
            time.sleep(SAMPLE_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    report = json.loads(stdout.strip().splitlines()[-1])
    if report["returncode"] != 0:
        raise SystemExit(f"parksim run failed with status {report['returncode']}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    runs = replications * len(manifest["strategies"])
    timings = manifest["timings"]
    simulation = timings["simulation"]
    return {
        "workers": workers,
        "model_runs": runs,
        "wall_seconds": round(wall, 1),
        "simulation_seconds": round(simulation, 1),
        "assembling_tables_seconds": round(timings["assembly"], 1),
        "writing_tables_and_charts_seconds": round(timings["writing"], 1),
        "other_seconds": round(wall - sum(timings.values()), 1),
        "model_runs_per_second": round(runs / simulation, 1),
        "seconds_per_model_run_per_worker": round(simulation * workers / runs, 4),
        "peak_memory_all_processes_mib": round(peak[0] / MIB, 1),
        "peak_memory_largest_process_mib": round(report["ru_maxrss_kib"] / 1024.0, 1),
        "load_average_at_start": load,
    }


def _floor_runs(n_agents: int, steps: int, runs: int) -> float:
    import mesa

    class Idle(mesa.Agent):
        def step(self) -> None:
            pass

    for seed in range(runs):
        model = mesa.Model(rng=seed)
        Idle.create_agents(model, n_agents)
        for _ in range(steps):
            model.agents.shuffle_do("step")
    return 0.0


def floor_ensemble(n_agents: int, steps: int, runs: int, workers: int) -> dict:
    """Wall seconds of `runs` do-nothing Mesa runs over `workers` processes (start-up
    included, as it is in a parksim run)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        shares = [runs // workers + (i < runs % workers) for i in range(workers)]
        list(pool.map(_floor_runs, [n_agents] * workers, [steps] * workers, shares))
    return {
        "workers": workers,
        "model_runs": runs,
        "agents": n_agents,
        "steps": steps,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--floor", action="store_true", help="also the do-nothing Mesa floor")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results_ensemble.json")
    args = parser.parse_args(argv)

    import parksim
    from parksim.ensemble.folders import source_fingerprint

    results = []
    with tempfile.TemporaryDirectory(prefix="parksim-bench-") as tmp:
        for workers in args.workers:
            print(f"{args.replications} replications, {workers} worker(s) ...", flush=True)
            result = measure(args.scenario, args.replications, workers, Path(tmp))
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    by_workers = {r["workers"]: r for r in results}
    floor = None
    if args.floor:
        scenario = parksim.load_scenario(args.scenario)
        runs = args.replications * len(scenario.names)
        workers = max(args.workers)
        print(f"Mesa floor: {runs} runs, {workers} worker(s) ...", flush=True)
        floor = floor_ensemble(scenario.park.enterprises, scenario.horizon, runs, workers)
        print(json.dumps(floor, indent=2), flush=True)
    summary = {
        "scenario": str(
            args.scenario.relative_to(ROOT) if args.scenario.is_relative_to(ROOT) else args.scenario
        ),
        "replications": args.replications,
        "parksim": parksim.__version__,
        "parksim_source": source_fingerprint(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": results,
    }
    if floor is not None:
        summary["mesa_floor"] = floor
        summary["parksim_over_floor"] = round(
            by_workers[floor["workers"]]["wall_seconds"] / floor["wall_seconds"], 2
        )
    if 1 in by_workers and 2 in by_workers:
        one, two = by_workers[1], by_workers[2]
        summary["speed_up_1_to_2_workers"] = {
            "simulation": round(one["simulation_seconds"] / two["simulation_seconds"], 2),
            "wall": round(one["wall_seconds"] / two["wall_seconds"], 2),
        }
    if 2 in by_workers:
        two = by_workers[2]
        summary["target_2_workers"] = {
            "seconds": TARGET_SECONDS,
            "mib": TARGET_MIB,
            "met": two["wall_seconds"] < TARGET_SECONDS
            and two["peak_memory_all_processes_mib"] < TARGET_MIB,
        }
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
