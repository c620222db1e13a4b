"""EnterprisePopulation: enterprises as numpy columns, with an agent view for notebooks."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from parksim.core.codes import LoanStatus, Stage
from parksim.core.population import STAGE_NAMES, EnterprisePopulation

N_BANKS = 2


def firms(stages: list[int], **columns: object) -> dict[str, np.ndarray]:
    """Column values for firms in `stages`; other columns as given or their fill value."""
    values = {"stage": np.array(stages, dtype=np.int8)}
    values.update({name: np.asarray(value) for name, value in columns.items()})
    return values


@pytest.fixture
def pop() -> EnterprisePopulation:
    """Five firms: a seed, a startup, a growth firm, a listed firm and a failed one."""
    population = EnterprisePopulation(n_banks=N_BANKS, capacity=4)
    population.add(
        **firms(
            [Stage.SEED, Stage.STARTUP, Stage.GROWTH, Stage.LISTED, Stage.FAILED],
            quality=[-1.0, 0.0, 0.5, 1.0, -2.0],
            size=[100.0, 800.0, 4000.0, 80000.0, 50.0],
        )
    )
    return population


# --- add ------------------------------------------------------------------------


def test_add_returns_consecutive_ids_that_are_row_numbers() -> None:
    population = EnterprisePopulation(n_banks=N_BANKS, capacity=4)
    first = population.add(**firms([0, 1, 2]))
    second = population.add(**firms([3, 4]))
    assert first.tolist() == [0, 1, 2]
    assert second.tolist() == [3, 4]
    assert len(population) == population.n == 5
    assert population.to_frame().index.tolist() == [0, 1, 2, 3, 4]


def test_add_beyond_capacity_grows_the_buffers_and_keeps_earlier_rows() -> None:
    population = EnterprisePopulation(n_banks=N_BANKS, capacity=4)
    population.add(**firms([0, 1, 2], size=[1.0, 2.0, 3.0]))
    population.signal_error[1] = [0.25, -0.5]
    ids = population.add(**firms([4] * 10, size=np.arange(10.0, 20.0)))
    assert population.capacity >= 13
    assert ids.tolist() == list(range(3, 13))
    assert population.size.tolist() == [1.0, 2.0, 3.0, *np.arange(10.0, 20.0)]
    assert population.stage.tolist() == [0, 1, 2, *[4] * 10]
    assert population.signal_error[1].tolist() == [0.25, -0.5]
    assert population.signal_error.shape == (13, N_BANKS)


def test_add_leaves_columns_not_given_at_their_fill_value(pop: EnterprisePopulation) -> None:
    assert (pop.lender == -1).all()
    assert (pop.debt == 0.0).all()
    assert (pop.exit_quarter == -1).all()
    assert (pop.leader_id == -1).all()
    assert not pop.chain_leader.any()
    assert (pop.bank_stake == 0.0).all()


def test_add_many_firms_in_one_call_grows_past_double_the_capacity() -> None:
    population = EnterprisePopulation(n_banks=1, capacity=2)
    ids = population.add(**firms([0] * 9))
    assert ids.tolist() == list(range(9))
    assert population.capacity >= 9


def test_add_rejects_unknown_columns_by_name() -> None:
    population = EnterprisePopulation(n_banks=1)
    with pytest.raises(KeyError, match="revenue"):
        population.add(**firms([0]), revenue=np.array([1.0]))
    assert population.n == 0


# --- columns --------------------------------------------------------------------


def test_columns_have_one_entry_per_enterprise(pop: EnterprisePopulation) -> None:
    for column in EnterprisePopulation.columns():
        values = getattr(pop, column.name)
        expected = (pop.n, N_BANKS) if column.per_bank else (pop.n,)
        assert values.shape == expected, column.name
        assert values.dtype == column.dtype, column.name


def test_writes_through_a_column_stick(pop: EnterprisePopulation) -> None:
    debt = pop.debt
    debt[1] = 250.0
    pop.lender[[1, 2]] = 0
    pop.bank_stake[2, 1] = 0.05
    assert pop.debt[1] == 250.0
    assert pop.lender.tolist() == [-1, 0, 0, -1, -1]
    assert pop.bank_stake[2].tolist() == [0.0, 0.05]
    assert pop.get(1)["debt"] == 250.0


def test_assigning_a_column_sets_every_enterprise(pop: EnterprisePopulation) -> None:
    pop.loan_rate = 0.045
    assert (pop.loan_rate == 0.045).all()
    assert len(pop.loan_rate) == pop.n


def test_columns_show_enterprises_added_so_far_not_spare_capacity(
    pop: EnterprisePopulation,
) -> None:
    assert pop.capacity > pop.n == 5
    for column in EnterprisePopulation.columns():
        assert len(getattr(pop, column.name)) == 5, column.name


# --- the agent view --------------------------------------------------------------


def test_to_frame_has_one_row_per_enterprise_indexed_by_id(pop: EnterprisePopulation) -> None:
    frame = pop.to_frame()
    assert len(frame) == pop.n
    assert frame.index.name == "id"
    assert frame["size"].tolist() == pop.size.tolist()


def test_to_frame_names_stages(pop: EnterprisePopulation) -> None:
    stage = pop.to_frame()["stage"]
    assert isinstance(stage.dtype, pd.CategoricalDtype)
    assert list(stage.cat.categories) == list(STAGE_NAMES)
    assert stage.tolist() == ["seed", "startup", "growth", "listed", "failed"]


def test_to_frame_spreads_per_bank_columns(pop: EnterprisePopulation) -> None:
    pop.signal_error[0] = [0.1, 0.2]
    frame = pop.to_frame()
    assert frame.loc[0, "signal_error_0"] == 0.1
    assert frame.loc[0, "signal_error_1"] == 0.2
    assert "signal_error" not in frame.columns


def test_a_population_that_knows_its_sectors_names_them() -> None:
    population = EnterprisePopulation(n_banks=1, sector_names=("hard_tech", "green"))
    population.add(**firms([0, 1, 2], sector=np.array([0, 1, 1], dtype=np.int8)))
    frame = population.to_frame()
    assert frame["sector"].tolist() == ["hard_tech", "green", "green"]
    assert list(frame["sector"].cat.categories) == ["hard_tech", "green"]
    assert population.get(1)["sector"] == "green"
    assert population.sector.tolist() == [0, 1, 1]


def test_without_sector_names_sectors_stay_codes(pop: EnterprisePopulation) -> None:
    pop.sector = np.array([0, 1, 1, 0, 1], dtype=np.int8)
    assert pop.to_frame()["sector"].tolist() == [0, 1, 1, 0, 1]
    assert pop.get(1)["sector"] == 1


def test_to_frame_active_only_drops_exited_firms(pop: EnterprisePopulation) -> None:
    frame = pop.to_frame(active_only=True)
    assert frame.index.tolist() == [0, 1, 2, 3]


def test_to_frame_is_a_copy(pop: EnterprisePopulation) -> None:
    frame = pop.to_frame()
    frame.loc[0, "size"] = -1.0
    assert pop.size[0] == 100.0


def test_get_returns_one_enterprise_with_its_stage_name(pop: EnterprisePopulation) -> None:
    record = pop.get(3)
    assert record["id"] == 3
    assert record["stage"] == "listed"
    assert record["size"] == 80000.0
    assert record["quality"] == 1.0
    assert [record[f"bank_stake_{b}"] for b in range(N_BANKS)] == pop.bank_stake[3].tolist()
    assert "bank_stake" not in record


def test_get_names_every_field_as_to_frame_does(pop: EnterprisePopulation) -> None:
    # Per-bank fields one way in both: bank_stake_0, bank_stake_1, ... (0.4.1's get gave
    # one array under "bank_stake").
    frame = pop.to_frame()
    for i in range(pop.n):
        record = pop.get(i)
        assert list(record) == ["id", *frame.columns]
        for name in frame.columns:
            expected = frame.loc[i, name]
            if pd.isna(expected):
                assert record[name] is None or np.isnan(record[name]), name
            else:
                assert record[name] == expected, name


def test_get_returns_values_not_views(pop: EnterprisePopulation) -> None:
    record = pop.get(0)
    record["bank_stake_0"] = 0.9
    assert pop.bank_stake[0, 0] == 0.0


@pytest.mark.parametrize("unknown", [5, 99, -1])
def test_get_unknown_id_raises_key_error_naming_the_id_and_range(
    pop: EnterprisePopulation, unknown: int
) -> None:
    with pytest.raises(KeyError, match=rf"no enterprise with id {unknown}\b.*0\.\.4"):
        pop.get(unknown)


# --- counts ---------------------------------------------------------------------


def test_count_by_stage_counts_every_stage_code(pop: EnterprisePopulation) -> None:
    counts = pop.count_by_stage()
    assert len(counts) == len(Stage) == len(STAGE_NAMES)
    assert counts.tolist() == [1, 1, 1, 0, 1, 1, 0, 0]
    assert counts.sum() == pop.n


def test_count_by_stage_of_an_empty_park_is_all_zeros() -> None:
    assert EnterprisePopulation(n_banks=1).count_by_stage().tolist() == [0] * len(Stage)


def test_active_lists_firms_from_seed_to_listed(pop: EnterprisePopulation) -> None:
    pop.stage[1] = Stage.RELOCATED
    assert pop.active().tolist() == [0, 2, 3]


# --- compaction -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def midrun():
    """A park part-way through a run, with exits, leaders, loans and stakes."""
    from parksim import ParkModel

    return ParkModel(
        "scenarios/baseline.toml", "tier3_light", rng=5, collect=False, park__enterprises=2000
    ).run(8)


def compacted(model) -> tuple[EnterprisePopulation, EnterprisePopulation, np.ndarray]:
    """The model's population before and after archiving exited debt-free firms plus a
    scattered few and the first and last rows."""
    before = model.enterprises
    after = copy.deepcopy(before)
    archivable = (after.stage > Stage.LISTED) & (after.loan_status == LoanStatus.NONE)
    archivable[::13] = True
    archivable[0] = archivable[-1] = True
    after.compact(archivable)
    return before, after, archivable


def test_compaction_keeps_every_firms_id_and_attributes(midrun) -> None:
    before, after, archivable = compacted(midrun)
    assert after.n == before.n - archivable.sum() and len(after) == len(before)
    # The agent view is the same, firm by firm; only live rows (leader_row) moved.
    moved = ["leader_row"]
    pd.testing.assert_frame_equal(
        after.to_frame().drop(columns=moved), before.to_frame().drop(columns=moved)
    )
    for enterprise_id in before.id[archivable][:5]:
        old, new = before.get(enterprise_id), after.get(enterprise_id)
        assert old.keys() == new.keys()
        for name, value in old.items():
            np.testing.assert_array_equal(new[name], value, err_msg=name)
    np.testing.assert_array_equal(after.count_by_stage(), before.count_by_stage())


def test_compaction_keeps_live_firms_in_order_and_archives_the_rest(midrun) -> None:
    before, after, archivable = compacted(midrun)
    np.testing.assert_array_equal(after.id, before.id[~archivable])
    for column in EnterprisePopulation.columns():
        if column.name != "leader_row":  # a live row, which compaction moves
            kept = getattr(before, column.name)[~archivable]
            np.testing.assert_array_equal(getattr(after, column.name), kept, column.name)
    assert (after.rows_of(before.id[archivable]) == -1).all()


def test_suppliers_point_at_their_leaders_new_rows_after_compaction(midrun) -> None:
    _, after, _ = compacted(midrun)
    linked = (after.leader_id >= 0).nonzero()[0]
    assert len(linked) > 0
    rows = after.leader_row[linked]
    live = rows >= 0
    np.testing.assert_array_equal(after.id[rows[live]], after.leader_id[linked][live])
    # A supplier whose leader was archived has no live leader row.
    assert (after.rows_of(after.leader_id[linked][~live]) == -1).all()


def test_firms_added_after_compaction_get_fill_values_and_new_ids(midrun) -> None:
    before, after, _ = compacted(midrun)
    rows = after.add(stage=np.array([Stage.SEED, Stage.SEED]))
    assert after.id[rows].tolist() == [before.next_id, before.next_id + 1]
    for column in EnterprisePopulation.columns():
        if column.name not in ("stage", "id"):
            values = getattr(after, column.name)[rows]
            expected = np.full_like(values, column.fill)
            np.testing.assert_array_equal(values, expected, err_msg=column.name)
