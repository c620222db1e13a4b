"""docs/where-the-move-pays.md from finished `parksim sensitivity` studies on a move.

Each study folder compares one move (`--pair STRATEGY:VERSUS`, e.g. a move to 2.0 against
staying at 1.0) over a space of assumptions. Nothing is rerun: the script reads the
study's manifest.json, design.parquet (probability levels), replications.parquet (each
point × strategy × replication at the horizon) and indices.csv, and writes, per move and
per view (the bank's net profit, the group's):

- each design point classed as **pays** (the probability that the point's mean paired
  difference is above 0 is at least 90 %), **loses** (at most 10 %) or **breaks even**
  (neither); the probability is that of a one-sided t interval on the point's R paired
  differences (Student t with R − 1 degrees of freedom on mean / standard error);
- the share of the assumption space in each class, with a 95 % interval that respects
  the design (Wilson on the space-filling points: the base rows A and B of a Sobol'
  design, the points of a Latin hypercube; a bootstrap over trajectories on Morris);
- the region of each class: the PRIM box of parksim.analysis.sensitivity.robustness
  with its quasi-p-values, only the significant restrictions (qp ≤ 0.05), in ranges;
- a table of the classes by park size band × the competitor's tier;
- the decisive assumptions: the study's Sobol' total indices for the outcome;
- the commands, version and seeds that made it.

Run from the repository root:

    python scripts/where_the_move_pays.py STUDY [STUDY ...] > docs/where-the-move-pays.md
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from parksim.analysis.sensitivity.assumptions import Parameter
from parksim.analysis.sensitivity.robustness import (
    design_units,
    discover,
    restriction_limits,
    trajectory_interval,
    wilson_interval,
)

PAYS, EVEN, LOSES = "pays", "breaks even", "loses"
CLASSES = (PAYS, EVEN, LOSES)
CONFIDENCE = 0.90  # probability above which a point pays (and below 1 − it, loses)
VIEWS = {
    "cum_net_profit": "the bank (ten-year net profit after tax, management accounts)",
    "cum_group_net_profit": "the group (bank plus the equity arm, ten-year net profit)",
}
SHORT = {"cum_net_profit": "bank", "cum_group_net_profit": "group"}
SIZE_KEY = "park.enterprises"
TIER_KEY = "banks[1].tier"
SIZE_BANDS = (150.0, 350.0, 850.0, 2000.0)  # firms; thirds of the log-uniform 150-2,000
TOP = 6


def probability_positive(differences: np.ndarray) -> float:
    """P(the point's mean paired difference > 0): a one-sided Student t on the
    replications' mean and standard error (R − 1 degrees of freedom). With one
    replication, or replications that do not vary, the sign of the mean (0.5 at 0)."""
    d = np.asarray(differences, dtype=float)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        return np.nan
    mean = float(d.mean())
    sd = float(d.std(ddof=1)) if len(d) > 1 else 0.0
    if sd == 0.0 or len(d) < 2:
        return 1.0 if mean > 0 else 0.0 if mean < 0 else 0.5
    return float(stats.t.cdf(mean / (sd / np.sqrt(len(d))), df=len(d) - 1))


def classify(probability: float, confidence: float = CONFIDENCE) -> str:
    """Pays (≥ confidence), loses (≤ 1 − confidence) or breaks even."""
    if probability >= confidence:
        return PAYS
    if 1.0 - probability >= confidence:
        return LOSES
    return EVEN


@dataclass
class Study:
    folder: Path
    manifest: dict
    parameters: list[Parameter]
    strategy: str
    versus: str
    levels: pd.DataFrame  # probability levels, index point, columns parameter keys
    replications: pd.DataFrame
    indices: pd.DataFrame

    @property
    def method(self) -> str:
        return self.manifest["method"]

    def label(self) -> str:
        return f"{_tier(self.manifest, self.versus)} → {_tier(self.manifest, self.strategy)}"


def _tier(manifest: dict, name: str) -> str:
    """The tier a strategy ends at, from the study's scenario."""
    for strategy in manifest["scenario"]["strategies"]:
        if strategy["name"] == name:
            tier = strategy["bank_tier"]
            for change in strategy.get("changes", []):
                tier = change.get("bank_tier") or tier
            return f"{float(tier):.1f}"
    return name


def load(folder: Path) -> Study:
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("status") != "complete":
        raise SystemExit(f"{folder}: the study is not complete (status {manifest.get('status')})")
    pairs = manifest.get("chosen_pairs") or manifest.get("pairs")
    if not pairs or len(pairs) != 1:
        raise SystemExit(f"{folder}: expected one pair (--pair STRATEGY:VERSUS), got {pairs}")
    strategy, versus = pairs[0]
    parameters = [Parameter(**p) for p in manifest["parameters"]]
    design = pd.read_parquet(folder / "design.parquet")
    levels = design.pivot(index="point", columns="parameter", values="level")
    levels = levels[[p.key for p in parameters]]
    replications = pd.read_parquet(folder / "replications.parquet")
    indices_file = folder / "indices.csv"
    indices = pd.read_csv(indices_file) if indices_file.exists() else pd.DataFrame()
    return Study(folder, manifest, parameters, strategy, versus, levels, replications, indices)


def point_classes(study: Study, metric: str) -> pd.DataFrame:
    """Per design point: replications, mean paired difference, P(> 0) and class."""
    reps = study.replications
    wide = reps[reps["strategy"].isin([study.strategy, study.versus])].pivot_table(
        index=["point", "replication"], columns="strategy", values=metric
    )
    difference = (wide[study.strategy] - wide[study.versus]).rename("difference")
    rows = []
    for point, d in difference.groupby(level="point"):
        p = probability_positive(d.to_numpy())
        rows.append(
            {
                "point": point,
                "replications": int(d.notna().sum()),
                "mean": float(d.mean()),
                "probability": p,
                "class": classify(p),
            }
        )
    return pd.DataFrame(rows).set_index("point")


def shares(
    classes: pd.Series, groups: np.ndarray, method: str, seed: int = 0
) -> dict[str, tuple[float, float, float]]:
    """Each class's share of the points with its 95 % interval (Wilson on independent
    points, a bootstrap over trajectories on Morris)."""
    out = {}
    n = len(classes)
    for name in CLASSES:
        hits = (classes == name).to_numpy()
        if method == "morris":
            low, high = trajectory_interval(hits, groups, seed=seed)
        else:
            low, high = wilson_interval(int(hits.sum()), n)
        out[name] = (hits.mean() if n else np.nan, low, high)
    return out


def _pct(x: float) -> str:
    return "–" if np.isnan(x) else f"{100 * x:.0f} %"


def _share(share: tuple[float, float, float]) -> str:
    value, low, high = share
    return f"{_pct(value)} ({100 * low:.0f}–{100 * high:.0f} %)"


def _value(parameter: Parameter, level: float) -> str:
    """A bound in the parameter's own terms."""
    if parameter.levels:
        return str(parameter.levels[int(parameter.level_index(np.array([level]))[0])])
    value = float(parameter.from_unit(np.array([level]))[0])
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def restricts(limit: dict, parameter: Parameter) -> bool:
    """Whether a restriction excludes anything a reader can name: one on a parameter with
    `levels` that still holds every level (PRIM trimmed only within the end levels' mass)
    does not."""
    if not parameter.levels:
        return True
    first = int(parameter.level_index(np.array([limit["level_low"]]))[0])
    last = int(parameter.level_index(np.array([limit["level_high"]]))[0])
    return last - first + 1 < len(parameter.levels)


def words(limit: dict, parameter: Parameter) -> str:
    """One significant restriction in words and ranges."""
    key = f"`{parameter.key}`"
    if parameter.levels:
        first = int(parameter.level_index(np.array([limit["level_low"]]))[0])
        last = int(parameter.level_index(np.array([limit["level_high"]]))[0])
        chosen = ", ".join(str(level) for level in parameter.levels[first : last + 1])
        return f"{key} ∈ {{{chosen}}}"
    low = None if np.isnan(limit["low"]) else _value(parameter, limit["level_low"])
    high = None if np.isnan(limit["high"]) else _value(parameter, limit["level_high"])
    if low and high:
        return f"{key} between {low} and {high}"
    return f"{key} ≥ {low}" if low else f"{key} ≤ {high}"


@dataclass
class Region:
    """A class's PRIM box: its significant restrictions in words (`short`), the full
    text with tests, coverage and density, and the restrictions dropped."""

    text: str
    short: str = ""
    dropped: tuple[str, ...] = ()


def region(x: np.ndarray, cases: np.ndarray, groups: np.ndarray, study: Study, seed: int) -> Region:
    """The PRIM box of the class's points (only significant restrictions) in words."""
    if cases.sum() == 0:
        return Region("no point of the design is in this class")
    if cases.all():
        return Region("every point of the design (no region to bound)")
    found = discover(x, cases, groups=groups, seed=seed)
    if found is None:
        return Region("no region")
    limits = restriction_limits(found.restrictions, study.parameters)
    by_key = {p.key: p for p in study.parameters}
    dropped = tuple(
        f"`{limit['parameter']}` (qp {limit['qp']:.2f})" for limit in limits if not limit["finding"]
    )
    kept = [
        limit
        for limit in limits
        if limit["finding"] and restricts(limit, by_key[limit["parameter"]])
    ]
    if found.box is None or not kept:
        return Region("no significant restriction: the class is spread over the space", "", dropped)
    short = " and ".join(words(limit, by_key[limit["parameter"]]) for limit in kept)
    parts = [
        f"{words(limit, by_key[limit['parameter']])} (qp {limit['qp']:.3f}, "
        f"recurs in {_pct(limit['recurrence'])} of resamples)"
        for limit in kept
    ]
    box = found.box
    text = (
        "mostly where " + "; ".join(parts) + f" — the box holds {_pct(box.coverage)} of the "
        f"class's points (coverage), {_pct(box.density)} of the points in it are in the class "
        f"(density), and {_pct(box.mass)} of the space"
    )
    return Region(text, short, dropped)


def band_table(study: Study, used: pd.Index, classes: pd.Series) -> list[str]:
    """Conditional shares of the classes by park size band × the competitor's tier."""
    keys = [p.key for p in study.parameters]
    if SIZE_KEY not in keys or TIER_KEY not in keys:
        return ["(the study varies neither the park size nor the competitor's tier)"]
    size = {p.key: p for p in study.parameters}[SIZE_KEY]
    tier = {p.key: p for p in study.parameters}[TIER_KEY]
    firms = size.from_unit(study.levels.loc[used, SIZE_KEY].to_numpy())
    rival = tier.from_unit(study.levels.loc[used, TIER_KEY].to_numpy())
    bands = pd.cut(firms, SIZE_BANDS, include_lowest=True)
    frame = pd.DataFrame({"band": bands, "tier": rival, "class": classes.to_numpy()})
    tiers = sorted(set(rival))
    lines = [
        "| park size (firms) | " + " | ".join(f"competitor at {t:.1f}" for t in tiers) + " |",
        "| --- | " + " | ".join("---" for _ in tiers) + " |",
    ]
    for band, group in frame.groupby("band", observed=False):
        cells = []
        for t in tiers:
            cell = group[group["tier"] == t]["class"]
            if len(cell) == 0:
                cells.append("–")
                continue
            cells.append(
                f"{_pct((cell == PAYS).mean())} / {_pct((cell == EVEN).mean())} / "
                f"{_pct((cell == LOSES).mean())} (n {len(cell)})"
            )
        lines.append(f"| {band.left:,.0f}–{band.right:,.0f} | " + " | ".join(cells) + " |")
    return lines


def decisive(study: Study, metric: str) -> list[str]:
    """The study's Sobol' total indices of the paired difference, largest first."""
    ix = study.indices
    if ix.empty or "ST" not in ix.columns:
        return ["(the study has no Sobol' indices)"]
    rows = ix[
        (ix["strategy"] == study.strategy)
        & (ix["versus"] == study.versus)
        & (ix["metric"] == metric)
    ].sort_values("ST", ascending=False)
    lines = ["| assumption | ST | ± 95 % | S1 | ± 95 % |", "| --- | --- | --- | --- | --- |"]
    for _, r in rows.head(TOP).iterrows():
        lines.append(
            f"| `{r['parameter']}` | {r['ST']:.2f} | {r['ST_conf']:.2f} | "
            f"{r['S1']:.2f} | {r['S1_conf']:.2f} |"
        )
    return lines


def analyse(study: Study, metric: str, seed: int = 0) -> dict:
    """Classes, shares, regions and the table for one move and one view."""
    points = point_classes(study, metric)
    used_mask, groups = design_units(study.method, points.index.to_numpy(), len(study.parameters))
    used = points.index[used_mask]
    groups = groups[used_mask]
    classes = points.loc[used, "class"]
    x = study.levels.loc[used].to_numpy()
    result = {
        "points": points,
        "used": used,
        "shares": shares(classes, groups, study.method, seed),
        "regions": {},
        "table": band_table(study, used, classes),
        "decisive": decisive(study, metric),
        "median": float(points.loc[used, "mean"].median()),
    }
    for name in CLASSES:
        result["regions"][name] = region(x, (classes == name).to_numpy(), groups, study, seed)
    return result


def headline(study: Study, results: dict) -> str:
    bank = results["cum_net_profit"]["shares"][PAYS]
    group = results["cum_group_net_profit"]["shares"][PAYS]
    where = results["cum_net_profit"]["regions"][PAYS].short
    where = f", mostly where {where}" if where else ""
    return (
        f"The move {study.label()} pays the bank with ≥ 90 % probability in {_share(bank)} "
        f"of the assumption space{where}; the group in {_share(group)}."
    )


def render(studies: list[Study], command: str) -> str:
    out = [
        "# Where the move pays",
        "",
        f"Generated by `{command}` from the study folders named below; nothing is rerun, "
        "and each study reruns with its command (same version, same seed, same numbers). "
        "Money in 万元, ten-year sums; differences are paired (the same replication under "
        "both strategies).",
        "",
        "**How a point is classed.** At each point of the design the move is run against "
        "its reference R times with common random numbers. The point **pays** when the "
        "probability that its mean paired difference is above 0 is at least 90 %, "
        "**loses** when it is at most 10 %, and **breaks even** otherwise; the probability "
        "is a one-sided Student t on the R differences' mean and standard error (R − 1 "
        "degrees of freedom; the sign of the mean when they do not vary). It is a statement "
        "about the point's expected gain, not the share of single futures in which the move "
        "wins. Shares of the space count the design's space-filling points (a Sobol' "
        "design's base rows A and B) with a 95 % Wilson interval. Regions are PRIM boxes "
        "(parksim.analysis.sensitivity.robustness: peeling, pasting, quasi-p-values) of "
        "the points in a class; only restrictions with qp ≤ 0.05 are reported, and those "
        "dropped are named.",
        "",
        "## Headline",
        "",
    ]
    all_results = []
    for study in studies:
        results = {metric: analyse(study, metric) for metric in VIEWS}
        all_results.append(results)
        out.append(f"- {headline(study, results)}")
    out.append("")
    out += ["| move | view | pays | breaks even | loses | median mean gain (万元) |"]
    out += ["| --- | --- | --- | --- | --- | --- |"]
    for study, results in zip(studies, all_results, strict=True):
        for metric in VIEWS:
            s = results[metric]["shares"]
            out.append(
                f"| {study.label()} | {SHORT[metric]} | {_share(s[PAYS])} | "
                f"{_share(s[EVEN])} | {_share(s[LOSES])} | {results[metric]['median']:,.0f} |"
            )
    out.append("")
    for study, results in zip(studies, all_results, strict=True):
        out += _study_section(study, results)
    out += _caveats(studies)
    return "\n".join(out) + "\n"


def _study_section(study: Study, results: dict) -> list[str]:
    m = study.manifest
    k = len(study.parameters)
    n = len(results["cum_net_profit"]["used"])
    out = [
        f"## {study.label()}: `{study.strategy}` against `{study.versus}`",
        "",
        f"- command: `{m['command']}`",
        f"- {m['points']:,} design points × 2 strategies × {m['replications']} "
        f"replication{'s' if m['replications'] != 1 else ''} each; "
        f"{n} space-filling points (base rows) for the shares and regions; "
        f"seed {m['seed']}, {m.get('failed_runs', 0)} failed runs",
        f"- {k} assumptions: " + ", ".join(f"`{p.key}`" for p in study.parameters),
        f"- parksim {m['versions']['parksim']} (source {m['versions']['parksim_source']}), "
        f"numpy {m['versions']['numpy']}, mesa {m['versions']['mesa']}; "
        f"ran {m.get('started', '?')} to {m.get('finished', '?')}",
        "",
    ]
    for metric, view in VIEWS.items():
        r = results[metric]
        out += [f"### For {view}", ""]
        for name in CLASSES:
            found = r["regions"][name]
            line = f"- **{name}** in {_share(r['shares'][name])} of the space: {found.text}."
            if found.dropped:
                line += " Not significant, dropped: " + ", ".join(found.dropped) + "."
            out.append(line)
        out += [
            "",
            "Share of the points that pay / break even / lose, by park size and the main "
            "competitor's starting tier (n: points in the cell):",
            "",
            *r["table"],
            "",
            "Decisive assumptions (Sobol' total index ST of the paired difference, share of "
            "its variance the assumption takes part in; S1 alone; 95 % bootstrap intervals; "
            "the replications' noise is part of the variance):",
            "",
            *r["decisive"],
            "",
        ]
    return out


def _caveats(studies: list[Study]) -> list[str]:
    reps = sorted({s.manifest["replications"] for s in studies})
    dims = sorted({len(s.parameters) for s in studies})
    sizes = sorted({s.manifest["size"] for s in studies})
    return [
        "## Caveats",
        "",
        f"- **Replications per point**: {', '.join(map(str, reps))}. With so few, a point "
        "whose gain is small against the futures' spread breaks even: 'breaks even' "
        "includes points where the model could not tell, not only points where the gain "
        "is near 0. More replications move points out of it, both ways.",
        f"- **Dimension**: {', '.join(map(str, dims))} assumptions on {', '.join(map(str, sizes))} "
        "Sobol' base samples; the Sobol' indices' intervals are wide at this size and the "
        "PRIM boxes rest on the base rows only.",
        "- **Held fixed**: every assumption not named above is at the scenario's value "
        "(scenarios/upgrade_paths.toml): the heavy operator, the move's quarter (4, and 16 "
        "for 3.0), its ramp, the tier multipliers and every mechanism parameter not listed. "
        "The map is conditional on them; docs/sensitivity.md screens the others (on 0.4 "
        "economics).",
        "- Ranges and levels are parksim/data/assumptions.toml's; discrete assumptions (the "
        "competitor's tier and lag, the equity holder) are drawn with equal mass, so a share "
        "of the space weighs them equally — a reader who believes one more likely should "
        "read the table by tier, not the overall share.",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("studies", nargs="+", type=Path, help="finished study folders")
    args = parser.parse_args(argv)
    studies = [load(folder) for folder in args.studies]
    command = "python scripts/where_the_move_pays.py " + " ".join(str(s) for s in args.studies)
    sys.stdout.write(render(studies, command + " > docs/where-the-move-pays.md"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
