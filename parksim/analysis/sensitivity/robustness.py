"""How robust a ranking is: where in the plausible space a strategy wins, and where not.

- The **share of the plausible space** in which a strategy beats another on a metric is
  the share of the design's points at which its mean difference over replications is on
  the better side of zero (higher profit, lower loss), with a Wilson 95 % interval.
- The **region where the ranking flips** is found by scenario discovery with PRIM, the
  Patient Rule Induction Method (Friedman & Fisher 1999, "Bump hunting in
  high-dimensional data", *Statistics and Computing* 9: 123-143), as used for scenario
  discovery by Bryant & Lempert (2010): a box (an interval per parameter) that holds
  many of the points where the minority answer holds (coverage) and few others
  (density).

PRIM here is a small implementation of the algorithm's two steps (top-down peeling of a
share `alpha` of the points from one side of one parameter at a time, then bottom-up
pasting), plus the usual pruning of restrictions that do not raise the density. EMA
Workbench has a maintained PRIM, but it adds a dozen packages (scikit-learn,
statsmodels, seaborn, ...) and a slow import for this one algorithm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from scipy import stats

from parksim.analysis.sensitivity.assumptions import Parameter

ALPHA = 0.05  # share of the box's points peeled or pasted per step
MIN_MASS = 0.05  # smallest box, as a share of all points
LEVEL = 0.95


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


def _measure(x: np.ndarray, y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> Box:
    inside = np.all((x >= lower) & (x <= upper), axis=1)
    n_in = inside.sum()
    total = max(y.sum(), 1)
    density = float(y[inside].mean()) if n_in else 0.0
    return Box(lower, upper, float(y[inside].sum() / total), density, float(n_in / len(y)))


def _peel(x, y, lower, upper, alpha, min_mass) -> list[Box]:
    """The peeling trajectory: each step removes the slab that most raises the density."""
    trajectory = [_measure(x, y, lower, upper)]
    n = len(y)
    while True:
        inside = np.all((x >= lower) & (x <= upper), axis=1)
        best = None
        for j in range(x.shape[1]):
            column = x[inside, j]
            for side, cut in (
                ("low", np.quantile(column, alpha)),
                ("high", np.quantile(column, 1 - alpha)),
            ):
                keep = column > cut if side == "low" else column < cut
                if keep.sum() < min_mass * n or keep.all():
                    continue
                density = y[inside][keep].mean()
                if best is None or density > best[0]:
                    best = (density, j, side, cut)
        if best is None:
            return trajectory
        _, j, side, cut = best
        lower, upper = lower.copy(), upper.copy()
        if side == "low":
            lower[j] = np.nextafter(cut, np.inf)
        else:
            upper[j] = np.nextafter(cut, -np.inf)
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


def prim(
    x: np.ndarray,
    y: np.ndarray,
    alpha: float = ALPHA,
    min_mass: float = MIN_MASS,
) -> Box | None:
    """The PRIM box of the cases `y` (booleans) among points `x` in the unit cube.

    From the peeling trajectory it takes the box with the best score (the harmonic mean
    of coverage and density), pastes and prunes it. None when there are no cases.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if y.sum() == 0:
        return None
    k = x.shape[1]
    trajectory = _peel(x, y, np.zeros(k), np.ones(k), alpha, min_mass)
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
]


def robustness(
    outputs: pd.DataFrame,
    levels: pd.DataFrame,
    parameters: Sequence[Parameter],
    better: dict[str, float],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """robustness.csv and flip_boxes.csv from the study's differences.

    `levels` holds the design's probability levels (index point, one column per
    parameter, in the order of `parameters`); `better[metric]` is +1 where higher is
    better, -1 where lower is. The flip is the minority answer (losing where the strategy
    mostly wins, and the reverse); its region is the PRIM box of the points where it holds.
    """
    rows, boxes = [], []
    differences = outputs[outputs["versus"] != ""]
    for (strategy, versus, metric), frame in differences.groupby(
        ["strategy", "versus", "metric"], sort=False
    ):
        frame = frame.set_index("point").sort_index()
        sign = better.get(metric, 1.0)
        margin = sign * frame["value"]
        wins = margin > 0
        n, k = len(wins), int(wins.sum())
        low, high = wilson_interval(k, n)
        flip = "loses" if k >= n - k else "wins"
        cases = (~wins if flip == "loses" else wins).to_numpy()
        row = {
            "strategy": strategy,
            "versus": versus,
            "metric": metric,
            "better": "higher" if sign > 0 else "lower",
            "points": n,
            "share_wins": k / n if n else np.nan,
            "share_wins_low": low,
            "share_wins_high": high,
            "share_wins_clearly": float((margin > 1.96 * frame["se"].fillna(np.inf)).mean()),
            "mean_difference": float(frame["value"].mean()),
            "flip": flip,
            "flip_region": "",
        }
        box = prim(levels.loc[frame.index].to_numpy(), cases)
        if box is not None:
            limits = box_limits(box, parameters)
            row.update(
                flip_region=describe(limits),
                flip_coverage=box.coverage,
                flip_density=box.density,
                flip_mass=box.mass,
            )
            key = {"strategy": strategy, "versus": versus, "metric": metric}
            boxes.extend({**key, **limit} for limit in limits)
        rows.append(row)
    return (
        pd.DataFrame(rows).reindex(columns=ROBUSTNESS_COLUMNS),
        pd.DataFrame(boxes).reindex(columns=BOX_COLUMNS),
    )


BOX_COLUMNS = [
    "strategy",
    "versus",
    "metric",
    "parameter",
    "level_low",
    "level_high",
    "low",
    "high",
]


def box_limits(box: Box, parameters: Sequence[Parameter]) -> list[dict]:
    """The box's restrictions, as probability levels and as parameter values."""
    limits = []
    for j in box.restricted():
        p = parameters[j]
        lower, upper = float(box.lower[j]), float(box.upper[j])
        limits.append(
            {
                "parameter": p.key,
                "level_low": lower,
                "level_high": upper,
                "low": float(p.from_unit(lower)) if lower > box.floor[j] else np.nan,
                "high": float(p.from_unit(upper)) if upper < box.ceiling[j] else np.nan,
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
