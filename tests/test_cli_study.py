"""`parksim plot STUDY_DIR`, a study's wide design matrix, and resuming a study with its
worker count."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import pandas as pd
import pytest
import tomli_w

from parksim.analysis.sensitivity import study
from parksim.cli import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, main

# Each test runs or resumes a study end to end.
pytestmark = pytest.mark.slow

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
KEYS = "lifecycle.refused_failure_mult,tiers.2.0.signal_noise"
STRATEGIES = ("tier1_heavy", "tier2_heavy", "tier2_light")
FLAGS = ["--trajectories", "2", "--replications", "1", "--parameters", KEYS]
FLAGS += ["--metrics", "cum_net_profit,cum_credit_loss", "--seed", "5", "--quiet"]


@pytest.fixture(scope="module")
def small_scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline, smaller and shorter, so a study takes seconds."""
    data = tomllib.loads(BASELINE.read_text(encoding="utf-8"))
    data["horizon"] = 4
    data["park"]["enterprises"] = 100
    data["strategies"] = [s for s in data["strategies"] if s["name"] in STRATEGIES]
    path = tmp_path_factory.mktemp("scenario") / "small.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tables_only_study(small_scenario: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Morris study of two parameters, written without its charts."""
    out = tmp_path_factory.mktemp("study") / "study"
    assert main(["sensitivity", str(small_scenario), *FLAGS, "--out", str(out), "--no-charts"]) == 0
    return out


def test_no_charts_leaves_a_study_without_figures(tables_only_study: Path) -> None:
    assert not (tables_only_study / "figures").exists()
    assert (tables_only_study / "indices.csv").exists()


def test_the_design_matrix_has_a_row_per_point_and_a_column_per_parameter(
    tables_only_study: Path,
) -> None:
    matrix = pd.read_parquet(tables_only_study / "design_matrix.parquet")
    long = pd.read_parquet(tables_only_study / "design.parquet")
    keys = KEYS.split(",")
    points = json.loads((tables_only_study / "manifest.json").read_text())["points"]
    assert points == 2 * (len(keys) + 1)  # Morris: trajectories × (parameters + 1)
    assert list(matrix.columns) == ["point", *keys]
    assert matrix["point"].tolist() == list(range(points))
    # Every cell is the long table's value of that point and parameter.
    for row in long.itertuples():
        assert matrix.loc[row.point, row.parameter] == row.value
    # design.parquet stays long, as its readers (the indices, resume) expect.
    assert list(long.columns) == ["point", "parameter", "level", "value"]


def test_plot_draws_a_studys_charts(
    tables_only_study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`parksim plot STUDY_DIR` was refused as "not a parksim run folder"."""
    default = tmp_path / "default"
    assert main(["plot", str(tables_only_study), "--out", str(default)]) == EXIT_OK
    assert sorted(p.name for p in default.iterdir()) == [
        "morris_indices.png",
        "morris_indices.svg",
    ]  # no tornado: a Morris design cannot measure it
    assert "cum_net_profit: tier2_heavy − tier1_heavy" in capsys.readouterr().out

    status = main(
        [
            "plot",
            str(tables_only_study),
            "--pair",
            "tier2_light:tier2_heavy",
            "--metric",
            "cum_credit_loss",
        ]
    )
    assert status == EXIT_OK
    other = tables_only_study / "figures-tier2_light-vs-tier2_heavy-cum_credit_loss"
    assert f"to {other}" in capsys.readouterr().out
    svg = (other / "morris_indices.svg").read_text(encoding="utf-8")
    assert "cum_credit_loss: tier2_light − tier2_heavy" in svg
    assert svg != (default / "morris_indices.svg").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--pair", "tier2_light:nobody"], "--pair: expected STRATEGY:VERSUS"),
        (["--metric", "nothing"], "--metric: expected one of the study's metrics"),
    ],
)
def test_plot_refuses_a_pair_or_metric_the_study_has_not(
    tables_only_study: Path, flags, words, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures"
    assert main(["plot", str(tables_only_study), *flags, "--out", str(out)]) == EXIT_BAD_INPUT
    assert words in capsys.readouterr().err
    assert not out.exists()


def test_an_interrupted_studys_hint_names_its_workers(
    small_scenario: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The hint said `parksim sensitivity --resume DIR`, and the resume ran on one worker."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run_study", interrupted)
    out = tmp_path / "study"
    flags = [*FLAGS, "--out", str(out), "--workers", "2"]
    assert main(["sensitivity", str(small_scenario), *flags]) == EXIT_INTERRUPTED
    assert f"parksim sensitivity --resume {out} --workers 2" in capsys.readouterr().err


def test_a_study_resumes_with_the_workers_it_ran_with(
    small_scenario: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_run_missing = study.run_missing
    seen: dict[str, int] = {}

    def stop_after_starting(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(study, "run_missing", stop_after_starting)
    out = tmp_path / "study"
    flags = [*FLAGS, "--out", str(out), "--workers", "2"]
    assert main(["sensitivity", str(small_scenario), *flags]) == EXIT_INTERRUPTED
    assert json.loads((out / "manifest.json").read_text())["workers"] == 2

    def count_workers(folder, scenario, **kwargs):
        seen["slots"] = kwargs["workers"]
        return real_run_missing(folder, scenario, **{**kwargs, "executor": None, "workers": 1})

    monkeypatch.setattr(study, "run_missing", count_workers)
    assert main(["sensitivity", "--resume", str(out), "--quiet", "--no-charts"]) == EXIT_OK
    assert seen["slots"] == min(2, os.cpu_count() or 1)


def test_strategies_with_other_params_are_not_one_step_apart(small_scenario: Path) -> None:
    """tier2_light vs tier2_heavy is a heavy → light step, unless one sets its own parameters."""
    import dataclasses

    from parksim.scenario.loader import load_scenario

    scenario = load_scenario(small_scenario)
    assert ("tier2_light", "tier2_heavy") in study.strategy_pairs(scenario)
    light = scenario.strategy("tier2_light")
    cheaper = dataclasses.replace(light, params={"tiers.2.0.fixed_cost": 600})
    changed = dataclasses.replace(
        scenario, strategies=tuple(cheaper if s is light else s for s in scenario.strategies)
    )
    assert ("tier2_light", "tier2_heavy") not in study.strategy_pairs(changed)
