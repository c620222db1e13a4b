"""Tests of the summary table and the charts on a small synthetic time series."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.legend import Legend
from matplotlib.text import Text

from parksim.analysis.summary import METRICS, cumulative, per_replication, summarise
from parksim.analysis.summary import risk_return as summary_risk_return
from parksim.core.codes import STAGES
from parksim.core.metrics import COLUMN_NAMES, column
from parksim.viz import charts, fonts
from parksim.viz.i18n import tr

# Deliberately not alphabetical, to catch sorting where first-appearance order is due.
STRATEGIES = ("traditional", "ecosystem", "equity_linked")
REPLICATIONS = 4
QUARTERS = 8
STAMP = "parksim 0.1.0 · scenario test · seed 7 · 4 replications"


def synthetic_timeseries(seed: int = 7) -> pd.DataFrame:
    """Plausible non-negative values for every column, one row per strategy × rep × quarter."""
    rng = np.random.default_rng(seed)
    keys = pd.MultiIndex.from_product(
        [STRATEGIES, range(REPLICATIONS), range(1, QUARTERS + 1)],
        names=["strategy", "replication", "quarter"],
    ).to_frame(index=False)
    n = len(keys)
    data: dict[str, np.ndarray] = {}
    for name in COLUMN_NAMES:
        if name in keys:
            continue
        unit = column(name).unit
        if unit == "share":
            data[name] = rng.uniform(0.0, 0.6, n)
        elif unit == "heavy/light":
            data[name] = rng.choice(["heavy", "light"], n)
        elif unit == "0/1":
            data[name] = rng.integers(0, 2, n).astype(float)
        elif unit in ("firms", "loans"):
            data[name] = rng.poisson(6, n).astype(float)
        else:
            data[name] = rng.gamma(2.0, 500.0, n)
    ts = pd.concat([keys, pd.DataFrame(data)], axis=1)
    ts["borrowers"] = ts["borrowers"] + 20  # keep default rates well defined
    return ts[list(COLUMN_NAMES)]


@pytest.fixture(scope="module")
def ts() -> pd.DataFrame:
    return synthetic_timeseries()


# --- summary -------------------------------------------------------------------


def test_synthetic_table_has_every_column(ts: pd.DataFrame) -> None:
    assert tuple(ts.columns) == COLUMN_NAMES
    assert len(ts) == len(STRATEGIES) * REPLICATIONS * QUARTERS


def test_summarise_one_row_per_strategy_in_order(ts: pd.DataFrame) -> None:
    # Shuffled rows: order must come from first appearance, not from sorting.
    shuffled = ts.sample(frac=1.0, random_state=1)
    expected = list(pd.unique(shuffled["strategy"]))
    out = summarise(shuffled)
    assert out.index.name == "strategy"
    assert list(out.index) == expected
    assert (out["replications"] == REPLICATIONS).all()
    for metric in METRICS:
        for stat in ("mean", "p5", "p50", "p95"):
            assert f"{metric}_{stat}" in out.columns


def test_summarise_keeps_scenario_order(ts: pd.DataFrame) -> None:
    assert list(summarise(ts).index) == list(STRATEGIES)


def test_quantiles_are_ordered(ts: pd.DataFrame) -> None:
    out = summarise(ts)
    for metric in METRICS:
        p5, p50, p95 = (out[f"{metric}_{s}"] for s in ("p5", "p50", "p95"))
        assert (p5 <= p50).all(), metric
        assert (p50 <= p95).all(), metric


def test_means_match_groupby(ts: pd.DataFrame) -> None:
    out = summarise(ts)
    per_rep = ts.groupby(["strategy", "replication"], sort=False)
    cum_loss = per_rep["credit_loss"].sum().groupby(level="strategy").mean()
    peak = per_rep["exposure"].max().groupby(level="strategy").mean()
    last = ts[ts["quarter"] == QUARTERS].groupby("strategy")["npl_ratio"].mean()
    # Defaults in quarter q are counted against the borrowers at the start of q
    # (borrowers_<stage>); the quarter-0 row only repeats the opening book.
    start = ts[[f"borrowers_{s}" for s in STAGES]].sum(axis=1) * (ts["quarter"] >= 1)
    start_borrowers = start.groupby([ts["strategy"], ts["replication"]], sort=False).sum()
    rate = (per_rep["defaults"].sum() / start_borrowers * 4).groupby(level="strategy").mean()
    occupancy = per_rep["occupancy"].mean().groupby(level="strategy").mean()
    for s in STRATEGIES:
        assert out.loc[s, "cum_credit_loss_mean"] == pytest.approx(cum_loss[s])
        assert out.loc[s, "peak_exposure_mean"] == pytest.approx(peak[s])
        assert out.loc[s, "final_npl_ratio_mean"] == pytest.approx(last[s])
        assert out.loc[s, "annual_default_rate_mean"] == pytest.approx(rate[s])
        assert out.loc[s, "mean_occupancy_mean"] == pytest.approx(occupancy[s])


def test_median_matches_numpy(ts: pd.DataFrame) -> None:
    s = STRATEGIES[1]
    totals = ts[ts["strategy"] == s].groupby("replication")["net_profit"].sum().to_numpy()
    out = summarise(ts)
    assert out.loc[s, "cum_net_profit_p50"] == pytest.approx(np.median(totals))
    assert out.loc[s, "cum_net_profit_p5"] == pytest.approx(np.quantile(totals, 0.05))


def test_cumulative_matches_hand_computation(ts: pd.DataFrame) -> None:
    # Reverse the rows so the sums must follow quarter order, not row order.
    out = cumulative(ts.iloc[::-1], ["credit_loss", "defaults"])
    s, rep = STRATEGIES[2], 1
    rows = out[(out["strategy"] == s) & (out["replication"] == rep)].sort_values("quarter")
    running = 0.0
    for loss, cum in zip(rows["credit_loss"], rows["cum_credit_loss"], strict=True):
        running += loss
        assert cum == pytest.approx(running)
    assert rows["cum_defaults"].iloc[-1] == rows["defaults"].sum()
    # Input untouched, output keeps input rows and order.
    assert "cum_credit_loss" not in ts.columns
    assert out.index.equals(ts.index[::-1])


def test_summary_has_gross_credit_loss_and_policy_recoveries(ts: pd.DataFrame) -> None:
    # Hand-worked: one replication with quarterly credit loss (net of cover) 10, 0, 5 and
    # policy recoveries 0, 4, 6: recoveries 10, gross loss (before cover) 15 + 10 = 25.
    rows = ts[(ts["strategy"] == STRATEGIES[0]) & (ts["replication"] == 0)].head(3).copy()
    rows["quarter"] = [1, 2, 3]
    rows["credit_loss"] = [10.0, 0.0, 5.0]
    rows["policy_recoveries"] = [0.0, 4.0, 6.0]
    per = per_replication(rows)
    assert per["cum_policy_recoveries"].item() == 10.0
    assert per["cum_gross_credit_loss"].item() == 25.0
    summary = summarise(ts)
    means = per_replication(ts).groupby(level="strategy", sort=False).mean()
    for name in ("cum_gross_credit_loss", "cum_policy_recoveries"):
        assert summary[f"{name}_mean"].tolist() == pytest.approx(means[name].tolist())
        assert f"{name}_p95" in summary.columns


def test_trailing_mean_averages_each_replications_last_quarters(ts: pd.DataFrame) -> None:
    # Rows shuffled: the mean must follow each replication's quarters, not the row order.
    shuffled = ts.sample(frac=1.0, random_state=3)
    out = charts._trailing_mean(shuffled, "npl_ratio", 4)
    for (strategy, rep), rows in out.groupby(["strategy", "replication"], observed=True):
        path = ts[(ts["strategy"] == strategy) & (ts["replication"] == rep)]
        path = path.sort_values("quarter")["npl_ratio"].to_numpy()
        expected = [path[max(0, i - 3) : i + 1].mean() for i in range(len(path))]
        got = rows.sort_values("quarter")["npl_ratio"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_cumulative_accepts_single_name(ts: pd.DataFrame) -> None:
    out = cumulative(ts, "fee_income")
    first = out[out["quarter"] == 1]
    assert (first["cum_fee_income"] == first["fee_income"]).all()


# --- charts --------------------------------------------------------------------


def stamp(lang: str) -> str:
    template = "parksim {version} · scenario {scenario} · seed {seed} · {replications} replications"
    return tr(template, lang).format(version="0.1.0", scenario="test", seed=7, replications=4)


def figures(ts: pd.DataFrame) -> dict:
    return charts.timeseries_figures(ts, stamp)


def test_money_is_printed_in_wan_yuan_in_both_languages() -> None:
    assert charts.money("en") == charts.money("zh") == "万元"
    assert "万元" in charts.money_note("zh")


# English and Chinese from a run folder: tests/test_plot_report.py (parksim plot).
@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh"])
def test_save_all_writes_the_same_bytes_twice_without_warnings(
    ts: pd.DataFrame, tmp_path: Path, lang: str
) -> None:
    with warnings.catch_warnings():
        # Any warning, "Glyph missing" above all, fails the test.
        warnings.simplefilter("error")
        first = charts.save_all(figures(ts), tmp_path / "a", lang=lang)
        second = charts.save_all(figures(ts), tmp_path / "b", lang=lang)

    expected = {f"{n}.{ext}" for n in charts.FIGURE_NAMES for ext in ("png", "svg")}
    assert {p.name for p in first} == expected
    assert len(first) == 2 * len(charts.FIGURE_NAMES)
    for path in first:
        data = path.read_bytes()
        assert len(data) > 1000, path
        if path.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n", path
        else:
            assert b"<svg" in data[:2000], path
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_chinese_svg_draws_its_glyphs_from_the_shipped_font(ts: pd.DataFrame, tmp_path) -> None:
    (svg,) = charts.save_all(
        {"risk_curves": figures(ts)["risk_curves"]}, tmp_path, lang="zh", formats=["svg"]
    )
    text = svg.read_text(encoding="utf-8")
    # svg.fonttype "path": each glyph is defined once as <path id="<font>-<glyph index>">.
    glyphs = set(re.findall(r'id="NotoSansSC-Regular-[0-9a-f]+"', text))
    assert len(glyphs) >= 20  # 季度, 贷款余额, 不良贷款率, ...
    assert "<text" not in text


def _glyph_ids(svg: str, face: str) -> set[int]:
    return {int(g, 16) for g in re.findall(rf'id="NotoSansSC-{face}-([0-9a-f]+)"', svg)}


def test_chinese_titles_are_bold_and_the_rest_regular(ts: pd.DataFrame, tmp_path) -> None:
    faces = {w: TTFont(p) for w, p in fonts.cjk_faces().items()}
    assert faces[400]["OS/2"].usWeightClass == 400
    assert faces[700]["OS/2"].usWeightClass >= 600
    assert not any("fvar" in f for f in faces.values())  # static faces, not the Thin default
    draw = figures(ts)["risk_curves"]
    fig = draw("zh")
    title = fig.subfigs[0].get_suptitle()
    body = "".join(t.get_text() for t in fig.findobj(Text) if t.get_text() != title)
    (svg,) = charts.save_all({"risk_curves": draw}, tmp_path, lang="zh", formats=["svg"])
    text = svg.read_text(encoding="utf-8")
    cmap = faces[400].getBestCmap()  # instancing keeps the glyph order: one cmap for both

    def glyphs(chars) -> set[int]:
        return {faces[400].getGlyphID(cmap[ord(c)]) for c in chars if ord(c) >= 0x2E80}

    title_only, body_only = glyphs(set(title) - set(body)), glyphs(set(body) - set(title))
    assert len(title_only) >= 5 and len(body_only) >= 10
    assert title_only <= _glyph_ids(text, "Bold")
    assert not title_only & _glyph_ids(text, "Regular")
    assert body_only <= _glyph_ids(text, "Regular")
    assert not body_only & _glyph_ids(text, "Bold")


def test_pdf_embeds_its_fonts_as_truetype(ts: pd.DataFrame, tmp_path) -> None:
    (pdf,) = charts.save_all(
        {"risk_curves": figures(ts)["risk_curves"]}, tmp_path, lang="zh", formats=["pdf"]
    )
    data = pdf.read_bytes()
    # Type 42: a CID TrueType font with its glyf outlines in a FontFile2 stream, per font.
    assert data.count(b"/FontFile2") == data.count(b"/Type /FontDescriptor") >= 2
    assert b"NotoSansSC-Regular" in data and b"NotoSansSC-Bold" in data and b"DejaVuSans" in data
    assert b"NotoSansSC-Thin" not in data
    assert b"/CIDFontType2" in data


def test_every_chinese_text_is_in_the_translation_table(ts: pd.DataFrame) -> None:
    for name, draw in figures(ts).items():
        fig = draw("zh")
        fig.canvas.draw()
        texts = [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
        english = [
            t
            for t in texts
            if any(w in t for w in ("quarter", "replications", "Focal", "cumulative", "median"))
        ]
        assert not english, (name, english)


def test_unknown_language_is_refused(ts: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="lang: expected one of en, zh, got 'fr'"):
        charts.risk_curves(ts, STAMP, lang="fr")


def test_flows_are_drawn_from_quarter_one(ts: pd.DataFrame) -> None:
    ts0 = pd.concat([ts.assign(quarter=0), ts], ignore_index=True)
    fig = charts.revenue_curves(ts0, STAMP)
    fee_panel, profit_panel = fig.axes[1], fig.axes[5]

    def first_quarter(ax) -> float:
        strategies = [line for line in ax.get_lines() if line.get_label() in STRATEGIES]
        assert len(strategies) == len(STRATEGIES)
        return min(np.min(line.get_xdata()) for line in strategies)

    assert first_quarter(fee_panel) == 1
    # A stock (cumulative profit) still starts at quarter 0.
    assert first_quarter(profit_panel) == 0


def test_legend_columns_never_overflow_the_page() -> None:
    short = ["a", "b", "c", "d"]
    assert charts.legend_columns(short) == 4
    long = [f"run_{k}/tier{k}_heavy_with_a_pool" for k in range(4)]
    columns = charts.legend_columns(long)
    assert columns == 2  # 2 × 2, not 3 + 1 and not 4 cut off
    width = columns * charts._text_width_in(long[0])
    assert width < charts.PAGE_WIDTH_IN
    # One long label widens its own column only: a fan chart's three entries fit one row.
    fan = ["median", "middle 90 % of replications", "middle 50 %"]
    assert charts.legend_columns(fan) == 3
    assert charts.legend_columns(long[:3]) == 2  # three long ones do not fit side by side
    assert charts.legend_columns([*long[:2], "a"]) == 3  # two long and a short one do


def test_loss_distribution_marks_the_es_where_it_equals_the_var(ts: pd.DataFrame) -> None:
    fig = charts.loss_distribution(ts, STAMP)  # 4 replications: ES 99 % = VaR 99 %
    markers = [line for ax in fig.axes for line in ax.get_lines() if line.get_marker() == "v"]
    assert len(markers) == len(STRATEGIES)
    footer = [t.get_text() for t in fig.subfigs[1].texts]
    assert any("fewer than 100 replications" in t for t in footer)


def test_risk_return_intervals_have_one_coverage(ts: pd.DataFrame) -> None:
    per = per_replication(ts)
    table = summary_risk_return(per)
    group = per.xs("traditional", level="strategy")["cum_net_profit"]
    margin = 1.96 * group.std(ddof=1) / np.sqrt(len(group))
    row = table.loc["traditional"]
    assert row["profit_high"] - row["profit_mean"] == pytest.approx(margin, rel=1e-3)
    fig = charts.risk_return(ts, STAMP)
    assert "95 % intervals" in fig.axes[0].get_title(loc="left")


def test_stage_mix_groups_thousands_on_a_log_axis() -> None:
    big = synthetic_timeseries()
    big["n_seed"] = big["n_seed"] * 20000
    fig = charts.stage_mix(big, STAMP)
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any("," in t for t in labels), labels


def test_figures_fit_the_page(ts: pd.DataFrame) -> None:
    for chart in charts.CHARTS.values():
        fig = chart(ts, STAMP)
        width, _ = fig.get_size_inches()
        assert width == pytest.approx(7.1, abs=0.05)
        fig.canvas.draw()  # tick labels exist only once drawn
        for text in fig.findobj(Text):
            if text.get_text() and text.get_visible():
                assert text.get_fontsize() >= 8, text


def test_risk_return_chart_survives_an_es_outside_its_bootstrap_interval(ts) -> None:
    # Resampled expected shortfall is biased low, so with identical replications (or
    # heavy tails) the point estimate can sit above the whole bootstrap interval.
    repeated = pd.concat(
        [ts.assign(replication=ts["replication"] + k * 1000) for k in range(6)],
        ignore_index=True,
    )
    fig = charts.risk_return(repeated, "stamp")
    assert fig.axes


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_text_stays_on_the_page(ts: pd.DataFrame, lang: str) -> None:
    """At print width nothing runs off the figure: notes wrap, legends fit."""
    for name, draw in figures(ts).items():
        fig = draw(lang)
        with charts._style():
            renderer = FigureCanvasAgg(fig).get_renderer()
            fig.draw(renderer)
        width = fig.bbox.width
        placed = [t for sub in fig.subfigs for t in sub.texts]  # notes, the stamp
        placed += [sub._suptitle for sub in fig.subfigs if sub._suptitle]
        placed += [t for leg in fig.findobj(Legend) for t in leg.get_texts()]
        for ax in fig.axes:
            placed += [ax.title, ax._left_title, ax.xaxis.label, ax.yaxis.label]
        for text in placed:
            if text.get_visible() and text.get_text():
                box = text.get_window_extent(renderer)
                assert box.x0 >= -1 and box.x1 <= width + 1, (name, text.get_text())


def test_long_notes_wrap_at_words_and_chinese_between_characters() -> None:
    long = "the 90 % band of a ratio of few loans is noise, " * 4
    lines = charts.wrap_notes([long.strip()])
    assert len(lines) >= 2 and " ".join(lines) == long.strip()
    assert all(charts._text_width_in(line) <= charts.PAGE_WIDTH_IN for line in lines)
    chinese = charts.wrap_notes(["不良贷款率" * 20 + "；故只画中间50%"])
    assert len(chinese) == 2 and not chinese[1].startswith("；")
    assert charts.wrap_notes(["short"]) == ["short"]


def test_eight_strategies_differ_in_colour_line_and_marker() -> None:
    styles = [charts._style_of(i, 40) for i in range(8)]
    for key in ("color", "linestyle", "marker"):
        values = [str(style[key]) for style in styles]
        assert len(set(values)) == 8, (key, values)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_charts_rendered_on_workers_are_the_bytes_drawn_here(
    tiny_run_folder, lang: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every chart of a run is built here and rendered on the workers from its pickle:
    the same files as drawn here, with no fallback to drawing here."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from parksim.results import RunResult

    every = RunResult.load(tiny_run_folder).figures()
    here = charts.save_all(every, tmp_path / "here", lang=lang)

    def no_fallback(*args, **kwargs):
        raise AssertionError("the figures were drawn here, not rendered on the workers")

    monkeypatch.setattr(charts, "draw_figures", no_fallback)
    # Spawned, as parksim's own pool: a worker renders in a fresh interpreter.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        there = charts.save_all(every, tmp_path / "there", lang=lang, executor=pool, slots=2)
    assert [p.name for p in there] == [p.name for p in here]
    assert len(here) == 2 * len(every) > 20
    for a, b in zip(here, there, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


class _BrokenPool:
    """An executor whose tasks all fail, as a pool whose workers were killed."""

    def submit(self, fn, *args, **kwargs):
        from concurrent.futures import Future
        from concurrent.futures.process import BrokenProcessPool

        future: Future = Future()
        future.set_exception(BrokenProcessPool("a worker was killed"))
        return future


def test_a_broken_pool_still_leaves_every_chart(ts: pd.DataFrame, tmp_path) -> None:
    some = dict(list(figures(ts).items())[:2])
    paths = charts.save_all(some, tmp_path, formats=["png"], executor=_BrokenPool(), slots=2)
    assert [p.name for p in paths] == [f"{name}.png" for name in some]
    assert all(p.stat().st_size > 1000 for p in paths)
