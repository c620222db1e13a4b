"""How parksim scales with park size, against the floor of any per-agent Mesa model.

    python benchmarks/bench_scale.py            # N = 500, 5,000, 80,000
    python benchmarks/bench_scale.py --large    # and 500,000
    python benchmarks/bench_scale.py --sizes 80000 --strategies 2   # a quicker look

For each N, in one process:
- the Mesa floor: a bare mesa.Model with N plain mesa.Agents whose step() does nothing,
  advanced 40 steps with model.agents.shuffle_do("step");
- parksim's full model (every mechanism on, three banks) for N initial enterprises and
  40 quarters, once per strategy of scenarios/baseline.toml (entry scaled with N);
- and scenarios/jinan_qilu.toml as written (80,000 firms) against the floor with as many
  agents.
Prints a table and writes benchmarks/results.json. Peak memory is the growth of the
process's peak RSS over the run, measured in a fresh child process per measurement so
one measurement's memory does not hide the next one's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import resource
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
QILU = ROOT / "scenarios" / "jinan_qilu.toml"
QILU_FIRMS = 80_000
QUARTERS = 40


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def mesa_floor(n: int, steps: int = QUARTERS) -> dict[str, float]:
    """Seconds for a do-nothing Mesa model with n agents to take `steps` steps."""
    import mesa

    class Idle(mesa.Agent):
        def step(self) -> None:
            pass

    model = mesa.Model(rng=1)
    Idle.create_agents(model, n)
    start = time.perf_counter()
    for _ in range(steps):
        model.agents.shuffle_do("step")
    return {"seconds": time.perf_counter() - start}


def parksim_model(
    n: int, quarters: int = QUARTERS, strategies: int | None = None, scenario_path: Path = BASELINE
) -> dict[str, float]:
    """Seconds for parksim to run the scenario's strategies (the first `strategies` of them)
    for n firms; mean per strategy. n = 0 keeps the scenario's park as written."""
    import parksim

    scenario = parksim.load_scenario(scenario_path)
    park = {}
    if n:
        entries = scenario.park.entries_per_quarter * n / scenario.park.enterprises
        park = {"park__enterprises": n, "park__entries_per_quarter": entries}
    names = scenario.names[:strategies] if strategies else scenario.names
    # Load the compiled kernels (numba's cache) before timing, as a long run would have.
    parksim.ParkModel(scenario, names[0], rng=0, collect=False, park__enterprises=200).run(2)
    seconds, firm_quarters = [], 0
    for strategy in names:
        model = parksim.ParkModel(
            scenario, strategy, rng=1, collect=False, horizon=quarters, **park
        )
        start = time.perf_counter()
        model.run(quarters)
        seconds.append(time.perf_counter() - start)
        counts = model.timeseries()[[f"n_{s}" for s in parksim_stages()]].sum(axis=1)
        firm_quarters += int(counts.iloc[1:].sum())
    return {
        "seconds": float(np.mean(seconds)),
        "firm_quarters": firm_quarters / len(names),
        "strategies": len(names),
    }


def parksim_stages() -> tuple[str, ...]:
    from parksim.core.codes import STAGES

    return STAGES


def _measure(kind: str, n: int, strategies: int | None, queue: mp.Queue) -> None:
    before = _peak_rss_mib()
    if kind == "floor":
        result = mesa_floor(n)
    elif kind == "qilu":
        result = parksim_model(0, strategies=strategies, scenario_path=QILU)
    else:
        result = parksim_model(n, strategies=strategies)
    result["peak_mib"] = _peak_rss_mib()
    result["baseline_mib"] = before
    queue.put(result)


def measure(kind: str, n: int, strategies: int | None = None) -> dict[str, float]:
    """Run one measurement in a fresh process (clean peak-memory reading)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_measure, args=(kind, n, strategies, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also N = 500,000")
    parser.add_argument("--sizes", type=int, nargs="+", help="park sizes (default 500 5000 80000)")
    parser.add_argument("--strategies", type=int, help="only the first S strategies (default all)")
    parser.add_argument("--no-qilu", action="store_true", help="skip scenarios/jinan_qilu.toml")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args()
    sizes = args.sizes or [500, 5_000, 80_000] + ([500_000] if args.large else [])
    cases = [("parksim", n) for n in sizes] + ([] if args.no_qilu else [("qilu", QILU_FIRMS)])

    rows = []
    for kind, n in cases:
        floor = measure("floor", n)
        model = measure(kind, n, args.strategies)
        per_quarter = model["seconds"] / QUARTERS
        rows.append(
            {
                "scenario": "jinan_qilu" if kind == "qilu" else "baseline",
                "n": n,
                "strategies": model["strategies"],
                "floor_s": floor["seconds"],
                "parksim_s": model["seconds"],
                "ratio_parksim_over_floor": model["seconds"] / floor["seconds"],
                "seconds_per_quarter": per_quarter,
                "firm_quarters_per_second": model["firm_quarters"] / model["seconds"],
                "ns_per_firm_quarter": 1e9 * model["seconds"] / model["firm_quarters"],
                "parksim_peak_mib": model["peak_mib"],
                "floor_peak_mib": floor["peak_mib"],
            }
        )
        r = rows[-1]
        print(
            f"{r['scenario']:>10} N={n:>7,}  floor {r['floor_s']:7.3f} s  "
            f"parksim {r['parksim_s']:7.3f} s  "
            f"ratio {r['ratio_parksim_over_floor']:6.3f}  {1e3 * per_quarter:8.3f} ms/quarter  "
            f"{r['firm_quarters_per_second']:12,.0f} firm-q/s  "
            f"{r['ns_per_firm_quarter']:7.1f} ns/firm-q  peak {r['parksim_peak_mib']:7.1f} MiB",
            flush=True,
        )
    # Cost per quarter = fixed + per firm-quarter × firms: a least-squares line through
    # the sizes separates the fixed cost (model step, banks, operator, bookkeeping).
    import parksim

    report = {
        "parksim": parksim.__version__,
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_at_end": os.getloadavg()[0],
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "quarters": QUARTERS,
        "rows": rows,
    }
    base = [r for r in rows if r["scenario"] == "baseline"]
    if len(base) >= 2:
        firms = np.array([r["firm_quarters_per_second"] * r["parksim_s"] / QUARTERS for r in base])
        per_quarter = np.array([r["seconds_per_quarter"] for r in base])
        slope, fixed = np.polyfit(firms, per_quarter, 1)
        print(f"fixed {1e3 * fixed:.3f} ms/quarter, marginal {1e9 * slope:.0f} ns/firm-quarter")
        report["fixed_seconds_per_quarter"] = float(fixed)
        report["marginal_seconds_per_firm_quarter"] = float(slope)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
