"""Print-ready charts of the time-series table.

Two kinds of chart: *mean curves* put every strategy's mean over replications on shared
axes (one line style and marker per strategy); *distributions* show the spread over
replications, one small panel per strategy on shared axes (fan charts of the median
with the middle 50 % and 90 % of replications, histograms of the cumulative loss) or one
point per strategy with its uncertainty (risk against return).

Every figure is built with :class:`matplotlib.figure.Figure` directly (no pyplot), so
no figure registry or GUI backend is involved and charts can be drawn in worker
processes. (Styling uses ``matplotlib.rc_context``, which is process-global: draw from
one thread per process.) Figures are 18 cm wide, use fonts of at least 8 pt and
read in greyscale: each strategy has its own line style *and* marker on top of a
colour-blind-safe palette.

Money is in 万元 (10,000 RMB). 万元 needs a CJK font; when none is installed the axis
labels fall back to ``10k CNY`` (see :func:`unit_label`) so no glyph goes missing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

from parksim.reporting.columns import STAGES, column
from parksim.reporting.summary import (
    KEYS,
    cumulative,
    expected_shortfall,
    per_replication,
    strategy_order,
    value_at_risk,
)
from parksim.reporting.summary import risk_return as summary_risk_return

PAGE_WIDTH_IN = 7.1  # 18 cm, the text width of an A4 page with normal margins
BASE_FONT_PT = 8.0
FOOTER_IN = 0.25  # height of the footer strip holding the stamp
MAX_PANELS_PER_ROW = 3
#: Quantiles across replications drawn by fan charts: 90 % band, 50 % band, median.
FAN_QUANTILES: tuple[float, ...] = (0.05, 0.25, 0.5, 0.75, 0.95)
FAN_GREYS: tuple[str, ...] = ("0.86", "0.62")  # 90 % band, 50 % band
REVENUE_LINES: tuple[str, ...] = (
    "net_interest_income",
    "fee_income",
    "equity_income",
    "personal_finance_income",
)

CJK_FONTS: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
)

# Tol's high-contrast scheme (black, dark blue, rose, ochre) separates in greyscale;
# the tail (Okabe-Ito green, sky blue, grey) is only needed for many strategies.
PALETTE: tuple[str, ...] = (
    "#000000",
    "#004488",
    "#BB5566",
    "#DDAA33",
    "#009E73",
    "#56B4E9",
    "#777777",
)
LINESTYLES: tuple = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X")
# Grey levels and hatches for the stacked stage areas, light (early) to dark (listed).
STAGE_GREYS: tuple[str, ...] = ("0.92", "0.78", "0.60", "0.40", "0.18")
STAGE_HATCHES: tuple[str, ...] = ("", "///", "...", "\\\\\\", "")

# --- fonts and labels --------------------------------------------------------


@functools.cache
def cjk_font() -> str | None:
    """Name of an installed font with CJK glyphs, or None."""
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def unit_label(unit: str) -> str:
    """Unit text for an axis label: ``万元`` if a CJK font is installed, else ``10k CNY``."""
    if cjk_font() is None:
        return unit.replace("万元", "10k CNY")
    return unit


def money_note() -> str:
    """Footer note on the money unit, spelled without glyphs the fonts lack."""
    return "money in 万元 (10k CNY)" if cjk_font() else "money in 10k CNY (wàn yuán)"


def _font_families() -> list[str]:
    # Matplotlib falls back glyph by glyph along this list, so Latin text keeps
    # DejaVu Sans and only the CJK characters come from the CJK font.
    cjk = cjk_font()
    return ["DejaVu Sans", cjk] if cjk else ["DejaVu Sans"]


def _printable(text: str) -> str:
    """``text`` with characters no configured font can draw replaced by ``?``.

    The stamp comes from the caller (scenario names may be Chinese); replacing is
    better than matplotlib's "Glyph missing" warning and an empty box in print.
    """
    if cjk_font() is None:
        text = text.replace("万元", "10k CNY")
    fonts = [
        font_manager.get_font(font_manager.findfont(font_manager.FontProperties(family=f)))
        for f in _font_families()
    ]
    return "".join(
        c if c.isspace() or any(f.get_char_index(ord(c)) for f in fonts) else "?" for c in text
    )


def _label(name: str, *, cumulative_: bool = False, percent: bool = False) -> str:
    """Axis label ``<name> (<unit>)`` from the column table."""
    col = column(name)
    unit = "%" if percent else unit_label(col.unit)
    title = f"cumulative {name}" if cumulative_ else name
    return f"{title.replace('_', ' ')} ({unit})"


@contextmanager
def _style() -> Iterator[None]:
    """Print style plus settings that make SVG and PNG bytes reproducible."""
    rc = {
        "font.family": _font_families(),
        "font.size": BASE_FONT_PT,
        "axes.titlesize": BASE_FONT_PT + 1,
        "axes.labelsize": BASE_FONT_PT,
        "xtick.labelsize": BASE_FONT_PT,
        "ytick.labelsize": BASE_FONT_PT,
        "legend.fontsize": BASE_FONT_PT,
        "figure.titlesize": BASE_FONT_PT + 2,
        "axes.linewidth": 0.6,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "0.88",
        "grid.linewidth": 0.5,
        "lines.linewidth": 1.2,
        "lines.markersize": 3.5,
        "hatch.linewidth": 0.5,
        "hatch.color": "0.25",
        "legend.frameon": False,
        # Fixed salt: SVG element ids are otherwise random per run.
        "svg.hashsalt": "parksim",
        "svg.fonttype": "path",
        "axes.formatter.use_mathtext": False,
        "axes.unicode_minus": True,
    }
    with mpl.rc_context(rc):
        yield


# --- data --------------------------------------------------------------------


def _means(ts: pd.DataFrame, value: str) -> dict[str, pd.Series]:
    """Per strategy: the mean of ``value`` across replications, by quarter."""
    frame = ts[["strategy", "quarter", value]]
    means = frame.groupby(["strategy", "quarter"], sort=True, observed=True)[value].mean()
    return {s: means.xs(s, level="strategy") for s in strategy_order(ts)}


def _fan_quantiles(ts: pd.DataFrame, value: str) -> dict[str, pd.DataFrame]:
    """Per strategy: the :data:`FAN_QUANTILES` of ``value`` across replications, by quarter."""
    frame = ts[["strategy", "quarter", value]]
    g = frame.groupby(["strategy", "quarter"], sort=True, observed=True)[value]
    stats = pd.DataFrame({q: g.quantile(q) for q in FAN_QUANTILES})
    return {s: stats.xs(s, level="strategy") for s in strategy_order(ts)}


def _with_cumulative(ts: pd.DataFrame, flows: tuple[str, ...], name: str) -> pd.DataFrame:
    """Keys, quarter and ``name``: the running sum of the sum of ``flows`` (万元 to date)."""
    frame = ts[[*KEYS, "quarter"]].copy()
    frame["flow"] = ts[list(flows)].sum(axis=1)
    frame = cumulative(frame, "flow")
    return frame.rename(columns={"cum_flow": name})


def _style_of(i: int, n_points: int) -> dict:
    """Line properties of the i-th strategy."""
    # About eight markers per line, staggered so strategies' markers do not stack.
    step = max(1, n_points // 8)
    return {
        "color": PALETTE[i % len(PALETTE)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
        "marker": MARKERS[i % len(MARKERS)],
        "markevery": (min(i % step, max(n_points - 1, 0)), step),
        "markerfacecolor": "white" if i % 2 else PALETTE[i % len(PALETTE)],
        "markeredgewidth": 0.9,
    }


def _mean_plot(ax: Axes, ts: pd.DataFrame, value: str, *, scale: float = 1.0) -> None:
    """One mean line across replications per strategy, each in its own style."""
    for i, (name, means) in enumerate(_means(ts, value).items()):
        x = means.index.to_numpy()
        ax.plot(x, means.to_numpy() * scale, label=name, **_style_of(i, len(x)))


# --- layout ------------------------------------------------------------------


def _new_figure(height_in: float) -> tuple[Figure, SubFigure]:
    """A page-wide figure split into a body for the panels and a footer strip."""
    fig = Figure(figsize=(PAGE_WIDTH_IN, height_in), layout="constrained")
    # A separate footer subfigure: constrained layout does not stack the margins of
    # figure-level texts and outside legends on one edge, so they would overlap.
    body, _footer = fig.subfigures(2, 1, height_ratios=(height_in - FOOTER_IN, FOOTER_IN))
    fig.get_layout_engine().set(h_pad=0.03, w_pad=0.04, hspace=0.03, wspace=0.02)
    return fig, body


def _legend_columns(n_entries: int, most: int = 4) -> int:
    """Columns that spread legend entries evenly over the fewest rows."""
    rows = -(-n_entries // most)
    return -(-n_entries // rows)


def _finish(
    fig: Figure,
    stamp: str,
    title: str,
    *,
    legend: bool = True,
    extra: tuple[list, list[str]] = ([], []),
) -> Figure:
    """Title, legend below the panels (the first panel's entries, then ``extra``), stamp."""
    body, footer = fig.subfigs
    body.suptitle(title, x=0.01, ha="left", fontweight="bold")
    _group_money_ticks(body)
    if legend:
        handles, labels = body.axes[0].get_legend_handles_labels()
        handles, labels = [*handles, *extra[0]], [*labels, *extra[1]]
        body.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=_legend_columns(len(labels)),
            handlelength=3.2,
        )
    footer.text(
        0.01,
        0.5,
        _printable(f"{stamp} · {money_note()}"),
        ha="left",
        va="center",
        fontsize=BASE_FONT_PT,
        color="0.35",
    )
    return fig


def _grouped(value: float, _position: int | None = None) -> str:
    """Tick label with thousands separators (400,000) and a true minus sign."""
    return f"{value:,.12g}".replace("-", "\N{MINUS SIGN}")


def _group_money_ticks(body: SubFigure) -> None:
    """Thousands separators on every axis labelled in money (shared axes follow)."""
    money = unit_label("万元")
    for ax in body.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if money in axis.get_label_text():
                axis.set_major_formatter(FuncFormatter(_grouped))


def _quarter_axis(ax: Axes) -> None:
    # Panels share x; only the bottom row needs the label.
    if ax.get_subplotspec().is_last_row():
        ax.set_xlabel("quarter")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.margins(x=0.02)


def _strategy_grid(
    body: SubFigure, n: int, *, xlabel: str = "quarter", **shared
) -> tuple[np.ndarray, list[Axes]]:
    """Small multiples: one panel per strategy, at most three a row, rows filled evenly
    (4 strategies: 2×2, not 3 + 1). Returns the grid and its panels in strategy order.
    Bottom panels get ``xlabel``; empty slots are hidden and the panel above one gets
    the x tick labels and ``xlabel``."""
    nrows = -(-n // MAX_PANELS_PER_ROW)
    ncols = -(-n // nrows)
    axes = body.subplots(nrows, ncols, squeeze=False, **shared)
    for ax in axes[-1, :]:
        ax.set_xlabel(xlabel)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
        spec = ax.get_subplotspec()
        above = axes[spec.rowspan.start - 1, spec.colspan.start]
        above.xaxis.set_tick_params(labelbottom=True)
        above.set_xlabel(xlabel)
    return axes, list(axes.flat[:n])


def _grid_height(n: int, row_in: float = 2.0, extra_in: float = 1.1) -> float:
    return extra_in + row_in * -(-n // MAX_PANELS_PER_ROW)


# --- mean curves ---------------------------------------------------------------


def risk_curves(ts: pd.DataFrame, stamp: str) -> Figure:
    """2×2 panels, mean over replications per strategy: exposure, NPL ratio (%),
    cumulative credit loss, defaults per quarter. The spread is in the fan charts."""
    with _style():
        fig, body = _new_figure(6.2)
        axes = body.subplots(2, 2, sharex=True)
        data = cumulative(
            ts[[*KEYS, "quarter", "exposure", "npl_ratio", "defaults", "credit_loss"]],
            ["credit_loss"],
        )
        panels = [
            ("exposure", 1.0, _label("exposure")),
            ("npl_ratio", 100.0, _label("npl_ratio", percent=True)),
            ("cum_credit_loss", 1.0, _label("credit_loss", cumulative_=True)),
            ("defaults", 1.0, "defaults per quarter (loans)"),
        ]
        for ax, (value, scale, label) in zip(axes.flat, panels, strict=True):
            _mean_plot(ax, data, value, scale=scale)
            ax.set_ylabel(label)
            _quarter_axis(ax)
        return _finish(fig, stamp, "Focal bank: credit risk by strategy (means over replications)")


def revenue_curves(ts: pd.DataFrame, stamp: str) -> Figure:
    """2×3 panels, mean over replications per strategy: NII, fees, equity, personal
    finance, operating cost, cumulative net profit. The spread is in the fan charts."""
    with _style():
        fig, body = _new_figure(5.6)
        axes = body.subplots(2, 3, sharex=True)
        money = unit_label("万元")
        # Long names: the panel title carries the name, the y label only the unit.
        panels = [
            ("net_interest_income", "net interest income", f"{money} per quarter"),
            ("fee_income", "fee income", f"{money} per quarter"),
            ("equity_income", "equity income", f"{money} per quarter"),
            ("personal_finance_income", "personal finance income", f"{money} per quarter"),
            ("operating_cost", "operating cost", f"{money} per quarter"),
            ("cum_net_profit", "cumulative net profit", money),
        ]
        data = cumulative(
            ts[[*KEYS, "quarter", *(p[0] for p in panels[:-1]), "net_profit"]], ["net_profit"]
        )
        for ax, (value, title, unit) in zip(axes.flat, panels, strict=True):
            _mean_plot(ax, data, value)
            ax.set_title(title, loc="left")
            ax.set_ylabel(unit)
            _quarter_axis(ax)
        axes[1, 2].axhline(0, color="0.4", linewidth=0.6, zorder=0)
        return _finish(
            fig, stamp, "Focal bank: revenue and cost by strategy (means over replications)"
        )


def operator_curves(ts: pd.DataFrame, stamp: str) -> Figure:
    """Three panels, mean over replications per strategy: operator revenue, operator
    leverage (%), occupancy (%)."""
    with _style():
        fig, body = _new_figure(3.2)
        axes = body.subplots(1, 3, sharex=True)
        panels = [
            ("operator_revenue", 1.0, "operator revenue", f"{unit_label('万元')} per quarter"),
            ("operator_leverage", 100.0, "operator leverage", "debt / total assets (%)"),
            ("occupancy", 100.0, "occupancy", "occupied / total floor area (%)"),
        ]
        for ax, (value, scale, title, unit) in zip(axes.flat, panels, strict=True):
            _mean_plot(ax, ts, value, scale=scale)
            ax.set_title(title, loc="left")
            ax.set_ylabel(unit)
            _quarter_axis(ax)
        return _finish(fig, stamp, "Park operator by strategy (means over replications)")


# --- distributions over replications ---------------------------------------------


@dataclass(frozen=True)
class FanMeasure:
    """A curve drawn as a fan chart: a stock column, or the running sum of flows."""

    title: str
    axis_label: str  # "{money}" stands for the money unit (unit_label)
    column: str | None = None  # a stock column of the table, or
    flows: tuple[str, ...] = ()  # per-quarter flows (万元) whose running sum is drawn
    scale: float = 1.0


FAN_MEASURES: dict[str, FanMeasure] = {
    "npl_ratio": FanMeasure(
        "Focal bank: NPL ratio", "NPL ratio (%)", column="npl_ratio", scale=100.0
    ),
    "cum_credit_loss": FanMeasure(
        "Focal bank: cumulative credit loss",
        "cumulative credit loss ({money})",
        flows=("credit_loss",),
    ),
    "cum_revenue": FanMeasure(
        "Focal bank: cumulative revenue (interest, fees, equity and personal finance)",
        "cumulative revenue ({money})",
        flows=REVENUE_LINES,
    ),
    "cum_net_profit": FanMeasure(
        "Focal bank: cumulative net profit",
        "cumulative net profit ({money})",
        flows=("net_profit",),
    ),
}


def fan_chart(ts: pd.DataFrame, stamp: str, measure: str = "cum_credit_loss") -> Figure:
    """One panel per strategy on shared axes: the median across replications with the
    bands holding the middle 50 % and 90 % of them, by quarter. ``measure`` is a key of
    :data:`FAN_MEASURES`."""
    spec = FAN_MEASURES[measure]
    if spec.column is not None:
        data, value = ts[["strategy", "quarter", spec.column]], spec.column
    else:
        data, value = _with_cumulative(ts, spec.flows, measure), measure
    fans = _fan_quantiles(data, value)
    q5, q25, q50, q75, q95 = FAN_QUANTILES
    with _style():
        fig, body = _new_figure(_grid_height(len(fans)))
        axes, panels = _strategy_grid(body, len(fans), sharex=True, sharey=True)
        for ax, (name, stats) in zip(panels, fans.items(), strict=True):
            x = stats.index.to_numpy()
            band = {"linewidth": 0}
            ax.fill_between(
                x,
                stats[q5] * spec.scale,
                stats[q95] * spec.scale,
                color=FAN_GREYS[0],
                label="middle 90 % of replications",
                **band,
            )
            ax.fill_between(
                x,
                stats[q25] * spec.scale,
                stats[q75] * spec.scale,
                color=FAN_GREYS[1],
                label="middle 50 %",
                **band,
            )
            ax.plot(x, stats[q50] * spec.scale, color="black", linewidth=1.4, label="median")
            ax.set_title(name, loc="left")
            _quarter_axis(ax)
        for ax in axes[:, 0]:
            ax.set_ylabel(spec.axis_label.format(money=unit_label("万元")))
        # Median first in the legend: it is what the eye follows.
        handles, labels = panels[0].get_legend_handles_labels()
        body.legend(
            handles[::-1], labels[::-1], loc="outside lower center", ncols=3, handlelength=2.4
        )
        return _finish(fig, stamp, spec.title, legend=False)


def loss_distribution(ts: pd.DataFrame, stamp: str) -> Figure:
    """One histogram per strategy on shared axes: cumulative credit loss over the horizon,
    as a share of replications on a log scale (so the tail shows next to the bulk), with
    the expected loss, VaR and ES at 99 % marked."""
    per = per_replication(ts)
    losses = {
        name: g["cum_credit_loss"].to_numpy()
        for name, g in per.groupby(level="strategy", sort=False)
    }
    largest_n = max(len(v) for v in losses.values())
    bins = int(np.clip(round(2 * np.sqrt(largest_n)), 15, 60))
    edges = np.histogram_bin_edges(np.concatenate(list(losses.values())), bins=bins)
    xlabel = _label("credit_loss", cumulative_=True)
    with _style():
        fig, body = _new_figure(_grid_height(len(losses)))
        axes, panels = _strategy_grid(body, len(losses), xlabel=xlabel, sharex=True, sharey=True)
        for ax, (name, values) in zip(panels, losses.items(), strict=True):
            share = np.full(len(values), 100.0 / len(values))
            ax.hist(values, bins=edges, weights=share, color="0.75", edgecolor="0.3", linewidth=0.4)
            markers = [
                (values.mean(), "-", "expected loss (mean)"),
                (value_at_risk(values, 0.99), "--", "VaR 99 %"),
                (expected_shortfall(values, 0.99), ":", "expected shortfall 99 %"),
            ]
            for x, style, label in markers:
                ax.axvline(x, color="black", linestyle=style, linewidth=1.2, label=label)
            ax.set_title(name, loc="left")
        ax = panels[0]
        ax.set_yscale("log")
        ax.set_ylim(50.0 / largest_n, 100.0)
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_major_formatter(FuncFormatter(_grouped))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        for ax in axes[:, 0]:
            ax.set_ylabel("replications (%, log scale)")
        handles, labels = panels[0].get_legend_handles_labels()
        body.legend(handles, labels, loc="outside lower center", ncols=3, handlelength=3.2)
        return _finish(
            fig,
            stamp,
            "Focal bank: distribution of cumulative credit loss over replications",
            legend=False,
        )


def risk_return(ts: pd.DataFrame, stamp: str) -> Figure:
    """Mean cumulative net profit (y) against the 99 % expected shortfall of cumulative
    credit loss (x), one point per strategy; bars show a 95 % interval of the mean profit
    and a 90 % bootstrap interval of the ES."""
    table = summary_risk_return(per_replication(ts), level=0.99)
    money = unit_label("万元")
    with _style():
        fig, body = _new_figure(4.4)
        ax = body.subplots()
        for i, (name, row) in enumerate(table.iterrows()):
            style = _style_of(i, 1)
            # A bootstrap percentile interval of a tail statistic need not contain the
            # point estimate (resampled ES is biased low); the bar then ends at the point.
            es_below = max(row["es"] - row["es_low"], 0.0)
            es_above = max(row["es_high"] - row["es"], 0.0)
            ax.errorbar(
                row["es"],
                row["profit_mean"],
                xerr=[[es_below], [es_above]],
                yerr=[
                    [row["profit_mean"] - row["profit_low"]],
                    [row["profit_high"] - row["profit_mean"]],
                ],
                fmt=style["marker"],
                color=style["color"],
                markerfacecolor=style["markerfacecolor"],
                markeredgewidth=style["markeredgewidth"],
                markersize=6,
                elinewidth=0.8,
                capsize=2.5,
                linestyle="none",
                label=name,
            )
        ax.axhline(0, color="0.4", linewidth=0.6, zorder=0)
        ax.set_title(
            "bars: 90 % bootstrap interval of the ES (across), "
            "95 % interval of the mean profit (up)",
            loc="left",
            color="0.3",
        )
        ax.set_xlabel(f"expected shortfall 99 % of cumulative credit loss ({money}): risk")
        ax.set_ylabel(f"mean cumulative net profit ({money}): return")
        ax.margins(0.08)
        return _finish(
            fig,
            stamp,
            "Focal bank: return against tail risk by strategy (up and left is better)",
        )


def stage_mix(ts: pd.DataFrame, stamp: str) -> Figure:
    """One panel per strategy: stacked areas of mean firms per life-cycle stage."""
    order = strategy_order(ts)
    stage_cols = [f"n_{s}" for s in STAGES]
    frame = ts[["strategy", "quarter", *stage_cols]]
    means = frame.groupby(["strategy", "quarter"], sort=True, observed=True)[stage_cols].mean()

    with _style():
        fig, body = _new_figure(_grid_height(len(order), row_in=2.3, extra_in=1.0))
        axes, panels = _strategy_grid(body, len(order), sharex=True, sharey=True)
        for ax, name in zip(panels, order, strict=True):
            m = means.xs(name, level="strategy")
            polys = ax.stackplot(
                m.index.to_numpy(),
                *(m[c].to_numpy() for c in stage_cols),
                labels=[s.replace("_", "-") for s in STAGES],
                colors=STAGE_GREYS,
                edgecolor="0.2",
                linewidth=0.4,
            )
            for poly, hatch in zip(polys, STAGE_HATCHES, strict=True):
                poly.set_hatch(hatch)
            ax.set_title(name, loc="left")
            ax.grid(False)
            ax.set_axisbelow(False)
            _quarter_axis(ax)
        for ax in axes[:, 0]:
            ax.set_ylabel("mean enterprises (firms)")
        handles, labels = panels[0].get_legend_handles_labels()
        # Stack order bottom-up; list the legend top-down so it matches the picture.
        body.legend(
            handles[::-1],
            labels[::-1],
            loc="outside right upper",
            title="stage",
            title_fontsize=BASE_FONT_PT,
        )
        return _finish(fig, stamp, "Park: enterprises by life-cycle stage", legend=False)


CHARTS: dict[str, Callable[[pd.DataFrame, str], Figure]] = {
    "risk_curves": risk_curves,
    "revenue_curves": revenue_curves,
    **{f"fan_{m}": functools.partial(fan_chart, measure=m) for m in FAN_MEASURES},
    "loss_distribution": loss_distribution,
    "risk_return": risk_return,
    "stage_mix": stage_mix,
    "operator_curves": operator_curves,
}
FIGURE_NAMES: tuple[str, ...] = tuple(CHARTS)


def save_all(ts: pd.DataFrame, out_dir: Path, stamp: str) -> list[Path]:
    """Write every chart as PNG (200 dpi) and SVG into ``out_dir``; return the paths.

    Output bytes depend only on the data and the stamp: SVG ids use a fixed salt and
    neither format records a date or software version.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name, chart in CHARTS.items():
        fig = chart(ts, stamp)
        try:
            with _style():
                png = out_dir / f"{name}.png"
                fig.savefig(png, format="png", dpi=200, metadata={"Software": None})
                svg = out_dir / f"{name}.svg"
                fig.savefig(svg, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            # A Figure made without pyplot has no manager; dropping the artists is the
            # "close" that frees its memory promptly.
            fig.clear()
        paths += [png, svg]
    return paths
