"""Tests of the summary table and the charts on a small synthetic time series."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from parksim.reporting import charts
from parksim.reporting.columns import COLUMN_NAMES, STAGES, column
from parksim.reporting.summary import METRICS, cumulative, summarise

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


def test_cumulative_accepts_single_name(ts: pd.DataFrame) -> None:
    out = cumulative(ts, "fee_income")
    first = out[out["quarter"] == 1]
    assert (first["cum_fee_income"] == first["fee_income"]).all()


# --- charts --------------------------------------------------------------------


def test_unit_label_is_drawable() -> None:
    label = charts.unit_label("万元")
    assert label == ("万元" if charts.cjk_font() else "10k CNY")
    assert charts.unit_label("firms") == "firms"


def test_save_all_writes_files_without_warnings(ts: pd.DataFrame, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        # Any warning, "Glyph missing" above all, fails the test.
        warnings.simplefilter("error")
        first = charts.save_all(ts, tmp_path / "a", STAMP)
        second = charts.save_all(ts, tmp_path / "b", STAMP)

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


def test_chart_stamp_with_unprintable_characters_does_not_warn(ts: pd.DataFrame) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = charts.operator_curves(ts, "parksim 0.1.0 · scenario 园区 · seed 1 · 4 replications")
        fig.canvas.draw()
    texts = [t.get_text() for t in fig.findobj(Text)]
    footer = next(t for t in texts if t.startswith("parksim 0.1.0"))
    if charts.cjk_font() is None:
        assert "scenario ?? ·" in footer  # no glyph for 园区: replaced, not left blank
    assert "money in" in footer


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
