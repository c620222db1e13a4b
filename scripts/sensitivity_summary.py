"""docs/sensitivity.md from finished `parksim sensitivity` study folders.

It reads each study's manifest.json, indices.csv and robustness.csv (nothing is rerun)
and writes, for the differences a strategy team asks about, the parameters that decide
them with their indices and intervals, and the share of the plausible space in which
each headline ranking holds. The page's sections from its first "## Method" heading on
are written by hand; they are carried over from the page being replaced. Run from the
repository root:

    .venv/bin/python scripts/sensitivity_summary.py --morris results/.../morris \
        --sobol results/.../sobol --remark "..." --out docs/sensitivity.md
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

PAIRS = {
    "2.0 − 1.0, heavy": ("tier2_heavy", "tier1_heavy"),
    "2.0 − 1.0, light": ("tier2_light", "tier1_light"),
    "light − heavy, 2.0": ("tier2_light", "tier2_heavy"),
    "3.0 − 2.0, heavy": ("tier3_heavy", "tier2_heavy"),
}
METRICS = {
    "cum_net_profit": "the bank's ten-year net profit (after tax)",
    "cum_group_net_profit": "the group's ten-year net profit (bank, equity vehicle, "
    "securities affiliate)",
    "cum_credit_loss": "ten-year credit loss",
}
#: The robustness table's columns: (metric, what "better" is called there).
ROBUST_METRICS = {
    "cum_net_profit": "bank profit",
    "cum_group_net_profit": "group profit",
    "cum_credit_loss": "lower loss",
}
#: Where the hand-written part of the page starts.
HAND_WRITTEN = "\n## Method"
RANKINGS = {
    "2.0 over 1.0, heavy": ("tier2_heavy", "tier1_heavy"),
    "2.0 over 1.0, light": ("tier2_light", "tier1_light"),
    "3.0 over 2.0, heavy": ("tier3_heavy", "tier2_heavy"),
    "3.0 over 2.0, light": ("tier3_light", "tier2_light"),
    "light over heavy, 1.0": ("tier1_light", "tier1_heavy"),
    "light over heavy, 2.0": ("tier2_light", "tier2_heavy"),
    "light over heavy, 3.0": ("tier3_light", "tier3_heavy"),
}
TOP = 6


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A pipe table's lines."""
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _study(folder: Path) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    indices = pd.read_csv(folder / "indices.csv", keep_default_na=False)  # versus "" stays
    # An index is empty where the outcome does not vary (a metric that is 0 everywhere).
    labels = {"parameter", "strategy", "versus", "metric"}
    for column in indices.columns.difference(list(labels)):
        indices[column] = pd.to_numeric(indices[column], errors="coerce")
    robust = pd.read_csv(folder / "robustness.csv", keep_default_na=False)
    return manifest, indices, robust


def _of(table: pd.DataFrame, strategy: str, versus: str, metric: str) -> pd.DataFrame:
    """The rows of one strategy difference and metric."""
    return table[(table.strategy == strategy) & (table.versus == versus) & (table.metric == metric)]


def _wan(x: float) -> str:
    return f"{x:,.0f}"


def _about(manifest: dict) -> list[str]:
    minutes = sum(manifest["timings"].values()) / 60.0
    v = manifest["versions"]
    return [
        f"- command: `{manifest['command']}`",
        f"- {manifest['points']:,} design points × {len(manifest['strategies'])} strategies × "
        f"{manifest['replications']} replications = "
        f"{manifest['points'] * len(manifest['strategies']) * manifest['replications']:,} "
        f"model runs, seed {manifest['seed']}, {manifest['failed_runs']} failed",
        f"- {len(manifest['parameters'])} parameters; parksim {v['parksim']} (source "
        f"{v['parksim_source']}), numpy {v['numpy']}, mesa {v['mesa']}",
        f"- took {minutes:.1f} minutes on a 2-core machine "
        f"({manifest['started'][:16]} to {manifest['finished'][11:16]} UTC)",
    ]


def morris_section(manifest: dict, indices: pd.DataFrame) -> list[str]:
    lines = ["## Morris screening of every ranged parameter", "", *_about(manifest), ""]
    lines += [
        "μ* is the mean absolute elementary effect of moving the parameter across its range "
        "(万元, ten-year sums), with its 95 % bootstrap interval; σ of the same size as μ* "
        "means the effect depends on the other parameters.",
        "",
    ]
    for label, (strategy, versus) in PAIRS.items():
        for metric, words in METRICS.items():
            rows = _of(indices, strategy, versus, metric).nlargest(TOP, "mu_star")
            if rows.empty:
                continue
            lines += [f"**{label}: {words}**", ""]
            lines += markdown_table(
                ["parameter", "μ* (万元)", "± 95 %", "σ"],
                [
                    [f"`{r.parameter}`", _wan(r.mu_star), _wan(r.mu_star_conf), _wan(r.sigma)]
                    for r in rows.itertuples()
                ],
            )
            lines.append("")
    return lines


def sobol_section(manifest: dict, indices: pd.DataFrame) -> list[str]:
    lines = ["## Sobol indices of the most influential parameters", "", *_about(manifest), ""]
    names = ", ".join(f"`{p['key']}`" for p in manifest["parameters"])
    lines += [
        f"The parameters: {names}; every other parameter at its default. S1 is the share of "
        "the difference's variance over this space that the parameter causes alone, ST the "
        "share it takes part in (alone and through interactions), each with its 95 % "
        "bootstrap interval (SALib, Saltelli's scheme, no second-order terms). The "
        "replications' own noise is part of the variance, so the S1 do not sum to 1.",
        "",
    ]
    for label, (strategy, versus) in PAIRS.items():
        for metric, words in METRICS.items():
            rows = _of(indices, strategy, versus, metric).dropna(subset=["ST"])
            rows = rows.sort_values("ST", ascending=False)
            if rows.empty:
                continue
            lines += [f"**{label}: {words}**", ""]
            lines += markdown_table(
                ["parameter", "S1", "± 95 %", "ST", "± 95 %"],
                [
                    [
                        f"`{r.parameter}`",
                        f"{r.S1:.2f}",
                        f"{r.S1_conf:.2f}",
                        f"{r.ST:.2f}",
                        f"{r.ST_conf:.2f}",
                    ]
                    for r in rows.head(TOP).itertuples()
                ],
            )
            lines.append("")
    return lines


def robustness_section(studies: dict[str, pd.DataFrame]) -> list[str]:
    lines = [
        "## How robust the rankings are",
        "",
        "The share of the study's design points at which the strategy does better (higher "
        "profit, lower loss), with its 95 % interval (Wilson over a Sobol study's base "
        "rows; whole trajectories bootstrapped for a Morris study: see the method below). "
        "The Morris points walk the whole ranged space; the Sobol points cover the ten "
        "parameters above (others at default).",
        "",
    ]
    header = ["ranking"]
    for study in studies:
        header += [f"{better}, {study}" for better in ROBUST_METRICS.values()]
    rows = []
    for label, (strategy, versus) in RANKINGS.items():
        row = [label]
        for robust in studies.values():
            for metric in ROBUST_METRICS:
                r = _of(robust, strategy, versus, metric)
                if r.empty:
                    row.append("")
                    continue
                r = r.iloc[0]
                row.append(f"{r.share_wins:.1%} ({r.share_wins_low:.1%}–{r.share_wins_high:.1%})")
        rows.append(row)
    lines += markdown_table(header, rows)
    lines += [
        "",
        "`robustness.csv` of each study also gives the region in which a ranking flips "
        "(PRIM) and `flip_boxes.csv` its bounds.",
        "",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--morris", type=Path, required=True, help="a Morris study folder")
    parser.add_argument("--sobol", type=Path, help="a Sobol study folder")
    parser.add_argument("--remark", action="append", default=[], help="a line for the top")
    parser.add_argument(
        "--out",
        type=Path,
        help="the page to write (default: standard output), keeping its hand-written sections",
    )
    args = parser.parse_args()
    morris = _study(args.morris)
    lines = [
        "# Sensitivity of the strategy answer to the assumptions",
        "",
        "Generated by `scripts/sensitivity_summary.py` from the study folders named below; "
        "each study reruns with its command (same version, same seed, same numbers). Money "
        "in 万元; differences are paired (the same replication under both strategies).",
        "",
        *args.remark,
        *([""] if args.remark else []),
        *morris_section(morris[0], morris[1]),
    ]
    studies = {"Morris": morris[2]}
    if args.sobol is not None:
        sobol = _study(args.sobol)
        lines += sobol_section(sobol[0], sobol[1])
        studies["Sobol"] = sobol[2]
    lines += robustness_section(studies)
    page = "\n".join(lines)
    if args.out is None:
        print(page)
        return
    kept = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    start = kept.find(HAND_WRITTEN)
    hand_written = kept[start:] if start >= 0 else ""
    args.out.write_text(page.rstrip() + "\n" + hand_written, encoding="utf-8")


if __name__ == "__main__":
    main()
