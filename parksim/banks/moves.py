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

The other banks move by the same rule (`BankMoves`): on their own schedule
(`[[banks.changes]]`), and in response to the focal bank (`follow_lag_quarters` after each
of its moves they move to its new tier, never down, and may cut their loan margin at once,
`follow_margin_cut`, and change their appetite, `follow_max_expected_loss`; docs/model.md
§7.12).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from parksim.banks.tiers import TIERS, TierSpec, tier_spec

#: Tier fields that switch in full at a move instead of phasing in.
AT_ONCE_FIELDS: tuple[str, ...] = ("fixed_cost", "cost_per_client", "margin_cut")


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


def ramp_quarters(
    new_tier: float,
    ramp: int | None,
    tier_changes: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """Quarters over which a move to `new_tier` phases in: the change's own `ramp`, else
    the new tier's `TierSpec.ramp_quarters` (with a scenario's `tier_changes` applied)."""
    if ramp is not None:
        return ramp
    return tier_spec(new_tier, (tier_changes or {}).get(f"{new_tier:.1f}")).ramp_quarters


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
class TierMove:
    """One bank's change of tier from `quarter` on: a strategy's `bank_tier` change, a
    competitor's own `[[banks.changes]]`, or its response to the focal bank's move."""

    quarter: int
    tier: float
    investment: float | None  # 万元; None: the upgrade_investment of the tiers climbed
    ramp_quarters: int | None  # quarters the new capabilities phase in over; None: the tier's
    margin_cut: float | None = None  # the bank's margin cut from the move on; None: keeps its own
    max_expected_loss: float | None = None  # its appetite from the move on; None: its tier's
    response: bool = False  # a response to the focal bank: never a move down


@dataclass(frozen=True)
class TierDue:
    """What one bank's schedule asks in one quarter; `None`: no change."""

    tier: float | None = None  # the bank's new tier
    investment: float = 0.0  # one-off cost of that tier change, 万元
    spec: TierSpec | None = None  # the bank's capabilities in force (a ramp, a price cut)


class BankMoves:
    """One bank's tier moves, due at the start of their quarters: the rule every bank moves
    by (the focal bank's scheduled changes, a competitor's own and its responses)."""

    def __init__(
        self, moves: Iterable[TierMove], tier_changes: Mapping[str, Mapping[str, Any]]
    ) -> None:
        self.moves = {move.quarter: move for move in moves}
        self.tier_changes = tier_changes  # the scenario's [tiers."x.0"] tables
        self.ramp: TierRamp | None = None

    def add(self, move: TierMove) -> None:
        """Schedule `move` (a response); it replaces a move already due in its quarter."""
        self.moves[move.quarter] = move

    def due(self, quarter: int, tier: float, spec: TierSpec) -> TierDue:
        """The move due in `quarter` for a bank now at `tier` with `spec`, if any, and the
        capabilities of a tier still phasing in."""
        move = self.moves.get(quarter)
        due = TierDue()
        if move is not None:
            due = self._take(move, quarter, tier, spec)
        if self.ramp is not None:
            due = dataclasses.replace(due, spec=self.ramp.spec_in(quarter))
            if quarter - self.ramp.quarter + 1 >= self.ramp.quarters:
                self.ramp = None
        return due

    def _take(self, move: TierMove, quarter: int, tier: float, spec: TierSpec) -> TierDue:
        # The price (and appetite) the bank sets with the move.
        terms: dict[str, float] = {
            "margin_cut": spec.margin_cut if move.margin_cut is None else move.margin_cut
        }
        if move.max_expected_loss is not None:
            terms["max_expected_loss"] = move.max_expected_loss
        if move.response and move.tier <= tier:
            # Already at (or above) the focal bank's tier: it answers with price and appetite.
            if self.ramp is not None:
                self.ramp.target = dataclasses.replace(self.ramp.target, **terms)
            return TierDue(spec=dataclasses.replace(spec, **terms))
        investment = move.investment
        if investment is None:
            investment = upgrade_investment(tier, move.tier, self.tier_changes)
        target = tier_spec(move.tier, self.tier_changes.get(f"{move.tier:.1f}"))
        target = dataclasses.replace(target, **terms)
        ramp = ramp_quarters(move.tier, move.ramp_quarters, self.tier_changes)
        self.ramp = TierRamp(spec, target, quarter, ramp)
        return TierDue(tier=move.tier, investment=investment)


class CompetitorMoves:
    """The other banks' moves: each one's own `[[banks.changes]]` and its response to the
    focal bank's moves (`BankSpec.follow_lag_quarters`, `follow_ramp_quarters`,
    `follow_margin_cut`, `follow_max_expected_loss`): `lag` quarters after the focal bank
    moves, a follower moves to the focal bank's new tier (never down), cuts its margin and
    sets its appetite."""

    def __init__(self, banks: Sequence[Any], tier_changes: Mapping[str, Mapping[str, Any]]) -> None:
        self.banks = tuple(banks)  # BankSpecs of the competitors, in model order
        self.moves = [
            BankMoves(
                (TierMove(c.quarter, c.tier, c.investment, c.ramp_quarters) for c in bank.changes),
                tier_changes,
            )
            for bank in self.banks
        ]

    def respond(self, quarter: int, focal_tier: float) -> None:
        """The focal bank moves to `focal_tier` in `quarter`: schedule the followers'."""
        for bank, moves in zip(self.banks, self.moves, strict=True):
            if bank.follow_lag_quarters is not None:
                moves.add(
                    TierMove(
                        quarter + bank.follow_lag_quarters,
                        focal_tier,
                        None,
                        bank.follow_ramp_quarters,
                        bank.follow_margin_cut,
                        bank.follow_max_expected_loss,
                        response=True,
                    )
                )

    def due(self, quarter: int, states: Sequence[tuple[float, TierSpec]]) -> tuple[TierDue, ...]:
        """Each competitor's move due in `quarter`, given its (tier, spec) now."""
        return tuple(
            moves.due(quarter, tier, spec)
            for moves, (tier, spec) in zip(self.moves, states, strict=True)
        )


@dataclass(frozen=True)
class Due:
    """What the schedule asks of the model in one quarter; `None` or empty: no change."""

    focal_tier: float | None = None  # the focal bank's new tier
    investment: float = 0.0  # one-off cost of that tier change, 万元
    focal_spec: TierSpec | None = None  # the focal bank's capabilities in force (ramping)
    operator_model: str | None = None  # the operator's new model
    policy: Mapping[str, Any] = dataclasses.field(default_factory=dict)  # policy fields
    competitors: tuple[TierDue, ...] = ()  # the other banks', in model order


class StrategyMoves:
    """The scheduled changes of one strategy (its `ScheduledChange`s, in quarter order),
    due at the start of their quarters, and the competitors' moves (`CompetitorMoves`)."""

    def __init__(
        self,
        changes: tuple[Any, ...],
        tier_changes: Mapping[str, Mapping[str, Any]],
        competitors: Sequence[Any] = (),
    ) -> None:
        self.changes = {change.quarter: change for change in changes}
        self.tier_changes = tier_changes  # the scenario's [tiers."x.0"] tables
        self.focal = BankMoves(
            (
                TierMove(c.quarter, float(c.bank_tier), c.investment, c.ramp_quarters)
                for c in changes
                if c.bank_tier is not None
            ),
            tier_changes,
        )
        self.competitors = CompetitorMoves(competitors, tier_changes)

    @property
    def ramp(self) -> TierRamp | None:
        """The focal bank's tier still phasing in, if any."""
        return self.focal.ramp

    def due(
        self,
        quarter: int,
        tier: float,
        spec: TierSpec,
        others: Sequence[tuple[float, TierSpec]] = (),
    ) -> Due:
        """The changes due in `quarter` for a focal bank now at `tier` with `spec` (the
        change scheduled for it, if any, and the capabilities of a tier still phasing in),
        and for the competitors now at `others` ((tier, spec) each), who respond to a focal
        move first."""
        focal = self.focal.due(quarter, tier, spec)
        due = Due(focal_tier=focal.tier, investment=focal.investment, focal_spec=focal.spec)
        change = self.changes.get(quarter)
        if change is not None:
            due = dataclasses.replace(
                due, operator_model=change.operator_model, policy=dict(change.policy)
            )
        if focal.tier is not None:
            self.competitors.respond(quarter, focal.tier)
        if others:
            due = dataclasses.replace(due, competitors=self.competitors.due(quarter, others))
        return due
