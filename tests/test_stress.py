"""Stress paths (parksim/credit/stress.py, the model's use of them) and the reverse stress
test (parksim/analysis/reverse_stress.py): hand-worked draws, forced windows, scaled exit
values, presets, the command line, and a synthetic problem with a known threshold."""

from __future__ import annotations

import dataclasses
import json
import math
import re
import tomllib

import numpy as np
import pytest
from conftest import ROOT
from scipy import stats

from parksim.analysis.reverse_stress import find_threshold, metric_value, reverse_stress
from parksim.cli import EXIT_BAD_INPUT, EXIT_OK, main
from parksim.credit import CreditParams, CreditRiskEngine
from parksim.credit.stress import (
    PRESETS_FILE,
    StressPath,
    StressPeriod,
    load_presets,
    stress_schedule,
)
from parksim.model import ParkModel
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import load_scenario, scenario_from_dict
from parksim.scenario.validate import to_dict

UPGRADE = ROOT / "scenarios" / "upgrade_paths.toml"


def _small(path=UPGRADE, horizon: int = 12, firms: int = 150):
    scenario = load_scenario(path)
    park = dataclasses.replace(scenario.park, enterprises=firms)
    kept = tuple(s for s in scenario.strategies if all(c.quarter <= horizon for c in s.changes))
    return dataclasses.replace(scenario, park=park, horizon=horizon, strategies=kept)


def _with_stress(scenario, *periods, **path):
    return dataclasses.replace(scenario, stress=StressPath(periods=tuple(periods), **path))


# --- the engine ----------------------------------------------------------------------------


def test_macro_shift_moves_exactly_the_stressed_quarters_by_hand():
    """Z_1 = η_1 + s_1, Z_t = φ·C_{t−1} + √(1−φ²)·η_t + s_t with C the unshifted cycle."""
    phi = 0.87
    engine = CreditRiskEngine(CreditParams(macro_persistence=phi), n_sectors=2)
    shifts = [0.0, -2.0, -2.0, 0.0, 0.5]
    rng = np.random.default_rng(11)
    drawn = [engine.draw_factors(rng, shift).macro for shift in shifts]
    eta = np.random.default_rng(11).standard_normal((len(shifts), 3))[:, 0]
    cycle = [eta[0]]
    for t in range(1, len(shifts)):
        cycle.append(phi * cycle[-1] + math.sqrt(1 - phi**2) * eta[t])
    expected = [c + s for c, s in zip(cycle, shifts, strict=True)]
    assert drawn == pytest.approx(expected, abs=1e-14)
    # Unstressed quarters are the unstressed path exactly (the shift does not feed the cycle).
    plain = CreditRiskEngine(CreditParams(macro_persistence=phi), n_sectors=2)
    rng = np.random.default_rng(11)
    base = [plain.draw_factors(rng).macro for _ in shifts]
    assert np.subtract(drawn, base) == pytest.approx(shifts, abs=1e-14)
    assert engine.macro_factor == drawn[-1]


def test_model_macro_factor_is_shifted_in_the_period_only():
    scenario = _small()
    shifted = _with_stress(scenario, StressPeriod(3, 5, macro_shift=-1.5))
    plain = ParkModel(scenario, "to2_q4_heavy", rng=4, collect=False).run()
    stressed = ParkModel(shifted, "to2_q4_heavy", rng=4, collect=False).run()
    gap = [
        s["macro_factor"] - p["macro_factor"]
        for s, p in zip(stressed.records, plain.records, strict=True)
    ]
    expected = [-1.5 if 3 <= q <= 5 else 0.0 for q in range(len(gap))]
    assert gap == pytest.approx(expected, abs=1e-12)


def test_strategy_stress_replaces_the_scenario_one():
    scenario = _with_stress(_small(), StressPeriod(2, 2, macro_shift=-1.0))
    own = StressPath(periods=(StressPeriod(6, 6, macro_shift=1.0),))
    strategies = (dataclasses.replace(scenario.strategies[0], stress=own), *scenario.strategies[1:])
    scenario = dataclasses.replace(scenario, strategies=strategies)
    assert scenario.stress_of(scenario.strategies[0]) is own
    assert scenario.stress_of(scenario.strategies[1]) is scenario.stress
    model = ParkModel(scenario, scenario.strategies[0].name, rng=1, collect=False)
    assert [q.macro_shift for q in model._stress][:7] == [0, 0, 0, 0, 0, 0, 1.0]


# --- the IPO window, valuations, rates ------------------------------------------------------


def test_shut_window_means_no_listing_in_those_quarters():
    scenario = _small(horizon=16, firms=300)
    open_ = ParkModel(
        _with_stress(scenario, StressPeriod(1, 16, ipo_window="open")),
        "to2_q4_heavy",
        rng=2,
        collect=False,
    ).run()
    assert sum(r["listings"] for r in open_.records) > 0  # the check below can fail
    shut = ParkModel(
        _with_stress(scenario, StressPeriod(5, 12, ipo_window="shut")),
        "to2_q4_heavy",
        rng=2,
        collect=False,
    ).run()
    assert [shut.records[q]["listings"] for q in range(5, 13)] == [0] * 8


def test_valuation_factor_scales_exit_multiples(monkeypatch):
    import parksim.model as model_module

    seen: dict[float, list] = {}
    real = model_module.realise_stakes

    def spy(pop, events, multiples, *rest):
        seen.setdefault(factor, []).append(multiples)
        return real(pop, events, multiples, *rest)

    monkeypatch.setattr(model_module, "realise_stakes", spy)
    scenario = _small(horizon=4)
    for factor in (1.0, 0.6):
        stressed = _with_stress(scenario, StressPeriod(2, 3, valuation_factor=factor))
        ParkModel(stressed, "to2_q4_heavy", rng=3, collect=False).run()
    base, cut = np.array(seen[1.0]), np.array(seen[0.6])
    assert cut[[1, 2]] == pytest.approx(0.6 * base[[1, 2]], rel=1e-12)
    assert cut[[0, 3]] == pytest.approx(base[[0, 3]], rel=1e-12)


def test_rate_shifts_are_percentage_points_in_the_period():
    scenario = _with_stress(
        _small(horizon=4), StressPeriod(2, 2, funding_cost_shift=-0.2, loan_rate_shift=0.5)
    )
    model = ParkModel(scenario, "to2_q4_heavy", rng=1, collect=False)
    lending = scenario.lending
    seen = []
    for _ in range(3):
        model.step()
        seen.append((model.funding_cost, model.loan_market.lending.base_rate))
    assert seen[0] == pytest.approx((lending.funding_cost, lending.base_rate))
    assert seen[1] == pytest.approx((lending.funding_cost - 0.002, lending.base_rate + 0.005))
    assert seen[2] == pytest.approx((lending.funding_cost, lending.base_rate))


# --- presets and severity -------------------------------------------------------------------


def test_presets_resolve_from_the_data_file():
    raw = tomllib.loads(PRESETS_FILE.read_text(encoding="utf-8"))["presets"]
    assert {"mild", "severe"} <= set(load_presets())
    for name in ("mild", "severe"):
        assert load_presets()[name]["source"]
        periods = StressPath(preset=name).resolved()
        assert [p.macro_shift for p in periods] == [p["macro_shift"] for p in raw[name]["periods"]]
    assert StressPath(preset="severe").resolved()[0].macro_shift == -2.7


def test_severity_and_start_scale_and_move_a_preset():
    path = StressPath(preset="severe", severity=0.5, start_quarter=5)
    first = path.resolved()[0]
    assert (first.from_quarter, first.to_quarter) == (5, 8)
    assert first.macro_shift == pytest.approx(-1.35)
    assert first.valuation_factor == pytest.approx(math.sqrt(0.8))
    assert first.loan_rate_shift == pytest.approx(-0.25)
    schedule = stress_schedule(path, horizon=40)
    assert schedule[4].macro_shift == 0.0 and schedule[5].macro_shift == pytest.approx(-1.35)
    assert schedule[5].loan_rate_shift == pytest.approx(-0.0025)
    assert all(q.macro_shift == 0.0 for q in stress_schedule(path.at_severity(0.0), 40))


# --- bad input ------------------------------------------------------------------------------


def _scenario_dict(**stress):
    return {
        "name": "x",
        "park": {
            "name": "p",
            "enterprises": 10,
            "sector_mix": {"biomedicine": 1.0},
            "stage_mix": {"seed": 1.0},
        },
        "banks": [{"name": "a"}],
        "strategies": [{"name": "s", "bank_tier": 1.0, "operator_model": "heavy", **stress}],
    }


@pytest.mark.parametrize(
    ("stress", "key", "says"),
    [
        ({"preset": "sever"}, "strategies[0].stress", "expected one of mild, severe"),
        (
            {"periods": [{"from_quarter": 3, "to_quarter": 2}]},
            "strategies[0].stress.periods[0]",
            "to_quarter (2) must not be before",
        ),
        (
            {"periods": [{"from_quarter": 1, "to_quarter": 2, "ipo_window": "closed"}]},
            "strategies[0].stress.periods[0].ipo_window",
            "'open', 'shut'",
        ),
        (
            {"periods": [{"from_quarter": 1, "to_quarter": 2, "valuation_factor": 0}]},
            "strategies[0].stress.periods[0].valuation_factor",
            "positive",
        ),
        (
            {"periods": [{"from_quarter": 1, "to_quarter": 2, "macro_shfit": -1}]},
            "strategies[0].stress.periods[0]",
            "macro_shfit",
        ),
        (
            {"preset": "mild", "periods": [{"from_quarter": 4, "to_quarter": 5}]},
            "strategies[0].stress",
            "overlap in quarter 4",
        ),
    ],
)
def test_bad_stress_names_file_place_and_field(stress, key, says):
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(_scenario_dict(stress=stress), file="x.toml")
    text = str(error.value)
    assert f"x.toml: {key}" in text and says in text


def test_stress_after_the_horizon_is_refused_and_a_stressed_scenario_round_trips():
    data = _scenario_dict()
    data["stress"] = {"periods": [{"from_quarter": 41, "to_quarter": 44}]}
    with pytest.raises(ScenarioError, match="after the horizon"):
        scenario_from_dict(data, file="x.toml")
    data["stress"] = {
        "preset": "mild",
        "start_quarter": 5,
        "periods": [{"from_quarter": 30, "to_quarter": 31, "ipo_window": "shut"}],
    }
    scenario = scenario_from_dict(data, file="x.toml")
    assert scenario_from_dict(to_dict(scenario)) == scenario
    assert scenario.stress.resolved()[-1].ipo_window == "shut"


# --- the command line -----------------------------------------------------------------------


@pytest.mark.slow
def test_run_with_stress_severe_end_to_end(tmp_path):
    text = UPGRADE.read_text(encoding="utf-8")
    text = re.sub(r"^horizon = \d+", "horizon = 20", text, count=1, flags=re.M)
    text = re.sub(r"^enterprises = \d+", "enterprises = 100", text, count=1, flags=re.M)
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "run"
    args = ["run", str(path), "--replications", "2", "--quiet", "--no-charts", "--out", str(out)]
    assert main([*args, "--stress", "severe"]) == EXIT_OK
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "severe" in json.dumps(manifest)
    bad = ["run", str(path), "--replications", "2", "--quiet", "--out", str(tmp_path / "b")]
    assert main([*bad, "--stress", "sever"]) == EXIT_BAD_INPUT
    assert not (tmp_path / "b").exists()


@pytest.mark.slow
def test_reverse_stress_command(tmp_path, capsys):
    text = UPGRADE.read_text(encoding="utf-8")
    text = re.sub(r"^horizon = \d+", "horizon = 20", text, count=1, flags=re.M)
    text = re.sub(r"^enterprises = \d+", "enterprises = 100", text, count=1, flags=re.M)
    path = tmp_path / "small.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "r.json"
    args = ["reverse-stress", str(path), "--strategy", "to2_q4_heavy", "--replications", "3"]
    assert main([*args, "--tolerance", "1", "--max-severity", "1", "--out", str(out)]) == EXIT_OK
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["reference"] == "stay_1_heavy" and result["evaluations"]
    assert main([*args, "--reference", "nope"]) == EXIT_BAD_INPUT
    assert main([*args, "--metric", "cum_nothing"]) == EXIT_BAD_INPUT
    assert main([*args, "--preset", "scenario"]) == EXIT_BAD_INPUT  # it has no [stress]
    assert "nope" in capsys.readouterr().err


# --- the reverse stress test ------------------------------------------------------------------


def _linear_problem(slope=2.0, root=1.5, sd=3.0, n=50):
    """d_r(s) = slope·(root − s) + e_r with e of mean 0 and sd `sd` exactly: the lower end
    of the t interval, slope·(root − s) − t·sd/√n, reaches 0 at root − t·sd/(slope·√n)."""
    e = np.random.default_rng(1).standard_normal(n)
    e = (e - e.mean()) / e.std(ddof=1) * sd
    truth = root - stats.t.ppf(0.975, n - 1) * sd / (slope * math.sqrt(n))
    return (lambda s: slope * (root - s) + e), truth


def test_threshold_of_a_synthetic_monotone_problem():
    evaluate, truth = _linear_problem()
    result = find_threshold(evaluate, max_severity=4.0, tolerance=0.05)
    assert abs(result.threshold - truth) < 0.05
    assert result.bracket[0] <= truth <= result.bracket[1]
    assert result.bracket[1] - result.bracket[0] <= 0.05
    low, high = result.interval
    assert low < truth < high
    assert result.break_even == pytest.approx(1.5, abs=0.05)


def test_threshold_at_the_edges():
    never, _ = _linear_problem(root=10.0)
    assert math.isnan(find_threshold(never, max_severity=2.0).threshold)
    already, _ = _linear_problem(root=-1.0)
    assert find_threshold(already).threshold == 0.0
    with pytest.raises(ValueError, match="tolerance"):
        find_threshold(already, tolerance=0.0)


def test_metric_value_sums_cum_columns():
    metrics = {"net_profit": np.array([0.0, 2.0, 3.0])}
    assert metric_value(metrics, "cum_net_profit") == 5.0
    assert metric_value(metrics, "net_profit") == 3.0
    with pytest.raises(ValueError, match="cum_nothing"):
        metric_value(metrics, "cum_nothing")


def test_reverse_stress_on_the_model_checks_its_input():
    scenario = _small(horizon=4)
    with pytest.raises(ValueError, match="nothing to scale"):
        reverse_stress(scenario, "to2_q4_heavy", "stay_1_heavy", StressPath())
    with pytest.raises(KeyError):
        reverse_stress(scenario, "nope", "stay_1_heavy", StressPath(preset="mild"))


def test_metric_value_of_a_differences_metric_is_its_horizon_value():
    # npv_net_profit and cum_banking_profit are defined by differences.csv, not by a column.
    metrics = {
        "net_profit": np.array([0.0, 2.0, 3.0]),
        "pre_tax_profit": np.array([0.0, 4.0, 4.0]),
        "equity_income": np.array([0.0, 1.0, 0.0]),
    }
    assert metric_value(metrics, "cum_banking_profit") == 7.0
    npv = 2.0 * 1.08**-0.25 + 3.0 * 1.08**-0.5
    assert metric_value(metrics, "npv_net_profit", 0.08) == pytest.approx(npv)
