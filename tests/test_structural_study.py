"""Structural uncertainty in the studies (issue 22 item 4): park size, entry rate, the main
competitor's tier and lag, where equity is booked, stress severity; discrete and
categorical levels in the designs; a study on the move (`--pair`)."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from parksim.analysis.differences import differences
from parksim.analysis.sensitivity import study
from parksim.analysis.sensitivity.analysis import morris_design, sobol_design
from parksim.analysis.sensitivity.assumptions import (
    Parameter,
    apply_values,
    current_levels,
    load_assumptions,
    with_defaults,
)
from parksim.cli import main
from parksim.ensemble.runner import replication_seed
from parksim.model import ParkModel
from parksim.scenario.errors import ScenarioErrors
from parksim.scenario.loader import load_scenario, scenario_from_dict
from parksim.scenario.validate import to_dict

ROOT = Path(__file__).resolve().parents[1]
ASSUMPTIONS = load_assumptions()
BY_KEY = {p.key: p for p in ASSUMPTIONS.parameters}
STRUCTURAL = (
    "tiers.2.0.ramp_quarters",
    "tiers.3.0.ramp_quarters",
    "park.enterprises",
    "park.entries_per_quarter",
    "banks[1].tier",
    "banks[1].follow_lag_quarters",
    "group.holder",
    "stress.severity",
)
PAIR = ("to2_q4_heavy", "stay_1_heavy")


@pytest.fixture(scope="module")
def tiny_upgrade_paths(tmp_path_factory) -> Path:
    """upgrade_paths, 60 firms over 8 quarters (its 3.0 moves fall after the horizon)."""
    with (ROOT / "scenarios" / "upgrade_paths.toml").open("rb") as handle:
        data = tomllib.load(handle)
    data["horizon"], data["replications"] = 8, 1
    data["park"]["enterprises"], data["park"]["entries_per_quarter"] = 60, 3.0
    data["strategies"] = [s for s in data["strategies"] if "to3" not in s["name"]]
    path = tmp_path_factory.mktemp("scenario") / "tiny_upgrade_paths.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_the_structural_assumptions_are_ranged_and_kept_out_of_the_default_space():
    assert [p.key for p in ASSUMPTIONS.structural()] == list(STRUCTURAL)
    default = {p.key for p in ASSUMPTIONS.ranged()}
    assert not default & set(STRUCTURAL)
    # named one by one (either spelling of a bank's address) they are in
    named = ASSUMPTIONS.ranged(["banks.1.tier", "group.holder"])
    assert [p.key for p in named] == ["banks[1].tier", "group.holder"]


def test_categorical_levels_have_equal_mass_in_a_sobol_design():
    names = list(STRUCTURAL)
    design = sobol_design(names, 256, seed=3)
    for i, key in enumerate(names):
        parameter = BY_KEY[key]
        if not parameter.levels:
            continue
        index = parameter.level_index(design.levels[:, i])
        counts = np.bincount(index, minlength=len(parameter.levels)) / len(index)
        np.testing.assert_allclose(counts, 1 / len(parameter.levels), atol=0.03, err_msg=key)


def test_level_index_splits_the_unit_interval_into_equal_parts():
    parameter = BY_KEY["banks[1].follow_lag_quarters"]  # 6 levels, the last "never"
    u = np.array([0.0, 0.1666, 0.1667, 0.5, 0.8333, 0.8334, 1.0])
    assert parameter.level_index(u).tolist() == [0, 0, 1, 3, 4, 5, 5]
    # mixed levels are categorical: the design holds the index, the scenario the level
    assert parameter.categorical
    assert parameter.from_unit(u).tolist() == [0, 0, 1, 3, 4, 5, 5]
    tier = BY_KEY["banks[1].tier"]  # numeric levels: the design holds the level
    assert not tier.categorical
    assert tier.from_unit(np.array([0.0, 0.4, 0.99])).tolist() == [1.0, 2.0, 3.0]


def test_an_integer_parameter_gives_integers_in_range():
    parameter = BY_KEY["park.enterprises"]
    assert parameter.integer
    values = parameter.from_unit(np.random.default_rng(0).random(500))
    assert np.array_equal(values, np.rint(values))
    assert values.min() >= 150 and values.max() <= 2000


def test_every_morris_step_of_a_discrete_parameter_changes_its_level():
    names = ["banks[1].tier", "group.holder", "banks[1].follow_lag_quarters"]
    design = morris_design(names, 20, seed=5)
    levels = design.levels.reshape(20, len(names) + 1, len(names))
    for i, key in enumerate(names):
        parameter = BY_KEY[key]
        for trajectory in levels:
            moved = np.flatnonzero(np.diff(trajectory[:, i]) != 0)
            assert len(moved) == 1  # one step per parameter per trajectory
            before, after = parameter.level_index(trajectory[moved[0] : moved[0] + 2, i])
            assert before != after, key


def test_a_point_writes_levels_never_and_integers_into_the_scenario():
    scenario = load_scenario(ROOT / "scenarios" / "upgrade_paths.toml")
    values = {
        "banks[1].follow_lag_quarters": 5.0,  # the index of "never"
        "group.holder": 1.0,  # "bank"
        "banks[1].tier": 3.0,
        "park.enterprises": 731.4,
    }
    point = apply_values(scenario, values, (), BY_KEY)
    assert point.banks[1].follow_lag_quarters is None
    assert point.group.holder == "bank"
    assert point.banks[1].tier == 3.0
    assert point.park.enterprises == 731 and isinstance(point.park.enterprises, int)
    values["banks[1].follow_lag_quarters"] = 2.0  # the index of 4 quarters
    assert apply_values(scenario, values, (), BY_KEY).banks[1].follow_lag_quarters == 4


def test_the_scenarios_own_levels_are_the_centres_of_their_mass():
    scenario = load_scenario(ROOT / "scenarios" / "upgrade_paths.toml")
    parameters = [BY_KEY[k] for k in ("banks[1].follow_lag_quarters", "group.holder")]
    levels = current_levels(scenario, parameters)  # never follows, equity at the group
    np.testing.assert_allclose(levels, [5.5 / 6, 0.5 / 2])
    assert [p.from_unit(u) for p, u in zip(parameters, levels, strict=True)] == [5.0, 0.0]


def test_a_severity_brings_the_severe_preset_to_a_scenario_without_stress():
    scenario = load_scenario(ROOT / "scenarios" / "upgrade_paths.toml")
    assert not scenario.stress.active
    severity = BY_KEY["stress.severity"]
    stressed = with_defaults(scenario, [severity])
    assert stressed.stress.preset == "severe"
    assert apply_values(stressed, {"stress.severity": 0.5}).stress.severity == 0.5
    # a scenario's own preset is kept
    data = to_dict(scenario)
    data["stress"]["preset"] = "mild"
    mild = scenario_from_dict(data)
    assert with_defaults(mild, [severity]).stress.preset == "mild"


def test_a_range_with_both_bounds_and_levels_is_an_error_naming_the_entry(tmp_path):
    path = tmp_path / "assumptions.toml"
    path.write_text(
        '[[parameters]]\nkey = "group.holder"\nlevels = ["group", "bank"]\nlow = 0\nhigh = 1\n'
        "reason = 'x'\n"
        '[[parameters]]\nkey = "banks[1].tier"\nlevels = [2.0]\nreason = "x"\n'
    )
    with pytest.raises(ScenarioErrors) as raised:
        load_assumptions(path)
    text = str(raised.value)
    assert "parameters[0]" in text and "not both" in text
    assert "parameters[1].levels" in text and "two or more" in text


@pytest.mark.parametrize(
    "pair", ["to2_q4_heavy", "to2_q4_heavy:nowhere", "stay_1_heavy:stay_1_heavy"]
)
def test_a_bad_pair_is_one_line_naming_the_flag(tiny_upgrade_paths, tmp_path, capsys, pair):
    status = main(
        ["sensitivity", str(tiny_upgrade_paths), "--pair", pair, "--out", str(tmp_path / "s")]
    )
    err = capsys.readouterr().err
    assert status != 0 and "--pair" in err and pair in err
    assert not (tmp_path / "s").exists()


def test_a_study_on_the_move_varies_the_structure_and_reports_the_pairs_differences(
    tiny_upgrade_paths, tmp_path
):
    scenario = load_scenario(tiny_upgrade_paths)
    plan = study.make_plan(
        scenario,
        "morris",
        2,
        1,
        parameters=["tiers.2.0.upgrade_investment", "lifecycle.relocation"],
        metrics=["cum_net_profit", "cum_credit_loss"],
        pairs=[":".join(PAIR)],
        structural=True,
    )
    out = study.run_study(scenario, plan, tmp_path / "study", progress=False)
    matrix = pd.read_parquet(out / study.DESIGN_MATRIX)
    for key in STRUCTURAL:
        assert matrix[key].nunique() > 1, key
    outputs = pd.read_parquet(out / "outputs.parquet")
    assert set(outputs["strategy"]) == set(PAIR)  # only the pair's strategies ran
    paired = outputs[outputs["versus"] == PAIR[1]]
    assert len(paired) == len(matrix) * len(plan.metrics)
    # The study's difference at a point is differences.csv's on the same runs.
    ran = study.study_scenario(scenario, plan)
    assert ran.stress.preset == "severe" and ran.names == list(PAIR)[::-1]
    simulate = study.PointSimulator(
        ran,
        plan.keys,
        frozenset(),
        matrix[list(plan.keys)].to_numpy(),
        1,
        plan.seed,
        plan.metrics,
        plan.parameters,
    )
    for point in (0, len(matrix) - 1):
        here = simulate.scenario_at(point)
        tables = []
        for strategy in PAIR:
            rng = np.random.default_rng(replication_seed(plan.seed, 0))
            table = ParkModel(here, strategy, rng=rng).run().timeseries()
            table.insert(0, "replication", 0)
            table.insert(0, "strategy", strategy)
            tables.append(table)
        timeseries = pd.concat(tables, ignore_index=True)
        timeseries["strategy"] = pd.Categorical(timeseries["strategy"], categories=list(PAIR))
        csv = differences(
            timeseries, PAIR[1], discount_rate=here.discount_rate, resamples=10
        ).set_index("metric")
        at = paired[paired["point"] == point].set_index("metric")
        for metric in plan.metrics:
            np.testing.assert_allclose(
                at.loc[metric, "value"], csv.loc[metric, "mean"], rtol=1e-9, atol=1e-9
            )


def test_a_parameter_keeps_its_levels_through_the_manifest():
    parameter = BY_KEY["banks[1].follow_lag_quarters"]
    again = Parameter(**json.loads(json.dumps(dataclasses.asdict(parameter))))
    assert again == parameter and again.levels[-1] == "never"


def test_a_structural_parameter_the_scenario_lacks_is_named_before_the_study(
    tiny_upgrade_paths, tmp_path
):
    data = to_dict(load_scenario(tiny_upgrade_paths))
    data["banks"] = data["banks"][:1]
    data["strategies"] = [s for s in data["strategies"] if not s.get("params")]
    alone = scenario_from_dict(data)
    with pytest.raises(ValueError, match=r"--parameters: banks\[1\]\.tier.*1 bank"):
        study.make_plan(alone, structural=True, pairs=[":".join(PAIR)])
