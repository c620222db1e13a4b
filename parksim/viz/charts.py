"""Print-ready charts of the time-series table, in English or Chinese.

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

Every chart takes ``lang="en"`` or ``"zh"``; its words come from
:mod:`parksim.viz.i18n`, its Chinese glyphs from the font that ships with parksim
(:mod:`parksim.viz.fonts`). Money is in 万元 (10,000 RMB). Flows (income, cost,
defaults per quarter) are drawn from quarter 1: the quarter-0 row is the park at the
start, where every flow is zero, and drawing it would put a false jump at the origin.
"""

from __future__ import annotations

import functools
import io
import pickle
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullFormatter,
    ScalarFormatter,
)

from parksim.analysis.summary import (
    INTERVAL,
    KEYS,
    cumulative,
    expected_shortfall,
    per_replication,
    strategy_order,
    value_at_risk,
)
from parksim.analysis.summary import risk_return as summary_risk_return
from parksim.core.codes import STAGES
from parksim.viz import fonts
from parksim.viz.i18n import check_lang, tr

PAGE_WIDTH_IN = 7.1  # 18 cm, the text width of an A4 page with normal margins
BASE_FONT_PT = 8.0
FOOTER_IN = 0.25  # height of the footer strip holding the stamp
NOTE_IN = 0.17  # extra footer height per line of note
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
#: Formats `save_all` and `parksim plot` write; PNG resolution for print.
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
PNG_DPI = 200
#: Metadata that would otherwise put a date or a version into the file.
FIXED_METADATA: dict[str, dict] = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}

# Tol's high-contrast scheme (black, dark blue, rose, ochre) separates in greyscale;
# the tail (Okabe-Ito green, sky blue, grey, vermillion) is only needed for many strategies.
PALETTE: tuple[str, ...] = (
    "#000000",
    "#004488",
    "#BB5566",
    "#DDAA33",
    "#009E73",
    "#56B4E9",
    "#777777",
    "#D55E00",
)
# Eight styles: upgrade_paths has eight strategies, and a ninth would repeat the first.
LINESTYLES: tuple = (
    "-",
    "--",
    ":",
    "-.",
    (0, (5, 1, 1, 1, 1, 1)),
    (0, (1, 1)),
    (0, (8, 2)),
    (0, (3, 1, 3, 1, 1, 1)),
)
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")

# --- fonts and labels --------------------------------------------------------


def money(lang: str = "en") -> str:
    """The money unit as printed: 万元 in both languages (the CJK font ships)."""
    return tr("万元", lang)


def money_note(lang: str = "en") -> str:
    """Footer note on the money unit."""
    return tr("money in 万元 (10k CNY)", lang)


@contextmanager
def _style() -> Iterator[None]:
    """Print style plus settings that make SVG and PNG bytes reproducible."""
    rc = {
        # Matplotlib falls back glyph by glyph along this list, so Latin text keeps
        # DejaVu Sans and only the CJK characters come from the shipped CJK font.
        "font.family": fonts.families(),
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
        # Glyphs as paths: the SVG shows the shipped font wherever it is opened.
        "svg.fonttype": "path",
        # TrueType (Type 42) subsets: text in the PDF stays text, with the fonts embedded.
        "pdf.fonttype": 42,
        "axes.formatter.use_mathtext": False,
        "axes.unicode_minus": True,
    }
    with mpl.rc_context(rc):
        yield


# --- data --------------------------------------------------------------------


def _means(ts: pd.DataFrame, value: str, first_quarter: int = 0) -> dict[str, pd.Series]:
    """Per strategy: the mean of ``value`` across replications, by quarter."""
    frame = ts.loc[ts["quarter"] >= first_quarter, ["strategy", "quarter", value]]
    means = frame.groupby(["strategy", "quarter"], sort=True, observed=True)[value].mean()
    return {s: means.xs(s, level="strategy") for s in strategy_order(ts)}


def _fan_quantiles(ts: pd.DataFrame, value: str) -> dict[str, pd.DataFrame]:
    """Per strategy: the :data:`FAN_QUANTILES` of ``value`` across replications and their
    mean (column ``"mean"``), by quarter."""
    frame = ts[["strategy", "quarter", value]]
    g = frame.groupby(["strategy", "quarter"], sort=True, observed=True)[value]
    stats = pd.DataFrame({q: g.quantile(q) for q in FAN_QUANTILES})
    stats["mean"] = g.mean()
    return {s: stats.xs(s, level="strategy") for s in strategy_order(ts)}


def _with_cumulative(ts: pd.DataFrame, flows: tuple[str, ...], name: str) -> pd.DataFrame:
    """Keys, quarter and ``name``: the running sum of the sum of ``flows`` (万元 to date)."""
    frame = ts[[*KEYS, "quarter"]].copy()
    frame["flow"] = ts[list(flows)].sum(axis=1)
    frame = cumulative(frame, "flow")
    return frame.rename(columns={"cum_flow": name})


def _trailing_mean(ts: pd.DataFrame, column: str, quarters: int) -> pd.DataFrame:
    """Keys, quarter (from 1) and ``column``: each replication's mean of ``column`` over
    the last ``quarters`` quarters (fewer at the start)."""
    frame = ts.loc[ts["quarter"] >= 1, [*KEYS, "quarter", column]]
    frame = frame.sort_values([*KEYS, "quarter"], kind="stable")
    # One grouped rolling pass (not a Python call per replication); within a group pandas
    # adds and drops values in the same order, so the means are the same to the bit.
    rolled = (
        frame.groupby(list(KEYS), sort=False, observed=True)[column]
        .rolling(quarters, min_periods=1)
        .mean()
    )
    return frame.assign(**{column: rolled.to_numpy()})


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


def _mean_plot(
    ax: Axes, ts: pd.DataFrame, value: str, *, scale: float = 1.0, flow: bool = False
) -> None:
    """One mean line across replications per strategy, each in its own style; a flow
    starts at quarter 1 (at quarter 0 every flow is zero)."""
    means = _means(ts, value, first_quarter=1 if flow else 0)
    for i, (name, series) in enumerate(means.items()):
        x = series.index.to_numpy()
        label = fonts.printable(name)
        ax.plot(x, series.to_numpy() * scale, label=label, **_style_of(i, len(x)))


# --- layout ------------------------------------------------------------------


def _new_figure(height_in: float, notes: int = 0) -> tuple[Figure, SubFigure]:
    """A page-wide figure split into a body for the panels and a footer strip that
    holds ``notes`` lines of notes above the stamp."""
    footer_in = FOOTER_IN + NOTE_IN * notes
    fig = Figure(figsize=(PAGE_WIDTH_IN, height_in + NOTE_IN * notes), layout="constrained")
    # A separate footer subfigure: constrained layout does not stack the margins of
    # figure-level texts and outside legends on one edge, so they would overlap.
    body, _footer = fig.subfigures(2, 1, height_ratios=(height_in - FOOTER_IN, footer_in))
    fig.get_layout_engine().set(h_pad=0.03, w_pad=0.04, hspace=0.03, wspace=0.02)
    return fig, body


def _text_width_in(text: str, size_pt: float = BASE_FONT_PT) -> float:
    """Rough printed width of ``text``: wide (CJK) characters 1 em, others 0.6 em."""
    ems = sum(1.0 if ord(c) > 0x2E80 else 0.6 for c in text)
    return ems * size_pt / 72.0


#: Chinese punctuation that must not begin a line: it stays at the end of the last one.
_NO_LINE_START = "，。；：、）》」！？%"


def wrap_text(text: str, room_in: float, size_pt: float = BASE_FONT_PT) -> list[str]:
    """``text`` broken into lines no wider than ``room_in``: English at spaces (not at
    no-break spaces), Chinese between characters, never before closing punctuation."""
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[\u2e80-\uffff]|[^ \u2e80-\uffff]+ *| +", text):
        fits = _text_width_in((line + token).rstrip(), size_pt) <= room_in
        if line.strip() and not fits and token[0] not in _NO_LINE_START:
            lines.append(line.rstrip())
            line = token.lstrip()
        else:
            line += token
    lines.append(line.rstrip())
    return lines


def wrap_notes(notes: Sequence[str], room_in: float = 0.97 * PAGE_WIDTH_IN) -> list[str]:
    """``notes`` broken into lines that fit the page. The footer is sized by the number
    of lines, so none runs off the page."""
    return [line for note in notes for line in wrap_text(note, room_in)]


def panel_width_in(columns: int, ytick_labels: Sequence[str] = ()) -> float:
    """Rough width of one of ``columns`` panels side by side on the page, when the first
    column carries ``ytick_labels`` (constrained layout makes the panels equal)."""
    labels_in = max((_text_width_in(t) for t in ytick_labels), default=0.0)
    return (PAGE_WIDTH_IN - 0.35 - labels_in) / columns


def legend_columns(labels: Sequence[str], most: int = 4, handle_em: float = 3.2) -> int:
    """Columns that fit the legend entries on the page and spread them evenly over the
    fewest rows (4 entries: 4 columns if they fit, else 2 × 2; never one cut off).

    Matplotlib fills the columns in order (as ``np.array_split``) and makes each as wide
    as its widest entry, so a long label widens only its own column.
    """
    if not labels:
        return 1
    # handle, the gap after it and the spacing between columns, in em
    pad_in = (handle_em + 0.8 + 2.0) * BASE_FONT_PT / 72
    widths = np.array([_text_width_in(t) + pad_in for t in labels])

    def fits(columns: int) -> bool:
        parts = np.array_split(widths, columns)
        return sum(p.max() for p in parts if p.size) <= 0.94 * PAGE_WIDTH_IN

    widest = max((n for n in range(1, min(most, len(labels)) + 1) if fits(n)), default=1)
    rows = -(-len(labels) // widest)
    even = -(-len(labels) // rows)
    return even if fits(even) else widest


def _finish(
    fig: Figure,
    stamp: str,
    title: str,
    *,
    lang: str,
    legend: bool = True,
    extra: tuple[list, list[str]] = ([], []),
    notes: Sequence[str] = (),
) -> Figure:
    """Title, legend below the panels (the first panel's entries, then ``extra``),
    notes and the stamp in the footer, thousands separators on linear axes."""
    body, footer = fig.subfigs
    body.suptitle(fonts.printable(title), x=0.01, ha="left", fontweight="bold")
    _group_ticks(body)
    if legend:
        handles, labels = body.axes[0].get_legend_handles_labels()
        handles, labels = [*handles, *extra[0]], [*labels, *extra[1]]
        _legend(body, handles, labels)
    lines = [*notes, f"{stamp} · {money_note(lang)}"]
    for k, line in enumerate(lines):
        footer.text(
            0.01,
            1.0 - (k + 0.5) / len(lines),
            fonts.printable(line),
            ha="left",
            va="center",
            fontsize=BASE_FONT_PT,
            color="0.35" if k == len(lines) - 1 else "0.2",
        )
    return fig


def _legend(body: SubFigure, handles: list, labels: list[str], handlelength: float = 3.2):
    body.legend(
        handles,
        labels,
        loc="outside lower center",
        ncols=legend_columns(labels, handle_em=handlelength),
        handlelength=handlelength,
    )


def _grouped(value: float, _position: int | None = None) -> str:
    """Tick label with thousands separators (400,000) and a true minus sign."""
    return f"{value:,.12g}".replace("-", "\N{MINUS SIGN}")


def _group_ticks(body: SubFigure) -> None:
    """Thousands separators on every numeric linear axis (shared axes follow); axes
    labelled with names (a forest plot's strategies) keep their labels."""
    for ax in body.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if axis.get_scale() == "linear" and isinstance(
                axis.get_major_formatter(), ScalarFormatter
            ):
                axis.set_major_formatter(FuncFormatter(_grouped))


def _quarter_axis(ax: Axes, lang: str) -> None:
    # Panels share x; only the bottom row needs the label.
    if ax.get_subplotspec().is_last_row():
        ax.set_xlabel(tr("quarter", lang))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.margins(x=0.02)


def _strategy_grid(
    body: SubFigure, n: int, *, xlabel: str, **shared
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


def _panel_title(ax: Axes, name: str) -> None:
    ax.set_title(fonts.printable(name), loc="left")


# --- mean curves ---------------------------------------------------------------


def risk_curves(ts: pd.DataFrame, stamp: str, *, lang: str = "en") -> Figure:
    """2×2 panels, mean over replications per strategy: exposure, NPL ratio (%),
    cumulative credit loss, defaults per quarter. The spread is in the fan charts."""
    check_lang(lang)
    with _style():
        fig, body = _new_figure(6.2)
        axes = body.subplots(2, 2, sharex=True)
        data = cumulative(
            ts[[*KEYS, "quarter", "exposure", "npl_ratio", "defaults", "credit_loss"]],
            ["credit_loss"],
        )
        unit = money(lang)
        # (column, scale, label, flow)
        panels = [
            ("exposure", 1.0, tr("exposure ({money})", lang).format(money=unit), False),
            ("npl_ratio", 100.0, tr("NPL ratio (%)", lang), False),
            (
                "cum_credit_loss",
                1.0,
                tr("cumulative credit loss ({money})", lang).format(money=unit),
                False,
            ),
            ("defaults", 1.0, tr("defaults per quarter (loans)", lang), True),
        ]
        for ax, (value, scale, label, flow) in zip(axes.flat, panels, strict=True):
            _mean_plot(ax, data, value, scale=scale, flow=flow)
            ax.set_ylabel(label)
            _quarter_axis(ax, lang)
        title = tr("Focal bank: credit risk by strategy (means over replications)", lang)
        return _finish(fig, stamp, title, lang=lang)


def revenue_curves(ts: pd.DataFrame, stamp: str, *, lang: str = "en") -> Figure:
    """2×3 panels, mean over replications per strategy: NII, fees, equity, personal
    finance, operating cost (flows, from quarter 1), cumulative net profit."""
    check_lang(lang)
    with _style():
        fig, body = _new_figure(5.6)
        axes = body.subplots(2, 3, sharex=True)
        unit = money(lang)
        per_quarter = tr("{money} per quarter", lang).format(money=unit)
        # Long names: the panel title carries the name, the y label only the unit.
        panels = [
            ("net_interest_income", "net interest income", per_quarter, True),
            ("fee_income", "fee income", per_quarter, True),
            ("equity_income", "equity income", per_quarter, True),
            ("personal_finance_income", "personal finance income", per_quarter, True),
            ("operating_cost", "operating cost", per_quarter, True),
            ("cum_net_profit", "cumulative net profit", unit, False),
        ]
        data = cumulative(
            ts[[*KEYS, "quarter", *(p[0] for p in panels[:-1]), "net_profit"]], ["net_profit"]
        )
        for ax, (value, title, label, flow) in zip(axes.flat, panels, strict=True):
            _mean_plot(ax, data, value, flow=flow)
            ax.set_title(tr(title, lang), loc="left")
            ax.set_ylabel(label)
            _quarter_axis(ax, lang)
        axes[1, 2].axhline(0, color="0.4", linewidth=0.6, zorder=0)
        title = tr("Focal bank: revenue and cost by strategy (means over replications)", lang)
        return _finish(fig, stamp, title, lang=lang)


def operator_curves(ts: pd.DataFrame, stamp: str, *, lang: str = "en") -> Figure:
    """Three panels, mean over replications per strategy: operator revenue (a flow, from
    quarter 1), operator leverage (%), occupancy (%)."""
    check_lang(lang)
    with _style():
        fig, body = _new_figure(3.2)
        axes = body.subplots(1, 3, sharex=True)
        per_quarter = tr("{money} per quarter", lang).format(money=money(lang))
        panels = [
            ("operator_revenue", 1.0, "operator revenue", per_quarter, True),
            ("operator_leverage", 100.0, "operator leverage", "debt / total assets (%)", False),
            ("occupancy", 100.0, "occupancy", "occupied / total floor area (%)", False),
        ]
        panels[1:] = [(v, k, t, tr(label, lang), f) for v, k, t, label, f in panels[1:]]
        for ax, (value, scale, title, label, flow) in zip(axes.flat, panels, strict=True):
            _mean_plot(ax, ts, value, scale=scale, flow=flow)
            ax.set_title(tr(title, lang), loc="left")
            ax.set_ylabel(label)
            _quarter_axis(ax, lang)
        title = tr("Park operator by strategy (means over replications)", lang)
        return _finish(fig, stamp, title, lang=lang)


# --- distributions over replications ---------------------------------------------


@dataclass(frozen=True)
class FanMeasure:
    """A curve drawn as a fan chart: a stock column, or the running sum of flows."""

    title: str
    axis_label: str  # "{money}" stands for the money unit
    column: str | None = None  # a stock column of the table, or
    flows: tuple[str, ...] = ()  # per-quarter flows (万元) whose running sum is drawn
    scale: float = 1.0
    trailing_quarters: int = 1  # >1: each replication's mean over the last quarters
    bands: tuple[str, ...] = ("90", "50")  # which bands to draw
    note: str | None = None  # why the chart is drawn as it is, printed in the footer


FAN_MEASURES: dict[str, FanMeasure] = {
    # A quarter's NPL ratio is a ratio of few loans: in one replication it jumps between
    # zero and several per cent, so the 90 % band is all spikes and, at tier 1.0 (few
    # borrowers), the median is zero in most quarters. The four-quarter average is what
    # supervisors read (an annual figure), and the mean shows where the median is zero.
    "npl_ratio": FanMeasure(
        "Focal bank: NPL ratio, four-quarter average",
        "NPL ratio (%)",
        column="npl_ratio",
        scale=100.0,
        trailing_quarters=4,
        bands=("50",),
        note="each replication's NPL ratio averaged over the last four quarters; "
        "the 90 % band of a ratio of few loans is noise, so only the middle 50 % is shown",
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


def _fan_data(ts: pd.DataFrame, spec: FanMeasure, measure: str) -> tuple[pd.DataFrame, str]:
    if spec.column is None:
        return _with_cumulative(ts, spec.flows, measure), measure
    if spec.trailing_quarters > 1:
        return _trailing_mean(ts, spec.column, spec.trailing_quarters), spec.column
    return ts[["strategy", "quarter", spec.column]], spec.column


def fan_chart(
    ts: pd.DataFrame, stamp: str, measure: str = "cum_credit_loss", *, lang: str = "en"
) -> Figure:
    """One panel per strategy on shared axes: the median across replications with the
    bands holding the middle 50 % and 90 % of them, by quarter. ``measure`` is a key of
    :data:`FAN_MEASURES` (which says which bands, and whether the mean is added)."""
    check_lang(lang)
    spec = FAN_MEASURES[measure]
    data, value = _fan_data(ts, spec, measure)
    fans = _fan_quantiles(data, value)
    q5, q25, q50, q75, q95 = FAN_QUANTILES
    bands = {
        "90": (q5, q95, FAN_GREYS[0], "middle 90 % of replications"),
        "50": (
            q25,
            q75,
            FAN_GREYS[1],
            "middle 50 %" if "90" in spec.bands else "middle 50 % of replications",
        ),
    }
    notes = wrap_notes([tr(spec.note, lang)] if spec.note else [])
    with _style():
        fig, body = _new_figure(_grid_height(len(fans)), notes=len(notes))
        axes, panels = _strategy_grid(
            body, len(fans), xlabel=tr("quarter", lang), sharex=True, sharey=True
        )
        for ax, (name, stats) in zip(panels, fans.items(), strict=True):
            x = stats.index.to_numpy()
            for key in spec.bands:
                low, high, grey, label = bands[key]
                ax.fill_between(
                    x,
                    stats[low] * spec.scale,
                    stats[high] * spec.scale,
                    color=grey,
                    linewidth=0,
                    label=tr(label, lang),
                )
            ax.plot(
                x, stats[q50] * spec.scale, color="black", linewidth=1.4, label=tr("median", lang)
            )
            if spec.trailing_quarters > 1:
                ax.plot(
                    x,
                    stats["mean"] * spec.scale,
                    color="black",
                    linestyle="--",
                    linewidth=1.0,
                    label=tr("mean", lang),
                )
            _panel_title(ax, name)
            _quarter_axis(ax, lang)
        for ax in axes[:, 0]:
            ax.set_ylabel(tr(spec.axis_label, lang).format(money=money(lang)))
        # Median first in the legend: it is what the eye follows.
        handles, labels = panels[0].get_legend_handles_labels()
        order = sorted(range(len(labels)), key=lambda k: k < len(spec.bands))
        _legend(body, [handles[k] for k in order], [labels[k] for k in order], 2.4)
        return _finish(fig, stamp, tr(spec.title, lang), lang=lang, legend=False, notes=notes)


def loss_distribution(ts: pd.DataFrame, stamp: str, *, lang: str = "en") -> Figure:
    """One histogram per strategy on shared axes: cumulative credit loss over the horizon,
    as a share of replications on a log scale (so the tail shows next to the bulk), with
    the expected loss, VaR and ES at 99 % marked. The ES also has a marker at the top of
    the panel: with fewer than 100 replications it equals the VaR (both are the largest
    loss seen) and its line lies under the VaR's."""
    check_lang(lang)
    per = per_replication(ts)
    losses = {
        name: g["cum_credit_loss"].to_numpy()
        for name, g in per.groupby(level="strategy", sort=False)
    }
    largest_n = max(len(v) for v in losses.values())
    bins = int(np.clip(round(2 * np.sqrt(largest_n)), 15, 60))
    edges = np.histogram_bin_edges(np.concatenate(list(losses.values())), bins=bins)
    xlabel = tr("cumulative credit loss ({money})", lang).format(money=money(lang))
    few = "with fewer than 100 replications VaR and ES at 99 % are both the largest loss seen"
    notes = wrap_notes([tr(few, lang)] if min(len(v) for v in losses.values()) < 100 else [])
    es_style = {"color": "black", "linestyle": ":", "linewidth": 1.2}
    with _style():
        fig, body = _new_figure(_grid_height(len(losses)), notes=len(notes))
        axes, panels = _strategy_grid(body, len(losses), xlabel=xlabel, sharex=True, sharey=True)
        for ax, (name, values) in zip(panels, losses.items(), strict=True):
            share = np.full(len(values), 100.0 / len(values))
            ax.hist(values, bins=edges, weights=share, color="0.75", edgecolor="0.3", linewidth=0.4)
            ax.axvline(values.mean(), color="black", linestyle="-", linewidth=1.2)
            ax.axvline(value_at_risk(values, 0.99), color="black", linestyle="--", linewidth=1.2)
            es = expected_shortfall(values, 0.99)
            ax.axvline(es, **es_style)
            # A triangle on the top edge: visible even where the ES line hides under VaR's.
            ax.plot(
                [es],
                [1.0],
                marker="v",
                markersize=6,
                color="black",
                clip_on=False,
                transform=ax.get_xaxis_transform(),
                linestyle="none",
            )
            _panel_title(ax, name)
        ax = panels[0]
        ax.set_yscale("log")
        ax.set_ylim(50.0 / largest_n, 100.0)
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_major_formatter(FuncFormatter(_grouped))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        for ax in axes[:, 0]:
            ax.set_ylabel(tr("replications (%, log scale)", lang))
        handles = [
            Line2D([], [], color="black", linestyle="-", linewidth=1.2),
            Line2D([], [], color="black", linestyle="--", linewidth=1.2),
            Line2D([], [], marker="v", markersize=6, **es_style),
        ]
        labels = [
            tr(t, lang) for t in ("expected loss (mean)", "VaR 99 %", "expected shortfall 99 %")
        ]
        _legend(body, handles, labels)
        title = tr("Focal bank: distribution of cumulative credit loss over replications", lang)
        return _finish(fig, stamp, title, lang=lang, legend=False, notes=notes)


def _nudges(x: np.ndarray, y: np.ndarray, share: float = 0.02) -> np.ndarray:
    """Horizontal offsets (in x units) that move apart points which would cover each
    other: closer than ``share`` of both axis ranges. Untouched points get 0."""
    span_x = float(np.ptp(x)) or 1.0
    span_y = float(np.ptp(y)) or 1.0
    offsets = np.zeros(len(x))
    groups: list[list[int]] = []
    for i in range(len(x)):
        for group in groups:
            j = group[0]
            if abs(x[i] - x[j]) < share * span_x and abs(y[i] - y[j]) < share * span_y:
                group.append(i)
                break
        else:
            groups.append([i])
    for group in groups:
        if len(group) > 1:
            steps = np.arange(len(group)) - (len(group) - 1) / 2
            offsets[group] = steps * share * span_x
    return offsets


def risk_return(ts: pd.DataFrame, stamp: str, *, lang: str = "en") -> Figure:
    """Mean cumulative net profit (y) against the 99 % expected shortfall of cumulative
    credit loss (x), one point per strategy; bars are 95 % intervals (the one coverage of
    :data:`parksim.analysis.summary.INTERVAL`): a bootstrap interval of the ES across,
    a normal interval of the mean profit up. Each strategy's bars take its line style,
    so bars that cross stay apart in greyscale; points that would cover each other are
    nudged sideways, and the subtitle says so."""
    check_lang(lang)
    table = summary_risk_return(per_replication(ts), level=0.99, interval=INTERVAL)
    nudge = _nudges(table["es"].to_numpy(), table["profit_mean"].to_numpy())
    unit = money(lang)
    subtitle = tr("bars: 95 % intervals (bootstrap for the ES, normal for the mean profit)", lang)
    if nudge.any():
        subtitle += tr("; points nudged sideways where they would hide each other", lang)
    with _style():
        fig, body = _new_figure(4.4)
        ax = body.subplots()
        for i, (name, row) in enumerate(table.iterrows()):
            style = _style_of(i, 1)
            # A bootstrap percentile interval of a tail statistic need not contain the
            # point estimate (resampled ES is biased low); the bar then ends at the point.
            es_below = max(row["es"] - row["es_low"], 0.0)
            es_above = max(row["es_high"] - row["es"], 0.0)
            bars = ax.errorbar(
                row["es"] + nudge[i],
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
                elinewidth=0.9,
                capsize=2.5,
                linestyle="none",
                label=fonts.printable(name),
            )
            for line in bars.lines[2]:
                line.set_linestyle(style["linestyle"])
        ax.axhline(0, color="0.4", linewidth=0.6, zorder=0)
        ax.set_title(subtitle, loc="left", color="0.3")
        ax.set_xlabel(
            tr("expected shortfall 99 % of cumulative credit loss ({money}): risk", lang).format(
                money=unit
            )
        )
        ax.set_ylabel(tr("mean cumulative net profit ({money}): return", lang).format(money=unit))
        ax.margins(0.08)
        title = tr("Focal bank: return against tail risk by strategy (up and left is better)", lang)
        return _finish(fig, stamp, title, lang=lang)


#: Stage lines of stage_mix, early to late: grey levels dark enough on white.
STAGE_STYLES: tuple[dict, ...] = tuple(
    {"color": PALETTE[i], "linestyle": LINESTYLES[i], "marker": MARKERS[i]} for i in range(5)
)


def stage_mix(ts: pd.DataFrame, stamp: str, *, lang: str = "en") -> Figure:
    """One panel per strategy: mean enterprises per life-cycle stage, one line per stage
    on a log axis. Stacked areas hid the later stages (a few hundred listed firms under
    tens of thousands of seed firms in a Qilu-sized park); a log axis shows every stage's
    level and growth whatever the park's size."""
    check_lang(lang)
    order = strategy_order(ts)
    stage_cols = [f"n_{s}" for s in STAGES]
    frame = ts[["strategy", "quarter", *stage_cols]]
    means = frame.groupby(["strategy", "quarter"], sort=True, observed=True)[stage_cols].mean()
    stage_names = [tr(s.replace("_", "-").replace("ipo", "IPO"), lang) for s in STAGES]

    with _style():
        fig, body = _new_figure(_grid_height(len(order), row_in=2.3, extra_in=1.0))
        axes, panels = _strategy_grid(
            body, len(order), xlabel=tr("quarter", lang), sharex=True, sharey=True
        )
        for ax, name in zip(panels, order, strict=True):
            m = means.xs(name, level="strategy")
            x = m.index.to_numpy()
            step = max(1, len(x) // 8)
            for k, (col, label) in enumerate(zip(stage_cols, stage_names, strict=True)):
                values = m[col].to_numpy(dtype=float)
                ax.plot(
                    x,
                    np.where(values > 0, values, np.nan),
                    label=label,
                    markevery=(k % step, step),
                    markerfacecolor="white" if k % 2 else STAGE_STYLES[k]["color"],
                    markeredgewidth=0.9,
                    **STAGE_STYLES[k],
                )
            _panel_title(ax, name)
            _quarter_axis(ax, lang)
        ax = panels[0]
        ax.set_yscale("log")
        # 1-2-5 steps: a small park spans about one decade, which 10^k alone leaves bare.
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(_grouped))
        ax.yaxis.set_minor_formatter(NullFormatter())
        for ax in axes[:, 0]:
            ax.set_ylabel(tr("enterprises (firms, log scale)", lang))
        handles, labels = panels[0].get_legend_handles_labels()
        _legend(body, handles, labels)
        title = tr("Park: enterprises by life-cycle stage (means over replications)", lang)
        return _finish(fig, stamp, title, lang=lang, legend=False)


#: The charts of a run's time-series table, by file name: ``chart(ts, stamp, lang=...)``.
CHARTS: dict[str, Callable[..., Figure]] = {
    "risk_curves": risk_curves,
    "revenue_curves": revenue_curves,
    **{f"fan_{m}": functools.partial(fan_chart, measure=m) for m in FAN_MEASURES},
    "loss_distribution": loss_distribution,
    "risk_return": risk_return,
    "stage_mix": stage_mix,
    "operator_curves": operator_curves,
}
FIGURE_NAMES: tuple[str, ...] = tuple(CHARTS)

#: A figure to draw in a language: what `save_all`, `parksim plot` and the report take.
Draw = Callable[[str], Figure]


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    """``formats`` if each is one of :data:`FORMATS`, else ValueError naming the choices."""
    bad = [f for f in formats if f not in FORMATS]
    if bad or not formats:
        raise ValueError(
            f"format: expected some of {', '.join(FORMATS)}, got {', '.join(formats) or 'none'}"
        )
    return tuple(dict.fromkeys(formats))


def save_figure(fig: Figure, stem: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``fig`` as ``stem.<format>`` for each format; return the paths.

    The bytes depend only on the figure: SVG ids use a fixed salt, and no format records
    a date or a software version (PNG at :data:`PNG_DPI`).
    """
    paths = []
    for fmt, data in figure_bytes(fig, formats).items():
        path = stem.with_name(f"{stem.name}.{fmt}")
        path.write_bytes(data)
        paths.append(path)
    return paths


def figure_bytes(fig: Figure, formats: Sequence[str] = ("png", "svg")) -> dict[str, bytes]:
    """The file contents of ``fig`` in each format (format → bytes), as :func:`save_figure`
    writes them."""
    out: dict[str, bytes] = {}
    with _style():
        for fmt in check_formats(formats):
            if fmt == "svg":
                text = io.StringIO()
                fig.savefig(text, format=fmt, metadata=FIXED_METADATA[fmt])
                out[fmt] = _numbered_clip_ids(text.getvalue()).encode("utf-8")
            else:
                binary = io.BytesIO()
                fig.savefig(binary, format=fmt, dpi=PNG_DPI, metadata=FIXED_METADATA[fmt])
                out[fmt] = binary.getvalue()
    return out


_CLIP_ID = re.compile(r"\bp[0-9a-f]{10}\b")


def _numbered_clip_ids(svg: str) -> str:
    """Clip-path ids numbered in order of appearance.

    Matplotlib hashes a clip rectangle's float bounds into its id, and constrained
    layout can move a bound in its last bits between two draws of the same figure, which
    changes the id but nothing drawn; numbering makes the bytes depend on the drawing.
    """
    names: dict[str, str] = {}
    return _CLIP_ID.sub(lambda m: names.setdefault(m.group(0), f"clip{len(names)}"), svg)


def save_all(
    figures: Mapping[str, Draw],
    out_dir: Path,
    *,
    lang: str = "en",
    formats: Sequence[str] = ("png", "svg"),
    executor: Executor | None = None,
    slots: int = 1,
) -> list[Path]:
    """Draw every figure of ``figures`` (name → draw(lang)) and write it into ``out_dir``
    in each of ``formats``; return the paths.

    With an ``executor`` of ``slots`` > 1 workers the figures are rendered there
    (:func:`start_rendering`); the files are the same bytes either way.
    """
    return start_rendering(figures, lang, formats, executor, slots).write(out_dir)


@dataclass
class Rendering:
    """Figures on their way to files: `write(out_dir)` writes them, in each format.

    Rendering PNG and SVG is most of a chart's time, and a built figure pickles small (a
    few hundred kB: its artists, not the table behind them). So with an executor each
    figure is built here and rendered there as soon as it is built, and only the files'
    bytes come back (a remote worker needs no access to the folder). Without one, the
    figures are drawn when `write` is called.
    """

    figures: Mapping[str, Draw]
    lang: str
    formats: tuple[str, ...]
    futures: dict[str, Future] | None = None

    def files(self) -> dict[str, bytes]:
        """Every figure's file contents, as ``"name.format"`` → bytes; the figures are
        drawn here if the executor failed (a broken pool must not lose a run's charts)."""
        if self.futures is not None:
            try:
                return {
                    f"{name}.{fmt}": data
                    for name, future in self.futures.items()
                    for fmt, data in future.result().items()
                }
            except Exception:
                pass
        return draw_figures(self.figures, self.lang, self.formats)

    def write(self, out_dir: Path) -> list[Path]:
        """Write every figure into ``out_dir`` (made if missing); return the paths."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        files = self.files()
        paths = []
        for name in self.figures:
            for fmt in self.formats:
                path = out_dir / f"{name}.{fmt}"
                path.write_bytes(files[f"{name}.{fmt}"])
                paths.append(path)
        return paths


def start_rendering(
    figures: Mapping[str, Draw],
    lang: str = "en",
    formats: Sequence[str] = ("png", "svg"),
    executor: Executor | None = None,
    slots: int = 1,
) -> Rendering:
    """Start rendering ``figures`` in ``lang`` and ``formats``: with an ``executor`` of
    ``slots`` > 1 workers (a run's process pool or Dask client), every figure is built
    here and sent to be rendered there before this returns, so the caller's next work
    overlaps the rendering; else nothing is drawn until `Rendering.write`."""
    check_lang(lang)
    rendering = Rendering(figures, lang, check_formats(formats))
    if executor is None or slots < 2 or len(figures) < 2:
        return rendering
    futures: dict[str, Future] = {}
    try:
        for name, draw in figures.items():
            fig = draw(lang)
            try:
                futures[name] = executor.submit(render_figure, pickle.dumps(fig), rendering.formats)
            finally:
                fig.clear()
    except Exception:
        return rendering  # drawn here, at `write`
    rendering.futures = futures
    return rendering


def render_figure(pickled: bytes, formats: Sequence[str]) -> dict[str, bytes]:
    """A pickled figure's file contents in each format (format → bytes): what a worker
    does for `save_all`."""
    fig = pickle.loads(pickled)
    try:
        return figure_bytes(fig, formats)
    finally:
        fig.clear()


def draw_figures(
    figures: Mapping[str, Draw], lang: str, formats: Sequence[str]
) -> dict[str, bytes]:
    """Draw each figure and return its files' contents, as ``"name.format"`` → bytes."""
    files: dict[str, bytes] = {}
    for name, draw in figures.items():
        fig = draw(lang)
        try:
            for fmt, data in figure_bytes(fig, formats).items():
                files[f"{name}.{fmt}"] = data
        finally:
            # A Figure made without pyplot has no manager; dropping the artists is the
            # "close" that frees its memory promptly.
            fig.clear()
    return files


def timeseries_figures(ts: pd.DataFrame, stamp: Callable[[str], str]) -> dict[str, Draw]:
    """The :data:`CHARTS` of one time-series table as name → draw(lang); ``stamp(lang)``
    gives the footer's provenance line."""
    return {
        name: functools.partial(_draw_chart, chart, ts, stamp) for name, chart in CHARTS.items()
    }


def _draw_chart(chart: Callable[..., Figure], ts: pd.DataFrame, stamp, lang: str) -> Figure:
    return chart(ts, stamp(lang), lang=lang)
