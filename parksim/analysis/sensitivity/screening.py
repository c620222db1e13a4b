"""Feature scoring with extra trees: a second screen of which parameters move an outcome.

An ensemble of extremely randomised trees (Geurts, Ernst & Wehenkel 2006, *Machine
Learning* 63: 3-42) is fitted to each outcome over the design's points, and a parameter's
score is its share of the trees' impurity decrease (scikit-learn's
`feature_importances_`, summing to 1 over the parameters). EMA Workbench offers the same
screen (`feature_scoring`, with its defaults of 0.6 of the parameters per split); here
it reads a study's tables. Unlike μ* or S1 it needs no special design, and it sees
interactions and thresholds; like any importance it says which parameters matter, not
in which direction.

scikit-learn is an optional dependency (the `study` extra): without it `feature_scores`
returns None and the study says so.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from parksim.analysis.sensitivity.robustness import design_units

TREES = 100  # trees per outcome
MAX_FEATURES = 0.6  # share of the parameters tried at each split (EMA Workbench's default)
MIN_SAMPLES_LEAF = 2
SCORE_COLUMNS = ["strategy", "versus", "metric", "parameter", "score", "rank"]


def extra_trees_scores(
    x: np.ndarray, y: np.ndarray, seed: int = 0, jobs: int = 1
) -> np.ndarray | None:
    """Each column's extra-trees importance for `y` (a regression; booleans are scored
    as 0/1); None without scikit-learn. Zero everywhere when `y` does not vary, or when
    no tree could split (too few points for `MIN_SAMPLES_LEAF` on each side). The trees
    are grown in `jobs` threads; scikit-learn draws every tree's seed from `seed` first,
    so the scores do not depend on `jobs`."""
    try:
        from sklearn.ensemble import ExtraTreesRegressor
    except ImportError:
        return None
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.ptp(y) == 0:
        return np.zeros(x.shape[1])
    forest = ExtraTreesRegressor(
        n_estimators=TREES,
        max_features=MAX_FEATURES,
        min_samples_leaf=MIN_SAMPLES_LEAF,
        random_state=seed,
        n_jobs=jobs,
    )
    forest.fit(x, y)
    # scikit-learn divides by the summed importance, 0 when no tree split: 0/0 warned.
    with np.errstate(invalid="ignore"):
        scores = forest.feature_importances_
    return np.nan_to_num(scores, nan=0.0)


def feature_scores(
    outputs: pd.DataFrame,
    levels: pd.DataFrame,
    names: Sequence[str],
    method: str,
    seed: int = 0,
    jobs: int = 1,
) -> pd.DataFrame | None:
    """feature_scores.csv: per difference outcome (strategy, versus, metric) and parameter
    the extra-trees score of the difference and its rank (1 the highest); None without
    scikit-learn. A Sobol design is scored on its space-filling rows (`design_units`)."""
    rows = []
    for (strategy, versus, metric), frame in outputs[outputs["versus"] != ""].groupby(
        ["strategy", "versus", "metric"], sort=False
    ):
        frame = frame.set_index("point").sort_index()
        used, _ = design_units(method, frame.index.to_numpy(), len(names))
        frame = frame[used & np.isfinite(frame["value"].to_numpy())]
        x = levels.loc[frame.index, list(names)]
        scores = extra_trees_scores(x, frame["value"], seed, jobs)
        if scores is None:
            return None
        ranks = pd.Series(scores).rank(ascending=False, method="min").astype(int)
        rows.extend(
            {
                "strategy": strategy,
                "versus": versus,
                "metric": metric,
                "parameter": name,
                "score": float(score),
                "rank": int(rank),
            }
            for name, score, rank in zip(names, scores, ranks, strict=True)
        )
    return pd.DataFrame(rows).reindex(columns=SCORE_COLUMNS)
