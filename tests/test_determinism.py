"""Reproducibility: a scenario and a seed fix every number of a run.

Strategies of one replication share its seed (common random numbers), and a run gives
the same table whether its tasks run in a loop or in worker processes.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim import ParkModel, Scenario
from parksim.ensemble.runner import plan, replication_seeds

BASELINE = "scenarios/baseline.toml"
QUARTERS = 6
PAIR = ("tier1_heavy", "tier3_light")  # differ in tier and in operator model


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    """The baseline, cut to two strategies, 150 firms and six quarters."""
    base = parksim.load_scenario(BASELINE)
    return dataclasses.replace(
        base,
        park=dataclasses.replace(base.park, enterprises=150),
        strategies=tuple(base.strategy(name) for name in PAIR),
        horizon=QUARTERS,
    )


@pytest.fixture(scope="module")
def serial(scenario: Scenario) -> pd.DataFrame:
    return parksim.run(scenario, replications=2, seed=5, progress=False).timeseries


def test_same_scenario_and_seed_give_identical_tables(
    scenario: Scenario, serial: pd.DataFrame
) -> None:
    again = parksim.run(scenario, replications=2, seed=5, progress=False).timeseries
    pd.testing.assert_frame_equal(serial, again, check_exact=True)


def test_the_table_has_a_row_per_strategy_replication_and_quarter(serial: pd.DataFrame) -> None:
    assert len(serial) == len(PAIR) * 2 * (QUARTERS + 1)  # quarter 0 is the opening park
    assert sorted(serial["quarter"].unique()) == list(range(QUARTERS + 1))
    keys = serial[["strategy", "replication", "quarter"]].astype({"strategy": str})
    assert not keys.duplicated().any()
    assert list(serial["strategy"].cat.categories) == list(PAIR)


def test_different_seeds_give_different_runs(scenario: Scenario, serial: pd.DataFrame) -> None:
    other = parksim.run(scenario, replications=2, seed=6, progress=False).timeseries
    assert not serial["exposure"].equals(other["exposure"])
    assert not serial["output"].equals(other["output"])


def test_replications_of_one_run_differ(serial: pd.DataFrame) -> None:
    first = serial[serial["strategy"] == PAIR[0]]
    rep0 = first[first["replication"] == 0]["output"].to_numpy()
    rep1 = first[first["replication"] == 1]["output"].to_numpy()
    assert not np.array_equal(rep0, rep1)


@pytest.mark.slow
def test_a_process_pool_gives_the_serial_table(scenario: Scenario, serial: pd.DataFrame) -> None:
    # "spawn" starts fresh interpreters, so the tasks must pickle, as on macOS and Windows.
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parallel = parksim.run(scenario, replications=2, seed=5, executor=pool, progress=False)
    pd.testing.assert_frame_equal(serial, parallel.timeseries, check_exact=True)


def test_a_model_with_the_same_rng_repeats_itself() -> None:
    def run() -> pd.DataFrame:
        model = ParkModel(BASELINE, rng=9, park__enterprises=150, horizon=QUARTERS).run()
        return model.timeseries()

    pd.testing.assert_frame_equal(run(), run(), check_exact=True)


# --- common random numbers -------------------------------------------------------------


def record_factors(model: ParkModel) -> list[tuple[float, ...]]:
    """Wrap the model's credit engine so that every factor draw is kept in a list."""
    drawn: list[tuple[float, ...]] = []
    draw = model.credit_engine.draw_factors

    def recording(rng: np.random.Generator, *shift: float):
        factors = draw(rng, *shift)
        drawn.append((factors.macro, *factors.sector))
        return factors

    model.credit_engine.draw_factors = recording
    return drawn


def models_of_replication(scenario: Scenario, replication: int) -> list[ParkModel]:
    """One model per strategy, seeded as the runner seeds `replication`."""
    tasks = [t for t in plan(scenario, 3, seed=5) if t.replication == replication]
    assert [t.strategy for t in tasks] == list(PAIR)
    return [
        ParkModel(scenario, t.strategy, rng=np.random.default_rng(t.seed), collect=False)
        for t in tasks
    ]


@pytest.mark.parametrize("replication", [0, 2])
def test_strategies_of_a_replication_share_the_macro_and_sector_factors(
    scenario: Scenario, replication: int
) -> None:
    models = models_of_replication(scenario, replication)
    paths = [record_factors(model) for model in models]
    for model in models:
        model.run()
    assert len(paths[0]) == QUARTERS
    assert paths[0] == paths[1]


def test_replications_have_different_factor_paths(scenario: Scenario) -> None:
    paths = []
    for replication in (0, 1):
        model = models_of_replication(scenario, replication)[0]
        paths.append(record_factors(model))
        model.run()
    assert paths[0] != paths[1]


BANKING_COLUMNS = ("main_bank", "lender", "debt")
# The banks' record of the opening book's applications follows the tier too.
BANKING_PREFIXES = ("loan_", "bank_view_", "bank_pd_", "bank_decision_")


def test_strategies_of_a_replication_start_from_the_same_firms(scenario: Scenario) -> None:
    a, b = (model.enterprises.to_frame() for model in models_of_replication(scenario, 1))
    # Who banks with whom, and the opening loan book, follow the focal bank's tier.
    firm = [c for c in a.columns if c not in BANKING_COLUMNS and not c.startswith(BANKING_PREFIXES)]
    assert {"stage", "sector", "quality", "size", "collateral", "signal_error_0"} <= set(firm)
    pd.testing.assert_frame_equal(a[firm], b[firm], check_exact=True)


def test_strategies_differing_only_in_policy_share_the_first_quarters_entrants() -> None:
    kwargs = {"rng": 4, "park__enterprises": 150, "horizon": 1}
    plain = ParkModel(BASELINE, "tier2_light", **kwargs).run()
    backed = ParkModel(BASELINE, "tier2_light", guarantee_share=0.5, **kwargs).run()
    assert plain.latest["entries"] == backed.latest["entries"] > 0
    new = slice(150, 150 + plain.latest["entries"])
    for column in ("quality", "sector", "entered_quarter"):
        np.testing.assert_array_equal(
            getattr(plain.enterprises, column)[new], getattr(backed.enterprises, column)[new]
        )


def test_the_kth_entrant_of_a_replication_is_the_same_firm_in_every_strategy(
    scenario: Scenario,
) -> None:
    # Sector and quality are drawn at entry and never change; a strategy may shift the
    # entrants' mean quality, but the k-th entrant's own draw should be common.
    for replication in range(3):
        a, b = (model.run(1) for model in models_of_replication(scenario, replication))
        common = min(a.latest["entries"], b.latest["entries"])
        assert common > 1
        new = slice(scenario.park.enterprises, scenario.park.enterprises + common)
        np.testing.assert_array_equal(
            a.enterprises.sector[new], b.enterprises.sector[new], err_msg=f"rep {replication}"
        )
        shift = a.enterprises.quality[new] - b.enterprises.quality[new]
        np.testing.assert_allclose(shift, shift[0], atol=1e-12, err_msg=f"rep {replication}")


def test_replication_seeds_are_fixed_by_the_root_seed() -> None:
    first = [s.generate_state(2).tolist() for s in replication_seeds(5, 3)]
    again = [s.generate_state(2).tolist() for s in replication_seeds(5, 3)]
    other = [s.generate_state(2).tolist() for s in replication_seeds(6, 3)]
    assert first == again
    assert first != other
    assert len({tuple(s) for s in first}) == 3
