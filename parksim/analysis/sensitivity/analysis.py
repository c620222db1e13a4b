"""Designs and indices: SALib's Morris screening and Sobol (Saltelli) variance indices,
and a one-at-a-time design around the scenario's values (the tornado's: its swings).

Designs live on the unit cube of probability levels, one axis per parameter; a parameter's
distribution turns its level into a value (`Parameter.from_unit`). The indices are computed
on the levels, so a Morris μ* is the change of the metric when a parameter moves across its
whole plausible range, and Sobol indices are shares of the metric's variance over the
plausible space, whatever each parameter's distribution.

A study's tables are tidy (`design.parquet`: point, parameter, level, value;
`outputs.parquet`: point, strategy, versus, metric, value, se, replications) and
`indices_of` turns them into `indices.csv`. The same function serves the model's studies
and the check on the Ishigami function (tests/test_sensitivity_analysis.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from SALib.analyze import morris as morris_analyze
from SALib.analyze import sobol as sobol_analyze
from SALib.sample import morris as morris_sample
from SALib.sample import sobol as sobol_sample

from parksim.analysis.sensitivity import METHODS

MORRIS_LEVELS = 4  # grid levels of a Morris trajectory; Δ = levels / (2 (levels - 1)) = 2/3
CONFIDENCE = 0.95
RESAMPLES = 1000  # bootstrap resamples behind SALib's confidence intervals
OUTCOME_KEYS = ["strategy", "versus", "metric"]  # an outcome: a level or a difference
MORRIS_COLUMNS = ["parameter", *OUTCOME_KEYS, "mu_star", "mu_star_conf", "sigma", "mu"]
SOBOL_COLUMNS = ["parameter", *OUTCOME_KEYS, "S1", "S1_conf", "ST", "ST_conf"]
OAT_COLUMNS = ["parameter", *OUTCOME_KEYS, "centre", "low", "high", "swing"]
#: The one-at-a-time design's two levels of each parameter: the 10th and 90th percentiles
#: of its assumed distribution, as a decision-analysis tornado takes them (Clemen &
#: Reilly, *Making Hard Decisions*, ch. 5); the ends of a range are its least likely values.
OAT_LOW, OAT_HIGH = 0.1, 0.9


@dataclass(frozen=True)
class Design:
    """The points of a study on the unit cube: one row per point, one column per parameter."""

    method: str
    names: tuple[str, ...]
    levels: np.ndarray  # (points, parameters), probability levels in [0, 1]

    @property
    def points(self) -> int:
        return len(self.levels)

    @property
    def group_size(self) -> int:
        """Rows that belong together: a Morris trajectory, a Sobol base sample's block, or
        the whole one-at-a-time design."""
        k = len(self.names)
        return {"morris": k + 1, "sobol": k + 2}.get(self.method, 2 * k + 1)


def _problem(names: Sequence[str]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def morris_design(names: Sequence[str], trajectories: int, seed: int) -> Design:
    """`trajectories` Morris trajectories (Morris 1991), each of len(names) + 1 points."""
    levels = morris_sample.sample(
        _problem(names), trajectories, num_levels=MORRIS_LEVELS, seed=seed
    )
    return Design("morris", tuple(names), levels)


def sobol_design(names: Sequence[str], samples: int, seed: int) -> Design:
    """Saltelli's scheme on a scrambled Sobol' sequence: `samples` × (len(names) + 2) points.

    `samples` should be a power of two (the sequence's balance properties need it).
    """
    levels = sobol_sample.sample(
        _problem(names), samples, calc_second_order=False, scramble=True, seed=seed
    )
    return Design("sobol", tuple(names), levels)


def oat_design(names: Sequence[str], centre: Sequence[float]) -> Design:
    """One at a time around `centre` (the probability levels of the scenario's values):
    the centre, then for each parameter in turn the centre with that parameter at
    OAT_LOW and at OAT_HIGH: 2 × len(names) + 1 points."""
    centre = np.asarray(centre, dtype=float)
    rows = [centre]
    for j in range(len(names)):
        for level in (OAT_LOW, OAT_HIGH):
            row = centre.copy()
            row[j] = level
            rows.append(row)
    return Design("oat", tuple(names), np.array(rows))


def design_points(
    method: str,
    names: Sequence[str],
    size: int,
    seed: int,
    centre: Sequence[float] | None = None,
) -> Design:
    """The design of `method`: `size` is Morris trajectories or Sobol base samples; a
    one-at-a-time design ("oat") takes `centre` instead (default: the middle levels)."""
    if method == "morris":
        return morris_design(names, size, seed)
    if method == "sobol":
        return sobol_design(names, size, seed)
    if method == "oat":
        return oat_design(names, np.full(len(names), 0.5) if centre is None else centre)
    raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {method!r}")


def complete_groups(design: Design, y: np.ndarray) -> np.ndarray:
    """Rows of the groups (trajectories, Sobol blocks) in which every point has an output.

    A failed point (NaN) takes its whole group out; the indices use the rest.
    """
    size = design.group_size
    finite = np.isfinite(y).reshape(-1, size).all(axis=1)
    return np.repeat(finite, size)


def indices(design: Design, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Morris (μ*, its interval, σ, μ) or Sobol (S1, ST, intervals) indices of one output.

    `y` has one value per design point (NaN where the point failed). With fewer than two
    complete groups the indices are NaN. So are the Sobol indices of an output that does
    not vary over the design (a difference between two strategies none of the parameters
    touch): it has no variance to share out (SALib would divide by zero and warn).
    """
    keep = complete_groups(design, y)
    if design.method == "oat":
        return _oat_swings(design, np.where(keep, y, np.nan))
    problem = _problem(design.names)
    groups = int(keep.sum()) // design.group_size
    if design.method == "morris":
        columns = ["mu_star", "mu_star_conf", "sigma", "mu"]
        if groups < 2:
            return _empty(design.names, columns)
        result = morris_analyze.analyze(
            problem,
            design.levels[keep],
            y[keep],
            num_levels=MORRIS_LEVELS,
            conf_level=CONFIDENCE,
            num_resamples=RESAMPLES,
            seed=seed,
        )
    else:
        columns = ["S1", "S1_conf", "ST", "ST_conf"]
        if groups < 2 or np.ptp(y[keep]) == 0:
            return _empty(design.names, columns)
        result = sobol_analyze.analyze(
            problem,
            y[keep],
            calc_second_order=False,
            conf_level=CONFIDENCE,
            num_resamples=RESAMPLES,
            seed=seed,
        )
    frame = pd.DataFrame({c: np.asarray(result[c], dtype=float) for c in columns})
    frame.insert(0, "parameter", list(design.names))
    return frame


def _oat_swings(design: Design, y: np.ndarray) -> pd.DataFrame:
    """The one-at-a-time design's outcome at the centre and with each parameter at its
    low and high level, and the swing |high − low| (NaN where a point failed)."""
    low, high = y[1::2], y[2::2]
    frame = pd.DataFrame(
        {
            "centre": np.full(len(design.names), y[0]),
            "low": low,
            "high": high,
            "swing": np.abs(high - low),
        }
    )
    frame.insert(0, "parameter", list(design.names))
    return frame


def _empty(names: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    frame = pd.DataFrame({c: np.full(len(names), np.nan) for c in columns})
    frame.insert(0, "parameter", list(names))
    return frame


# --- the study's tables ----------------------------------------------------------------------


def design_table(design: Design, values: np.ndarray) -> pd.DataFrame:
    """design.parquet: one row per point × parameter with its level and its value."""
    points, k = design.levels.shape
    return pd.DataFrame(
        {
            "point": np.repeat(np.arange(points), k),
            "parameter": np.tile(np.array(design.names, dtype=object), points),
            "level": design.levels.ravel(),
            "value": np.asarray(values, dtype=float).ravel(),
        }
    )


def design_from_table(method: str, table: pd.DataFrame, names: Sequence[str]) -> Design:
    """The Design a design.parquet table holds (parameters in the study's order)."""
    wide = table.pivot(index="point", columns="parameter", values="level")
    return Design(method, tuple(names), wide[list(names)].to_numpy())


def indices_of(
    method: str,
    design: pd.DataFrame,
    outputs: pd.DataFrame,
    names: Sequence[str],
    seed: int = 0,
) -> pd.DataFrame:
    """indices.csv from design.parquet and outputs.parquet: one row per parameter × outcome.

    An outcome is a metric of a strategy (`versus` empty) or a strategy's difference from
    another (`versus` names it). Points missing from `outputs` count as failed.
    """
    points = design_from_table(method, design, names)
    order = np.arange(points.points)
    frames = []
    for keys, rows in outputs.groupby(OUTCOME_KEYS, sort=False, observed=True):
        y = rows.set_index("point")["value"].reindex(order).to_numpy(dtype=float)
        frame = indices(points, y, seed)
        for column, value in zip(OUTCOME_KEYS, keys, strict=True):
            frame[column] = value
        frames.append(frame)
    columns = {"morris": MORRIS_COLUMNS, "sobol": SOBOL_COLUMNS}.get(method, OAT_COLUMNS)
    if not frames:
        return pd.DataFrame(columns=columns)
    return pd.concat(frames, ignore_index=True)[columns]
