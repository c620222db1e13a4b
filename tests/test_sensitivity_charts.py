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


# --- the tornado ---------------------------------------------------------------------------


def _outputs(value: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "point": np.arange(len(value)),
            "strategy": "b",
            "versus": "a",
            "metric": "cum_net_profit",
            "value": value,
            "se": 0.0,
            "replications": 1,
        }
    )


def test_the_tornado_of_a_sobol_design_ranks_the_parameters_that_move_the_outcome():
    """y = 10 a + 4 b; c and d do nothing. Conditional means over the space-filling rows:
    a's swing is 10 × (7/8 − 1/8) = 7.5, b's 3, c's and d's only sampling noise."""
    from parksim.analysis.sensitivity.analysis import sobol_design
    from parksim.viz.sensitivity_charts import tornado_swings

    names = ["a", "b", "c", "d"]
    design = sobol_design(names, 128, 2)
    levels = pd.DataFrame(design.levels, columns=names)
    value = 10 * levels["a"].to_numpy() + 4 * levels["b"].to_numpy()
    swing, rows = tornado_swings(_outputs(value), levels, "b", "a", "cum_net_profit", "sobol")
    assert len(rows) == 256  # the base rows A and B of 128 blocks, not all 768 points
    assert list(swing.index[:2]) == ["a", "b"]
    assert swing.loc["a", "width"] == pytest.approx(7.5, abs=0.5)
    assert swing.loc["b", "width"] == pytest.approx(3.0, abs=0.5)
    assert swing.loc[["c", "d"], "width"].max() < 1.0


def test_the_tornado_refuses_a_morris_design_and_a_morris_study_draws_none(tmp_path):
    """On a Morris design the quartile subsets are whole trajectories: the old tornado
    ranked parameters with μ* = 0 above the one that moves the outcome."""
    from parksim.analysis.sensitivity.analysis import morris_design
    from parksim.viz.sensitivity_charts import save_charts, tornado_chart

    names = [f"p{i}" for i in range(8)]
    design = morris_design(names, 4, 1)
    levels = pd.DataFrame(design.levels, columns=names)
    value = 100 * levels["p0"].to_numpy()
    with pytest.raises(ValueError, match="Morris design"):
        tornado_chart(_outputs(value), levels, "b", "a", "cum_net_profit", "stamp", "morris")
    mu_star = np.r_[100.0, np.zeros(7)]
    indices = _indices(mu_star, mu_star).assign(parameter=names)
    paths = save_charts(
        "morris", indices, _outputs(value), levels, ("b", "a", "cum_net_profit"), tmp_path, "s"
    )
    assert sorted(p.name for p in paths) == ["morris_indices.png", "morris_indices.svg"]


def test_the_tornado_of_a_one_at_a_time_design_reads_its_swings():
    from parksim.analysis.sensitivity.analysis import design_points
    from parksim.viz.sensitivity_charts import tornado_swings

    names = ["a", "b", "c"]
    design = design_points("oat", names, 1, 0, centre=[0.5, 0.5, 0.5])
    levels = pd.DataFrame(design.levels, columns=names)
    value = 3 * levels["b"].to_numpy() - 10 * levels["c"].to_numpy()
    swing, rows = tornado_swings(_outputs(value), levels, "b", "a", "cum_net_profit", "oat")
    assert list(swing.index) == ["c", "b", "a"]
    assert swing["width"].tolist() == pytest.approx([8.0, 2.4, 0.0])
    assert rows.tolist() == [value[0]]  # the centre line: the scenario's own values
