"""A scenario's strategies as resolved, in words: what `parksim validate` prints."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from parksim.banks.moves import upgrade_investment
from parksim.policy import PolicyPackage
from parksim.scenario.schema import Scenario, ScheduledChange, Strategy


def policy_text(policy: PolicyPackage) -> str:
    """Every field of a policy package, as `name=value`."""
    parts = []
    for f in dataclasses.fields(PolicyPackage):
        value = getattr(policy, f.name)
        shown = str(value).lower() if isinstance(value, bool) else f"{value:g}"
        parts.append(f"{f.name}={shown}")
    return " ".join(parts)


def change_text(
    change: ScheduledChange,
    tier_before: float,
    tier_changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> str:
    """One scheduled change, with the defaults it takes (the scenario's `tier_changes`
    applied)."""
    parts = [f"quarter {change.quarter}:"]
    if change.bank_tier is not None:
        investment = change.investment
        if investment is None:
            investment = upgrade_investment(tier_before, change.bank_tier, tier_changes)
        parts.append(
            f"tier {tier_before:.1f} -> {change.bank_tier:.1f} (investment "
            f"{investment:,.0f} 万元, ramp {change.ramp_quarters} quarters)"
        )
    if change.operator_model is not None:
        parts.append(f"operator {change.operator_model}")
    if change.policy:
        parts.append(
            "policy "
            + " ".join(
                f"{k}={v:g}" if not isinstance(v, bool) else f"{k}={str(v).lower()}"
                for k, v in change.policy.items()
            )
        )
    return " ".join(parts)


def describe_strategy(
    strategy: Strategy, tier_changes: Mapping[str, Mapping[str, Any]] | None = None
) -> list[str]:
    """Lines describing one strategy as the model will run it, under the scenario's
    `tier_changes` (its [tiers."x.0"] tables)."""
    lines = [
        f"{strategy.name}: tier {strategy.bank_tier:.1f}, operator {strategy.operator_model}",
        f"    policy: {policy_text(strategy.policy)}",
    ]
    tier = strategy.bank_tier
    for change in strategy.changes:
        lines.append(f"    change {change_text(change, tier, tier_changes)}")
        tier = change.bank_tier if change.bank_tier is not None else tier
    if not strategy.changes:
        lines.append("    changes: none")
    return lines


def describe(scenario: Scenario) -> list[str]:
    """Lines describing every strategy, and the reference of differences.csv."""
    lines = [f"reference strategy (differences.csv): {scenario.reference_strategy}"]
    for strategy in scenario.strategies:
        lines += describe_strategy(strategy, scenario.tiers)
    return lines
