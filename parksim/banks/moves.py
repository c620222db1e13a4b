"""A strategy's scheduled moves: the focal bank changes tier, the operator its model, the
government its policy, in a given quarter (`[[strategies.changes]]`).

The park does not restart at a move: the loan book and the clients at the switch are
those built under the old tier, and they run off or stay as any book does. A new tier's
capabilities phase in over `ramp_quarters` (a data platform must learn, a sub-branch must
be staffed; §六(二)1, §六(二)4): every numeric capability moves linearly from the old spec
to the new one, a share 1/ramp in the change quarter and all of it after `ramp_quarters`.
Costs (`fixed_cost`, `cost_per_client`) and the discrete capabilities (products, fund
co-investment, advisory) switch in full at once: the bank pays for the sub-branch and can
sell the products from the first day, while the view of firms sharpens with time. A tier
change also books a one-off `investment` (万元) in its quarter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parksim.banks.tiers import TIERS, TierSpec, tier_spec

#: Tier fields that switch in full at a move instead of phasing in.
AT_ONCE_FIELDS: tuple[str, ...] = ("fixed_cost", "cost_per_client")


def upgrade_investment(
    old_tier: float,
    new_tier: float,
    tier_changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> float:
    """Default one-off investment of a move from `old_tier` to `new_tier`, 万元: the sum of
    the climbed tiers' `TierSpec.upgrade_investment`, with a scenario's `tier_changes` (its
    [tiers."x.0"] tables) applied; 0 for a move down."""
    changes = tier_changes or {}
    climbed = (tier for tier in TIERS if old_tier < tier <= new_tier)
    return sum(tier_spec(tier, changes.get(f"{tier:.1f}")).upgrade_investment for tier in climbed)


def ramped_spec(old: TierSpec, new: TierSpec, weight: float) -> TierSpec:
    """`new` with its numeric capabilities a share `weight` of the way from `old`
    (costs and discrete capabilities are `new`'s)."""
    if weight >= 1.0:
        return new
    values = {}
    for f in dataclasses.fields(TierSpec):
        before, after = getattr(old, f.name), getattr(new, f.name)
        numeric = isinstance(after, float) and not isinstance(after, bool)
        if numeric and f.name not in AT_ONCE_FIELDS:
            values[f.name] = before + weight * (after - before)
    return dataclasses.replace(new, **values)


@dataclass
class TierRamp:
    """The focal bank's capabilities phasing in from `start` to `target`."""

    start: TierSpec
    target: TierSpec
    quarter: int  # quarter of the change
    quarters: int  # ramp length; 0 = at once

    def spec_in(self, quarter: int) -> TierSpec:
        """The spec in force in `quarter` (≥ the change quarter)."""
        if self.quarters == 0:
            return self.target
        weight = min(1.0, (quarter - self.quarter + 1) / self.quarters)
        return ramped_spec(self.start, self.target, weight)


@dataclass(frozen=True)
class Due:
    """What the schedule asks of the model in one quarter; `None` or empty: no change."""

    focal_tier: float | None = None  # the focal bank's new tier
    investment: float = 0.0  # one-off cost of that tier change, 万元
    focal_spec: TierSpec | None = None  # the focal bank's capabilities in force (ramping)
    operator_model: str | None = None  # the operator's new model
    policy: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # policy fields


class StrategyMoves:
    """The scheduled changes of one strategy (its `ScheduledChange`s, in quarter order),
    due at the start of their quarters."""

    def __init__(
        self, changes: tuple[Any, ...], tier_changes: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.changes = {change.quarter: change for change in changes}
        self.tier_changes = tier_changes  # the scenario's [tiers."x.0"] tables
        self.ramp: TierRamp | None = None

    def due(self, quarter: int, tier: float, spec: TierSpec) -> Due:
        """The changes due in `quarter` for a focal bank now at `tier` with `spec`: the
        change scheduled for it, if any, and the capabilities of a tier still phasing in."""
        change = self.changes.get(quarter)
        due = Due()
        if change is not None:
            if change.bank_tier is not None:
                due = self._tier_change(change, quarter, tier, spec)
            due = dataclasses.replace(
                due, operator_model=change.operator_model, policy=dict(change.policy)
            )
        if self.ramp is not None:
            due = dataclasses.replace(due, focal_spec=self.ramp.spec_in(quarter))
            if quarter - self.ramp.quarter + 1 >= self.ramp.quarters:
                self.ramp = None
        return due

    def _tier_change(self, change: Any, quarter: int, tier: float, spec: TierSpec) -> Due:
        new_tier = float(change.bank_tier)
        investment = change.investment
        if investment is None:
            investment = upgrade_investment(tier, new_tier, self.tier_changes)
        target = tier_spec(new_tier, self.tier_changes.get(f"{new_tier:.1f}"))
        self.ramp = TierRamp(spec, target, quarter, change.ramp_quarters)
        return Due(focal_tier=new_tier, investment=investment)
