"""Paired differences between strategies: intervals that cover, signs that mean "better",
and a differences.csv that is what the time series says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim.analysis import differences as diff
from parksim.cli import EXIT_OK, main
from parksim.core.metrics import COLUMN_NAMES
from parksim.results import RunResult
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.validate import to_dict

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


# --- the statistics -------------------------------------------------------------------


def test_paired_interval_covers_a_known_difference_95_percent_of_the_time() -> None:
    # Strategy = reference + 40 + its own noise; the reference's luck (sd 300) is shared,
    # as common random numbers share it. Over 2,000 seeds the 95 % interval should miss
    # the true 40 about 100 times (binomial sd ~10).
    trials, n, true = 2000, 20, 40.0
    covered = 0
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        shared = rng.normal(1000.0, 300.0, n)
        reference = shared + rng.normal(0.0, 20.0, n)
        strategy = shared + true + rng.normal(0.0, 20.0, n)
        out = diff.paired_difference(strategy, reference)
        covered += out["ci_low"] <= true <= out["ci_high"]
    assert 0.935 <= covered / trials <= 0.965


def test_paired_standard_error_is_far_below_the_unpaired_one_under_shared_luck() -> None:
    rng = np.random.default_rng(1)
    shared = rng.normal(1000.0, 300.0, 200)
    out = diff.paired_difference(shared + 40 + rng.normal(0, 20, 200), shared)
    assert out["se"] < out["se_unpaired"] / 5
    assert out["correlation"] > 0.99


def test_welch_interval_covers_a_known_difference_of_independent_samples() -> None:
    trials, true = 2000, 40.0
    covered = 0
    for seed in range(trials):
        rng = np.random.default_rng(seed)
        out = diff.unpaired_difference(rng.normal(1040.0, 100.0, 15), rng.normal(1000.0, 30.0, 25))
        covered += out["ci_low"] <= true <= out["ci_high"]
    assert 0.935 <= covered / trials <= 0.965


def test_lower_loss_counts_as_better() -> None:
    # Two lower, one higher, one tie (counting half).
    strategy, reference = np.array([1.0, 2.0, 9.0, 4.0]), np.array([2.0, 3.0, 5.0, 4.0])
    assert diff.paired_difference(strategy, reference, "lower")["p_better"] == 0.625
    assert diff.paired_difference(strategy, reference, "higher")["p_better"] == 0.375
    assert diff.paired_difference(strategy, reference, "lower")["p_tie"] == 0.25


def test_identical_strategies_are_even_not_worse() -> None:
    """A tie counts half: the same results under both strategies give 0.5, not 0."""
    x = np.random.default_rng(4).normal(100.0, 10.0, 50)
    for better in ("higher", "lower"):
        paired = diff.paired_difference(x, x.copy(), better)
        assert paired["p_better"] == 0.5 and paired["p_tie"] == 1.0 and paired["median"] == 0
        unpaired = diff.unpaired_difference(np.full(5, 3.0), np.full(7, 3.0), better)
        assert unpaired["p_better"] == 0.5 and unpaired["p_tie"] == 1.0


def test_unpaired_ties_count_half_and_the_median_is_of_all_differences() -> None:
    # Differences x_i - r_j: 1-1=0, 1-2=-1, 3-1=2, 3-2=1: one win of four is lost, one tie.
    out = diff.unpaired_difference(np.array([1.0, 3.0]), np.array([1.0, 2.0]), "higher")
    assert out["p_better"] == pytest.approx((2 + 0.5) / 4)
    assert out["p_tie"] == 0.25
    assert out["median"] == pytest.approx(0.5)


def test_a_skewed_difference_whose_mean_and_p_better_disagree_is_flagged() -> None:
    """The strategy loses a little in 9 of 10 replications and wins big in one: the mean
    says better, p_better says worse, and the row says they disagree."""
    reference = np.zeros(10)
    strategy = np.array([-1.0] * 9 + [100.0])
    out = diff.paired_difference(strategy, reference, "higher")
    assert out["mean"] > 0 and out["p_better"] == pytest.approx(0.1)
    assert out["median"] == -1.0
    assert diff.sign_disagrees(out["mean"], out["p_better"], "higher")
    # As a loss (lower is better) they disagree the other way: worse on the mean, yet
    # lower in 9 of 10 replications.
    loss = diff.paired_difference(strategy, reference, "lower")
    assert loss["p_better"] == pytest.approx(0.9)
    assert diff.sign_disagrees(loss["mean"], loss["p_better"], "lower")
    steady = diff.paired_difference(np.arange(1.0, 11.0), reference, "higher")
    assert not diff.sign_disagrees(steady["mean"], steady["p_better"], "higher")
    assert not diff.sign_disagrees(0.0, 0.5, "higher")
    assert not diff.sign_disagrees(np.nan, np.nan, "higher")


def test_breakeven_is_the_first_quarter_from_which_the_interval_stays_above_zero() -> None:
    quarters = np.arange(6)
    low = np.array([0.0, -5.0, 1.0, -1.0, 2.0, 3.0])
    assert diff.breakeven_quarter(quarters, low, low + 10, "higher") == 4
    assert np.isnan(diff.breakeven_quarter(quarters, low - 10, low, "higher"))
    # For a loss the better side is below zero: the interval's upper end must stay < 0.
    assert diff.breakeven_quarter(quarters, -low - 10, -low, "lower") == 4


def test_tail_differences_are_seeded_and_pairing_narrows_them() -> None:
    rng = np.random.default_rng(3)
    shared = rng.gamma(2.0, 500.0, 300)
    strategy, reference = shared * 1.1, shared

    def run(paired: bool, seed: int) -> dict[str, float]:
        generator = np.random.default_rng(seed)
        return diff.tail_difference(strategy, reference, "es", 0.95, paired=paired, rng=generator)

    paired, independent = run(True, 0), run(False, 0)
    again = run(True, 0)
    assert all(again[key] == value for key, value in paired.items() if np.isfinite(value))
    assert paired["mean"] == independent["mean"]
    assert paired["ci_low"] <= paired["mean"] <= paired["ci_high"]
    assert paired["se"] < independent["se"] / 3


# --- the table of a run ----------------------------------------------------------------


def tiny_scenario(seed: int = 11, **changes) -> parksim.Scenario:
    data = to_dict(parksim.load_scenario(BASELINE))
    data.update(horizon=6, replications=4, seed=seed, **changes)
    data["park"]["enterprises"] = 120
    data["strategies"] = [s for s in data["strategies"] if s["name"] != "tier1_light"][:3]
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = parksim.run(tiny_scenario(reference="tier2_heavy"), progress=False)
    with pytest.MonkeyPatch.context() as patch:  # the other charts are tested elsewhere
        patch.setattr("parksim.viz.charts.timeseries_figures", lambda *args, **kwargs: {})
        return result.save(tmp_path_factory.mktemp("run") / "run")


def test_differences_csv_agrees_with_a_direct_computation_from_the_time_series(
    saved: Path,
) -> None:
    table = pd.read_csv(saved / "differences.csv")
    assert list(table.columns) == list(diff.DIFFERENCE_COLUMNS)
    assert set(table["reference"]) == {"tier2_heavy"}
    assert "tier2_heavy" not in set(table["strategy"])

    ts = pd.read_parquet(saved / "timeseries.parquet")
    horizon = ts["quarter"].max()

    def per_rep(name: str, value: pd.Series) -> np.ndarray:
        rows = ts["strategy"] == name
        return value[rows].groupby(ts.loc[rows, "replication"]).sum().sort_index().to_numpy()

    for name in ("tier1_heavy", "tier2_light"):
        rows = table[table["strategy"] == name].set_index("metric")
        profit = per_rep(name, ts["net_profit"]) - per_rep("tier2_heavy", ts["net_profit"])
        got = rows.loc["cum_net_profit"]
        assert got["mean"] == pytest.approx(profit.mean())
        assert got["se"] == pytest.approx(profit.std(ddof=1) / 2.0)  # √4 replications
        assert got["p_better"] == pytest.approx((profit > 0).mean() + (profit == 0).mean() / 2)
        assert got["p_tie"] == pytest.approx((profit == 0).mean())
        assert got["median"] == pytest.approx(np.median(profit))
        assert got["sign_disagrees"] == ((profit.mean() > 0) != (got["p_better"] > 0.5))
        loss = per_rep(name, ts["credit_loss"]) - per_rep("tier2_heavy", ts["credit_loss"])
        assert rows.loc["cum_credit_loss", "mean"] == pytest.approx(loss.mean())
        assert rows.loc["cum_credit_loss", "p_better"] == pytest.approx(
            (loss < 0).mean() + (loss == 0).mean() / 2
        )
        last = ts[ts["quarter"] == horizon]
        npl = per_rep(name, last["npl_ratio"]) - per_rep("tier2_heavy", last["npl_ratio"])
        assert rows.loc["final_npl_ratio", "mean"] == pytest.approx(npl.mean())
        discount = 1.08 ** (-ts["quarter"] / 4.0)
        npv = per_rep(name, ts["net_profit"] * discount) - per_rep(
            "tier2_heavy", ts["net_profit"] * discount
        )
        assert rows.loc["npv_net_profit", "mean"] == pytest.approx(npv.mean())
        equity = per_rep(name, ts["equity_income"]) - per_rep("tier2_heavy", ts["equity_income"])
        assert rows.loc["cum_equity_income", "mean"] == pytest.approx(equity.mean())
        pre_tax = per_rep(name, ts["pre_tax_profit"]) - per_rep("tier2_heavy", ts["pre_tax_profit"])
        banking = rows.loc["cum_banking_profit"]
        assert banking["mean"] == pytest.approx((pre_tax - equity).mean())
        assert banking["se"] == pytest.approx((pre_tax - equity).std(ddof=1) / 2.0)
        group = per_rep(name, ts["group_net_profit"]) - per_rep(
            "tier2_heavy", ts["group_net_profit"]
        )
        assert rows.loc["cum_group_net_profit", "mean"] == pytest.approx(group.mean())
        assert {"cum_credit_loss_var99", "cum_credit_loss_es95"} <= set(rows.index)


def test_the_python_api_takes_another_reference(saved: Path) -> None:
    result = RunResult.load(saved)
    assert set(result.differences()["reference"]) == {"tier2_heavy"}
    other = result.differences(reference="tier1_heavy")
    assert set(other["reference"]) == {"tier1_heavy"}
    assert set(other["strategy"]) == {"tier2_heavy", "tier2_light"}


def test_an_unknown_reference_is_refused_naming_the_key() -> None:
    with pytest.raises(ScenarioError, match="reference: expected the name of a strategy"):
        tiny_scenario(reference="tier9")


def test_a_table_without_a_metrics_columns_leaves_that_metric_out() -> None:
    ts = pd.DataFrame(
        {
            "strategy": ["a"] * 4 + ["b"] * 4,
            "replication": [0, 0, 1, 1] * 2,
            "quarter": [0, 1] * 4,
            **{c: np.arange(8.0) for c in ("net_profit", "credit_loss", "expected_loss")},
            **{c: np.ones(8) for c in ("npl_ratio", "listings")},
        }
    )
    metrics = set(diff.differences(ts)["metric"])
    assert "cum_net_profit" in metrics
    assert "cum_fiscal_cost" not in metrics and "final_raroc" not in metrics
    assert set(COLUMN_NAMES) >= {"net_profit", "credit_loss"}


# --- compare ---------------------------------------------------------------------------


def test_differences_within_a_run_stay_paired_when_runs_have_different_seeds() -> None:
    # Two runs: "a" (strategies x, y; shared seeds) and "b" (x, another seed). Worked by
    # hand for cum_net_profit, one quarter: a/y − a/x per replication is d = 1, 1, 1, 2,
    # mean 1.25, sd 0.5, paired se 0.5 / √4 = 0.25; the large shared luck (100, 200, 300,
    # 400) cancels. b/x against a/x is two independent samples: Welch, se =
    # √(var(b)/4 + var(a)/4) with var(a) = var(b) = 16,666.67, i.e. 91.29.
    luck = np.array([100.0, 200.0, 300.0, 400.0])
    values = {"a/x": luck, "a/y": luck + np.array([1.0, 1.0, 1.0, 2.0]), "b/x": luck[::-1] + 5.0}
    ts = pd.DataFrame(
        {
            "strategy": np.repeat(list(values), 4),
            "replication": np.tile(np.arange(4), 3),
            "quarter": 1,
            "net_profit": np.concatenate(list(values.values())),
            "credit_loss": 0.0,
        }
    )
    groups = {"a/x": "a", "a/y": "a", "b/x": "b"}
    table = diff.differences(ts, "a/x", paired=groups, resamples=50)
    rows = table[table["metric"] == "cum_net_profit"].set_index("strategy")
    assert rows.loc["a/y", "method"] == "paired t"
    assert rows.loc["a/y", "mean"] == pytest.approx(1.25)
    assert rows.loc["a/y", "se"] == pytest.approx(0.25)
    assert rows.loc["b/x", "method"] == "Welch t (unpaired)"
    assert rows.loc["b/x", "se"] == pytest.approx(np.sqrt(2 * 16666.666666666668 / 4))
    tails = table[table["metric"] == "cum_credit_loss_es95"].set_index("strategy")["method"]
    assert tails.to_dict() == {"a/y": "paired bootstrap", "b/x": "independent bootstrap"}


@pytest.mark.slow
def test_compare_pairs_runs_with_one_seed_and_says_when_it_cannot(
    saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setattr("parksim.viz.charts.timeseries_figures", lambda *args, **kwargs: {})
    same = parksim.run(tiny_scenario(), progress=False)
    same_folder = same.save(tmp_path / "same_seed")
    out = tmp_path / "paired"
    assert main(["compare", str(saved), str(same_folder), "--out", str(out), "--quiet"]) == EXIT_OK
    assert "paired" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["paired"] is True
    table = pd.read_csv(out / "differences.csv")
    assert set(table["method"]) <= {"paired t", "paired bootstrap"}

    other = parksim.run(tiny_scenario(seed=12), progress=False).save(tmp_path / "other_seed")
    out = tmp_path / "unpaired"
    assert main(["compare", str(saved), str(other), "--out", str(out), "--quiet"]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "not paired across runs" in printed and "root seeds" in printed
    table = pd.read_csv(out / "differences.csv")
    # Against the first run's reference: its own strategies pair, the other run's do not.
    within = table["strategy"].str.startswith(f"{saved.name}/")
    assert within.any() and (~within).any()
    assert set(table.loc[within, "method"]) == {"paired t", "paired bootstrap"}
    assert set(table.loc[~within, "method"]) == {"Welch t (unpaired)", "independent bootstrap"}


# --- charts ----------------------------------------------------------------------------


def test_a_run_folder_has_the_difference_charts(saved: Path) -> None:
    for name in ("difference_fan_cum_net_profit", "difference_fan_cum_credit_loss"):
        assert (saved / "figures" / f"{name}.png").stat().st_size > 0
    assert (saved / "figures" / "difference_forest.svg").stat().st_size > 0


def test_the_forest_plot_shows_the_differences_table(saved: Path) -> None:
    from parksim.viz.difference_charts import difference_forest

    result = RunResult.load(saved)
    table = result.differences()
    fig = difference_forest(result.timeseries, "stamp", "tier2_heavy", 0.08)
    panel = next(
        ax for ax in fig.axes if ax.get_title(loc="left").startswith("Cumulative net profit")
    )
    plotted = panel.lines[0].get_xdata()
    rows = table[table["metric"] == "cum_net_profit"]
    assert np.allclose(plotted, rows["mean"].to_numpy())
    ticks = dict(
        zip([t.get_text() for t in panel.get_yticklabels()], panel.get_yticks(), strict=True)
    )
    assert ticks["tier1_heavy"] > ticks["tier2_light"]  # scenario order, top down


def test_a_metric_no_strategy_moves_is_labelled_not_ticked(saved: Path) -> None:
    from parksim.viz.difference_charts import difference_forest

    result = RunResult.load(saved)
    table = result.differences()
    moved = table["metric"] == "cum_net_profit"
    table.loc[~moved, ["mean", "ci_low", "ci_high"]] = 0.0  # e.g. fiscal cost without policy
    for lang, title, note in [
        ("en", "Cumulative credit loss", "0 in every replication"),
        ("zh", "累计信用损失", "每次模拟均为0"),
    ]:
        fig = difference_forest(result.timeseries, "stamp", "tier2_heavy", table=table, lang=lang)
        panel = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith(title))
        assert list(panel.get_xticks()) == [0.0]
        assert [t.get_text() for t in panel.texts] == [note]
        profit = fig.axes[0]
        assert len(profit.get_xticks()) > 1 and not profit.texts


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_long_strategy_names_keep_panel_titles_apart_and_on_the_page(
    saved: Path, lang: str
) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from parksim.viz import charts
    from parksim.viz.difference_charts import difference_fan, difference_forest

    ts = RunResult.load(saved).timeseries.copy()
    long = {n: f"to2_q4_pool_{n}_heavy_x" for n in ts["strategy"].cat.categories}
    ts["strategy"] = ts["strategy"].cat.rename_categories(long)
    reference = long["tier2_heavy"]
    for fig in (
        difference_fan(ts, "stamp", reference=reference, lang=lang),
        difference_forest(ts, "stamp", reference=reference, lang=lang),
    ):
        with charts._style():
            renderer = FigureCanvasAgg(fig).get_renderer()
            fig.draw(renderer)
        boxes = [ax._left_title.get_window_extent(renderer) for ax in fig.axes if ax.get_visible()]
        assert all(b.x0 >= 0 and b.x1 <= fig.bbox.width for b in boxes)
        for k, a in enumerate(boxes):
            for b in boxes[k + 1 :]:
                assert not a.overlaps(b), (a, b)


def test_every_difference_metric_has_a_title_in_both_languages() -> None:
    from parksim.viz.i18n import metric_title

    names = [m.name for m in diff.DIFFERENCE_METRICS] + [t[0] for t in diff.TAIL_DIFFERENCES]
    for name in names:
        assert "_" not in metric_title(name, "en") and metric_title(name, "zh"), name


def test_a_difference_fan_does_not_pair_strategies_of_runs_with_other_seeds() -> None:
    # Two runs with other seeds: the reference a/x has 3 replications, b/y has 2. Their
    # replications do not pair, so b/y's panel shows the difference of the means with
    # Welch's interval and no band of replication-by-replication differences.
    from matplotlib.collections import PolyCollection

    from parksim.viz.difference_charts import difference_fan

    rows = []
    for strategy, profits in (("a/x", (10.0, 20.0, 30.0)), ("b/y", (50.0, 70.0))):
        for replication, profit in enumerate(profits):
            for quarter in range(3):
                rows.append((strategy, replication, quarter, profit if quarter else 0.0))
    ts = pd.DataFrame(rows, columns=["strategy", "replication", "quarter", "net_profit"])
    ts["strategy"] = pd.Categorical(ts["strategy"], categories=["a/x", "b/y"])
    fig = difference_fan(ts, "stamp", reference="a/x", paired={"a/x": "a", "b/y": "b"})
    panel = next(ax for ax in fig.axes if ax.get_title(loc="left").startswith("b/y"))
    bands = [c for c in panel.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1  # the interval of the mean only
    mean = panel.lines[0].get_ydata()
    # Cumulative by quarter 2: b/y 2 × (60) = 120 on average, a/x 2 × 20 = 40.
    assert mean[-1] == pytest.approx(120.0 - 40.0)
    paired = difference_fan(ts[ts["replication"] < 2], "stamp", reference="a/x")
    panel = next(ax for ax in paired.axes if ax.get_title(loc="left").startswith("b/y"))
    assert len([c for c in panel.collections if isinstance(c, PolyCollection)]) == 2
