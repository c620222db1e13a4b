"""A study's figures from its analysed tables (`parksim.analysis.sensitivity.study`)."""

from __future__ import annotations

from pathlib import Path

from parksim import __version__
from parksim.analysis.sensitivity.study import StudyTables
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


def _size(method: str, size: int) -> str:
    """The design's size for the stamp: `10 trajectories`, `64 base samples` or `one at a
    time` (the point count follows from it and the parameters, so it stays off the line
    that must fit the page)."""
    if method == "oat":
        return "one at a time"
    return f"{size} {'trajectories' if method == 'morris' else 'base samples'}"


def draw_study(
    out: Path,
    tables: StudyTables,
    main: tuple[str, str, str] | None = None,
    figures: Path | None = None,
) -> list[Path]:
    """figures/ of a study: its indices, robustness and the main outcome's charts.

    `main` (strategy, versus, metric) chooses another outcome than `main_outcome`'s;
    `figures` another folder than `out/figures` (`parksim plot STUDY_DIR`).
    """
    plan = tables.plan
    stamp = (
        f"parksim {__version__} · {tables.scenario.name} · {plan.method}, "
        f"{_size(plan.method, plan.size)} × {plan.replications} "
        f"replication{'s' if plan.replications != 1 else ''} · seed {plan.seed}"
    )
    main = main or main_outcome(tables.scenario, tables.pairs, plan.metrics[0])
    return save_charts(
        plan.method,
        tables.indices,
        tables.outputs,
        tables.levels,
        main,
        figures or out / "figures",
        stamp,
    )
