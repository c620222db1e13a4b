"""The run charts for one model as it stands: `stages(model)`, `risk(model)`,
`revenue(model)` and `operator(model)` (the model draws no charts itself).

A model is a run of one strategy and one replication, so its time series goes to the
same charts as an ensemble's (parksim.viz.charts), with the strategy as the only
panel or line and the mean over replications being the run itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
from matplotlib.figure import Figure

import parksim
from parksim.viz import charts

if TYPE_CHECKING:
    from parksim.model import ParkModel


def chart_table(model: ParkModel) -> pd.DataFrame:
    """The model's quarters so far, keyed like an ensemble's time series."""
    frame = model.timeseries()
    frame.insert(0, "replication", 0)
    frame.insert(0, "strategy", pd.Categorical([model.strategy.name] * len(frame)))
    return frame


def stamp(model: ParkModel) -> str:
    """The provenance line under the charts of one model."""
    seed = getattr(model, "_seed", None)
    seeded = f" · rng {seed}" if seed is not None else ""
    return (
        f"parksim {parksim.__version__} · scenario {model.config.name} · strategy "
        f"{model.strategy.name}{seeded} · one run, {model.quarter} quarters"
    )


def stages(model: ParkModel) -> Figure:
    """Enterprises by life-cycle stage, quarter by quarter."""
    return _one_run(charts.stage_mix(chart_table(model), stamp(model)))


def risk(model: ParkModel) -> Figure:
    """The focal bank's exposure, NPL ratio, cumulative credit loss and defaults."""
    return _one_run(charts.risk_curves(chart_table(model), stamp(model)))


def revenue(model: ParkModel) -> Figure:
    """The focal bank's revenue lines, operating cost and cumulative net profit."""
    return _one_run(charts.revenue_curves(chart_table(model), stamp(model)))


def operator(model: ParkModel) -> Figure:
    """The operator's revenue, leverage and occupancy."""
    return _one_run(charts.operator_curves(chart_table(model), stamp(model)))


def _one_run(figure: Figure) -> Figure:
    """Drop "(means over replications)" from the title: here there is one run."""
    for part in (figure, *figure.subfigs):
        title = getattr(part, "_suptitle", None)  # matplotlib keeps no public setter
        if title is not None:
            title.set_text(title.get_text().replace(" (means over replications)", ""))
    return figure
