"""The `parksim` command: validate and run a scenario file, write a results folder.

Exit status 0 done, 2 bad input. Bad input prints the file, the key and what was
expected, never a traceback, and creates no results folder.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import parksim
from parksim.cli import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNWRITABLE,
    main,
)
from parksim.core.metrics import COLUMN_NAMES
from parksim.scenario.loader import scenario_from_dict
from parksim.viz import charts

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
QUARTERS = 4
STRATEGIES = 2
REPLICATIONS = 2


def tiny_scenario_text() -> str:
    """The baseline with its first two strategies, 100 firms and four quarters."""
    head, *strategies = BASELINE.read_text(encoding="utf-8").split("[[strategies]]")
    text = "[[strategies]]".join([head, *strategies[:STRATEGIES]])
    text = re.sub(r"^horizon = \d+", f"horizon = {QUARTERS}", text, count=1, flags=re.M)
    return re.sub(r"^enterprises = \d+", "enterprises = 100", text, count=1, flags=re.M)


def write(folder: Path, text: str, name: str = "scenario.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write(tmp_path_factory.mktemp("scenario"), tiny_scenario_text(), "tiny.toml")
    scenario = parksim.load_scenario(path)
    assert (scenario.horizon, scenario.park.enterprises) == (QUARTERS, 100)
    assert len(scenario.strategies) == STRATEGIES
    return path


# --- validate -------------------------------------------------------------------------


def test_validate_accepts_the_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(BASELINE)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "valid" in out
    assert str(BASELINE) in out


@pytest.mark.slow
def test_validate_from_the_shell_exits_zero() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "parksim.cli", "validate", str(BASELINE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert "Traceback" not in done.stderr


# --- bad input --------------------------------------------------------------------------


def edit(old: str, new: str):
    """A scenario text edit that must apply to the baseline."""

    def apply(text: str) -> str:
        assert re.search(old, text, flags=re.M), f"baseline has no {old!r}"
        return re.sub(old, new, text, count=1, flags=re.M)

    return apply


# name: (edit of the tiny scenario, key path, what the message says was expected)
BAD_FILES = {
    "unknown_key": (
        edit(r"^(enterprises = .*)$", '\\1\ncolour = "red"'),
        "park.colour",
        "unknown key",
    ),
    "missing_field": (edit(r"^enterprises = .*\n", ""), "park.enterprises", "missing"),
    "wrong_type": (
        edit(r"^enterprises = .*$", 'enterprises = "many"'),
        "park.enterprises",
        "an integer",
    ),
    "probability_above_one": (
        edit(r"^(seed = .*)$", "\\1\n\n[policy]\nrisk_pool_share = 1.5\nrisk_pool_size = 1e3"),
        "policy.risk_pool_share",
        "[0, 1]",
    ),
    "negative_amount": (
        edit(r"^entries_per_quarter = .*$", "entries_per_quarter = -3"),
        "park.entries_per_quarter",
        "non-negative",
    ),
    "bad_tier": (
        edit(r"^bank_tier = .*$", "bank_tier = 4.0"),
        "strategies[0].bank_tier",
        "one of 1.0, 2.0, 3.0",
    ),
    "toml_syntax_error": (edit(r"^enterprises = ", "enterprises = = "), "line", "valid TOML"),
}


def bad_file(folder: Path, case: str) -> Path:
    change, _, _ = BAD_FILES[case]
    return write(folder, change(tiny_scenario_text()), f"{case}.toml")


def assert_rejected(stderr: str, path: Path, key: str, expected: str) -> None:
    assert "Traceback" not in stderr
    assert str(path) in stderr
    assert key in stderr
    assert expected in stderr


@pytest.mark.parametrize("case", BAD_FILES)
def test_run_rejects_a_bad_file_naming_file_key_and_expectation(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_file(tmp_path, case)
    results = tmp_path / "results"
    assert main(["run", str(path), "--results", str(results)]) == EXIT_BAD_INPUT
    _, key, expected = BAD_FILES[case]
    assert_rejected(capsys.readouterr().err, path, key, expected)
    assert not results.exists()


@pytest.mark.parametrize("case", BAD_FILES)
def test_validate_rejects_a_bad_file(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_file(tmp_path, case)
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    _, key, expected = BAD_FILES[case]
    assert_rejected(capsys.readouterr().err, path, key, expected)


def test_run_rejects_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.toml"
    results = tmp_path / "results"
    assert main(["run", str(path), "--results", str(results)]) == EXIT_BAD_INPUT
    assert_rejected(capsys.readouterr().err, path, "", "an existing scenario file")
    assert not results.exists()


def test_run_rejects_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    assert main(["run", str(tmp_path), "--results", str(results)]) == EXIT_BAD_INPUT
    assert_rejected(capsys.readouterr().err, tmp_path, "", "a TOML file")
    assert not results.exists()


@pytest.mark.slow
def test_bad_input_from_the_shell_gives_a_message_not_a_traceback(tmp_path: Path) -> None:
    results = tmp_path / "results"
    for path, key, expected in (
        (bad_file(tmp_path, "bad_tier"), "strategies[0].bank_tier", "one of 1.0, 2.0, 3.0"),
        (tmp_path / "nowhere.toml", "", "an existing scenario file"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "parksim.cli", "run", str(path), "--results", str(results)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == EXIT_BAD_INPUT
        assert_rejected(done.stderr, path, key, expected)
    assert not results.exists()


@pytest.mark.parametrize(
    ("option", "value"), [("--replications", "0"), ("--replications", "-1"), ("--seed", "-5")]
)
def test_run_rejects_bad_options_before_running(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    results = tmp_path / "results"
    assert main(["run", str(tiny), option, value, "--results", str(results)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert option in err
    assert "Traceback" not in err
    assert not results.exists()


# --- a run and its folder ----------------------------------------------------------------


@pytest.fixture(scope="module")
def run_folder(tiny_run_folder: Path) -> Path:
    """`parksim run` of the tiny scenario with REPLICATIONS, made once for the session
    (tests/conftest.py): test_plot_report redraws the same folder."""
    return tiny_run_folder


def test_run_writes_the_results_folder(run_folder: Path) -> None:
    assert (run_folder / "manifest.json").is_file()
    assert (run_folder / "timeseries.parquet").is_file()
    assert (run_folder / "summary.csv").is_file()
    assert list((run_folder / "figures").glob("*.png"))
    assert list((run_folder / "figures").glob("*.svg"))
    assert not [p for p in run_folder.parent.iterdir() if "partial" in p.name]


def test_every_figure_comes_as_png_and_svg(run_folder: Path) -> None:
    figures = run_folder / "figures"
    png = {p.stem for p in figures.glob("*.png")}
    svg = {p.stem for p in figures.glob("*.svg")}
    assert png == svg
    assert all(p.stat().st_size > 0 for p in figures.iterdir())


def test_manifest_records_what_reproduces_the_run(run_folder: Path, tiny: Path) -> None:
    manifest = json.loads((run_folder / "manifest.json").read_text(encoding="utf-8"))
    scenario = parksim.load_scenario(tiny)
    assert manifest["seed"] == scenario.seed
    assert manifest["replications"] == REPLICATIONS
    for package in ("parksim", "mesa", "numpy", "python"):
        assert manifest["versions"][package], package
    assert manifest["versions"]["parksim"] == parksim.__version__
    assert manifest["started"] <= manifest["ended"]
    resolved = manifest["scenario"]
    assert resolved["horizon"] == QUARTERS
    assert resolved["park"]["enterprises"] == 100
    assert scenario_from_dict(resolved) == scenario


def test_timeseries_has_a_row_per_strategy_replication_quarter_and_every_column(
    run_folder: Path, tiny: Path
) -> None:
    table = pd.read_parquet(run_folder / "timeseries.parquet")
    assert list(table.columns) == list(COLUMN_NAMES)
    assert len(table) == STRATEGIES * REPLICATIONS * (QUARTERS + 1)  # with the opening quarter 0
    names = parksim.load_scenario(tiny).names
    assert list(pd.unique(table["strategy"])) == names
    per_run = table.groupby(["strategy", "replication"])["quarter"].apply(list)
    assert len(per_run) == STRATEGIES * REPLICATIONS
    assert all(quarters == list(range(QUARTERS + 1)) for quarters in per_run)


def test_summary_has_a_row_per_strategy(run_folder: Path, tiny: Path) -> None:
    summary = pd.read_csv(run_folder / "summary.csv", index_col="strategy")
    assert list(summary.index) == parksim.load_scenario(tiny).names


def test_run_never_overwrites_an_existing_out_folder(
    run_folder: Path, tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = {
        p: (p.stat().st_mtime_ns, p.read_bytes()) for p in run_folder.rglob("*") if p.is_file()
    }
    code = main(["run", str(tiny), "--replications", "1", "--out", str(run_folder)])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert str(run_folder) in err
    assert "Traceback" not in err
    after = {
        p: (p.stat().st_mtime_ns, p.read_bytes()) for p in run_folder.rglob("*") if p.is_file()
    }
    assert after == before


def test_default_folders_never_overwrite_each_other(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Figures are checked above; skipping them here keeps two quick runs quick.
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )
    results = tmp_path / "results"
    for _ in range(2):
        args = ["run", str(tiny), "--replications", "1", "--results", str(results), "--quiet"]
        assert main(args) == EXIT_OK
    name = parksim.load_scenario(tiny).name
    folders = [p for p in (results / name).iterdir() if p.is_dir()]
    assert len(folders) == 2
    assert all((folder / "manifest.json").is_file() for folder in folders)
    assert all("seed" in folder.name for folder in folders)


def test_run_prints_the_summary_and_where_it_wrote(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )
    out = tmp_path / "printed"
    assert main(["run", str(tiny), "--replications", "1", "--out", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert f"wrote {out}" in printed
    for name in parksim.load_scenario(tiny).names:
        assert name in printed


# --- the command line itself ------------------------------------------------------------


def test_abbreviated_flags_are_refused(tiny: Path, tmp_path: Path) -> None:
    """`--rep 5` must not quietly mean `--replications 5`."""
    results = tmp_path / "results"
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(tiny), "--rep", "5", "--results", str(results)])
    assert stopped.value.code == EXIT_BAD_INPUT
    assert not results.exists()


def test_an_unknown_flag_shows_the_sub_commands_usage(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["run", str(tiny), "--colour", "red"])
    assert stopped.value.code == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("usage: parksim run ")
    assert "parksim run: error: unrecognized arguments: --colour red" in err


@pytest.mark.parametrize("command", [[], ["run"], ["compare"]])
def test_help_lists_the_exit_statuses(command: list[str], capsys) -> None:
    with pytest.raises(SystemExit):
        main([*command, "--help"])
    out = capsys.readouterr().out
    for status in (EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNWRITABLE, EXIT_INTERRUPTED):
        assert re.search(rf"^  {status} +\S", out, flags=re.M), f"status {status} in {command}"


def test_validate_counts_one_strategy_in_the_singular(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    head, *strategies = tiny_scenario_text().split("[[strategies]]")
    path = write(tmp_path, "[[strategies]]".join([head, strategies[0]]))
    assert main(["validate", str(path)]) == EXIT_OK
    assert "(1 strategy," in capsys.readouterr().out


def test_a_policy_mistake_inherited_by_every_strategy_is_reported_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = bad_file(tmp_path, "probability_above_one")
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    lines = [line for line in capsys.readouterr().err.splitlines() if "risk_pool_share" in line]
    assert len(lines) == 1
    assert ": policy.risk_pool_share: " in lines[0]


def test_a_strategys_own_policy_mistake_is_still_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tiny_scenario_text() + "\n[strategies.policy]\nrisk_pool_share = 2.0\n"
    path = write(tmp_path, text)
    assert main(["validate", str(path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"strategies[{STRATEGIES - 1}].policy.risk_pool_share" in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [(b"horizon = 4\n\xff\xfe\n", "a UTF-8 text file"), (None, "permission denied")],
)
def test_an_unreadable_scenario_file_is_one_line(
    content: bytes | None,
    expected: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "unreadable.toml"
    if content is None:
        path.write_text(tiny_scenario_text())
        real_open = Path.open

        def refuse(self: Path, *args, **kwargs):
            if self == path:  # root reads any file: the refusal has to be simulated
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", refuse)
    else:
        path.write_bytes(content)
    results = tmp_path / "results"
    assert main(["run", str(path), "--results", str(results)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert_rejected(err, path, "", expected)
    assert len(err.strip().splitlines()) == 2  # "invalid scenario" and the problem
    assert not results.exists()


# --- reference, differences, tables without charts, plain messages ---------------


@pytest.fixture(scope="module")
def tables_only(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`parksim run --no-charts --reference <second strategy>` of the tiny scenario."""
    second = parksim.load_scenario(tiny).names[1]
    out = tmp_path_factory.mktemp("tables-only") / "run"
    options = ["--replications", str(REPLICATIONS), "--out", str(out), "--quiet"]
    assert main(["run", str(tiny), *options, "--reference", second, "--no-charts"]) == EXIT_OK
    return out


@pytest.mark.slow
def test_no_charts_writes_the_tables_only(tables_only: Path) -> None:
    names = sorted(p.name for p in tables_only.iterdir())
    assert names == ["differences.csv", "manifest.json", "summary.csv", "timeseries.parquet"]
    rows = STRATEGIES * REPLICATIONS * (QUARTERS + 1)  # with the opening quarter 0
    assert len(parksim.RunResult.load(tables_only).timeseries) == rows


@pytest.mark.slow
def test_run_reference_is_the_strategy_differences_compare_with(
    tiny: Path, tables_only: Path
) -> None:
    first, second = parksim.load_scenario(tiny).names
    differences = pd.read_csv(tables_only / "differences.csv")
    assert set(differences["reference"]) == {second}
    assert set(differences["strategy"]) == {first}
    manifest = json.loads((tables_only / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"]["reference"] == second
    # The reference changes no number of the run, only what is paired with what.
    assert parksim.RunResult.load(tables_only).scenario.reference_strategy == second


def test_run_refuses_a_reference_that_is_not_a_strategy(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--out", str(out), "--reference", "nobody"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "--reference: expected a strategy of scenario" in err and "'nobody'" in err
    assert not out.exists()


@pytest.mark.slow
def test_differences_against_another_reference_go_to_a_new_file(
    tiny: Path, tables_only: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = parksim.load_scenario(tiny).names
    run = tmp_path / "run"
    shutil.copytree(tables_only, run)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    assert main(["differences", str(run), "--reference", first, "--quiet"]) == EXIT_OK
    written = run / f"differences-vs-{first}.csv"
    assert f"wrote {written}" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in run.iterdir() if p != written} == before
    new = pd.read_csv(written).set_index("metric")
    old = pd.read_csv(run / "differences.csv").set_index("metric")
    assert set(new["reference"]) == {first} and set(new["strategy"]) == {second}
    # Swapping the pair negates each paired mean difference (same replications, same seeds).
    assert new["mean"].to_numpy() == pytest.approx(-old.loc[new.index, "mean"].to_numpy())

    # Never overwritten: a second call is refused and leaves the file as it was.
    kept = written.read_bytes()
    assert main(["differences", str(run), "--reference", first]) == EXIT_BAD_INPUT
    assert "already exists" in capsys.readouterr().err
    assert written.read_bytes() == kept
    assert main(["differences", str(run), "--reference", "nobody"]) == EXIT_BAD_INPUT
    assert "--reference: expected a strategy of the run" in capsys.readouterr().err


def test_resume_of_a_missing_folder_says_so_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It printed "not a parksim run folder ([Errno 2] No such file or directory: ...)"."""
    assert main(["run", "--resume", str(tmp_path / "nowhere")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "not a parksim run folder (there is no such folder)" in err
    assert "Errno" not in err
    assert main(["run", "--resume", str(tmp_path)]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "not a parksim run folder (it has no manifest.json)" in err and "Errno" not in err


def test_resume_refuses_a_new_reference(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    second = parksim.load_scenario(tiny).names[1]
    status = main(["run", "--resume", str(tmp_path), "--reference", second])
    assert status == EXIT_BAD_INPUT
    assert f"parksim differences {tmp_path} --reference {second}" in capsys.readouterr().err


def test_progress_counts_model_runs_as_strategies_times_replications() -> None:
    """ "95 of 300 replications" counted model runs of 3 strategies × 100 replications."""
    from parksim.ensemble.runfolder import runs_text

    assert runs_text(95, 3, 100) == "95 of 300 model runs (3 strategies × 100 replications)"
    assert runs_text(0, 1, 1) == "0 of 1 model runs (1 strategy × 1 replication)"


def test_validate_reads_a_file_with_a_byte_order_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + tiny_scenario_text().encode("utf-8"))
    assert main(["validate", str(path)]) == EXIT_OK
    assert "valid (2 strategies, 4 quarters)" in capsys.readouterr().out


def test_sigterm_stops_any_command_as_ctrl_c_does(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command without its own Ctrl-C handling (calibrate) stops with status 143 and one
    line, and the handler is put back afterwards (it died at once, and silently)."""
    import os
    import signal
    import time

    def terminated(scenario, args):
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the signal arrives first
        return EXIT_OK

    monkeypatch.setattr("parksim.cli.calibrate_command", terminated)
    before = signal.getsignal(signal.SIGTERM)
    assert main(["calibrate", str(tiny), "targets.toml"]) == 128 + signal.SIGTERM
    assert capsys.readouterr().err.strip() == "parksim: stopped"
    assert signal.getsignal(signal.SIGTERM) == before


def test_a_second_sigterm_does_not_break_off_the_clean_up() -> None:
    import signal

    from parksim.cli.common import Terminated, stop_on_sigterm

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), stop_on_sigterm():
        try:
            signal.raise_signal(signal.SIGTERM)
        finally:  # the clean-up: a second SIGTERM now is ignored, not raised
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
            signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == before
