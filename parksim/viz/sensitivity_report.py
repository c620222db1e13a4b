"""A study's tables and charts from its replications: outputs, indices, robustness, figures."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from parksim import __version__
from parksim.analysis.differences import DIFFERENCE_METRICS
from parksim.analysis.sensitivity.analysis import Design
from parksim.analysis.sensitivity.robustness import robustness
from parksim.scenario.schema import Scenario
from parksim.viz.sensitivity_charts import save_charts


def main_outcome(scenario: Scenario, pairs: list[tuple[str, str]], metric: str):
    """The outcome the charts show: one tier up from the reference (same operator), else
    the first pair, on the study's first metric."""
    reference = scenario.strategy(scenario.reference_strategy)
    for strategy, versus in pairs:
        if versus == reference.name:
            s = scenario.strategy(strategy)
            if (
                s.operator_model == reference.operator_model
                and s.bank_tier == reference.bank_tier + 1
            ):
                return (strategy, versus, metric)
    strategy, versus = pairs[0] if pairs else (scenario.names[0], "")
    return (strategy, versus, metric)


def write_analysis(
    out: Path, design: Design, replications: pd.DataFrame, plan, scenario: Scenario
) -> None:
    """outputs.parquet, indices.csv, robustness.csv, flip_boxes.csv and figures/ of a study."""
    from parksim.analysis.sensitivity.study import (
        indices_from_folder,
        outputs_table,
        strategy_pairs,
    )

    pairs = strategy_pairs(scenario)
    outputs = outputs_table(replications, plan.metrics, pairs)
    outputs.to_parquet(out / "outputs.parquet", index=False)
    indices = indices_from_folder(out)
    levels = pd.DataFrame(design.levels, columns=list(design.names))
    better = {m.name: m.sign for m in DIFFERENCE_METRICS}
    table, boxes = robustness(outputs, levels, plan.parameters, better)
    table.to_csv(out / "robustness.csv", index=False)
    boxes.to_csv(out / "flip_boxes.csv", index=False)
    stamp = (
        f"parksim {__version__} · {scenario.name} · {plan.method} "
        f"({plan.size} {'trajectories' if plan.method == 'morris' else 'base samples'}, "
        f"{design.points} points × {plan.replications} replications) · seed {plan.seed}"
    )
    main = main_outcome(scenario, pairs, plan.metrics[0])
    save_charts(plan.method, indices, outputs, levels, main, out / "figures", stamp)
