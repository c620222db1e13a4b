"""The report a policy paper can cite: strategies in words with every scheduled change,
figures with intervals and units, metric names in Chinese, and a page that a real
browser (Debian's chromium, driven by Playwright) opens without a warning.

The quick tests check the words, names and numbers against hand-worked cases; the slow
ones read the report of a small run of an upgrade_paths-like scenario (three strategies,
one of which opens a 50 % risk pool in quarter 4 with its move).
"""

from __future__ import annotations

import html
import math
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from browser_watch import watch

from parksim.analysis.differences import DIFFERENCE_METRICS, TAIL_DIFFERENCES
from parksim.analysis.summary import METRICS, TAIL_METRICS, intervals, mean_interval
from parksim.core.metrics import METRIC_NAMES
from parksim.scenario.describe import changed_parameters, strategy_path, strategy_words
from parksim.scenario.loader import load_scenario, scenario_from_dict
from parksim.scenario.validate import to_dict
from parksim.viz.i18n import METRIC_LABELS, UNITS, format_number, metric_label, tr

ROOT = Path(__file__).resolve().parents[1]
UPGRADE_PATHS = ROOT / "scenarios" / "upgrade_paths.toml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CJK = re.compile(r"[\u4e00-\u9fff]")
#: The bank P&L columns another change adds: named here so they arrive with names.
PNL_COLUMNS = (
    "pre_tax_profit",
    "tax",
    "cost_income_ratio",
    "roa",
    "pretax_roa",
    "group_equity_income",
    "group_net_profit",
    "stakes_fair_value",
    "fee_settlement",
    "fee_bond",
    "fee_advisory",
    "fee_reit",
    "fee_referral",
    "interest_income",
    "ftp_charge",
    "ftp_credit",
    "interest_expense",
    "demand_deposits",
    "time_deposits",
    "balance_sheet",
    "head_office_cost",
    "single_name_limit",
    "allocated_capital",
    "group_fee_income",
    "group_equity_fv_income",
)
EVERY_METRIC = sorted(
    {*METRIC_NAMES, *METRICS, *TAIL_METRICS, *PNL_COLUMNS}
    | {m.name for m in DIFFERENCE_METRICS}
    | {name for name, _, _ in TAIL_DIFFERENCES}
    | {"pool_exhausted_share", "extra_young_lending_per_fiscal_cost"}
)


def _words(strategy: str, lang: str) -> list[str]:
    scenario = load_scenario(UPGRADE_PATHS)
    path = strategy_path(scenario.strategy(strategy), scenario.tiers)
    return strategy_words(path, lambda text: tr(text, lang))


# --- quick: words, names and numbers ---------------------------------------------------------


def test_a_scheduled_pool_is_in_the_strategy_words() -> None:
    pool, plain = _words("to2_q4_pool_heavy", "en"), _words("to2_q4_heavy", "en")
    assert pool[-1] == (
        "From quarter 4: tier 1.0 → 2.0 (investment 2,000 万元, ramp over 4 quarters); "
        "policy: risk-pool (风险补偿资金池) share of a loss 50 %, risk-pool capital 20,000 万元."
    )
    assert plain[-1] == (
        "From quarter 4: tier 1.0 → 2.0 (investment 2,000 万元, ramp over 4 quarters)."
    )
    # The package the strategy starts with, whole: no pool until quarter 4.
    assert "risk-pool (风险补偿资金池) share of a loss 0 %" in pool[0]
    zh = _words("to2_q4_pool_heavy", "zh")
    assert zh[-1].startswith("自第 4 季度起：服务层级 1.0 → 2.0（投入 2,000 万元")
    assert "风险补偿资金池分担比例 50%" in zh[-1] and "风险补偿资金池规模 20,000 万元" in zh[-1]


def _words_in(scenario, strategy: str, lang: str) -> list[str]:
    """The words the report shows: the path resolved with the scenario."""
    path = strategy_path(scenario.strategy(strategy), scenario.tiers, scenario)
    return strategy_words(path, lambda text: tr(text, lang))


def test_params_and_a_follower_are_in_the_words() -> None:
    scenario = load_scenario(UPGRADE_PATHS)
    en = _words_in(scenario, "to2_q4_follow4_cut_heavy", "en")
    assert (
        "Model parameters this strategy changes: banks.1.follow_lag_quarters = 4, "
        "banks.1.follow_margin_cut = 0.002." in en
    )
    assert (
        "Competitor Bank B (tier 1.0): follows the focal bank to its new tier 4 quarters "
        "after each of its moves (never down; ramp over 4 quarters); cuts its loan margin "
        "by 0.2 pp a year as it follows." in en
    )
    assert "Competitors that do not move: Bank C (tier 1.0)." in en
    zh = _words_in(scenario, "to2_q4_follow4_cut_heavy", "zh")
    assert "本策略调整的模型参数：banks.1.follow_lag_quarters = 4，" in zh[2]
    assert zh[3].startswith("竞争银行 Bank B（服务层级 1.0）：在本行每次调整后 4 个季度跟进")
    assert "每年下调 0.2 个百分点" in zh[3]
    assert all(CJK.search(line) for line in zh)
    # The reference turns nothing on: no parameters, no follower.
    stay = _words_in(scenario, "stay_1_heavy", "en")
    assert stay[-1] == "Competitors that do not move: Bank B (tier 1.0), Bank C (tier 1.0)."
    assert not any(line.startswith("Model parameters") for line in stay)


def test_the_stress_in_force_is_in_the_words() -> None:
    data = to_dict(load_scenario(UPGRADE_PATHS))
    data["stress"] = {"preset": "severe", "start_quarter": 3, "severity": 0.5}
    data["banks"][2]["changes"] = [{"quarter": 6, "tier": 3.0, "ramp_quarters": 2}]
    scenario = scenario_from_dict(data)
    en = _words_in(scenario, "stay_1_heavy", "en")
    stress = en[en.index(next(line for line in en if line.startswith("Stress path"))) :]
    assert stress[0] == (
        "Stress path (the scenario's [stress]): preset severe, its quarter 1 in quarter 3, "
        "at severity 0.5."
    )
    # The preset's first year at half severity: -2.7 sd x 0.5, valuations 0.8 ^ 0.5.
    assert stress[1].startswith("Quarters 3–6: macro factor −1.35 sd, valuations × 0.894")
    # Bank C's own move climbs tiers 2.0 and 3.0: 2,000 + 3,000 万元.
    assert (
        "Competitor Bank C (tier 1.0): from quarter 6: tier 1.0 → 3.0 (investment 5,000 万元, "
        "ramp over 2 quarters)." in en
    )
    zh = _words_in(scenario, "stay_1_heavy", "zh")
    assert (
        "竞争银行 Bank C（服务层级 1.0）：自第 6 季度起服务层级 1.0 → 3.0（投入 5,000 万元"
        in "".join(zh)
    )
    zh_stress = zh[-len(stress) :]
    assert zh_stress[0].startswith("压力路径（情景设定 [stress]）：预设情景 severe")
    assert zh_stress[1].startswith("第 3–6 季度：宏观因子 −1.35 个标准差")
    assert all(CJK.search(line) for line in zh_stress)


def test_every_change_of_a_two_step_move_is_in_the_words() -> None:
    words = _words("to2_q4_to3_q16_light", "en")
    assert "a light-asset operator" in words[0]
    assert words[1].startswith("From quarter 4: tier 1.0 → 2.0 (investment 2,000 万元")
    assert words[2].startswith("From quarter 16: tier 2.0 → 3.0 (investment 3,000 万元")


def test_parameters_away_from_the_defaults_are_listed() -> None:
    changed = {
        key: (value, default)
        for key, value, default in changed_parameters(load_scenario(UPGRADE_PATHS))
    }
    # upgrade_paths.toml sets these four away from the schema's defaults; the rest of its
    # numbers (calibrated margin, bars, failure hazards) are the defaults.
    assert changed["park.entries_per_quarter"] == (15.0, 25.0)
    assert changed["park.park_fund"] == (1_000_000.0, 0.0)
    assert changed["equity.round_size"][0] == (900.0, 6000.0, 30000.0, 90000.0)
    assert "park.entrant_stage_mix" in changed
    assert "equity.round_size[0]" not in changed  # a tuple is named whole
    assert "lending.margin" not in changed


@pytest.mark.parametrize("metric", EVERY_METRIC)
def test_every_metric_has_a_chinese_name_and_a_unit(metric: str) -> None:
    assert CJK.search(metric_label(metric, "zh")), metric_label(metric, "zh")
    assert METRIC_LABELS[metric][1] in UNITS


def test_numbers_print_in_their_units() -> None:
    # A share prints as a percentage, its difference in percentage points, a minus as −.
    assert format_number(-0.0032, "share", difference=True) == "\u22120.32"
    assert format_number(0.0123, "share") == "1.23"
    assert format_number(1234567.4, "万元") == "1,234,567"
    assert format_number(-0.001, "万元") == "0"  # no "-0"
    assert format_number(float("nan"), "万元") == "\u2013"


def test_intervals_of_the_means_and_the_tail() -> None:
    # Hand-worked: values 1, 2, 3, 4 have mean 2.5 and standard error sqrt(5/3)/2; the
    # 95 % interval is 2.5 ± 1.959964 × 0.645497.
    mean, low, high = mean_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    assert mean == 2.5
    assert low == pytest.approx(2.5 - 1.959964 * math.sqrt(5.0 / 3.0) / 2.0, abs=1e-5)
    assert high == pytest.approx(2.5 + 1.959964 * math.sqrt(5.0 / 3.0) / 2.0, abs=1e-5)
    # Equal losses in every replication: every tail figure and its interval is that loss,
    # and there is no unexpected loss, so no return on risk.
    index = pd.MultiIndex.from_product([["a"], range(5)], names=["strategy", "replication"])
    per = pd.DataFrame({m: 1.0 for m in METRICS}, index=index)
    per["cum_credit_loss"] = 7.0
    table = intervals(per).set_index("metric")
    for metric in ("cum_credit_loss_var95", "cum_credit_loss_es99_9"):
        assert tuple(table.loc[metric, ["value", "low", "high"]]) == (7.0, 7.0, 7.0)
    assert table.loc["unexpected_loss_99_9", "value"] == 0.0
    assert math.isnan(table.loc["return_on_risk", "value"])
    assert math.isnan(table.loc["return_on_risk", "low"])


# --- slow: the report of a small upgrade_paths-like run ---------------------------------------


def _small_upgrade_paths() -> str:
    """upgrade_paths.toml with three strategies (stay, move, move with a pool opened in
    quarter 4), 120 firms and eight quarters."""
    head, *strategies = UPGRADE_PATHS.read_text(encoding="utf-8").split("[[strategies]]")
    keep = [s for s in strategies if re.search(r'name = "(stay_1_heavy|to2_q4_(pool_)?heavy)"', s)]
    text = "[[strategies]]".join([head, *keep])
    text = re.sub(r"^horizon = \d+", "horizon = 8", text, count=1, flags=re.M)
    return re.sub(r"^enterprises = \d+", "enterprises = 120", text, count=1, flags=re.M)


@pytest.fixture(scope="module")
def upgrade_reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`parksim run` (two replications) and `parksim report` in English and Chinese."""
    from parksim.cli import EXIT_OK, main

    folder = tmp_path_factory.mktemp("upgrade")
    scenario = folder / "upgrade_small.toml"
    scenario.write_text(_small_upgrade_paths(), encoding="utf-8")
    run = folder / "run"
    assert main(["run", str(scenario), "--replications", "2", "--out", str(run), "--quiet"]) == 0
    paths = {}
    for lang in ("en", "zh"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert main(["report", str(run), "--lang", lang]) == EXIT_OK
        paths[lang] = run / f"report-{lang}.html"
    return paths


def _text(path: Path) -> str:
    """The page's text, without images and markup."""
    page = path.read_text(encoding="utf-8")
    page = re.sub(r"data:[a-z/]+;base64,[A-Za-z0-9+/=]+", "", page)
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _strategy_section(path: Path) -> str:
    text = _text(path)
    start = text.index(tr("The scenario and its strategies", "zh" if "zh" in path.name else "en"))
    return text[start : start + 4000]


@pytest.mark.slow
def test_the_report_finds_the_scheduled_pool(upgrade_reports: dict[str, Path]) -> None:
    en = _strategy_section(upgrade_reports["en"])
    assert (
        "From quarter 4: tier 1.0 → 2.0 (investment 2,000 万元, ramp over 4 quarters); "
        "policy: risk-pool (风险补偿资金池) share of a loss 50 %, risk-pool capital 20,000 万元."
    ) in en
    zh = _strategy_section(upgrade_reports["zh"])
    assert "自第 4 季度起：服务层级 1.0 → 2.0" in zh
    assert "政策：风险补偿资金池分担比例 50%，风险补偿资金池规模 20,000 万元。" in zh


@pytest.mark.slow
def test_every_metric_in_the_chinese_report_has_a_chinese_name(
    upgrade_reports: dict[str, Path],
) -> None:
    text = _text(upgrade_reports["zh"])
    shown = [m for m in EVERY_METRIC if metric_label(m, "zh") in text]
    assert set(METRICS) | set(TAIL_METRICS) <= set(shown)  # the table of every metric
    for metric in shown:
        assert CJK.search(metric_label(metric, "zh")), metric
    # No metric appears under its English name or its column name (the Chinese names,
    # some of which keep an English abbreviation such as RAROC, taken out first).
    for metric in sorted(shown, key=lambda m: -len(metric_label(m, "zh"))):
        text = text.replace(metric_label(metric, "zh"), " ")
    for metric in EVERY_METRIC:
        english = METRIC_LABELS[metric][0]
        assert not re.search(rf"(?<!\w){re.escape(english)}(?!\w)", text), english
        assert not re.search(rf"(?<![\w.]){re.escape(metric)}(?![\w.])", text), metric


@pytest.mark.slow
def test_report_figures_carry_intervals_and_units(upgrade_reports: dict[str, Path]) -> None:
    text = _text(upgrade_reports["en"])
    assert "NPL ratio at the horizon (%)" in text
    # Every figure of the summary table: a value, then "(low to high)" on the next line.
    assert len(re.findall(r"\n\(\u2212?[\d,.]+ to \u2212?[\d,.]+\)", text)) >= 3 * 7
    assert "NPL ratio at the horizon" in text and "pp" in text  # differences of a share


def browser_problems(page_path: Path) -> tuple[list[str], dict]:
    """Open ``page_path`` in chromium; every console warning or error, page error and
    failed request (fonts included), and what the page shows."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            problems = watch(page, "")  # a file: the page must need no other host
            page.goto(page_path.as_uri(), wait_until="load")
            shown = page.evaluate(
                """document.fonts.ready.then(() => ({
                  fonts: [...document.fonts].map(f => [f.family, f.weight, f.status]),
                  images: [...document.querySelectorAll('figure img')]
                    .filter(i => i.complete && i.naturalWidth > 1000).length,
                  tables: document.querySelectorAll('table.data').length,
                }))"""
            )
            page.wait_for_timeout(300)  # a font decoded late still logs before this
        finally:
            browser.close()
    return problems, shown


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (CI installs it)")
def test_chinese_report_opens_without_a_warning(upgrade_reports: dict[str, Path]) -> None:
    problems, shown = browser_problems(upgrade_reports["zh"])
    assert not problems, problems
    # Both faces of the embedded font decoded (a face that fails shows as "error").
    assert sorted(w for family, w, status in shown["fonts"] if status == "loaded") == [
        "400",
        "700",
    ], shown["fonts"]
    assert all(status == "loaded" for _, _, status in shown["fonts"]), shown["fonts"]
    assert shown["images"] >= 5 and shown["tables"] >= 5
