"""Fiscal cost of a policy package: what the pool, the guarantee and the subsidy pay, what
the pool has left, and what the summary says it bought."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import parksim
from parksim.analysis.summary import POOL_NOTE, policy_effects
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.validate import to_dict

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"
POOL = {"risk_pool_share": 0.5, "risk_pool_size": 3000.0, "guarantee_share": 0.3}


def one_bank_scenario() -> parksim.Scenario:
    data = to_dict(parksim.load_scenario(BASELINE))
    data.update(horizon=12, replications=3)
    data["park"]["enterprises"] = 300
    data["banks"] = data["banks"][:1]
    data["strategies"] = [
        {"name": "none", "bank_tier": 2.0, "operator_model": "heavy"},
        {"name": "pool", "bank_tier": 2.0, "operator_model": "heavy", "policy": POOL},
        {
            "name": "subsidy",
            "bank_tier": 2.0,
            "operator_model": "heavy",
            "policy": {"interest_subsidy": 0.01},
        },
    ]
    return scenario_from_dict(data)


@pytest.fixture(scope="module")
def result() -> parksim.RunResult:
    return parksim.run(one_bank_scenario(), progress=False)


def test_pool_and_guarantee_payouts_are_what_the_bank_recovers(result) -> None:
    pool = result.timeseries[result.timeseries["strategy"] == "pool"]
    # One bank: every public payout is its recovery.
    paid = pool["fiscal_pool_paid"] + pool["fiscal_guarantee_paid"]
    assert np.allclose(paid, pool["policy_recoveries"])
    assert pool["fiscal_guarantee_paid"].sum() > 0


def test_the_pool_remaining_is_its_capital_less_what_it_paid(result) -> None:
    pool = result.timeseries[result.timeseries["strategy"] == "pool"]
    for _, rep in pool.groupby("replication"):
        spent = rep["fiscal_pool_paid"].cumsum()
        assert np.allclose(rep["pool_remaining"], POOL["risk_pool_size"] - spent)
    none = result.timeseries[result.timeseries["strategy"] == "none"]
    assert (none[["fiscal_pool_paid", "fiscal_guarantee_paid", "pool_remaining"]] == 0).all().all()


def test_an_interest_subsidy_costs_public_money_only_where_there_is_one(result) -> None:
    ts = result.timeseries
    cost = ts.groupby("strategy", observed=True)["fiscal_subsidy_cost"].sum()
    assert cost["subsidy"] > 0 and cost["none"] == 0 and cost["pool"] == 0


def test_the_summary_prices_extra_young_lending_and_explains_the_pool(result) -> None:
    summary = result.summary
    means = result.per_replication.groupby(level="strategy", sort=False).mean()
    extra = means.loc["pool", "cum_young_new_loans"] - means.loc["none", "cum_young_new_loans"]
    cost = means.loc["pool", "cum_fiscal_cost"] - means.loc["none", "cum_fiscal_cost"]
    assert summary.loc["pool", "extra_young_lending_per_fiscal_cost"] == pytest.approx(extra / cost)
    assert pd.isna(summary.loc["none", "extra_young_lending_per_fiscal_cost"])
    assert POOL_NOTE in summary.loc["pool", "policy_note"]
    assert summary.loc["none", "policy_note"] == ""
    assert "cum_fiscal_cost" in set(result.differences()["metric"])


def test_a_pool_that_ran_out_is_counted_as_exhausted() -> None:
    index = pd.MultiIndex.from_product([["a", "b"], range(4)], names=["strategy", "replication"])
    per = pd.DataFrame(
        {
            "cum_fiscal_pool_paid": [0, 0, 0, 0, 10, 10, 10, 0],
            "final_pool_remaining": [0, 0, 0, 0, 0, 5, 0, 20],
            "cum_fiscal_cost": [0, 0, 0, 0, 10, 10, 10, 0],
            "cum_young_new_loans": [100, 100, 100, 100, 130, 130, 130, 100],
        },
        index=index,
        dtype=float,
    )
    effects = policy_effects(per)
    assert effects.loc["b", "pool_exhausted_share"] == 0.5
    assert effects.loc["a", "pool_exhausted_share"] == 0.0
    assert effects.loc["b", "extra_young_lending_per_fiscal_cost"] == pytest.approx(22.5 / 7.5)
