"""The same run on every executor: wall time, and whether the tables are identical.

    python benchmarks/bench_executors.py                                  # Qilu, 8 replications
    python benchmarks/bench_executors.py --scenario scenarios/baseline.toml --replications 100

Runs `parksim.run` on the scenario with `--workers W` processes and with a local Dask
cluster of W workers (and serially with --serial), one after the other in this process,
and reports each one's wall time (cluster start-up included), its simulation time (from
the manifest) and the ratio Dask / processes measured in this one run. Target (issue 12):
Dask within 15 % of the process pool; tables identical bit for bit. Results go to
benchmarks/results_executors.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def timed_run(scenario, replications: int, workers: int, executor: str) -> tuple[dict, object]:
    import parksim

    load = os.getloadavg()[0]
    started = time.perf_counter()
    result = parksim.run(
        scenario, replications=replications, workers=workers, executor=executor, progress=False
    )
    wall = time.perf_counter() - started
    return {
        "executor": executor,
        "workers": workers,
        "wall_seconds": round(wall, 2),
        "simulation_seconds": round(result.manifest["timings"]["simulation"], 2),
        "load_average_at_start": load,
    }, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "jinan_qilu.toml")
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--serial", action="store_true", help="also run serially")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results_executors.json")
    args = parser.parse_args(argv)

    import parksim

    scenario = parksim.load_scenario(args.scenario)
    kinds = ["processes", "dask"] + (["serial"] if args.serial else [])
    runs, tables = [], {}
    for kind in kinds:
        workers = 1 if kind == "serial" else args.workers
        report, result = timed_run(scenario, args.replications, workers, kind)
        print(json.dumps(report), flush=True)
        runs.append(report)
        tables[kind] = result.timeseries
    identical = all(
        tables[kind].equals(tables["processes"]) for kind in kinds if kind != "processes"
    )
    for kind in kinds[1:]:
        pd.testing.assert_frame_equal(tables[kind], tables["processes"], check_exact=True)
    by_kind = {r["executor"]: r for r in runs}
    summary = {
        "scenario": args.scenario.name,
        "replications": args.replications,
        "strategies": len(scenario.names),
        "parksim": parksim.__version__,
        "cpu_count": os.cpu_count(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "runs": runs,
        "dask_over_processes": {
            "wall": round(
                by_kind["dask"]["wall_seconds"] / by_kind["processes"]["wall_seconds"], 3
            ),
            "simulation": round(
                by_kind["dask"]["simulation_seconds"] / by_kind["processes"]["simulation_seconds"],
                3,
            ),
        },
        "tables_identical": identical,
    }
    print(json.dumps(summary["dask_over_processes"]), "identical:", identical)
    args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
