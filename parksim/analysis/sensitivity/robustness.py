"""How robust a ranking is: where in the plausible space a strategy wins, and where not.

- The **share of the plausible space** in which a strategy beats another on a metric is
  the share of the design's points at which its mean difference over replications is on
  the better side of zero (higher profit, lower loss). Its 95 % interval respects the
  design: on independent points (a Latin hypercube, or the base rows A and B of a Sobol'
  design, the rows that fill the space) a Wilson interval; on a Morris design the points
  of a trajectory are not independent, so a bootstrap over whole trajectories.
- The **region where the ranking flips** is found by scenario discovery with PRIM, the
  Patient Rule Induction Method (Friedman & Fisher 1999, "Bump hunting in
  high-dimensional data", *Statistics and Computing* 9: 123-143), as used for scenario
  discovery by Bryant & Lempert (2010, *Technological Forecasting and Social Change* 77:
  34-49): a box (an interval per parameter) that holds many of the points where the
  minority answer holds (coverage) and few others (density).

PRIM here follows EMA Workbench's conventions (Kwakkel 2017, *Environmental Modelling &
Software* 96: 239-250) in a small implementation of its own:

- **peeling trajectory**: top-down peeling of a share `alpha` of the box's points from
  one side of one parameter at a time, keeping the peel that most raises the density,
  down to `min_mass`; every step's coverage, density and mass are reported, and the step
  with the best harmonic mean of coverage and density is chosen, pasted (widened while
  that raises the score) and pruned;
- **quasi-p-value** of each restriction: a one-sided binomial test of the box's density
  against the density of the same box without that restriction, P(X ≥ H) for X ~
  Binomial(T, p), with H cases among the box's T points and p the density without the
  restriction. A restriction with qp > 0.05 is not a finding: the box drops it (the
  weakest first, testing the others again) and it is listed apart, marked;
- **resampling stability**: PRIM (with the same significance rule) is run again on
  bootstrap resamples of the design's independent units, points or Morris trajectories,
  and each restriction's `recurrence` is the share of resamples whose box restricts the
  same parameter.

On a Morris design, a parameter whose μ* is 0 for the outcome (none of its elementary
effects moves it) cannot bound the region and is not a candidate, and the binomial counts
are those of trajectories (the points' counts divided by a trajectory's length), since
the points of a trajectory are not independent draws. EMA Workbench itself was not used:
it brings scikit-learn, statsmodels, seaborn and platypus-opt for this one algorithm, and
its tests know nothing of a Morris design's trajectories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import special, stats

from parksim.analysis.sensitivity.assumptions import Parameter

ALPHA = 0.05  # share of the box's points peeled or pasted per step
MIN_MASS = 0.05  # smallest box, as a share of all points
LEVEL = 0.95
SIGNIFICANCE = 0.05  # largest quasi-p-value of a restriction reported as a finding
RESAMPLES = 20  # bootstrap resamples behind a restriction's recurrence (≈0.3 s each at
# 1,330 points × 132 parameters)
SHARE_RESAMPLES = 2000  # bootstrap resamples of trajectories behind a Morris share's interval


@dataclass(frozen=True)
class Box:
    """A PRIM box on the unit cube of probability levels, with how good it is."""

    lower: np.ndarray  # per parameter
    upper: np.ndarray
    coverage: float  # share of the cases of interest inside the box
    density: float  # share of the box's points that are cases of interest
    mass: float  # share of all points inside the box
    floor: np.ndarray | None = field(default=None, compare=False)  # the points' hull
    ceiling: np.ndarray | None = field(default=None, compare=False)

    @property
    def score(self) -> float:
        """Harmonic mean of coverage and density: how the box is chosen (the F1 score)."""
        total = self.coverage + self.density
        return 2 * self.coverage * self.density / total if total else 0.0

    def contains(self, x: np.ndarray) -> np.ndarray:
        return np.all((x >= self.lower) & (x <= self.upper), axis=1)

    def restricted(self) -> np.ndarray:
        """Indices of the parameters the box restricts (within the hull of the points)."""
        floor = np.zeros_like(self.lower) if self.floor is None else self.floor
        ceiling = np.ones_like(self.upper) if self.ceiling is None else self.ceiling
        return np.flatnonzero((self.lower > floor) | (self.upper < ceiling))

    def without(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """The box's bounds with parameter j's restriction lifted."""
        lower, upper = self.lower.copy(), self.upper.copy()
        lower[j] = 0.0 if self.floor is None else self.floor[j]
        upper[j] = 1.0 if self.ceiling is None else self.ceiling[j]
        return lower, upper


def _measure(x: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> Box:
    inside = np.all((x >= lower) & (x <= upper), axis=1)
    n_in = inside.sum()
    total = max(y.sum(), 1)
    density = float(y[inside].mean()) if n_in else 0.0
    return Box(lower, upper, float(y[inside].sum() / total), density, float(n_in / len(y)))


def _peel(x, y, lower, upper, alpha, min_mass, columns) -> list[Box]:
    """The peeling trajectory: each step removes the slab that most raises the density.

    Only the parameters in `columns` are peeled."""
    trajectory = [_measure(x, y, lower, upper)]
    n = len(y)
    if not len(columns):
        return trajectory
    while True:
        inside = np.all((x >= lower) & (x <= upper), axis=1)
        xi, yi = x[inside][:, columns], y[inside]
        cuts = np.quantile(xi, [alpha, 1 - alpha], axis=0)
        keep = np.concatenate([xi > cuts[0], xi < cuts[1]], axis=1)  # low peels, high peels
        count = keep.sum(axis=0)
        allowed = (count >= min_mass * n) & (count < len(yi))
        if not allowed.any():
            return trajectory
        density = np.where(allowed, (yi @ keep) / np.maximum(count, 1), -np.inf)
        best = int(np.argmax(density))
        side, j = divmod(best, len(columns))
        lower, upper = lower.copy(), upper.copy()
        if side == 0:
            lower[columns[j]] = np.nextafter(cuts[0, j], np.inf)
        else:
            upper[columns[j]] = np.nextafter(cuts[1, j], -np.inf)
        trajectory.append(_measure(x, y, lower, upper))


def _paste(x, y, box: Box, alpha: float) -> Box:
    """Widen the box one slab at a time while that raises its score."""
    n_alpha = max(1, int(alpha * box.mass * len(y)))
    while True:
        best = box
        for j in box.restricted():
            for side in ("low", "high"):
                others = np.all(
                    (np.delete(x, j, axis=1) >= np.delete(box.lower, j))
                    & (np.delete(x, j, axis=1) <= np.delete(box.upper, j)),
                    axis=1,
                )
                column = x[others, j]
                outside = (
                    column[column < box.lower[j]]
                    if side == "low"
                    else column[column > box.upper[j]]
                )
                if not len(outside):
                    continue
                lower, upper = box.lower.copy(), box.upper.copy()
                if side == "low":
                    lower[j] = np.sort(outside)[-min(n_alpha, len(outside))]
                else:
                    upper[j] = np.sort(outside)[min(n_alpha, len(outside)) - 1]
                candidate = _measure(x, y, lower, upper)
                if candidate.score > best.score:
                    best = candidate
        if best is box:
            return box
        box = best


def _prune(x, y, box: Box, tolerance: float = 0.01) -> Box:
    """Drop restrictions whose removal lowers the score by less than `tolerance`."""
    for j in sorted(box.restricted(), key=lambda j: box.upper[j] - box.lower[j], reverse=True):
        lower, upper = box.lower.copy(), box.upper.copy()
        lower[j], upper[j] = 0.0, 1.0
        candidate = _measure(x, y, lower, upper)
        if candidate.score >= box.score - tolerance:
            box = candidate
    return box


def _columns(k: int, candidates: np.ndarray | None) -> np.ndarray:
    return np.arange(k) if candidates is None else np.flatnonzero(candidates)


def peeling_trajectory(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = ALPHA,
    min_mass: float = MIN_MASS,
    candidates: np.ndarray | None = None,
) -> list[Box]:
    """PRIM's peeling trajectory of the cases `y` among points `x` (unit cube): the whole
    space first, then one box per peel; `candidates` (booleans per parameter) limits the
    parameters that may be restricted."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    k = x.shape[1]
    return _peel(x, y, np.zeros(k), np.ones(k), alpha, min_mass, _columns(k, candidates))


def prim(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = ALPHA,
    min_mass: float = MIN_MASS,
    candidates: np.ndarray | None = None,
) -> Box | None:
    """The PRIM box of the cases `y` (booleans) among points `x` in the unit cube.

    From the peeling trajectory it takes the box with the best score (the harmonic mean
    of coverage and density), pastes and prunes it. None when there are no cases.
    Its restrictions are not yet tested: `discover` keeps the significant ones.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if y.sum() == 0:
        return None
    trajectory = peeling_trajectory(x, y, alpha, min_mass, candidates)
    box = max(trajectory, key=lambda b: b.score)
    return _tighten(x, y, _prune(x, y, _paste(x, y, box, alpha)))


def _tighten(x: np.ndarray, y: np.ndarray, box: Box) -> Box:
    """Move each restricted edge onto the outermost point inside, so that a bound reads
    as a value some point has (designs on a grid, like Morris's, have few values)."""
    floor, ceiling = x.min(axis=0), x.max(axis=0)
    inside = x[box.contains(x)]
    lower = np.where(box.lower > floor, inside.min(axis=0), floor)
    upper = np.where(box.upper < ceiling, inside.max(axis=0), ceiling)
    return replace(_measure(x, y, lower, upper), floor=floor, ceiling=ceiling)


def binomial_tail(hits: float, trials: float, p: float) -> float:
    """P(X ≥ hits) for X ~ Binomial(trials, p), through the regularised incomplete beta
    function I_p(hits, trials − hits + 1), so that counts may be fractional (a Morris
    design's points counted as trajectories)."""
    if hits <= 0 or p >= 1:
        return 1.0
    if p <= 0:
        return 0.0
    return float(special.betainc(hits, trials - hits + 1, p))


def quasi_p(x: np.ndarray, y: np.ndarray, box: Box, j: int, weight: float = 1.0) -> float:
    """EMA Workbench's quasi-p-value of the box's restriction on parameter j: the chance
    of at least the box's cases among its points if its density were that of the box
    without the restriction (one-sided binomial). `weight` scales the counts (a Morris
    trajectory's points count as one unit: weight 1 / trajectory length)."""
    inside = box.contains(x)
    lower, upper = box.without(j)
    wider = np.all((x >= lower) & (x <= upper), axis=1)
    p = float(y[wider].mean())
    return binomial_tail(float(y[inside].sum()) * weight, float(inside.sum()) * weight, p)


@dataclass(frozen=True)
class Restriction:
    """One restriction of a PRIM box: its parameter, bounds, test and stability."""

    parameter: int
    lower: float
    upper: float
    qp: float
    finding: bool  # qp ≤ SIGNIFICANCE: part of the reported box
    recurrence: float = np.nan  # share of resamples whose box restricts this parameter
    low_bound: bool = True  # whether `lower` restricts (is inside the points' hull)
    high_bound: bool = True


@dataclass(frozen=True)
class Discovery:
    """PRIM's answer for one set of cases: the trajectory, the chosen step, the box of its
    significant restrictions (None when none is), and every restriction tested."""

    trajectory: list[Box]
    chosen: int
    box: Box | None
    restrictions: list[Restriction]


def significant(
    x: np.ndarray, y: np.ndarray, box: Box, weight: float = 1.0, level: float = SIGNIFICANCE
) -> tuple[Box, list[Restriction]]:
    """The box without its restrictions that are not significant, and every restriction
    with its quasi-p-value: the least significant one (qp > `level`) is dropped, the rest
    tested again, until every one left has qp ≤ `level`."""
    dropped: list[Restriction] = []
    while True:
        kept = box.restricted()
        tests = {int(j): quasi_p(x, y, box, j, weight) for j in kept}
        worst = max(tests, key=tests.get, default=None)
        if worst is None or tests[worst] <= level:
            break
        dropped.append(_restriction(box, worst, tests[worst], False))
        lower, upper = box.without(worst)
        box = replace(_measure(x, y, lower, upper), floor=box.floor, ceiling=box.ceiling)
    found = [_restriction(box, j, q, True) for j, q in tests.items()]
    return box, found + dropped


def _restriction(box: Box, j: int, qp: float, finding: bool) -> Restriction:
    return Restriction(
        j,
        float(box.lower[j]),
        float(box.upper[j]),
        float(qp),
        finding,
        low_bound=bool(box.lower[j] > box.floor[j]),
        high_bound=bool(box.upper[j] < box.ceiling[j]),
    )


def discover(
    x: np.ndarray,
    y: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    candidates: np.ndarray | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
    alpha: float = ALPHA,
    min_mass: float = MIN_MASS,
) -> Discovery | None:
    """Scenario discovery of the cases `y` (booleans) among points `x` (unit cube).

    `groups` gives each point's independent unit (its Morris trajectory; default: each
    point its own): the quasi-p-values count units, not points, and the stability
    resamples whole units. `candidates` (booleans per parameter) are the parameters that
    may be restricted. None when there are no cases.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if y.sum() == 0:
        return None
    groups = np.arange(len(y)) if groups is None else np.asarray(groups)
    units, members = np.unique(groups, return_inverse=True)
    weight = len(units) / len(y)
    trajectory = peeling_trajectory(x, y, alpha, min_mass, candidates)
    chosen = max(range(len(trajectory)), key=lambda i: trajectory[i].score)
    box = _tighten(x, y, _prune(x, y, _paste(x, y, trajectory[chosen], alpha)))
    box, restrictions = significant(x, y, box, weight)
    if resamples and restrictions:
        rng = np.random.default_rng(seed)
        rows = [np.flatnonzero(members == u) for u in range(len(units))]
        hits = np.zeros(x.shape[1])
        done = 0
        for _ in range(resamples):
            take = np.concatenate([rows[u] for u in rng.integers(0, len(units), len(units))])
            if y[take].sum() == 0:
                continue
            again = prim(x[take], y[take], alpha, min_mass, candidates)
            again, _ = significant(x[take], y[take], again, weight)
            hits[again.restricted()] += 1
            done += 1
        if done:
            restrictions = [replace(r, recurrence=hits[r.parameter] / done) for r in restrictions]
    return Discovery(trajectory, chosen, box if len(box.restricted()) else None, restrictions)


# --- the study's robustness table ----------------------------------------------------------


def wilson_interval(successes: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Wilson score interval of a binomial share."""
    if n == 0:
        return (np.nan, np.nan)
    z = stats.norm.ppf(0.5 + level / 2)
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return (float(centre - half), float(centre + half))


def trajectory_interval(
    wins: np.ndarray, groups: np.ndarray, level: float = LEVEL, seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of a share over a bootstrap of whole groups (Morris
    trajectories): the groups are the independent units, not the points."""
    units, members = np.unique(groups, return_inverse=True)
    if len(units) < 2:
        return (np.nan, np.nan)
    won = np.bincount(members, weights=wins.astype(float), minlength=len(units))
    size = np.bincount(members, minlength=len(units)).astype(float)
    rng = np.random.default_rng(seed)
    draw = rng.integers(0, len(units), size=(SHARE_RESAMPLES, len(units)))
    shares = won[draw].sum(axis=1) / size[draw].sum(axis=1)
    low, high = np.quantile(shares, [(1 - level) / 2, (1 + level) / 2])
    return (float(low), float(high))


ROBUSTNESS_COLUMNS = [
    "strategy",
    "versus",
    "metric",
    "better",
    "points",
    "share_wins",
    "share_wins_low",
    "share_wins_high",
    "share_wins_clearly",
    "mean_difference",
    "flip",
    "flip_region",
    "flip_coverage",
    "flip_density",
    "flip_mass",
    "units",
    "interval",
    "flip_not_significant",
]

PEELING_COLUMNS = [
    "strategy",
    "versus",
    "metric",
    "step",
    "coverage",
    "density",
    "mass",
    "restricted",
    "chosen",
]


def design_units(method: str, points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Which of a design's points the shares and PRIM use, and each one's independent unit.

    Morris: every point, grouped by trajectory (k + 1 points each). Sobol (Saltelli): the
    base rows A and B of each block of k + 2, which fill the space (the rows between
    repeat A but for one parameter), each its own unit. Otherwise (Latin hypercube,
    random points): every point, each its own unit.
    """
    points = np.asarray(points)
    if method == "morris":
        return np.ones(len(points), dtype=bool), points // (k + 1)
    if method == "sobol":
        position = points % (k + 2)
        return (position == 0) | (position == k + 1), points
    return np.ones(len(points), dtype=bool), points


def robustness(
    outputs: pd.DataFrame,
    levels: pd.DataFrame,
    parameters: Sequence[Parameter],
    better: dict[str, float],
    *,
    method: str = "points",
    indices: pd.DataFrame | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """robustness.csv, flip_boxes.csv and peeling.csv from the study's differences.

    `levels` holds the design's probability levels (index point, one column per
    parameter, in the order of `parameters`); `better[metric]` is +1 where higher is
    better, -1 where lower is; `method` is the design's ("morris", "sobol", or "points"
    for independent points), which decides the units of the intervals and of PRIM's
    tests (`design_units`). On a Morris design `indices` (indices.csv) takes the
    parameters whose μ* is 0 for an outcome out of its PRIM. The flip is the minority
    answer (losing where the strategy mostly wins, and the reverse); its region is the
    box of the significant PRIM restrictions of the points where it holds.
    """
    rows, boxes, peels = [], [], []
    differences = outputs[outputs["versus"] != ""]
    k = len(parameters)
    for (strategy, versus, metric), frame in differences.groupby(
        ["strategy", "versus", "metric"], sort=False
    ):
        frame = frame.set_index("point").sort_index()
        used, groups = design_units(method, frame.index.to_numpy(), k)
        frame, groups = frame[used], groups[used]
        sign = better.get(metric, 1.0)
        margin = sign * frame["value"]
        wins = (margin > 0).to_numpy()
        n, won = len(wins), int(wins.sum())
        if method == "morris":
            low, high = trajectory_interval(wins, groups, seed=seed)
            interval = "bootstrap over trajectories"
        else:
            low, high = wilson_interval(won, n)
            interval = "Wilson"
        flip = "loses" if won >= n - won else "wins"
        cases = ~wins if flip == "loses" else wins
        row = {
            "strategy": strategy,
            "versus": versus,
            "metric": metric,
            "better": "higher" if sign > 0 else "lower",
            "points": n,
            "share_wins": won / n if n else np.nan,
            "share_wins_low": low,
            "share_wins_high": high,
            "share_wins_clearly": float((margin > 1.96 * frame["se"].fillna(np.inf)).mean()),
            "mean_difference": float(frame["value"].mean()),
            "flip": flip,
            "flip_region": "",
            "units": len(np.unique(groups)),
            "interval": interval,
            "flip_not_significant": "",
        }
        candidates = None
        if method == "morris" and indices is not None:
            candidates = moving_parameters(indices, strategy, versus, metric, parameters)
        key = {"strategy": strategy, "versus": versus, "metric": metric}
        found = discover(
            levels.loc[frame.index].to_numpy(),
            cases,
            groups=groups,
            candidates=candidates,
            resamples=resamples,
            seed=seed,
        )
        if found is not None:
            peels.extend(
                {
                    **key,
                    "step": step,
                    "coverage": b.coverage,
                    "density": b.density,
                    "mass": b.mass,
                    "restricted": len(b.restricted()),
                    "chosen": step == found.chosen,
                }
                for step, b in enumerate(found.trajectory)
            )
            limits = restriction_limits(found.restrictions, parameters)
            boxes.extend({**key, **limit} for limit in limits)
            row["flip_not_significant"] = ", ".join(
                limit["parameter"] for limit in limits if not limit["finding"]
            )
            if found.box is not None:
                row.update(
                    flip_region=describe([limit for limit in limits if limit["finding"]]),
                    flip_coverage=found.box.coverage,
                    flip_density=found.box.density,
                    flip_mass=found.box.mass,
                )
        rows.append(row)
    return (
        pd.DataFrame(rows).reindex(columns=ROBUSTNESS_COLUMNS),
        pd.DataFrame(boxes).reindex(columns=BOX_COLUMNS),
        pd.DataFrame(peels).reindex(columns=PEELING_COLUMNS),
    )


def moving_parameters(
    indices: pd.DataFrame,
    strategy: str,
    versus: str,
    metric: str,
    parameters: Sequence[Parameter],
) -> np.ndarray:
    """Per parameter, whether its Morris μ* for the outcome is not 0 (unknown counts as
    moving): a parameter none of whose elementary effects moves the outcome."""
    rows = indices[
        (indices["strategy"] == strategy)
        & (indices["versus"] == versus)
        & (indices["metric"] == metric)
    ].set_index("parameter")["mu_star"]
    mu_star = rows.reindex([p.key for p in parameters]).to_numpy(dtype=float)
    return ~(mu_star == 0)


BOX_COLUMNS = [
    "strategy",
    "versus",
    "metric",
    "parameter",
    "level_low",
    "level_high",
    "low",
    "high",
    "qp",
    "recurrence",
    "finding",
]


def restriction_limits(
    restrictions: Sequence[Restriction], parameters: Sequence[Parameter]
) -> list[dict]:
    """The restrictions as probability levels and as parameter values (NaN on a side
    that does not restrict), with their quasi-p-value, recurrence and whether each is a
    finding; the findings first."""
    limits = []
    for r in restrictions:
        p = parameters[r.parameter]
        limits.append(
            {
                "parameter": p.key,
                "level_low": r.lower,
                "level_high": r.upper,
                "low": float(p.from_unit(r.lower)) if r.low_bound else np.nan,
                "high": float(p.from_unit(r.upper)) if r.high_bound else np.nan,
                "qp": r.qp,
                "recurrence": r.recurrence,
                "finding": r.finding,
            }
        )
    return limits


def describe(limits: Sequence[dict]) -> str:
    """A box as text in parameter values: `a >= 1.2 & b <= 0.3`."""
    parts = []
    for limit in limits:
        if not np.isnan(limit["low"]):
            parts.append(f"{limit['parameter']} >= {limit['low']:.4g}")
        if not np.isnan(limit["high"]):
            parts.append(f"{limit['parameter']} <= {limit['high']:.4g}")
    return " & ".join(parts)
