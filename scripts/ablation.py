"""What each credit mechanism of 0.3.0 does to the strategy answer, on the baseline.

Each variant switches one mechanism off (alone) and reruns the baseline's tier 1.0 and
2.0 strategies under both operators with the same seeds; the table gives the paired
differences in ten-year cumulative net profit and credit loss (万元, mean ± standard
error over replications) that a strategy team reads: 2.0 − 1.0 under each operator, and
light − heavy at each tier. Run from the repository root:

    .venv/bin/python scripts/ablation.py --replications 40 --workers 2 > docs/ablation.md
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

import parksim
from parksim.banks.tiers import tier_spec
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.validate import to_dict
from parksim.viz.validation_report import markdown_table

TIERS = ("1.0", "2.0", "3.0")
PAIRS = {
    "2.0 − 1.0, heavy": ("tier2_heavy", "tier1_heavy"),
    "2.0 − 1.0, light": ("tier2_light", "tier1_light"),
    "light − heavy, 1.0": ("tier1_light", "tier1_heavy"),
    "light − heavy, 2.0": ("tier2_light", "tier2_heavy"),
}
STRATEGIES = sorted({s for pair in PAIRS.values() for s in pair})


def _each_tier(data: dict[str, Any], field: str, value: Any) -> None:
    for tier in TIERS:
        data.setdefault("tiers", {}).setdefault(tier, {})[field] = value


def _without_mna(data: dict[str, Any]) -> None:
    for tier in TIERS:
        products = [p for p in tier_spec(float(tier)).products if p != "mna"]
        data.setdefault("tiers", {}).setdefault(tier, {})["products"] = products


# One mechanism off at a time: the value that makes it inert.
VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "baseline (all on)": lambda d: None,
    "no warrants (coverage 0)": lambda d: _each_tier(d, "warrant_coverage", 0.0),
    "no credit cycle (macro_persistence 0)": lambda d: d["credit"].update(macro_persistence=0.0),
    # The single-name cap is single_name_limit × tier1_capital_ratio × risk-weighted assets:
    # at 100 % each, a name may be as large as the whole business's risk-weighted assets.
    "no limits (single name and sector 100 %)": lambda d: (
        _each_tier(d, "single_name_limit", 1.0),
        _each_tier(d, "tier1_capital_ratio", 1.0),
        _each_tier(d, "sector_limit", 1.0),
    ),
    "no deposits (deposit_share 0)": lambda d: _each_tier(d, "deposit_share", 0.0),
    "no 1.0 advisory (advisory_capture 0)": lambda d: (
        d.setdefault("tiers", {}).setdefault("1.0", {}).update(advisory_capture=0.0)
    ),
    "no trade finance (trade_finance_ratio 0)": lambda d: d["lending"].update(
        trade_finance_ratio=0.0
    ),
    "no chain leaders emerge": lambda d: d["lifecycle"].update(leader_min_revenue=1e12),
    "operator never defaults": lambda d: d["operator"].update(arrears_quarters=10_000),
    "no M&A loans": _without_mna,
}


def variant(name: str) -> parksim.Scenario:
    data = copy.deepcopy(to_dict(parksim.load_scenario("scenarios/baseline.toml")))
    for section in ("credit", "lending", "lifecycle", "operator"):
        data.setdefault(section, {})
    data["strategies"] = [s for s in data["strategies"] if s["name"] in STRATEGIES]
    VARIANTS[name](data)
    return scenario_from_dict(data, file=f"<ablation: {name}>")


def differences(result: parksim.RunResult) -> dict[str, str]:
    totals = result.timeseries.groupby(["strategy", "replication"], observed=True)[
        ["net_profit", "credit_loss"]
    ].sum()
    row = {}
    for label, (a, b) in PAIRS.items():
        for column, short in (("net_profit", "profit"), ("credit_loss", "loss")):
            d = totals.loc[a, column].to_numpy() - totals.loc[b, column].to_numpy()
            se = d.std(ddof=1) / np.sqrt(len(d))
            row[f"{label}: {short}"] = f"{d.mean():,.0f} ± {se:,.0f}"
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rows, started = [], time.perf_counter()
    for name in VARIANTS:
        result = parksim.run(
            variant(name),
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            progress=False,
        )
        rows.append({"variant": name, **differences(result)})
    table = pd.DataFrame(rows).set_index("variant")
    print(
        "# Ablation: what each credit mechanism does to the strategy answer\n\n"
        "Written by `scripts/ablation.py` (its docstring has the command). Each variant "
        "switches one\nmechanism off, alone, on the calibrated baseline; the differences "
        "are paired (same seeds\nin every strategy).\n"
    )
    print(
        f"Ablation on the baseline, parksim {parksim.__version__}: {args.replications} "
        f"replications, seed {args.seed}, {time.perf_counter() - started:.0f} s.\n"
        "Paired differences of ten-year cumulative sums, 万元, mean ± standard error.\n"
    )
    for kind in ("profit", "loss"):
        part = table[[c for c in table.columns if c.endswith(kind)]]
        part.columns = [c.rsplit(":", 1)[0] for c in part.columns]
        print("\n**Net profit**\n" if kind == "profit" else "\n**Credit loss**\n")
        print(markdown_table(part.reset_index()))


if __name__ == "__main__":
    main()
