"""Charts of a sensitivity study: Morris μ*–σ, Sobol indices with intervals, a tornado
(Sobol designs only: conditional means of the space-filling rows).

Each chart shows one outcome: a metric of a strategy, or the difference between two
strategies (the study's main pair by default). They use the run charts' page style and
stamp (parksim.viz.charts).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from parksim.analysis.sensitivity.robustness import design_units
from parksim.viz import charts as run_charts

TOP = 15  # parameters shown in bar charts
LABELLED = 8  # parameters named in the Morris scatter


def outcome_label(strategy: str, versus: str, metric: str) -> str:
    """`cum_net_profit: tier2_heavy − tier1_heavy`, or of one strategy."""
    return f"{metric}: {strategy} − {versus}" if versus else f"{metric}: {strategy}"


def _select(table: pd.DataFrame, strategy: str, versus: str, metric: str) -> pd.DataFrame:
    chosen = (
        (table["strategy"] == strategy) & (table["versus"] == versus) & (table["metric"] == metric)
    )
    return table[chosen]


def morris_chart(
    indices: pd.DataFrame, strategy: str, versus: str, metric: str, stamp: str
) -> Figure:
    """μ* against σ of the elementary effects, the most influential parameters named."""
    rows = _select(indices, strategy, versus, metric).sort_values("mu_star", ascending=False)
    fig, body = run_charts._new_figure(4.2)
    ax = body.subplots()
    ax.errorbar(
        rows["mu_star"],
        rows["sigma"],
        xerr=rows["mu_star_conf"],
        fmt="o",
        ms=3,
        lw=0.6,
        color="C0",
        ecolor="0.6",
        label="parameter (μ* with its 95 % interval)",
    )
    top = float(np.nanmax([rows["mu_star"].max(), rows["sigma"].max(), 1e-12]))
    ax.plot([0, top], [0, top], ls=":", color="0.5", lw=0.8, label="σ = μ* (interactions)")
    ax.set_xlabel("μ*: mean |elementary effect| over the parameter's range")
    ax.set_ylabel("σ of the elementary effects")
    fig = run_charts._finish(
        fig, stamp, f"Morris screening · {outcome_label(strategy, versus, metric)}", lang="en"
    )
    labelled = rows.head(LABELLED)
    place_labels(ax, labelled["parameter"], labelled["mu_star"], labelled["sigma"])
    return fig


#: Where a point's label may go, tried in order: (dx, dy) directions in points, at growing
#: distances (LABEL_STEPS_PT); the first place that overlaps no label placed before wins.
LABEL_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (0, 1), (0, -1), (1, 0), (-1, 0))
LABEL_STEPS_PT = (3.0, 9.0, 16.0, 24.0, 34.0, 46.0)


def place_labels(ax, texts, xs, ys, fontsize: float = 6.0) -> list:
    """Name points without labels overlapping: each label (in the order given, the most
    important first) takes the first place around its point, near to far, whose box meets
    no label placed before and stays inside the axes; failing that, the place that
    overlaps least. A label moved off its point gets a thin leader line.

    Call it once the figure's layout is final: boxes are measured in display space, so
    the labels stay out of the layout (and are clipped to the axes).
    """
    fig = ax.get_figure(root=True)
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)  # a renderer to measure text with (savefig picks its own)
    fig.draw_without_rendering()  # fix the layout the boxes are measured in
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    placed, boxes = [], []
    for text, x, y in zip(texts, xs, ys, strict=True):
        best = None
        for step in LABEL_STEPS_PT:
            for direction in LABEL_DIRECTIONS:
                label = _label(ax, text, (x, y), direction, step, fontsize)
                box = label.get_window_extent(renderer)
                label.remove()
                cost = sum(_overlap(box, other) for other in boxes) + _outside(box, frame)
                if best is None or cost < best[0]:
                    best = (cost, direction, step, box)
                if cost == 0:
                    break
            if best[0] == 0:
                break
        _, direction, step, box = best
        placed.append(_label(ax, text, (x, y), direction, step, fontsize, leader=True))
        boxes.append(box)
    return placed


def _label(ax, text, xy, direction, step, fontsize, leader=False):
    """`text` at `step` points from `xy` in `direction` (a leader line if it is moved
    beyond the nearest step and `leader`)."""
    dx, dy = direction
    label = ax.annotate(
        text,
        xy,
        xytext=(dx * step, dy * step),
        textcoords="offset points",
        fontsize=fontsize,
        ha={1: "left", -1: "right", 0: "center"}[dx],
        va={1: "bottom", -1: "top", 0: "center"}[dy],
        arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.5", "shrinkA": 0, "shrinkB": 2}
        if leader and step > LABEL_STEPS_PT[0]
        else None,
    )
    label.set_in_layout(False)
    return label


def _overlap(a, b) -> float:
    """Area two display boxes share (0 when they only touch)."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(0.0, width) * max(0.0, height)


def _outside(box, frame) -> float:
    """Area of `box` outside `frame`."""
    return box.width * box.height - _overlap(box, frame)


def sobol_chart(
    indices: pd.DataFrame, strategy: str, versus: str, metric: str, stamp: str
) -> Figure:
    """First-order and total Sobol indices with their 95 % intervals, largest total first."""
    rows = _select(indices, strategy, versus, metric).sort_values("ST", ascending=False).head(TOP)
    rows = rows.iloc[::-1]
    fig, body = run_charts._new_figure(1.2 + 0.22 * len(rows))
    ax = body.subplots()
    y = np.arange(len(rows))
    ax.barh(
        y + 0.2,
        rows["ST"],
        0.4,
        xerr=rows["ST_conf"],
        color="C1",
        label="total ST",
        error_kw={"lw": 0.6},
    )
    ax.barh(
        y - 0.2,
        rows["S1"],
        0.4,
        xerr=rows["S1_conf"],
        color="C0",
        label="first-order S1",
        error_kw={"lw": 0.6},
    )
    ax.set_yticks(y, rows["parameter"], fontsize=6)
    ax.set_xlabel("share of the outcome's variance over the plausible space")
    return run_charts._finish(
        fig, stamp, f"Sobol indices · {outcome_label(strategy, versus, metric)}", lang="en"
    )


#: Why a Morris study has no tornado (the charts and the docs say so).
TORNADO_NEEDS = (
    "a tornado needs a design that measures it: on a Morris design the points with a "
    "parameter in a quarter of its range are whole trajectories, so their means rank "
    "parameters that do not move the outcome; run a Sobol study "
    "(--method sobol) for the tornado, and read a Morris study's μ* chart instead"
)


def tornado_swings(
    outputs: pd.DataFrame,
    levels: pd.DataFrame,
    strategy: str,
    versus: str,
    metric: str,
    method: str,
) -> tuple[pd.DataFrame, pd.Series]:
    """Per parameter the mean outcome over the space-filling points with it in the lowest
    (`low`) and highest (`high`) quarter of its range, and the `width` between, widest
    first; and the points' outcomes (whose mean is the chart's centre line). On a
    one-at-a-time design, the outcome with the parameter at its 10th and 90th
    percentiles, the others at the scenario's values (the centre). Refuses a Morris
    design (ValueError)."""
    if method == "morris":
        raise ValueError(TORNADO_NEEDS)
    rows = _select(outputs, strategy, versus, metric).set_index("point")["value"]
    if method == "oat":
        # One at a time: point 0 the centre, points 2j + 1 and 2j + 2 parameter j low, high.
        y = rows.reindex(np.arange(2 * levels.shape[1] + 1)).to_numpy(dtype=float)
        swing = pd.DataFrame({"low": y[1::2], "high": y[2::2]}, index=levels.columns)
        swing["width"] = (swing["high"] - swing["low"]).abs()
        return swing.sort_values("width", ascending=False), rows.loc[[0]]
    used, _ = design_units(method, rows.index.to_numpy(), levels.shape[1])
    rows = rows[used]
    levels = levels.loc[rows.index]
    low = {p: rows[levels[p] <= 0.25].mean() for p in levels.columns}
    high = {p: rows[levels[p] >= 0.75].mean() for p in levels.columns}
    swing = pd.DataFrame({"low": low, "high": high})
    swing["width"] = (swing["high"] - swing["low"]).abs()
    return swing.sort_values("width", ascending=False), rows


def tornado_chart(
    outputs: pd.DataFrame,
    levels: pd.DataFrame,
    strategy: str,
    versus: str,
    metric: str,
    stamp: str,
    method: str = "sobol",
) -> Figure:
    """Mean outcome with each parameter in the lowest and in the highest quarter of its
    range, the widest swings on top; the line is the mean over all points.

    One at a time around the scenario's values (`--method oat`), or conditional means of a
    space-filling design: only the base rows A and B of a Sobol' design (the rows between
    repeat A but for one parameter). A Morris design cannot measure it and is refused
    (ValueError, `TORNADO_NEEDS`).
    """
    swing, rows = tornado_swings(outputs, levels, strategy, versus, metric, method)
    swing = swing.head(TOP).iloc[::-1]
    centre = float(rows.mean())
    fig, body = run_charts._new_figure(1.2 + 0.22 * len(swing))
    ax = body.subplots()
    y = np.arange(len(swing))
    labels = (
        ("parameter at its 10th percentile", "parameter at its 90th percentile")
        if method == "oat"
        else ("parameter in its lowest quarter", "parameter in its highest quarter")
    )
    ax.barh(y, swing["low"] - centre, left=centre, color="C0", label=labels[0])
    ax.barh(y, swing["high"] - centre, left=centre, color="C3", alpha=0.7, label=labels[1])
    ax.axvline(centre, color="0.3", lw=0.8)
    ax.axvline(0.0, color="0.6", lw=0.6, ls=":")
    ax.set_yticks(y, swing.index, fontsize=6)
    how = (
        "one at a time around the scenario's values"
        if method == "oat"
        else f"means of {len(rows)} space-filling points"
    )
    ax.set_xlabel(f"{outcome_label(strategy, versus, metric)} · {how}")
    return run_charts._finish(
        fig, stamp, f"Tornado · {outcome_label(strategy, versus, metric)}", lang="en"
    )


def save_charts(
    method: str,
    indices: pd.DataFrame,
    outputs: pd.DataFrame,
    levels: pd.DataFrame,
    main: tuple[str, str, str],
    out_dir: Path,
    stamp: str,
) -> list[Path]:
    """The study's charts of the main outcome, as PNG and SVG in `out_dir`: the indices,
    and the tornado where the design can measure it (not on Morris: `TORNADO_NEEDS`)."""
    # Built inside the chart style, so text takes the shipped CJK font where it needs it.
    draws = {}
    if method != "oat":  # a one-at-a-time design has swings, not indices
        draws[f"{method}_indices"] = lambda: (morris_chart if method == "morris" else sobol_chart)(
            indices, *main, stamp
        )
    if method != "morris":
        draws["tornado"] = lambda: tornado_chart(outputs, levels, *main, stamp, method)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in draws.items():
        with run_charts._style():
            fig = draw()
            try:
                for suffix, extra in (
                    ("png", {"dpi": 200, "metadata": {"Software": None}}),
                    ("svg", {"metadata": {"Date": None, "Creator": None}}),
                ):
                    path = out_dir / f"{name}.{suffix}"
                    fig.savefig(path, format=suffix, **extra)
                    paths.append(path)
            finally:
                fig.clear()
    return paths
