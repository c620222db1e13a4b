"""How parksim scales with park size, against the floor of any per-agent Mesa model.

    python benchmarks/bench_scale.py            # N = 500, 5,000, 80,000
    python benchmarks/bench_scale.py --large    # and 500,000

For each N, in one process:
- the Mesa floor: a bare mesa.Model with N plain mesa.Agents whose step() does nothing,
  advanced 40 steps with model.agents.shuffle_do("step");
- parksim's full model (every mechanism on, three banks) for N initial enterprises and
  40 quarters, once per strategy of scenarios/baseline.toml (entry scaled with N).
Prints a table and writes benchmarks/results.json. Peak memory is the growth of the
process's peak RSS over the run, measured in a fresh child process per measurement so
one measurement's memory does not hide the next one's.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import platform
import resource
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
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


def parksim_model(n: int, quarters: int = QUARTERS) -> dict[str, float]:
    """Seconds for parksim to run every baseline strategy for n firms; mean per strategy."""
    import parksim

    scenario = parksim.load_scenario(BASELINE)
    entries = scenario.park.entries_per_quarter * n / scenario.park.enterprises
    seconds, firm_quarters = [], 0
    for strategy in scenario.names:
        model = parksim.ParkModel(
            scenario,
            strategy,
            rng=1,
            collect=False,
            park__enterprises=n,
            park__entries_per_quarter=entries,
            horizon=quarters,
        )
        start = time.perf_counter()
        model.run(quarters)
        seconds.append(time.perf_counter() - start)
        counts = model.timeseries()[[f"n_{s}" for s in parksim_stages()]].sum(axis=1)
        firm_quarters += int(counts.iloc[1:].sum())
    return {
        "seconds": float(np.mean(seconds)),
        "firm_quarters": firm_quarters / len(scenario.names),
        "strategies": len(scenario.names),
    }


def parksim_stages() -> tuple[str, ...]:
    from parksim.reporting.columns import STAGES

    return STAGES


def _measure(kind: str, n: int, queue: mp.Queue) -> None:
    before = _peak_rss_mib()
    result = mesa_floor(n) if kind == "floor" else parksim_model(n)
    result["peak_mib"] = _peak_rss_mib()
    result["baseline_mib"] = before
    queue.put(result)


def measure(kind: str, n: int) -> dict[str, float]:
    """Run one measurement in a fresh process (clean peak-memory reading)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    process = ctx.Process(target=_measure, args=(kind, n, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="also N = 500,000")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args()
    sizes = [500, 5_000, 80_000] + ([500_000] if args.large else [])

    rows = []
    for n in sizes:
        floor = measure("floor", n)
        model = measure("parksim", n)
        per_quarter = model["seconds"] / QUARTERS
        rows.append(
            {
                "n": n,
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
            f"N={n:>7,}  floor {r['floor_s']:7.3f} s  parksim {r['parksim_s']:7.3f} s  "
            f"ratio {r['ratio_parksim_over_floor']:6.3f}  {1e3 * per_quarter:8.3f} ms/quarter  "
            f"{r['firm_quarters_per_second']:12,.0f} firm-q/s  "
            f"{r['ns_per_firm_quarter']:7.1f} ns/firm-q  peak {r['parksim_peak_mib']:7.1f} MiB",
            flush=True,
        )
    # Cost per quarter = fixed + per firm-quarter × firms: a least-squares line through
    # the sizes separates the fixed cost (model step, banks, operator, bookkeeping).
    firms = np.array([r["firm_quarters_per_second"] * r["parksim_s"] / QUARTERS for r in rows])
    per_quarter = np.array([r["seconds_per_quarter"] for r in rows])
    slope, fixed = np.polyfit(firms, per_quarter, 1)
    print(
        f"fixed cost {1e3 * fixed:.3f} ms/quarter, marginal {1e9 * slope:.0f} ns per firm-quarter; "
        f"per firm-quarter at 80,000 / at 5,000: "
        f"{rows[2]['ns_per_firm_quarter'] / rows[1]['ns_per_firm_quarter']:.2f}"
    )
    report = {
        "machine": {"python": platform.python_version(), "cpu": platform.processor()},
        "quarters": QUARTERS,
        "rows": rows,
        "fixed_seconds_per_quarter": float(fixed),
        "marginal_seconds_per_firm_quarter": float(slope),
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
