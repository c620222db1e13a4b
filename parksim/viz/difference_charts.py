"""Charts of the paired differences between strategies and the reference.

- :func:`difference_fan`: for each strategy, the paired difference strategy − reference
  over quarters of a cumulative measure (net profit or credit loss): the mean with its
  95 % interval, the middle 90 % of replications' differences, zero, and the break-even
  quarter if there is one.
- :func:`difference_forest`: the headline differences of differences.csv, one panel per
  metric, one row per strategy, each a point with its 95 % interval.

Both are computed from the time-series table with :mod:`parksim.analysis.differences`,
so they show what differences.csv says. Styling is the other charts'
(:mod:`parksim.viz.charts`). Money in 万元.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from parksim.analysis.differences import (
    DIFFERENCE_METRICS,
    breakeven_quarter,
    differences,
    metric_paths,
    paired_difference,
    replications_pair,
    unpaired_difference,
)
from parksim.viz import charts, fonts
from parksim.viz.i18n import metric_title, tr

#: Band of replications' differences drawn around the mean difference.
SPREAD = (0.05, 0.95)


@dataclass(frozen=True)
class DifferenceFan:
    """A cumulative measure whose paired difference is drawn over time."""

    metric: str  # a cumulative metric of DIFFERENCE_METRICS
    title: str
    axis_label: str  # "{money}" stands for the money unit


DIFFERENCE_FANS: dict[str, DifferenceFan] = {
    "cum_net_profit": DifferenceFan(
        "cum_net_profit",
        "Focal bank: cumulative net profit, strategy − reference (higher is better)",
        "strategy − reference ({money})",
    ),
    "cum_credit_loss": DifferenceFan(
        "cum_credit_loss",
        "Focal bank: cumulative credit loss, strategy − reference (lower is better)",
        "strategy − reference ({money})",
    ),
}

#: Metrics of the forest plot, in panel order (those the table has).
FOREST_METRICS: tuple[str, ...] = (
    "cum_net_profit",
    "npv_net_profit",
    "cum_credit_loss",
    "cum_credit_loss_es99",
    "final_npl_ratio",
    "cum_listings",
    "cum_fiscal_cost",
    "final_raroc",
)


def _reference_of(ts: pd.DataFrame, reference: str | None) -> str:
    return str(pd.unique(ts["strategy"])[0]) if reference is None else reference


def difference_fan(
    ts: pd.DataFrame,
    stamp: str,
    measure: str = "cum_net_profit",
    reference: str | None = None,
    discount_rate: float = 0.0,
    lang: str = "en",
    paired: bool | Mapping[str, str] = True,
) -> Figure:
    """One panel per strategy other than the reference, on shared axes: the paired
    difference of ``measure`` (a key of :data:`DIFFERENCE_FANS`) by quarter, its mean
    with a 95 % interval, and the middle 90 % of replications' differences. A strategy
    whose replications do not pair with the reference's (``paired``, as in
    :func:`parksim.analysis.differences.differences`: runs with other seeds) gets the
    difference of the means with Welch's interval and no band of replications."""
    spec = DIFFERENCE_FANS[measure]
    metric = next(m for m in DIFFERENCE_METRICS if m.name == spec.metric)
    reference = _reference_of(ts, reference)
    paths = metric_paths(ts, metric)
    others = [name for name in paths if name != reference]
    titles = {n: f"{fonts.printable(n)} − {fonts.printable(reference)}" for n in others}
    room = charts.panel_width_in(min(3, max(len(others), 1)))
    if any(charts._text_width_in(t, charts.BASE_FONT_PT + 1) > room for t in titles.values()):
        # Long strategy names: the reference on a line of its own, in every panel alike.
        titles = {n: t.replace(" − ", "\n− ") for n, t in titles.items()}
    with charts._style():
        fig, body = charts._new_figure(charts._grid_height(max(len(others), 1)))
        axes, panels = charts._strategy_grid(
            body, max(len(others), 1), xlabel=tr("quarter", lang), sharex=True, sharey=True
        )
        for ax, name in zip(panels, others, strict=False):
            x, r = paths[name], paths[reference]
            quarters = x.columns.to_numpy()
            if replications_pair(paired, name, reference):
                both = x.index.intersection(r.index)
                x, r = x.loc[both], r.loc[both]
                d = (x - r).to_numpy()
                stats = paired_difference(x.to_numpy(), r.to_numpy(), metric.better)
                low, high = np.quantile(d, SPREAD, axis=0)
                ax.fill_between(
                    quarters,
                    low,
                    high,
                    color=charts.FAN_GREYS[0],
                    linewidth=0,
                    label=tr("middle 90 % of replications", lang),
                )
            else:  # independent samples: no replication-by-replication difference
                stats = unpaired_difference(x.to_numpy(), r.to_numpy(), metric.better)
            ax.fill_between(
                quarters,
                stats["ci_low"],
                stats["ci_high"],
                color=charts.FAN_GREYS[1],
                linewidth=0,
                label=tr("95 % interval of the mean", lang),
            )
            ax.plot(
                quarters,
                stats["mean"],
                color="black",
                linewidth=1.4,
                label=tr("mean difference", lang),
            )
            ax.axhline(0, color="0.3", linewidth=0.6, zorder=1)
            even = breakeven_quarter(quarters, stats["ci_low"], stats["ci_high"], metric.better)
            if np.isfinite(even):
                ax.axvline(
                    even, color="0.2", linestyle=":", linewidth=1.0, label=tr("break-even", lang)
                )
            ax.set_title(titles[name], loc="left")
            charts._quarter_axis(ax, lang)
        for ax in axes[:, 0]:
            ax.set_ylabel(tr(spec.axis_label, lang).format(money=charts.money(lang)))
        handles, labels = [], []
        for ax in panels:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                if label not in labels:
                    handles.append(handle)
                    labels.append(label)
        body.legend(handles, labels, loc="outside lower center", ncols=4, handlelength=2.4)
        return charts._finish(fig, stamp, tr(spec.title, lang), lang=lang, legend=False)


def difference_forest(
    ts: pd.DataFrame,
    stamp: str,
    reference: str | None = None,
    discount_rate: float = 0.0,
    table: pd.DataFrame | None = None,
    lang: str = "en",
) -> Figure:
    """The headline differences (:data:`FOREST_METRICS`) of every strategy against the
    reference: one panel per metric, one row per strategy, the mean difference with its
    95 % interval (VaR/ES: paired bootstrap). ``table`` is a differences table already
    computed from ``ts``."""
    reference = _reference_of(ts, reference)
    if table is None:
        table = differences(ts, reference, discount_rate=discount_rate)
    metrics = [m for m in FOREST_METRICS if m in set(table["metric"])]
    names = list(dict.fromkeys(table["strategy"]))
    ncols = min(3, len(metrics))
    nrows = -(-len(metrics) // ncols)
    shown = [fonts.printable(n) for n in names]
    room = charts.panel_width_in(ncols, shown)
    height = 1.2 + nrows * (0.75 + 0.22 * len(names))
    with charts._style():
        fig, body = charts._new_figure(height)
        axes = body.subplots(nrows, ncols, squeeze=False, sharey=True)
        y = np.arange(len(names))[::-1]
        for ax, metric in zip(axes.flat, metrics, strict=False):
            rows = table[table["metric"] == metric].set_index("strategy").reindex(names)
            scale = 100.0 if rows["unit"].iloc[0] == "share" else 1.0
            mean = rows["mean"].to_numpy() * scale
            err = np.vstack(
                [
                    mean - rows["ci_low"].to_numpy() * scale,
                    rows["ci_high"].to_numpy() * scale - mean,
                ]
            )
            ax.errorbar(
                mean,
                y,
                xerr=np.clip(err, 0, None),
                fmt="o",
                color="black",
                markersize=4,
                elinewidth=0.9,
                capsize=2.5,
                linestyle="none",
            )
            ax.axvline(0, color="0.4", linewidth=0.6, zorder=0)
            unit = "percentage points" if scale == 100.0 else rows["unit"].iloc[0]
            better = rows["better"].iloc[0]
            title = charts.wrap_text(metric_title(metric, lang), room, charts.BASE_FONT_PT + 1)
            ax.set_title("\n".join([*title, tr(f"{better} is better", lang)]), loc="left")
            # Three bins: four labels such as 160,000 touch in a third of the page.
            ax.xaxis.set_major_locator(MaxNLocator(nbins=3))
            drawn = rows[["mean", "ci_low", "ci_high"]].to_numpy(dtype=float)
            drawn = drawn[np.isfinite(drawn)]
            if drawn.size and np.all(drawn == 0.0):
                # A metric no strategy moves (no policy, so no fiscal cost): say so, rather
                # than ticks of ±0.03 around nothing.
                ax.set_xlim(-1.0, 1.0)
                ax.set_xticks([0.0])
                ax.text(
                    0.54,
                    0.5,
                    tr("0 in every replication", lang),
                    transform=ax.transAxes,
                    ha="left",
                    va="center",
                    color="0.35",
                )
            ax.set_xlabel(tr(unit, lang))
            ax.grid(axis="y", visible=False)
        for ax in axes.flat[len(metrics) :]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_yticks(y, shown)
        title = tr("Differences from {reference} with 95 % intervals (paired by replication)", lang)
        return charts._finish(
            fig, stamp, title.format(reference=reference), lang=lang, legend=False
        )


#: The difference charts of a run, by file name; each is called as
#: ``chart(ts, stamp, reference=..., discount_rate=...)``.
DIFFERENCE_CHARTS: dict[str, Callable[..., Figure]] = {
    **{
        f"difference_fan_{m}": functools.partial(difference_fan, measure=m) for m in DIFFERENCE_FANS
    },
    "difference_forest": difference_forest,
}


def difference_figures(
    ts: pd.DataFrame,
    stamp: Callable[[str], str],
    reference: str,
    discount_rate: float = 0.0,
    table: pd.DataFrame | None = None,
    paired: bool | Mapping[str, str] = True,
) -> dict[str, Callable[[str], Figure]]:
    """The difference charts of one table as name → draw(lang), ``stamp(lang)`` the
    provenance line; none when there is no other strategy to compare with the reference.
    ``paired`` says which strategies' replications pair (a comparison of runs with other
    seeds pairs only within a run); the forest reads it from ``table``."""
    if len(pd.unique(ts["strategy"])) < 2:
        return {}
    return {
        name: functools.partial(
            _draw,
            chart,
            ts,
            stamp,
            reference,
            discount_rate,
            {"table": table} if "forest" in name and table is not None else {},
            {} if "forest" in name else {"paired": paired},
        )
        for name, chart in DIFFERENCE_CHARTS.items()
    }


def _draw(chart, ts, stamp, reference, discount_rate, table, pairing, lang: str = "en") -> Figure:
    return chart(
        ts,
        stamp(lang),
        reference=reference,
        discount_rate=discount_rate,
        lang=lang,
        **table,
        **pairing,
    )
