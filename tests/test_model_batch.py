"""A batch of R replications is R runs of one, to the bit (`ParkModel.batch`).

Each replication of a batch has its own streams, operator, risk pool and banks, and every
per-bank sum adds its rows in the order a run of it alone does; so its time series must
equal that run's exactly, not within a tolerance. The parks here are small and short so
that the quick tier covers every mechanism; the full-size check is marked slow.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import parksim.model as model_module
from parksim.credit.stress import StressPath
from parksim.model import ParkModel
from parksim.scenario.loader import load_scenario
from tests.conftest import BASELINE, ROOT

UPGRADES = ROOT / "scenarios" / "upgrade_paths.toml"


def _small(path, **park) -> object:
    scenario = load_scenario(path)
    sized = dataclasses.replace(scenario.park, enterprises=150, **park)
    return dataclasses.replace(scenario, park=sized, horizon=16)


def _alone(scenario, strategy: str, seed) -> list[dict]:
    return (
        ParkModel(scenario, strategy, rng=np.random.default_rng(seed), collect=False).run().records
    )


def _assert_same_records(batched: list[dict], alone: list[dict]) -> None:
    assert len(batched) == len(alone)
    for quarter, (row, expected) in enumerate(zip(batched, alone, strict=True)):
        differing = [
            name
            for name, value in expected.items()
            if not (row[name] == value or (value != value and row[name] != row[name]))
        ]
        assert not differing, f"quarter {quarter}: {differing[:5]}"


def _check_batch(scenario, strategy: str, replications: int = 3) -> ParkModel:
    seeds = np.random.SeedSequence(2024).spawn(replications)
    batch = ParkModel.batch(scenario, strategy, [np.random.default_rng(s) for s in seeds]).run()
    assert batch.replications == replications
    for r, seed in enumerate(seeds):
        _assert_same_records(batch.records_of(r), _alone(scenario, strategy, seed))
    return batch


@pytest.mark.parametrize("strategy", ["tier1_heavy", "tier2_light", "tier3_heavy"])
def test_each_replication_of_a_batch_is_its_run_alone(strategy: str) -> None:
    _check_batch(_small(BASELINE), strategy)


@pytest.mark.parametrize(
    "strategy",
    # A tier move with its ramp, a rival that follows with a price cut, the risk pool.
    ["to2_q4_to3_q16_heavy", "to2_q4_follow4_cut_heavy", "to2_q4_pool_light"],
)
def test_moves_competitors_and_the_pool_are_per_replication(strategy: str) -> None:
    _check_batch(_small(UPGRADES), strategy)


def test_stress_and_equity_held_at_the_bank_are_per_replication() -> None:
    scenario = _small(UPGRADES)
    stressed = dataclasses.replace(
        scenario,
        stress=StressPath(preset="severe", start_quarter=4),
        strategies=tuple(dataclasses.replace(s, stress=None) for s in scenario.strategies),
        group=dataclasses.replace(scenario.group, holder="bank"),
    )
    _check_batch(stressed, "to2_q4_heavy")


def test_a_batch_of_one_is_the_model_of_one_park() -> None:
    scenario, seed = _small(BASELINE), np.random.SeedSequence(7)
    batch = ParkModel.batch(scenario, "tier2_heavy", [np.random.default_rng(seed)]).run()
    _assert_same_records(batch.records, _alone(scenario, "tier2_heavy", seed))
    assert batch.operator is batch.operators[0] and len(batch.banks) == len(scenario.banks)


def test_replications_keep_their_own_parks_apart() -> None:
    """Every firm, loan and stake of a replication is with its own park's banks."""
    scenario = _small(BASELINE)
    batch = _check_batch(scenario, "tier3_light", replications=2)
    pop, n_banks = batch.enterprises, len(scenario.banks)
    for column in (pop.main_bank, pop.lender[pop.lender >= 0]):
        assert column.size > 0
    owed = pop.lender >= 0
    assert (pop.main_bank // n_banks == pop.replication).all()
    assert (pop.lender[owed] // n_banks == pop.replication[owed]).all()
    assert (batch.enterprises.replication >= 0).all() and set(pop.replication.tolist()) == {0, 1}


@pytest.mark.parametrize("kind", ["int", "seed sequence", "generator"])
def test_seeds_of_every_kind_give_the_run_alone(kind: str) -> None:
    """Mesa draws its stdlib seed from a generator or a seed sequence but not from an
    int; a batch's replications after the first must follow the same rule."""
    scenario = _small(BASELINE)
    make = {
        "int": lambda k: 100 + k,
        "seed sequence": lambda k: np.random.SeedSequence(100 + k),
        "generator": lambda k: np.random.default_rng(100 + k),
    }[kind]
    batch = ParkModel.batch(scenario, "tier2_heavy", [make(k) for k in range(3)]).run()
    for r in range(3):
        alone = ParkModel(scenario, "tier2_heavy", rng=make(r), collect=False).run().records
        _assert_same_records(batch.records_of(r), alone)


def test_a_seed_and_a_batch_are_not_both_given() -> None:
    with pytest.raises(ValueError, match="not both"):
        ParkModel(_small(BASELINE), rng=1, replications=[1, 2])


@pytest.mark.parametrize("threshold", [0.0, 1.0])
def test_archiving_rows_changes_no_result(monkeypatch, threshold: float) -> None:
    """Archiving firms that left is for speed: archiving at every quarter (threshold 0)
    or never (1) gives the tables of the usual rule. A batch archives when the batch's
    rows call for it, not when each replication's would, so it relies on this. Full size:
    a listing's lock-up must end while the park still holds firms that left."""
    scenario = load_scenario(BASELINE)
    seed = np.random.SeedSequence(0)
    usual = _alone(scenario, "tier2_heavy", seed)
    monkeypatch.setattr(model_module, "COMPACT_AT_EXITED_SHARE", threshold)
    _assert_same_records(_alone(scenario, "tier2_heavy", seed), usual)


@pytest.mark.slow
@pytest.mark.parametrize("path", [BASELINE, UPGRADES])
def test_full_size_batches_are_their_runs_alone(path) -> None:
    scenario = load_scenario(path)
    for strategy in scenario.names[:3]:
        _check_batch(scenario, strategy, replications=4)
