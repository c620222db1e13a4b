"""ParkModel behaves as a Mesa user expects: it stops at the horizon, documents itself,
prints usefully and reports its agents (the banks and the operator) per quarter."""

from __future__ import annotations

import dataclasses
import pydoc
from pathlib import Path

import mesa
import pandas as pd
import pytest

from parksim import ParkModel
from parksim.core.metrics import METRIC_NAMES
from parksim.model import AGENT_REPORTERS, CUMULATIVE_COLUMNS
from parksim.policy import PolicyPackage
from parksim.scenario.schema import Strategy

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
QUARTERS = 3
SMALL = {"park__enterprises": 120, "horizon": QUARTERS}


@pytest.fixture(scope="module")
def model() -> ParkModel:
    return ParkModel(BASELINE, rng=5, **SMALL).run()


def test_running_turns_false_at_the_horizon() -> None:
    model = ParkModel(BASELINE, rng=5, **SMALL)
    states = [model.running]
    for _ in range(QUARTERS):
        model.step()
        states.append(model.running)
    assert states == [True] * QUARTERS + [False]


def test_batch_run_without_max_steps_stops_at_the_horizon() -> None:
    rows = mesa.batch_run(
        ParkModel,
        parameters={"config": str(BASELINE), **SMALL},
        rng=[1],
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    assert frame["Step"].max() == QUARTERS
    assert sorted(frame["Step"].unique()) == list(range(QUARTERS + 1))


def test_help_of_init_is_parksims_own() -> None:
    text = pydoc.render_doc(ParkModel.__init__, renderer=pydoc.plaintext)
    assert "Overload this method" not in text
    assert "strategy" in text and "overrides" in text


def test_repr_names_scenario_strategy_quarter_firms_and_tier(model: ParkModel) -> None:
    text = repr(model)
    assert text.startswith("ParkModel(")
    live = int((model.enterprises.stage <= 4).sum())
    for part in (
        f"scenario={model.config.name!r}",
        f"strategy={model.strategy.name!r}",
        f"quarter={QUARTERS} of {QUARTERS}",
        f"firms={live}",
        f"focal_tier={model.focal_bank.tier}",
        f"operator={model.operator.model_name!r}",
    ):
        assert part in text, part
    assert len(text) < 200


def test_agent_table_has_every_bank_and_the_operator_each_quarter(model: ParkModel) -> None:
    agents = model.datacollector.get_agent_vars_dataframe()
    assert list(agents.columns) == list(AGENT_REPORTERS)
    kinds = agents.groupby(level="Step")["agent_kind"].apply(list)
    n_banks = len(model.banks)
    assert len(kinds) == QUARTERS + 1
    for kind in kinds:
        assert kind == ["focal bank"] + ["bank"] * (n_banks - 1) + ["operator"]


def test_agent_rows_are_the_agents_states(model: ParkModel) -> None:
    agents = model.datacollector.get_agent_vars_dataframe()
    last = agents.xs(float(QUARTERS), level="Step").set_index("agent_name")
    for bank in model.banks:
        row = last.loc[bank.name]
        assert row["agent_tier"] == bank.tier
        assert row["agent_exposure"] == bank.ledger.exposure
        assert row["agent_deposits"] == bank.ledger.deposits
        assert row["agent_net_profit"] == bank.ledger.net_profit
        assert row["agent_capital"] == bank.ledger.risk.capital
        assert pd.isna(row["agent_occupancy"])
    operator = last.loc["operator"]
    assert operator["agent_asset_model"] == model.operator.model_name
    assert operator["agent_occupancy"] == model.operator.ledger.occupancy
    assert operator["agent_leverage"] == model.operator.ledger.leverage
    assert operator["agent_debt"] == model.operator.debt
    assert pd.isna(operator["agent_exposure"])
    # The focal bank's agent row and the model's columns are the same numbers.
    focal = agents[agents["agent_kind"] == "focal bank"]
    table = model.timeseries()
    assert focal["agent_exposure"].tolist() == table["exposure"].tolist()
    assert focal["agent_net_profit"].tolist() == table["net_profit"].tolist()


def test_no_batch_run_column_shadows_another_or_a_parameter() -> None:
    # A batch_run row is {parameters, model columns, agent columns}: a shared name would
    # silently overwrite a swept value (an "adaptive" operator_model shown as "light").
    model_columns = {*METRIC_NAMES, *(f"cum_{name}" for name in CUMULATIVE_COLUMNS)}
    keywords = {"config", "strategy", "rng", "collect", "overrides"}
    keywords |= {f.name for f in dataclasses.fields(Strategy)}
    keywords |= {f.name for f in dataclasses.fields(PolicyPackage)}
    assert not model_columns & keywords
    assert not set(AGENT_REPORTERS) & (model_columns | keywords)


def test_cumulative_columns_are_running_sums_of_the_flows(model: ParkModel) -> None:
    collected = model.datacollector.get_model_vars_dataframe()
    for name in CUMULATIVE_COLUMNS:
        assert collected[f"cum_{name}"].tolist() == pytest.approx(
            collected[name].cumsum().tolist(), rel=1e-12, abs=1e-9
        ), name
    assert collected["cum_net_profit"].iloc[-1] == pytest.approx(
        model.timeseries()["net_profit"].sum()
    )


def test_batch_run_rows_carry_cumulative_totals() -> None:
    rows = mesa.batch_run(
        ParkModel,
        parameters={"config": str(BASELINE), **SMALL},
        rng=[2],
        max_steps=QUARTERS,
        number_processes=1,
        data_collection_period=-1,
        display_progress=False,
    )
    focal = [row for row in rows if row["agent_kind"] == "focal bank"]
    assert len(focal) == 1
    direct = ParkModel(BASELINE, rng=2, **SMALL).run().timeseries()
    for name in ("net_profit", "credit_loss", "listings"):
        assert focal[0][f"cum_{name}"] == pytest.approx(direct[name].sum()), name
