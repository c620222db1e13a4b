"""Are two versions of parksim statistically equivalent on the headline metrics?

Runs a scenario with each version (a git revision checked out into a temporary work tree,
run with this environment's Python and packages) and compares, strategy by strategy, the
per-replication headline metrics: the mean difference (new − old) with its 95 % Welch
interval, Welch's two-sample t-test, the Kolmogorov–Smirnov test of the distributions,
and whether the interval lies within ±margin of the old mean (an equivalence check in
the TOST sense). Use it when a change was not meant to change results
(docs/development.md, "How results are judged"); where a change was intended, it shows
what moved.

    python scripts/equivalence.py --old v0.4.1-commit --new HEAD \\
        --scenario scenarios/baseline.toml --replications 200 --workers 2

The two versions run with different root seeds by default (`--old-seed`, `--new-seed`),
so the samples are independent and the two-sample tests apply. With the same seed
(`--new-seed` equal to `--old-seed`), replication i of both versions shares its random
streams wherever the versions draw alike, and the interval and test are paired (the mean
of the per-replication differences, Student's t): a sharper look when a change moved only
some draws. Writes a Markdown table to stdout and, with `--out`, a CSV.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]

#: Headline metrics per replication: (name, column of the time series, how it is taken).
HEADLINES: tuple[tuple[str, str, str], ...] = (
    ("cum_credit_loss", "credit_loss", "sum"),
    ("cum_net_profit", "net_profit", "sum"),
    ("cum_net_interest_income", "net_interest_income", "sum"),
    ("cum_fee_income", "fee_income", "sum"),
    ("cum_equity_income", "equity_income", "sum"),
    ("final_exposure", "exposure", "last"),
    ("final_npl_ratio", "npl_ratio", "last"),
    ("cum_listings", "listings", "sum"),
    ("cum_failures", "failures", "sum"),
)


def run_version(
    revision: str, scenario: Path, replications: int, seed: int, workers: int, work: Path
) -> pd.DataFrame:
    """The time series of `scenario` run by parksim at `revision`."""
    tree = work / f"tree-{revision.replace('/', '_')}"
    subprocess.run(
        ["git", "worktree", "add", "--detach", "--force", str(tree), revision],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    try:
        out = work / f"run-{revision.replace('/', '_')}"
        env = {**os.environ, "PYTHONPATH": str(tree)}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "parksim.cli",
                "run",
                str(scenario.resolve()),
                "--replications",
                str(replications),
                "--seed",
                str(seed),
                "--workers",
                str(workers),
                "--out",
                str(out),
                "--quiet",
            ],
            cwd=tree,
            env=env,
            check=True,
        )
        return pd.read_parquet(out / "timeseries.parquet")
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(tree)],
            cwd=ROOT,
            check=False,
            capture_output=True,
        )


def headlines(table: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy × replication with the headline metrics."""
    table = table.sort_values(["strategy", "replication", "quarter"])
    groups = table.groupby(["strategy", "replication"], observed=True)
    columns = {}
    for name, column, how in HEADLINES:
        columns[name] = groups[column].sum() if how == "sum" else groups[column].last()
    return pd.DataFrame(columns).reset_index()


def compare(old: pd.DataFrame, new: pd.DataFrame, margin: float, paired: bool) -> pd.DataFrame:
    rows = []
    for strategy in old["strategy"].unique():
        a = old[old["strategy"] == strategy].sort_values("replication")
        b = new[new["strategy"] == strategy].sort_values("replication")
        for name, _, _ in HEADLINES:
            x, y = a[name].to_numpy(float), b[name].to_numpy(float)
            diff = y.mean() - x.mean()
            vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
            se = np.sqrt(vx + vy)
            if paired and np.std(y - x) > 0:
                d = y - x
                half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
                t_test_p = stats.ttest_rel(y, x).pvalue
                ks_p = stats.ks_2samp(y, x).pvalue
            elif se > 0:
                dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
                half = stats.t.ppf(0.975, dof) * se
                t_test_p = stats.ttest_ind(y, x, equal_var=False).pvalue
                ks_p = stats.ks_2samp(y, x).pvalue
            else:
                half, t_test_p, ks_p = 0.0, 1.0, 1.0
            bound = margin * abs(x.mean())
            rows.append(
                {
                    "strategy": strategy,
                    "metric": name,
                    "old_mean": x.mean(),
                    "new_mean": y.mean(),
                    "difference": diff,
                    "ci_low": diff - half,
                    "ci_high": diff + half,
                    "difference_pct": 100 * diff / abs(x.mean()) if x.mean() else np.nan,
                    "t_test_p": t_test_p,
                    "ks_p": ks_p,
                    "equivalent": bool(-bound <= diff - half and diff + half <= bound)
                    if bound > 0
                    else bool(half == 0 and diff == 0),
                }
            )
    return pd.DataFrame(rows)


def markdown(frame: pd.DataFrame) -> str:
    header = (
        "| strategy | metric | old mean | new mean | new − old (95 % CI) | % | t-test p "
        "| KS p | within margin |\n|---|---|---:|---:|---|---:|---:|---:|---|\n"
    )
    lines = [
        f"| {r.strategy} | {r.metric} | {r.old_mean:,.4g} | {r.new_mean:,.4g} | "
        f"{r.difference:,.4g} ({r.ci_low:,.4g} to {r.ci_high:,.4g}) | "
        f"{r.difference_pct:+.2f} | {r.t_test_p:.3f} | {r.ks_p:.3f} | "
        f"{'yes' if r.equivalent else 'no'} |"
        for r in frame.itertuples()
    ]
    return header + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", required=True, help="git revision of the old version")
    parser.add_argument("--new", default="HEAD", help="git revision of the new version")
    parser.add_argument("--scenario", type=Path, required=True)
    parser.add_argument("--replications", type=int, default=200)
    parser.add_argument("--old-seed", type=int, default=1)
    parser.add_argument("--new-seed", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--margin",
        type=float,
        default=0.05,
        help="equivalence margin, a share of the old mean (default 0.05)",
    )
    parser.add_argument("--out", type=Path, help="write the table as CSV here too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="parksim-equivalence-") as tmp:
        work = Path(tmp)
        old = headlines(
            run_version(
                args.old, args.scenario, args.replications, args.old_seed, args.workers, work
            )
        )
        new = headlines(
            run_version(
                args.new, args.scenario, args.replications, args.new_seed, args.workers, work
            )
        )
    paired = args.old_seed == args.new_seed
    table = compare(old, new, args.margin, paired)
    if args.out:
        table.to_csv(args.out, index=False)
    print(
        f"{args.scenario.name}: {args.old} (seed {args.old_seed}) against {args.new} "
        f"(seed {args.new_seed}), {args.replications} replications each\n"
    )
    print(markdown(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
