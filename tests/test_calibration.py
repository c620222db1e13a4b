"""Calibration: the targets file, the moments, the fit and `parksim calibrate`.

Moments are checked on a hand-made park whose every number can be worked out on paper;
the fit must recover parameters from targets the model itself generated (identification);
the command must write a valid scenario and never overwrite one.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim.analysis.calibration import moments
from parksim.analysis.calibration.fit import (
    calibrate,
    measure,
    scenario_values,
    search_values,
    simulate,
    with_parameters,
)
from parksim.analysis.calibration.observe import BOOK_COLUMNS, Observation, observe
from parksim.analysis.calibration.targets import (
    FittedParameter,
    Measurement,
    Target,
    TargetSet,
    default_targets_path,
    load_targets,
)
from parksim.cli import EXIT_BAD_INPUT, EXIT_OK, main
from parksim.scenario.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

# ------------------------------------------------------------------ the targets file


def test_the_projects_targets_file_loads_and_cites_a_source_for_every_target():
    targets = load_targets()
    assert targets == load_targets(default_targets_path())
    assert all(t.source for t in targets.targets)
    roles = {t.role for t in targets.targets}
    assert {"fit", "holdout", "check", "input"} <= roles
    fitted = [p.key for p in targets.parameters]
    assert "lifecycle.failure_pd[0]" in fitted


def write_targets(folder: Path, text: str) -> Path:
    path = folder / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


VALID_TARGETS = """
[measurement]
strategy = "tier1_heavy"
horizon = 12
replications = 2
seed = 3

[[parameters]]
key = "lifecycle.failure_pd[0]"
lower = 0.01
upper = 0.05

[[targets]]
name = "young_deaths"
moment = "death_rate"
args = { from_year = 1, to_year = 2 }
value = 0.10
band = [0.08, 0.12]
source = "a test"
role = "fit"

[[targets]]
name = "lpr"
moment = "parameter"
args = { key = "lending.base_rate" }
value = 0.0345
band = [0.031, 0.0345]
source = "PBOC"
role = "input"
"""


@pytest.mark.parametrize(
    ("change", "key", "expected"),
    [
        (('moment = "death_rate"', 'moment = "death_rat"'), "targets[0]", "death_rat"),
        (("band = [0.08, 0.12]", "band = [0.12, 0.08]"), "targets[0]", "low <= high"),
        (('role = "fit"', 'role = "fitted"'), "targets[0].role", "one of"),
        (("from_year = 1", "from_age = 1"), "targets[0]", "takes no argument ['from_age']"),
        (("failure_pd[0]", "failure_pd[9]"), "parameters[0]", "not a number that can be fitted"),
        (('key = "lifecycle.', 'key = "park.'), "parameters[0]", "not a mechanism table"),
        (("lower = 0.01", "lower = 0.09"), "parameters[0]", "must be below upper"),
        (("horizon = 12", "horizon = 2"), "measurement.horizon", "an integer in [4, 400]"),
        (('source = "PBOC"\n', 'source = "PBOC"\nsorce = "x"\n'), "targets[1].sorce", "unknown"),
    ],
)
def test_a_bad_targets_file_is_refused_naming_file_key_and_expectation(
    tmp_path: Path, change: tuple[str, str], key: str, expected: str
) -> None:
    old, new = change
    assert old in VALID_TARGETS
    path = write_targets(tmp_path, VALID_TARGETS.replace(old, new, 1))
    with pytest.raises(ScenarioError) as error:
        load_targets(path)
    message = str(error.value)
    assert message.startswith(f"{path}: {key}")
    assert expected in message


def test_a_missing_or_malformed_targets_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="an existing targets file"):
        load_targets(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="valid TOML"):
        load_targets(write_targets(tmp_path, "[measurement\n"))


def test_a_relative_parameter_must_follow_its_reference(tmp_path: Path) -> None:
    text = VALID_TARGETS.replace(
        "upper = 0.05\n",
        'upper = 0.05\n\n[[parameters]]\nkey = "lifecycle.failure_pd[1]"\n'
        'relative_to = "lifecycle.failure_pd[2]"\nlower = 0.3\nupper = 1.0\n',
    )
    with pytest.raises(ScenarioError, match="must be the key of a parameter listed before it"):
        load_targets(write_targets(tmp_path, text))


# ------------------------------------------------------------------ moments, by hand

# Six firms over eight quarters (calendar years 0 and 1 of the run). D is an initial firm
# (entered at quarter 0, so it is in its second calendar year of life in year 0).
FIRMS = pd.DataFrame(
    {
        "entered_quarter": [1, 2, 2, 0, 5, 1],
        "exit_quarter": [3, -1, 6, 5, 8, -1],
        "stage": ["failed", "listed", "relocated", "failed", "failed", "growth"],
        "entry_size": [50.0, 500.0, 50.0, 300.0, 50.0, 2000.0],
        "entry_stage": [0, 0, 1, 2, 0, 2],
        "listed_quarter": [-1, 5, -1, -1, -1, -1],
        "rounds": [1, 4, 1, 1, 0, 0],
        "first_round_quarter": [1, 2, 3, 5, -1, -1],
        "first_round_stage": [0, 0, 1, 2, -1, -1],
        "second_round_quarter": [-1, 4, -1, -1, -1, -1],
        "fourth_round_quarter": [-1, 7, -1, -1, -1, -1],
    },
    index=pd.Index(list("ABCDEF"), name="id"),
)
BOOK = pd.DataFrame(
    {
        "quarter": range(9),
        "loans_all": 100.0,
        "npl_all": [0.0, 0, 1, 2, 3, 4, 5, 6, 7],
        "loans_small": 50.0,
        "npl_small": [0.0, 0, 0, 0, 0, 1, 1, 1, 1],
        "rate_small": [0.05] * 4 + [0.06] * 5,
    },
    columns=list(BOOK_COLUMNS),
)
TIMESERIES = pd.DataFrame(
    {
        "quarter": range(9),
        "entries": [0, 2, 0, 0, 0, 1, 0, 0, 0],
        "fee_income": 1.0,
        "net_interest_income": 3.0,
        "equity_income": 0.0,
        "personal_finance_income": 0.0,
    }
)
RUN = Observation(firms=FIRMS, book=BOOK, timeseries=TIMESERIES, horizon=8)


@pytest.mark.parametrize(
    ("moment", "args", "expected"),
    [
        # Year 1 of life: A, B, C, F in year 0 (A dies), E in year 1 (dies): 2 of 5.
        (moments.death_rate, {"from_year": 1}, 2 / 5),
        # Year 2: D in year 0; B, F and half of C (relocated) in year 1; nobody dies.
        (moments.death_rate, {"from_year": 2}, 0.0),
        (moments.death_rate, {"from_year": 3}, 1.0),  # D dies in its third year
        (moments.death_rate, {"from_year": 1, "to_year": 3}, 3 / 9.5),
        (moments.exits_within, {"years": 1}, 2 / 3),  # A and E lived < 4 quarters, D 5
        # Entrants under 100万: A fails after 3 quarters, E after 4, C leaves after 5.
        (moments.survival_by_size, {"min_size": 0, "max_size": 100, "years": 1}, 1 / 3),
        (moments.survival_by_size, {"min_size": 100, "max_size": 1000, "years": 1}, 1.0),
        (moments.survival_by_size, {"min_size": 1000, "years": 2}, 1.0),
        # Seed-funded early enough for a one-year window: A and B; B raises again.
        (moments.round_funnel, {"rounds": 2, "window_years": 1}, 1 / 2),
        (moments.round_funnel, {"rounds": 4, "window_years": 1}, 0.0),
        (moments.round_funnel, {"rounds": 4, "window_years": 1.25}, 1 / 2),
        # Young entrants early enough for one year: A, B, C.
        (moments.cohort_outcome, {"outcome": "closed", "years": 1}, 1 / 3),
        (moments.cohort_outcome, {"outcome": "ipo", "years": 1}, 1 / 3),
        (moments.cohort_outcome, {"outcome": "acquired", "years": 1}, 0.0),
        (moments.npl_ratio, {"segment": "all", "from_quarter": 2}, 28 / 700),
        (moments.npl_ratio, {"segment": "small", "from_quarter": 2}, 4 / 350),
        (moments.small_loan_rate, {"from_quarter": 2}, (5 + 3 + 4 * 49 * 0.06) / 346),
        (moments.stage_share, {"stages": ["listed"]}, 1 / 2),
        (moments.stage_share, {"stages": ["growth", "pre_ipo", "listed"]}, 1.0),
        (moments.stage_count, {"stages": ["listed"]}, 1.0),
        (moments.rounds_per_year, {}, 7 / 2),
        (moments.entries_per_year, {}, 3 / 2),
        (moments.fee_share, {"from_quarter": 2}, 1 / 4),
    ],
)
def test_moments_of_a_hand_made_park(moment, args, expected) -> None:
    assert moment([RUN], **args) == pytest.approx(expected)
    # Runs pool: two identical runs give the same ratios (and the same mean count).
    assert moment([RUN, RUN], **args) == pytest.approx(expected)


def test_a_moment_with_nobody_to_measure_is_nan() -> None:
    assert np.isnan(moments.survival_by_size([RUN], min_size=1000, years=3))
    assert np.isnan(moments.round_funnel([RUN], rounds=2, window_years=3))


def test_every_moment_is_one_a_targets_file_can_name() -> None:
    names = {name for name in dir(moments) if callable(getattr(moments, name))}
    assert set(moments.MOMENTS) <= names
    assert "death_rate" in moments.MOMENTS and "npl_ratio" in moments.MOMENTS


# ------------------------------------------------------------------ observing a real run


@pytest.fixture(scope="module")
def observed() -> tuple[parksim.ParkModel, Observation, np.ndarray]:
    model = parksim.ParkModel(BASELINE, "tier2_light", rng=4, collect=False, park__enterprises=200)
    initial_sizes = model.enterprises.to_frame()["size"].to_numpy()
    return model, observe(model, 16), initial_sizes


def test_observation_records_sizes_on_entry(observed) -> None:
    _, run, initial_sizes = observed
    firms = run.firms
    assert run.horizon == 16 and len(run.book) == 17
    np.testing.assert_array_equal(firms["entry_size"].to_numpy()[:200], initial_sizes)
    entrants = firms[firms["entered_quarter"] >= 1]
    assert len(entrants) > 0 and entrants["entry_size"].gt(0).all()
    # Entrants come as seed, startup or growth firms and move up at most once in a quarter.
    assert entrants["entry_stage"].between(0, 3).all()


def test_observation_counts_every_equity_round(observed) -> None:
    _, run, _ = observed
    firms = run.firms
    # Equity is raised only in rounds, and every round of the run is counted.
    assert ((firms["rounds"] > 0) == (firms["equity_raised"] > 0)).all()
    raised = firms[firms["rounds"] > 0]
    assert (raised["first_round_quarter"] >= 1).all()
    assert (raised["last_round_quarter"] >= raised["first_round_quarter"]).all()
    twice = firms["rounds"] >= 2
    assert (
        firms.loc[twice, "second_round_quarter"] > firms.loc[twice, "first_round_quarter"]
    ).all()
    assert (firms.loc[~twice, "second_round_quarter"] == -1).all()


def test_observation_book_is_the_banks_book(observed) -> None:
    model, run, _ = observed
    last = run.book.iloc[-1]
    assert last["loans_all"] == pytest.approx(sum(b.ledger.exposure for b in model.banks))
    assert last["npl_all"] == pytest.approx(sum(b.ledger.npl_balance for b in model.banks))
    assert (run.book["loans_small"] <= run.book["loans_all"] + 1e-9).all()


# ------------------------------------------------------------------ the fit


def test_with_parameters_sets_several_elements_of_one_tuple() -> None:
    scenario = parksim.load_scenario(BASELINE)
    changed = with_parameters(
        scenario, {"lifecycle.failure_pd[0]": 0.04, "lifecycle.failure_pd[2]": 0.01}
    )
    before = scenario.lifecycle.failure_pd
    assert changed.lifecycle.failure_pd == (0.04, before[1], 0.01, before[3], before[4])
    assert before[0] != 0.04 and before[2] != 0.01


def test_relative_parameters_are_searched_as_multiples() -> None:
    targets = dataclasses.replace(
        load_targets(),
        parameters=(
            FittedParameter("lifecycle.failure_pd[0]", 0.01, 0.05),
            FittedParameter("lifecycle.failure_pd[1]", 0.3, 1.0, "lifecycle.failure_pd[0]"),
        ),
    )
    scenario = with_parameters(
        parksim.load_scenario(BASELINE),
        {"lifecycle.failure_pd[0]": 0.03, "lifecycle.failure_pd[1]": 0.024},
    )
    search = search_values(targets, scenario)
    assert search == pytest.approx(
        {"lifecycle.failure_pd[0]": 0.03, "lifecycle.failure_pd[1]": 0.8}
    )
    values = scenario_values(
        targets, {"lifecycle.failure_pd[0]": 0.04, "lifecycle.failure_pd[1]": 0.5}
    )
    assert values == {"lifecycle.failure_pd[0]": 0.04, "lifecycle.failure_pd[1]": 0.02}


TINY = Measurement(strategy="tier1_heavy", horizon=24, replications=3, seed=11)
TRUE = {"lifecycle.failure_pd[0]": 0.04, "equity.bar[0]": 0.2}
PARAMETERS = (
    FittedParameter("lifecycle.failure_pd[0]", 0.01, 0.07),
    FittedParameter("equity.bar[0]", -0.5, 1.0),
)
SYNTHETIC = (
    Target(
        "young_deaths",
        "death_rate",
        0.0,
        (0.0, 0.0),
        "model",
        "fit",
        {"from_year": 1, "to_year": 3},
    ),
    Target("seed_rounds", "rounds_per_year", 0.0, (0.0, 0.0), "model", "fit"),
)


@pytest.mark.slow
def test_the_fit_recovers_parameters_from_targets_the_model_generated() -> None:
    # Identification: targets measured on the model at known parameters, with the same
    # seeds the fit uses, must lead the fit back to those parameters.
    base = parksim.load_scenario(BASELINE)
    park = dataclasses.replace(base, park=dataclasses.replace(base.park, enterprises=150))
    truth = with_parameters(park, TRUE)
    runs = simulate(truth, TINY)
    targets = []
    for target in SYNTHETIC:
        value = moments.MOMENTS[target.moment](runs, **target.args)
        se = measure(truth, TargetSet(TINY, (target,)), runs)["se"].iloc[0]
        targets.append(dataclasses.replace(target, value=value, band=(value - se, value + se)))
    problem = TargetSet(TINY, tuple(targets), PARAMETERS)
    result = calibrate(park, problem, max_evaluations=30)

    # Tolerance from sampling error: a moment's standard error over its slope is how far
    # a parameter can move before the targets can tell (delta method); allow four of them.
    for p, target in zip(PARAMETERS, targets, strict=True):
        step = 0.15 * (p.upper - p.lower)
        low, high = (with_parameters(truth, {p.key: TRUE[p.key] + d}) for d in (-step, step))
        slope = (
            moments.MOMENTS[target.moment](simulate(high, TINY), **target.args)
            - moments.MOMENTS[target.moment](simulate(low, TINY), **target.args)
        ) / (2 * step)
        tolerance = 4 * target.scale / abs(slope)
        assert abs(result.fitted[p.key] - TRUE[p.key]) <= tolerance, (p.key, tolerance)
    assert result.objective_fitted < result.objective_start


# ------------------------------------------------------------------ parksim calibrate


def tiny_scenario(folder: Path) -> Path:
    text = BASELINE.read_text(encoding="utf-8")
    text = re.sub(r"^enterprises = \d+", "enterprises = 120", text, count=1, flags=re.M)
    path = folder / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_calibrate_writes_a_valid_scenario_and_never_overwrites(tmp_path: Path, capsys) -> None:
    scenario = tiny_scenario(tmp_path)
    targets = write_targets(tmp_path, VALID_TARGETS)
    argv = ["calibrate", str(scenario), str(targets), "--max-evaluations", "20", "--quiet"]
    assert main(argv) == EXIT_OK
    out = tmp_path / "tiny_calibrated.toml"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Calibrated by `parksim calibrate`")
    fitted = parksim.load_scenario(out)
    assert fitted.name == "baseline_calibrated"
    assert 0.01 <= fitted.lifecycle.failure_pd[0] <= 0.05
    assert fitted.strategies == parksim.load_scenario(scenario).strategies

    assert main(argv) == EXIT_BAD_INPUT
    assert "already exists" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == text


def test_calibrate_refuses_bad_input_with_a_clear_message(tmp_path: Path, capsys) -> None:
    scenario = tiny_scenario(tmp_path)
    bad = write_targets(tmp_path, VALID_TARGETS.replace('role = "fit"', 'role = "fitted"'))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(VALID_TARGETS.replace("tier1_heavy", "tier9"), encoding="utf-8")
    for args, expected in (
        ([str(bad)], f"{bad}: targets[0].role: expected one of"),
        ([str(unknown)], f"{unknown}: measurement.strategy: expected a strategy of"),
        ([str(tmp_path / "missing.toml")], "an existing targets file"),
        ([str(unknown), "--replications", "0"], "--replications: expected a positive integer"),
    ):
        # main() returning the status (rather than raising) is what keeps tracebacks away.
        assert main(["calibrate", str(scenario), *args]) == EXIT_BAD_INPUT
        assert expected in capsys.readouterr().err
    assert not (tmp_path / "tiny_calibrated.toml").exists()


@pytest.mark.slow
def test_the_command_line_prints_no_traceback_for_a_bad_targets_file(tmp_path: Path) -> None:
    scenario = tiny_scenario(tmp_path)
    bad = write_targets(tmp_path, VALID_TARGETS.replace("band = [0.08, 0.12]", "band = 1"))
    process = subprocess.run(
        [sys.executable, "-m", "parksim.cli", "calibrate", str(scenario), str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == EXIT_BAD_INPUT
    assert process.stderr.startswith("parksim: invalid targets\n")
    assert f"{bad}: targets[0].band: expected a list of 2 items, got 1" in process.stderr
    assert "Traceback" not in process.stderr
