"""Defects found in 0.4.1, each with a test that would have caught it.

Existing tests kept: `tests/test_sensitivity_study.py::
test_a_points_metric_is_the_differences_table_metric_of_the_same_run` (one run's
`horizon_value` against `metric_paths`, per metric) and `tests/test_api.py::
test_an_override_works_on_a_scenario_whose_reference_is_another_strategy` (the override
with a reference). Added here: the study's outputs against `differences.csv` itself, on
the same runs of two strategies; the quarterly label of `default_rate_*`; and the column
descriptions of realised stakes naming every exit that realises them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parksim.analysis.differences import DIFFERENCE_METRICS, differences
from parksim.analysis.sensitivity import study
from parksim.core.codes import STAGES
from parksim.core.metrics import COLUMNS, column, metric_arrays
from parksim.model import ParkModel
from parksim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def test_a_studys_outputs_equal_differences_csv_on_the_same_runs() -> None:
    # Two strategies, two paired replications (the same seed for replication i of each):
    # the study's paired difference of horizon values must be differences.csv's mean.
    scenario = load_scenario(BASELINE)
    strategies, reference = ("tier2_light", "tier1_heavy"), "tier1_heavy"
    tables, rows = [], []
    for strategy in strategies:
        for replication in range(2):
            model = ParkModel(
                scenario,
                strategy,
                rng=10 + replication,
                collect=False,
                park__enterprises=150,
                group__holder="bank",  # equity income at the bank: the 0.4.1 defect's column
            ).run(12)
            arrays = metric_arrays(model.records)
            table = model.timeseries()
            table.insert(0, "replication", replication)
            table.insert(0, "strategy", strategy)
            tables.append(table)
            row = {"point": 0, "strategy": strategy, "replication": replication}
            for metric in DIFFERENCE_METRICS:
                if set(metric.columns) <= set(arrays):
                    row[metric.name] = study.horizon_value(arrays, metric, scenario.discount_rate)
            rows.append(row)
    timeseries = pd.concat(tables, ignore_index=True)
    # Equity income is what 0.4.1 added instead of subtracting: it must be there to matter.
    assert timeseries.loc[timeseries["strategy"] == strategies[0], "equity_income"].abs().sum() > 0
    timeseries["strategy"] = pd.Categorical(timeseries["strategy"], categories=list(strategies))
    csv = differences(timeseries, reference, discount_rate=scenario.discount_rate, resamples=10)
    csv = csv.set_index("metric")
    replications = pd.DataFrame(rows)
    metrics = [c for c in replications.columns if c not in ("point", "strategy", "replication")]
    outputs = study.outputs_table(replications, metrics, [(strategies[0], reference)])
    paired = outputs[outputs["versus"] == reference].set_index("metric")
    assert len(metrics) >= 5
    for name in metrics:
        np.testing.assert_allclose(
            paired.loc[name, "value"], csv.loc[name, "mean"], rtol=1e-9, atol=1e-9, err_msg=name
        )


def test_default_rates_are_labelled_quarterly() -> None:
    doc = (ROOT / "docs" / "columns.md").read_text(encoding="utf-8")
    for stage in STAGES:
        described = column(f"default_rate_{stage}")
        assert described.unit == "share per quarter"
        assert described.description.startswith("quarterly")
        line = next(x for x in doc.splitlines() if x.startswith(f"| `default_rate_{stage}` |"))
        assert "per quarter" in line and "quarterly" in line


def test_realised_stakes_name_every_exit_that_realises_them() -> None:
    # The code realises a bank's stakes at listing, acquisition, relocation and failure
    # (banks/stakes.py); 0.4.1's columns.md named only the first two. A column that says
    # when stakes are realised (it names the listing) must name every exit.
    doc = (ROOT / "docs" / "columns.md").read_text(encoding="utf-8")
    realised = [
        c
        for c in COLUMNS
        if "equity_income" in c.name
        and not c.name.startswith("operator")
        and "realised" in c.description
        and "listing" in c.description
    ]
    assert realised, "no column says when the bank's or group's stakes are realised"
    for described in realised:
        for exit_kind in ("acquisition", "relocation", "failure"):
            assert exit_kind in described.description, (described.name, exit_kind)
        line = next(x for x in doc.splitlines() if x.startswith(f"| `{described.name}` |"))
        assert "relocation" in line and "failure" in line
