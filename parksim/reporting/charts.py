"""Print-ready charts of the time-series table.

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
from pathlib import Path

import matplotlib as mpl
import pandas as pd
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.patches import Patch

from parksim.reporting.columns import STAGES, column
from parksim.reporting.summary import KEYS, cumulative, strategy_order

PAGE_WIDTH_IN = 7.1  # 18 cm, the text width of an A4 page with normal margins
BASE_FONT_PT = 8.0
FOOTER_IN = 0.25  # height of the footer strip holding the stamp
BAND_ALPHA = 0.12

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


def _bands(ts: pd.DataFrame, value: str) -> dict[str, pd.DataFrame]:
    """Per strategy: mean, p5 and p95 of ``value`` across replications, by quarter."""
    frame = ts[[*KEYS, "quarter", value]].copy()
    frame["strategy"] = frame["strategy"].astype(str)
    g = frame.groupby(["strategy", "quarter"], sort=True)[value]
    stats = pd.DataFrame({"mean": g.mean(), "p5": g.quantile(0.05), "p95": g.quantile(0.95)})
    return {s: stats.xs(s, level="strategy") for s in strategy_order(ts)}


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


def _band_plot(ax: Axes, ts: pd.DataFrame, value: str, *, scale: float = 1.0) -> None:
    """Mean line and shaded 5–95 % band across replications for every strategy."""
    for i, (name, stats) in enumerate(_bands(ts, value).items()):
        x = stats.index.to_numpy()
        kw = _style_of(i, len(x))
        ax.fill_between(
            x,
            stats["p5"].to_numpy() * scale,
            stats["p95"].to_numpy() * scale,
            color=kw["color"],
            alpha=BAND_ALPHA,
            linewidth=0,
        )
        ax.plot(x, stats["mean"].to_numpy() * scale, label=name, **kw)


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


def _finish(fig: Figure, stamp: str, title: str, *, legend: bool = True) -> Figure:
    """Title, legend below the panels, footer stamp."""
    body, footer = fig.subfigs
    body.suptitle(title, x=0.01, ha="left", fontweight="bold")
    if legend:
        handles, labels = body.axes[0].get_legend_handles_labels()
        # A proxy patch explains the shading once instead of in every caption.
        band = Patch(facecolor="0.5", alpha=BAND_ALPHA * 2, linewidth=0)
        body.legend(
            [*handles, band],
            [*labels, "5–95 % of replications"],
            loc="outside lower center",
            ncols=_legend_columns(len(labels) + 1),
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


def _quarter_axis(ax: Axes) -> None:
    # Panels share x; only the bottom row needs the label.
    if ax.get_subplotspec().is_last_row():
        ax.set_xlabel("quarter")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.margins(x=0.02)


# --- figures -----------------------------------------------------------------


def risk_curves(ts: pd.DataFrame, stamp: str) -> Figure:
    """2×2 panels: exposure, NPL ratio (%), cumulative credit loss, defaults per quarter."""
    with _style():
        fig, body = _new_figure(6.2)
        axes = body.subplots(2, 2, sharex=True)
        data = cumulative(ts, ["credit_loss"])
        panels = [
            ("exposure", 1.0, _label("exposure")),
            ("npl_ratio", 100.0, _label("npl_ratio", percent=True)),
            ("cum_credit_loss", 1.0, _label("credit_loss", cumulative_=True)),
            ("defaults", 1.0, "defaults per quarter (loans)"),
        ]
        for ax, (value, scale, label) in zip(axes.flat, panels, strict=True):
            _band_plot(ax, data, value, scale=scale)
            ax.set_ylabel(label)
            _quarter_axis(ax)
        return _finish(fig, stamp, "Focal bank: credit risk by strategy")


def revenue_curves(ts: pd.DataFrame, stamp: str) -> Figure:
    """2×3 panels: NII, fees, equity, personal finance, operating cost, cumulative profit."""
    with _style():
        fig, body = _new_figure(5.6)
        axes = body.subplots(2, 3, sharex=True)
        data = cumulative(ts, ["net_profit"])
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
        for ax, (value, title, unit) in zip(axes.flat, panels, strict=True):
            _band_plot(ax, data, value)
            ax.set_title(title, loc="left")
            ax.set_ylabel(unit)
            _quarter_axis(ax)
        axes[1, 2].axhline(0, color="0.4", linewidth=0.6, zorder=0)
        return _finish(fig, stamp, "Focal bank: revenue and cost by strategy")


def stage_mix(ts: pd.DataFrame, stamp: str) -> Figure:
    """One panel per strategy: stacked areas of mean firms per life-cycle stage."""
    order = strategy_order(ts)
    stage_cols = [f"n_{s}" for s in STAGES]
    frame = ts[["strategy", "quarter", *stage_cols]].copy()
    frame["strategy"] = frame["strategy"].astype(str)
    means = frame.groupby(["strategy", "quarter"], sort=True)[stage_cols].mean()

    # At most three panels a row, rows filled evenly (4 strategies: 2×2, not 3 + 1).
    nrows = -(-len(order) // 3)
    ncols = -(-len(order) // nrows)
    with _style():
        fig, body = _new_figure(1.0 + 2.3 * nrows)
        axes = body.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)
        for ax, name in zip(axes.flat, order, strict=False):
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
        for ax in axes.flat[len(order) :]:
            ax.set_visible(False)
            # The panel above an empty slot is the bottom of its column: label it.
            spec = ax.get_subplotspec()
            above = axes[spec.rowspan.start - 1, spec.colspan.start]
            above.xaxis.set_tick_params(labelbottom=True)
            above.set_xlabel("quarter")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        # Stack order bottom-up; list the legend top-down so it matches the picture.
        body.legend(
            handles[::-1],
            labels[::-1],
            loc="outside right upper",
            title="stage",
            title_fontsize=BASE_FONT_PT,
        )
        return _finish(fig, stamp, "Park: enterprises by life-cycle stage", legend=False)


def operator_curves(ts: pd.DataFrame, stamp: str) -> Figure:
    """Three panels: operator revenue, operator leverage (%), occupancy (%)."""
    with _style():
        fig, body = _new_figure(3.2)
        axes = body.subplots(1, 3, sharex=True)
        panels = [
            ("operator_revenue", 1.0, "operator revenue", f"{unit_label('万元')} per quarter"),
            ("operator_leverage", 100.0, "operator leverage", "debt / total assets (%)"),
            ("occupancy", 100.0, "occupancy", "occupied / total floor area (%)"),
        ]
        for ax, (value, scale, title, unit) in zip(axes.flat, panels, strict=True):
            _band_plot(ax, ts, value, scale=scale)
            ax.set_title(title, loc="left")
            ax.set_ylabel(unit)
            _quarter_axis(ax)
        return _finish(fig, stamp, "Park operator by strategy")


CHARTS: dict[str, Callable[[pd.DataFrame, str], Figure]] = {
    "risk_curves": risk_curves,
    "revenue_curves": revenue_curves,
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
