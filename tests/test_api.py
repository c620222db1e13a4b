"""The Python API a notebook uses: load, build a model with overrides, sweep, save, load."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

import parksim
from parksim import ParkModel, RunResult, Scenario, ScenarioError
from parksim.core.metrics import METRIC_NAMES
from parksim.ensemble.folders import ResultsFolderError
from parksim.viz import charts

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
QUARTERS = 4
SMALL = {"park__enterprises": 150, "horizon": QUARTERS}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline with its first two strategies, 100 firms and four quarters, as a file."""
    head, *strategies = BASELINE.read_text(encoding="utf-8").split("[[strategies]]")
    text = "[[strategies]]".join([head, *strategies[:2]])
    text = re.sub(r"^horizon = \d+", f"horizon = {QUARTERS}", text, count=1, flags=re.M)
    text = re.sub(r"^enterprises = \d+", "enterprises = 100", text, count=1, flags=re.M)
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(text, encoding="utf-8")
    return path.resolve()


# --- loading ---------------------------------------------------------------------------


def test_load_scenario_returns_a_validated_scenario() -> None:
    scenario = parksim.load_scenario(BASELINE)
    assert isinstance(scenario, Scenario)
    assert scenario.names == [s.name for s in scenario.strategies]
    assert scenario.strategy(scenario.names[0]) is scenario.strategies[0]


def test_load_scenario_accepts_a_string_path() -> None:
    assert parksim.load_scenario(str(BASELINE)) == parksim.load_scenario(BASELINE)


def test_asking_for_an_unknown_strategy_names_the_ones_there_are() -> None:
    scenario = parksim.load_scenario(BASELINE)
    with pytest.raises(KeyError, match=scenario.names[0]):
        scenario.strategy("tier9_cloud")


# --- a model with overrides ---------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> ParkModel:
    return ParkModel(BASELINE, rng=7, bank_tier=2.0, operator_model="light", **SMALL).run()


def test_overrides_set_the_strategy(model: ParkModel) -> None:
    assert model.strategy.bank_tier == 2.0
    assert model.strategy.operator_model == "light"
    assert model.focal_bank.tier == 2.0
    assert model.operator.light
    assert model.config.park.enterprises == 150
    assert model.config.horizon == QUARTERS


def test_run_goes_to_the_horizon(model: ParkModel) -> None:
    assert model.quarter == QUARTERS
    ts = model.timeseries()
    assert ts["quarter"].tolist() == list(range(QUARTERS + 1))  # 0 is the opening park
    assert list(ts.columns) == ["quarter", *METRIC_NAMES]


def test_enterprises_are_a_table_with_one_row_per_firm(model: ParkModel) -> None:
    frame = model.enterprises.to_frame()
    assert len(frame) == model.enterprises.n >= 150
    assert frame.index.tolist() == list(range(model.enterprises.n))
    assert set(frame["stage"].astype(str)) <= {
        "seed",
        "startup",
        "growth",
        "pre_ipo",
        "listed",
        "failed",
        "relocated",
        "acquired",
    }


def test_an_enterprise_can_be_looked_up_by_id(model: ParkModel) -> None:
    frame = model.enterprises.to_frame()
    for i in (0, 42, model.enterprises.n - 1):
        record = model.enterprises.get(i)
        assert record["id"] == i
        assert record["stage"] == frame.loc[i, "stage"]
        assert record["quality"] == frame.loc[i, "quality"]
    with pytest.raises(KeyError, match=str(model.enterprises.n)):
        model.enterprises.get(model.enterprises.n)


def test_policy_fields_and_sections_can_be_overridden() -> None:
    model = ParkModel(BASELINE, rng=1, guarantee_share=0.5, lifecycle__quality_risk=0.3, **SMALL)
    assert model.policy.guarantee_share == 0.5
    assert model.config.lifecycle.quality_risk == 0.3


def test_a_strategy_can_be_chosen_by_name() -> None:
    scenario = parksim.load_scenario(BASELINE)
    last = scenario.names[-1]
    model = ParkModel(scenario, last, rng=1, **SMALL)
    assert model.strategy.name == last


def test_the_model_accepts_a_generator_as_rng() -> None:
    a = ParkModel(BASELINE, rng=np.random.default_rng(3), **SMALL).run()
    b = ParkModel(BASELINE, rng=np.random.default_rng(3), **SMALL).run()
    pd.testing.assert_frame_equal(a.timeseries(), b.timeseries(), check_exact=True)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"bank_teir": 2.0}, "bank_teir"),
        ({"park__enterprize": 10}, "park.enterprize"),
        ({"nonsense__field": 1}, "nonsense"),
        ({"park": 3}, "park"),
        ({"tiers__2_0__fixed_csot": 1.0}, "did you mean 'tiers.2.0.fixed_cost'?"),
        ({"overrides": {"lifecycle.graduatoin": 0.1}}, "did you mean 'lifecycle.graduation'?"),
    ],
)
def test_unknown_override_names_raise_scenario_error_naming_them(
    override: dict[str, object], key: str
) -> None:
    with pytest.raises(ScenarioError) as error:
        ParkModel(BASELINE, rng=1, **override)
    assert key in str(error.value)


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"bank_tier": 4.0}, "bank_tier"),
        ({"operator_model": "medium"}, "operator_model"),
        ({"risk_pool_share": 1.5, "risk_pool_size": 10.0}, "risk_pool_share"),
        ({"horizon": 0}, "horizon"),
        ({"park__enterprises": "many"}, "park.enterprises"),
        ({"overrides": {"tiers.2.0.fixed_cost": -1.0}}, 'tiers."2.0".fixed_cost'),
    ],
)
def test_bad_override_values_raise_scenario_error_naming_the_key(
    override: dict[str, object], key: str
) -> None:
    with pytest.raises(ScenarioError) as error:
        ParkModel(BASELINE, rng=1, **override)
    assert key in str(error.value)


# --- mesa.batch_run ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep(tiny: Path) -> pd.DataFrame:
    rows = mesa.batch_run(
        ParkModel,
        parameters={"config": str(tiny), "bank_tier": [1.0, 3.0]},
        rng=[1, 2],
        max_steps=QUARTERS,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    # One row per agent and step (Mesa's rule with agent reporters): the focal bank's
    # rows are one per step.
    frame = pd.DataFrame(rows)
    return frame[frame["agent_kind"] == "focal bank"].reset_index(drop=True)


def test_batch_run_gives_a_row_per_tier_seed_and_quarter(sweep: pd.DataFrame) -> None:
    # Step 0 is the opening park, collected when the model is built.
    assert len(sweep) == 2 * 2 * (QUARTERS + 1)
    assert sorted(sweep["bank_tier"].unique()) == [1.0, 3.0]
    assert sorted(sweep["rng"].unique()) == [1, 2]
    assert sorted(sweep["Step"].unique()) == list(range(QUARTERS + 1))
    per_run = sweep.groupby(["bank_tier", "rng"]).size()
    assert (per_run == QUARTERS + 1).all()


def test_batch_run_collects_every_metric(sweep: pd.DataFrame) -> None:
    missing = [name for name in METRIC_NAMES if name not in sweep.columns]
    assert not missing
    assert sweep["exposure"].notna().all()


def test_batch_run_rows_are_what_a_direct_run_gives(sweep: pd.DataFrame, tiny: Path) -> None:
    row = sweep[(sweep["bank_tier"] == 3.0) & (sweep["rng"] == 2) & (sweep["Step"] == QUARTERS)]
    direct = ParkModel(str(tiny), rng=2, bank_tier=3.0).run(QUARTERS)
    for name in ("exposure", "net_profit", "n_seed", "occupancy"):
        assert row[name].item() == direct.latest[name], name


def test_the_swept_tier_changes_the_focal_bank(sweep: pd.DataFrame) -> None:
    last = sweep[sweep["Step"] == QUARTERS].set_index(["bank_tier", "rng"])
    assert not np.array_equal(
        last.loc[1.0, "operating_cost"].to_numpy(), last.loc[3.0, "operating_cost"].to_numpy()
    )


# --- RunResult: save and load ------------------------------------------------------------------


@pytest.fixture(scope="module")
def result(tiny: Path) -> RunResult:
    return parksim.run(parksim.load_scenario(tiny), replications=2, seed=3, progress=False)


def test_a_saved_run_loads_back_equal(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Figures are checked in test_cli; skipping them keeps this test fast.
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )
    folder = result.save(tmp_path / "run")
    assert result.path == folder
    loaded = RunResult.load(folder)
    pd.testing.assert_frame_equal(loaded.timeseries, result.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(loaded.summary, result.summary, check_exact=True)
    assert loaded.scenario == result.scenario
    assert loaded.manifest == result.manifest
    assert loaded.path == folder


def test_save_refuses_an_existing_folder(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )
    (tmp_path / "taken").mkdir()
    with pytest.raises(ResultsFolderError, match="already exists"):
        result.save(tmp_path / "taken")
    assert list((tmp_path / "taken").iterdir()) == []


def test_loading_a_folder_that_is_not_a_run_says_so(tmp_path: Path) -> None:
    with pytest.raises(ResultsFolderError, match="not a parksim run folder"):
        RunResult.load(tmp_path)


def test_run_result_tables_are_tidy(result: RunResult, tiny: Path) -> None:
    names = parksim.load_scenario(tiny).names
    ts = result.timeseries
    assert len(ts) == len(names) * 2 * (QUARTERS + 1)
    assert list(result.summary.index) == names
    assert result.manifest["seed"] == 3
    assert result.manifest["replications"] == 2


def test_an_override_works_on_a_scenario_whose_reference_is_another_strategy() -> None:
    # upgrade_paths compares every strategy against stay_1_heavy; a model of one of the
    # others, with a parameter changed, is that strategy alone (0.4.1 refused it).
    path = Path(__file__).resolve().parents[1] / "scenarios" / "upgrade_paths.toml"
    model = ParkModel(path, "to2_q4_heavy", rng=1, income__ipo_fee=0.0)
    assert model.config.income.ipo_fee == 0.0
    assert [s.name for s in model.config.strategies] == ["to2_q4_heavy"]
    assert model.config.reference_strategy == "to2_q4_heavy"


def test_a_run_results_repr_is_a_few_lines_naming_the_run(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unsaved = copy.copy(result)
    unsaved.path = None
    text = repr(unsaved)
    lines = text.splitlines()
    assert len(lines) <= 5 and len(text) < 600
    assert lines[0].startswith("RunResult(scenario ")
    for part in (
        repr(result.manifest["scenario_name"]),
        *result.scenario.names,
        "replications: 2",
        "seed: 3",
        f"parksim {parksim.__version__}",
        "folder: not saved",
    ):
        assert part in text, part
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )
    folder = result.save(tmp_path / "run")
    assert f"folder: {folder}" in repr(RunResult.load(folder))


def test_saving_a_loaded_run_without_a_folder_refuses_rather_than_copy_it(
    result: RunResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        charts, "start_rendering", lambda *args, **kwargs: charts.Rendering({}, "en", ("png",))
    )
    folder = result.save(tmp_path / "run")
    loaded = RunResult.load(folder)
    elsewhere = tmp_path / "working"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    with pytest.raises(ResultsFolderError, match=f"already saved in {re.escape(str(folder))}"):
        loaded.save()
    assert list(elsewhere.iterdir()) == []
    # A copy is one argument away.
    assert loaded.save(tmp_path / "copy") == tmp_path / "copy"
