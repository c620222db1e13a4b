"""The sensitivity charts read: the Morris scatter's labels never overlap."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Annotation, Text

from parksim.viz import charts as run_charts
from parksim.viz.sensitivity_charts import LABELLED, _overlap, morris_chart


def _indices(mu_star: np.ndarray, sigma: np.ndarray) -> pd.DataFrame:
    n = len(mu_star)
    return pd.DataFrame(
        {
            "strategy": "b",
            "versus": "a",
            "metric": "cum_net_profit",
            "parameter": [f"lifecycle.a_long_parameter_name_{i}" for i in range(n)],
            "mu_star": mu_star,
            "mu_star_conf": 0.1 * mu_star,
            "sigma": sigma,
            "mu": mu_star,
        }
    )


@pytest.mark.parametrize(
    "case",
    [
        # The labelled points nearly on top of one another, the rest far away.
        (np.r_[np.full(LABELLED, 100.0) + np.arange(LABELLED) * 0.5, np.linspace(1, 5, 7)],) * 2,
        # A diagonal band, as screening gives when σ ≈ μ*.
        (np.linspace(10, 12, 15)[::-1], np.linspace(10, 12, 15)[::-1] * 0.98),
    ],
    ids=["cluster", "band"],
)
def test_morris_labels_do_not_overlap(case) -> None:
    mu_star, sigma = case
    with run_charts._style():
        fig = morris_chart(_indices(mu_star, sigma), "b", "a", "cum_net_profit", "stamp")
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()  # an Agg canvas: morris_chart measured text
        axes = [ax for sub in fig.subfigs for ax in sub.axes]
        labels = [t for ax in axes for t in ax.texts if isinstance(t, Annotation)]
        assert len(labels) == LABELLED
        # The text's box, without its leader line.
        boxes = [Text.get_window_extent(label, renderer) for label in labels]
        frame = axes[0].get_window_extent(renderer)
    for a, b in itertools.combinations(boxes, 2):
        assert _overlap(a, b) == 0
    for box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1
