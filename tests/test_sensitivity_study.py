"""`parksim sensitivity`: a small study end to end, resuming, failures and bad input."""

from __future__ import annotations

import errno
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from parksim.analysis.sensitivity import study
from parksim.analysis.sensitivity.study import PointSimulator, make_plan, resume_study, run_study
from parksim.cli import EXIT_UNWRITABLE, main
from parksim.scenario.addresses import resolve, scenario_leaves
from parksim.scenario.loader import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"

KEYS = "lifecycle.refused_failure_mult,tiers.2.0.signal_noise"


@pytest.fixture(scope="module")
def small_scenario(tmp_path_factory):
    """The baseline, smaller and shorter, so a study takes seconds."""
    with open("scenarios/baseline.toml", "rb") as handle:
        data = tomllib.load(handle)
    data["horizon"] = 6
    data["park"]["enterprises"] = 150
    data["park"]["entries_per_quarter"] = 5.0
    data["strategies"] = [
        s for s in data["strategies"] if s["name"] in ("tier1_heavy", "tier2_heavy", "tier2_light")
    ]
    path = tmp_path_factory.mktemp("scenario") / "small.toml"
    path.write_text(tomli_w.dumps(data))
    return path


def test_a_morris_study_writes_its_tables_and_charts(small_scenario, tmp_path):
    out = tmp_path / "study"
    status = main(
        [
            "sensitivity",
            str(small_scenario),
            "--trajectories",
            "3",
            "--replications",
            "2",
            "--parameters",
            KEYS,
            "--metrics",
            "cum_net_profit,cum_credit_loss",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    assert status == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["points"] == 9
    design = pd.read_parquet(out / "design.parquet")
    assert len(design) == 9 * 2 and design["level"].between(0, 1).all()
    outputs = pd.read_parquet(out / "outputs.parquet")
    diffs = outputs[outputs["versus"] != ""]
    assert {("tier2_heavy", "tier1_heavy"), ("tier2_light", "tier2_heavy")} <= set(
        zip(diffs["strategy"], diffs["versus"], strict=True)
    )
    replications = pd.read_parquet(out / "replications.parquet")
    wide = replications.pivot_table(
        index=["point", "replication"], columns="strategy", values="cum_net_profit"
    )
    paired = (wide["tier2_heavy"] - wide["tier1_heavy"]).groupby("point").mean()
    row = diffs[(diffs["strategy"] == "tier2_heavy") & (diffs["metric"] == "cum_net_profit")]
    assert row.set_index("point")["value"].to_numpy() == pytest.approx(paired.to_numpy())
    indices = pd.read_csv(out / "indices.csv")
    assert list(indices.columns[:7]) == [
        "parameter",
        "strategy",
        "versus",
        "metric",
        "mu_star",
        "mu_star_conf",
        "sigma",
    ]
    assert set(indices["parameter"]) == set(KEYS.split(","))
    robust = pd.read_csv(out / "robustness.csv")
    assert robust["share_wins"].between(0, 1).all()
    assert (robust["interval"] == "bootstrap over trajectories").all()
    assert (robust["units"] == 3).all()  # trajectories, not points
    peeling = pd.read_csv(out / "peeling.csv")
    assert list(peeling.columns[:4]) == ["strategy", "versus", "metric", "step"]
    boxes = pd.read_csv(out / "flip_boxes.csv")
    assert {"qp", "recurrence", "finding"} <= set(boxes.columns)
    assert (out / "figures" / "morris_indices.png").exists()
    assert not (out / "figures" / "tornado.svg").exists()  # a Morris design cannot draw it
    assert not (out / "runs").exists()


def test_a_one_at_a_time_study_draws_the_tornado_around_the_scenarios_values(
    small_scenario, tmp_path
):
    """`--method oat`: the scenario's values, then each parameter at its 10th and 90th
    percentiles; indices.csv holds the swings, the shares stay empty (no sample of the
    space) and the only chart is the tornado."""
    out = tmp_path / "oat"
    flags = ["--method", "oat", "--replications", "1", "--parameters", KEYS]
    flags += ["--metrics", "cum_net_profit", "--out", str(out), "--quiet"]
    assert main(["sensitivity", str(small_scenario), *flags]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["method"] == "oat" and manifest["points"] == 5
    matrix = pd.read_parquet(out / "design_matrix.parquet")
    current = scenario_leaves(load_scenario(small_scenario))
    for key in KEYS.split(","):  # point 0 runs the scenario's own values
        assert matrix.loc[0, key] == pytest.approx(current[resolve(key, current)])
    indices = pd.read_csv(out / "indices.csv")
    assert {"centre", "low", "high", "swing"} <= set(indices.columns)
    assert pd.read_csv(out / "robustness.csv").empty
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["tornado.png", "tornado.svg"]


def test_every_point_runs_with_the_same_seeds(small_scenario):
    scenario = load_scenario(small_scenario)
    values = np.array([[1.5, 0.6], [1.5, 0.6]])  # two identical points
    simulate = PointSimulator(
        scenario, tuple(KEYS.split(",")), frozenset(), values, 2, 7, ("cum_net_profit",)
    )
    seed = np.random.SeedSequence

    def run(*ks):
        seeds = [seed(7, spawn_key=(k,)) for k in ks]
        return [r["cum_net_profit"][0] for r in simulate(scenario, "tier2_heavy", seeds)]

    assert run(0) == run(2)  # replication 0 of points 0 and 1
    assert run(1) == run(3)
    assert run(0) != run(1)
    # A batch of both points, in any order, gives each seed its own run, in order.
    assert run(3, 0, 2, 1) == [*run(3), *run(0), *run(2), *run(1)]


@pytest.mark.slow
def test_a_failing_point_is_recorded_and_a_resumed_study_equals_an_uninterrupted_one(
    small_scenario, tmp_path, monkeypatch
):
    scenario = load_scenario(small_scenario)
    plan = make_plan(scenario, "morris", 3, 1, 5, KEYS.split(","), ["cum_net_profit"])
    whole = run_study(scenario, plan, tmp_path / "whole", progress=False)

    real = PointSimulator.__call__

    def fails_at_point_4(self, scenario, strategy, seeds):
        if any(seed.spawn_key[0] // self.replications == 4 for seed in seeds):
            raise RuntimeError("boom")
        return real(self, scenario, strategy, seeds)

    monkeypatch.setattr(PointSimulator, "__call__", fails_at_point_4)
    with pytest.raises(study.RunIncomplete):
        run_study(scenario, plan, tmp_path / "broken", progress=False)
    failures = pd.read_csv(tmp_path / "broken" / "failures.csv")
    assert set(failures["point"]) == {4} and len(failures) == len(scenario.names)
    assert json.loads((tmp_path / "broken" / "manifest.json").read_text())["status"] == (
        "incomplete"
    )
    partial = pd.read_csv(tmp_path / "broken" / "indices.csv")  # trajectories 1 and 3
    assert partial["mu_star"].notna().all()

    monkeypatch.setattr(PointSimulator, "__call__", real)
    resume_study(tmp_path / "broken", progress=False)
    for name in ("outputs.parquet", "replications.parquet"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "broken" / name), pd.read_parquet(whole / name)
        )


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--parameters", "lifecycle.nonsense,tiers.2.0.signal_noise"], "--parameters"),
        (["--method", "sobol", "--samples", "100"], "--samples"),
        (["--metrics", "profit"], "--metrics"),
        (["--replications", "0"], "--replications"),
        (["--samples", "64"], "--samples"),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(small_scenario, tmp_path, capsys, flags, named):
    out = tmp_path / "never"
    status = main(["sensitivity", str(small_scenario), "--out", str(out), *flags])
    error = capsys.readouterr().err.strip()
    assert status == 2 and error.startswith(f"parksim: {named}") and "\n" not in error
    assert not out.exists()


# --- a disk that refuses a write: one line, exit 3, no folder or a resumable one ---------

STUDY_FLAGS = ["--trajectories", "3", "--replications", "1", "--parameters", KEYS]
STUDY_FLAGS += ["--metrics", "cum_net_profit", "--seed", "5", "--quiet"]


@pytest.fixture(scope="module")
def whole_study(small_scenario, tmp_path_factory):
    """The study of STUDY_FLAGS, run with nothing in its way."""
    out = tmp_path_factory.mktemp("whole") / "study"
    assert main(["sensitivity", str(small_scenario), *STUDY_FLAGS, "--out", str(out)]) == 0
    return out


def _refused(capsys, *words: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def _full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device", "x.parquet")


def _resumes_to(whole, out) -> None:
    assert json.loads((out / "manifest.json").read_text())["status"] == "incomplete"
    assert main(["sensitivity", "--resume", str(out), "--quiet"]) == 0
    for name in ("outputs.parquet", "replications.parquet", "design.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(out / name), pd.read_parquet(whole / name))
    assert not (out / study.RUNS).exists()


def test_disk_full_while_writing_a_part(small_scenario, whole_study, tmp_path, monkeypatch, capsys):
    real = study.StudyRuns.write_part
    written = []

    def fill_up(self, strategy, columns):
        if len(written) == 2:
            _full_disk()
        written.append(strategy)
        return real(self, strategy, columns)

    monkeypatch.setattr(study.StudyRuns, "write_part", fill_up)
    out = tmp_path / "study"
    status = main(["sensitivity", str(small_scenario), *STUDY_FLAGS, "--out", str(out)])
    assert status == EXIT_UNWRITABLE == 3
    line = _refused(capsys, str(out), "no space left", f"parksim sensitivity --resume {out}")
    kept = int(line.split(" of 27 runs are kept")[0].rsplit(" ", 1)[1])
    assert 0 < kept < 27
    assert not (out / "outputs.parquet").exists()
    monkeypatch.setattr(study.StudyRuns, "write_part", real)
    _resumes_to(whole_study, out)


@pytest.mark.parametrize("where", ["charts", "final manifest"])
def test_disk_full_after_the_runs_keeps_them_for_resume(
    small_scenario, whole_study, tmp_path, monkeypatch, capsys, where
):
    if where == "charts":
        import parksim.viz.sensitivity_report

        monkeypatch.setattr(parksim.viz.sensitivity_report, "save_charts", _full_disk)
    else:
        real = study.write_json

        def refuse_completion(path, data):
            if data.get("status") == "complete":
                _full_disk()
            real(path, data)

        monkeypatch.setattr(study, "write_json", refuse_completion)
    out = tmp_path / "study"
    assert main(["sensitivity", str(small_scenario), *STUDY_FLAGS, "--out", str(out)]) == 3
    _refused(capsys, "no space left", "27 of 27 runs are kept", "--resume")
    monkeypatch.undo()
    _resumes_to(whole_study, out)


def test_disk_full_before_the_first_point_leaves_no_folder(
    small_scenario, tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(study, "write_json", _full_disk)
    out = tmp_path / "new" / "study"
    assert main(["sensitivity", str(small_scenario), *STUDY_FLAGS, "--out", str(out)]) == 3
    _refused(capsys, str(out), "no space left", "nothing was kept")
    assert not (tmp_path / "new").exists()


def test_a_file_in_the_way_is_named(small_scenario, tmp_path, capsys):
    in_the_way = tmp_path / "results"
    in_the_way.write_text("not a folder")
    status = main(["sensitivity", str(small_scenario), *STUDY_FLAGS, "--results", str(in_the_way)])
    assert status == 3
    _refused(capsys, f"{in_the_way} is a file, not a folder")
    assert in_the_way.read_text() == "not a folder"


def test_permission_denied_leaves_no_folder(small_scenario, tmp_path, monkeypatch, capsys):
    # Root may write anywhere, so the refusal is patched into the folder's creation.
    real_mkdir = Path.mkdir

    def refuse_the_runs_folder(path: Path, *args, **kwargs) -> None:
        if path.name == study.RUNS:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse_the_runs_folder)
    out = tmp_path / "new" / "study"
    assert main(["sensitivity", str(small_scenario), *STUDY_FLAGS, "--out", str(out)]) == 3
    _refused(capsys, "permission denied", "nothing was kept")
    assert not (tmp_path / "new").exists()


def test_resume_on_a_read_only_folder_is_one_line(
    small_scenario, whole_study, tmp_path, monkeypatch, capsys
):
    import parksim.viz.sensitivity_report

    out = tmp_path / "study"
    monkeypatch.setattr(parksim.viz.sensitivity_report, "save_charts", _full_disk)
    assert main(["sensitivity", str(small_scenario), *STUDY_FLAGS, "--out", str(out)]) == 3
    capsys.readouterr()

    def read_only(self):
        raise OSError(errno.EROFS, "Read-only file system", str(self.path / "manifest.json"))

    monkeypatch.setattr(study.StudyRuns, "start_session", read_only)
    assert main(["sensitivity", "--resume", str(out), "--quiet"]) == 3
    _refused(capsys, "read-only file system", "27 of 27 runs are kept", "--resume")
    monkeypatch.undo()
    _resumes_to(whole_study, out)


def test_a_points_metric_is_the_differences_table_metric_of_the_same_run():
    # A study's outputs are differences.csv's metrics at the horizon. 0.4.1 added the
    # subtracted columns (equity income in banking profit) instead of subtracting them.
    from parksim.analysis.differences import DIFFERENCE_METRICS, metric_paths
    from parksim.core.metrics import metric_arrays
    from parksim.model import ParkModel

    scenario = load_scenario(BASELINE)
    # The bank books the equity here, so that banking profit has a column to subtract.
    model = ParkModel(scenario, "tier2_light", rng=3, collect=False, group__holder="bank").run(12)
    arrays = metric_arrays(model.records)
    table = model.timeseries()
    table.insert(0, "replication", 0)
    table.insert(0, "strategy", pd.Categorical(["tier2_light"] * len(table)))
    assert table["equity_income"].sum() > 0  # so that subtracting it matters
    for metric in DIFFERENCE_METRICS:
        if not set(metric.columns) <= set(arrays):
            continue
        path = metric_paths(table, metric, scenario.discount_rate)["tier2_light"]
        expected = float(path.iloc[0, -1])
        got = study.horizon_value(arrays, metric, scenario.discount_rate)
        np.testing.assert_allclose(got, expected, rtol=1e-12, err_msg=metric.name)
