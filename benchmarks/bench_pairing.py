"""How much common random numbers help: strategies' correlation and paired standard errors.

    python benchmarks/bench_pairing.py                       # 100 replications of the baseline
    python benchmarks/bench_pairing.py --replications 200 --workers 2

Runs every strategy of the scenario with the same seeds (as `parksim run` does) and, on
each replication's cumulative net profit of the focal bank (万元, quarters 1..horizon):

- the correlation between every pair of strategies;
- for each move (reference → strategy, default tier1 → tier2 under either operator), the
  mean difference with its paired standard error sd(d)/√n and the unpaired one
  √((var_a + var_b)/n), and their ratio.

The paired SE is far below the unpaired one only if a replication's firms meet the same
luck in every strategy. Results go to benchmarks/results_pairing.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MOVES = (("tier1_heavy", "tier2_heavy"), ("tier1_light", "tier2_light"))


def cumulative_profit(table) -> dict[str, np.ndarray]:
    """Cumulative net profit per replication (万元), by strategy, in replication order."""
    later = table[table["quarter"] > 0]
    totals = later.groupby(["strategy", "replication"], observed=True)["net_profit"].sum()
    return {
        name: totals.loc[name].sort_index().to_numpy() for name in table["strategy"].cat.categories
    }


def paired_stats(reference: np.ndarray, strategy: np.ndarray) -> dict[str, float]:
    """Mean difference (strategy − reference) with paired and unpaired standard errors."""
    n = len(reference)
    diff = strategy - reference
    paired = float(diff.std(ddof=1) / np.sqrt(n))
    unpaired = float(np.sqrt((reference.var(ddof=1) + strategy.var(ddof=1)) / n))
    return {
        "mean_difference": float(diff.mean()),
        "paired_se": paired,
        "unpaired_se": unpaired,
        "paired_over_unpaired": paired / unpaired,
        "correlation": float(np.corrcoef(reference, strategy)[0, 1]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "baseline.toml")
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results_pairing.json")
    args = parser.parse_args(argv)

    import parksim

    scenario = parksim.load_scenario(args.scenario)
    started = time.perf_counter()
    result = parksim.run(
        scenario, replications=args.replications, workers=args.workers, progress=False
    )
    seconds = time.perf_counter() - started
    profit = cumulative_profit(result.timeseries)
    names = list(profit)
    corr = np.corrcoef(np.array([profit[n] for n in names]))
    off_diagonal = corr[~np.eye(len(names), dtype=bool)]
    moves = {
        f"{a} -> {b}": paired_stats(profit[a], profit[b])
        for a, b in MOVES
        if a in profit and b in profit
    }
    report = {
        "scenario": args.scenario.name,
        "replications": args.replications,
        "parksim": parksim.__version__,
        "seconds": round(seconds, 1),
        "load_average_at_end": os.getloadavg()[0],
        "correlation_of_cumulative_profit": {
            "min": float(off_diagonal.min()),
            "median": float(np.median(off_diagonal)),
            "max": float(off_diagonal.max()),
            "matrix": {
                a: dict(zip(names, map(float, row), strict=True))
                for a, row in zip(names, corr, strict=True)
            },
        },
        "moves": moves,
    }
    print(
        json.dumps(
            {k: v for k, v in report.items() if k != "correlation_of_cumulative_profit"}, indent=2
        )
    )
    c = report["correlation_of_cumulative_profit"]
    print(
        f"correlation between strategies: min {c['min']:.3f}  "
        f"median {c['median']:.3f}  max {c['max']:.3f}"
    )
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
