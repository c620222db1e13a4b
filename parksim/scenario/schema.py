"""What a scenario file holds: the park, its operator and banks, policy, and strategies.

Each mechanism's parameters are defined next to the code that uses them (lifecycle,
equity, lending, income, credit, operator, tiers); this module only assembles them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parksim.banks.group import GroupParams
from parksim.banks.income import IncomeParams
from parksim.banks.lending import LendingParams
from parksim.banks.tiers import TIERS, Tier
from parksim.core.codes import STAGES
from parksim.core.sectors import SECTOR_NAMES
from parksim.credit import CreditParams
from parksim.credit.stress import StressPath
from parksim.enterprises.entry import FirmProfileParams
from parksim.enterprises.equity import EquityMarketParams
from parksim.enterprises.lifecycle import LifecycleParams
from parksim.operators.operator import AssetModel, OperatorParams
from parksim.policy import PolicyPackage


@dataclass(frozen=True)
class ParkSpec:
    """The park at the start and the flow of new enterprises."""

    name: str = field(metadata={"help": "the park's name, for charts"})
    enterprises: int = field(metadata={"min": 1, "help": "active enterprises at the start"})
    sector_mix: dict[str, float] = field(
        metadata={"unit": "share", "sum_to_one": True, "help": f"shares of {SECTOR_NAMES}"}
    )
    stage_mix: dict[str, float] = field(
        metadata={"unit": "share", "sum_to_one": True, "help": f"initial shares of {STAGES}"}
    )
    entries_per_quarter: float = field(
        default=25.0, metadata={"non_negative": True, "help": "mean new firms per quarter"}
    )
    entrant_stage_mix: dict[str, float] = field(
        default_factory=lambda: {"seed": 0.65, "startup": 0.30, "growth": 0.05},
        metadata={"unit": "share", "sum_to_one": True, "help": "stages of new firms"},
    )
    park_fund: float = field(
        default=0.0,
        metadata={
            "non_negative": True,
            "help": "park fund capital a light operator co-invests, 万元",
        },
    )

    def __post_init__(self) -> None:
        for name, allowed in (
            ("sector_mix", SECTOR_NAMES),
            ("stage_mix", STAGES),
            ("entrant_stage_mix", STAGES),
        ):
            unknown = sorted(set(getattr(self, name)) - set(allowed))
            if unknown:
                raise ValueError(f"{name} has unknown keys {unknown}; expected some of {allowed}")


# A tier change's investment and ramp, as a strategy's and a competitor's changes take them.
INVESTMENT = {
    "non_negative": True,
    "help": "one-off cost of a tier change, 万元, booked in its quarter; "
    'default: the upgrade_investment of the tiers climbed ([tiers."x.0"]); '
    "0 for a move down",
}
RAMP_QUARTERS = {
    "min": 0,
    "max": 40,
    "help": "quarters over which a new tier's capabilities phase in (0: at once); "
    'default: the ramp_quarters of the new tier ([tiers."x.0"], 4)',
}


@dataclass(frozen=True)
class BankChange:
    """A competitor's own move in a given quarter ([[banks.changes]]): its new tier, with
    the investment and ramp a strategy's tier change has."""

    quarter: int = field(metadata={"min": 1, "help": "quarter from which the change holds"})
    tier: Tier = field(metadata={"help": f"the bank's new service tier, one of {TIERS}"})
    investment: float | None = field(default=None, metadata=INVESTMENT)
    ramp_quarters: int | None = field(default=None, metadata=RAMP_QUARTERS)


@dataclass(frozen=True)
class BankSpec:
    """A bank serving the park. Its tier is the strategy's when it is the focal bank; a
    competitor may move on its own schedule and in response to the focal bank."""

    name: str = field(metadata={"help": "the bank's name"})
    tier: Tier = field(default=1.0, metadata={"help": f"service tier, one of {TIERS}"})
    changes: tuple[BankChange, ...] = field(
        default=(),
        metadata={"help": "[[banks.changes]]: the competitor's own moves, in quarter order"},
    )
    follow_lag_quarters: int | None = field(
        default=None,
        metadata={
            "min": 0,
            "max": 400,
            "help": "quarters after each move of the focal bank that this competitor moves "
            "to the focal bank's new tier (never down); absent: it never follows. A strategy "
            'turns it on with [strategies.params] "banks[1].follow_lag_quarters" = 4',
        },
    )
    follow_ramp_quarters: int = field(
        default=4,
        metadata={
            **RAMP_QUARTERS,
            "help": "quarters over which the follower's move phases in (0: at once); "
            "assumption: a year, as a tier's own ramp_quarters",
        },
    )
    follow_margin_cut: float = field(
        default=0.0,
        metadata={
            "min": 0.0,
            "max": 1.0,
            "unit": "per year",
            "help": "cut to lending.margin on the follower's loan offers from its response "
            "on (a price response); 0: none. Plausible 0-0.004, assumption: PBOC/NFRA, new "
            "inclusive small-business loans cost 4.78 % in 2023, 0.48 pp less than in 2022 "
            "while the 1-year LPR fell 0.20 pp, so about 0.3 pp of spread was competed away "
            "in a year (docs/model.md §7.12)",
        },
    )

    follow_max_expected_loss: float | None = field(
        default=None,
        metadata={
            "unit": "probability",
            "min": 0.0,
            "max": 1.0,
            "help": "the follower's appetite from its response on (its max_expected_loss, "
            "the highest annual expected-loss rate it approves); absent: its tier's. "
            "Assumption: tier 2.0's 0.025 (a specialised sub-branch) to 0.04, the regulator "
            "tolerating an inclusive small-firm NPL ratio up to 3 points above a bank's "
            "average (docs/model.md §7.5, §7.12)",
        },
    )

    def __post_init__(self) -> None:
        quarters = [change.quarter for change in self.changes]
        if quarters != sorted(set(quarters)):
            raise ValueError(
                f"bank {self.name!r}: changes: expected one change per quarter in increasing "
                f"quarters, got {quarters}"
            )


@dataclass(frozen=True)
class ScheduledChange:
    """A move the strategy makes in a given quarter: the focal bank's tier, the
    operator's model and policy fields, any of them; what is not named stays."""

    quarter: int = field(metadata={"min": 1, "help": "quarter from which the change holds"})
    bank_tier: Tier | None = field(
        default=None, metadata={"help": f"the focal bank's new service tier, one of {TIERS}"}
    )
    operator_model: AssetModel | None = field(
        default=None, metadata={"help": "the operator's new model: heavy, light or adaptive"}
    )
    policy: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "policy fields that change (any field of [policy]), e.g. a pool"},
    )
    investment: float | None = field(default=None, metadata=INVESTMENT)
    ramp_quarters: int | None = field(default=None, metadata=RAMP_QUARTERS)

    def __post_init__(self) -> None:
        if self.bank_tier is None and self.operator_model is None and not self.policy:
            raise ValueError("a change needs at least one of bank_tier, operator_model, policy")
        if self.investment is not None and self.bank_tier is None:
            raise ValueError("investment: only a change of bank_tier carries an investment")


@dataclass(frozen=True)
class Strategy:
    """One combination the user compares: focal tier × operator model × policy package,
    and the changes it schedules."""

    name: str = field(metadata={"help": "the strategy's name, used in tables and charts"})
    bank_tier: Tier = field(metadata={"help": "the focal bank's service tier"})
    operator_model: AssetModel = field(metadata={"help": "heavy, light or adaptive"})
    policy: PolicyPackage = field(
        default_factory=PolicyPackage,
        metadata={"help": "policy package; fields not given take the scenario's [policy]"},
    )
    changes: tuple[ScheduledChange, ...] = field(
        default=(),
        metadata={"help": "[[strategies.changes]]: moves in later quarters, in quarter order"},
    )
    params: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "[strategies.params]: model parameters this strategy changes, by address "
            '(parksim.scenario.addresses), e.g. "tiers.2.0.fixed_cost" = 600; the other '
            "strategies keep the scenario's values"
        },
    )

    stress: StressPath | None = field(
        default=None,
        metadata={
            "help": "[strategies.stress]: this strategy's stress path; replaces the "
            "scenario's [stress] (absent: the scenario's)"
        },
    )

    def __post_init__(self) -> None:
        quarters = [change.quarter for change in self.changes]
        if quarters != sorted(set(quarters)):
            raise ValueError(
                f"changes: expected one change per quarter in increasing quarters, got {quarters}"
            )


@dataclass(frozen=True)
class Scenario:
    """A complete, validated scenario."""

    name: str = field(metadata={"help": "scenario name; names the results folder"})
    park: ParkSpec = field(metadata={"help": "the park"})
    banks: tuple[BankSpec, ...] = field(
        metadata={"min_len": 1, "help": "banks serving the park; the first is the focal bank"}
    )
    strategies: tuple[Strategy, ...] = field(
        metadata={"min_len": 1, "help": "strategies to compare"}
    )
    description: str = field(default="", metadata={"help": "what the scenario is for"})
    horizon: int = field(default=40, metadata={"min": 1, "max": 400, "help": "quarters"})
    replications: int = field(
        default=50, metadata={"min": 1, "help": "Monte Carlo replications per strategy"}
    )
    seed: int = field(default=20240101, metadata={"min": 0, "help": "root random seed"})
    policy: PolicyPackage = field(
        default_factory=PolicyPackage, metadata={"help": "default policy package"}
    )
    operator: OperatorParams = field(default_factory=OperatorParams)
    lifecycle: LifecycleParams = field(default_factory=LifecycleParams)
    firms: FirmProfileParams = field(default_factory=FirmProfileParams)
    equity: EquityMarketParams = field(default_factory=EquityMarketParams)
    lending: LendingParams = field(default_factory=LendingParams)
    income: IncomeParams = field(default_factory=IncomeParams)
    group: GroupParams = field(default_factory=GroupParams)
    credit: CreditParams = field(default_factory=CreditParams)
    reference: str = field(
        default="",
        metadata={
            "help": "the strategy every other is compared with in differences.csv; empty: the first"
        },
    )
    discount_rate: float = field(
        default=0.08,
        metadata={
            "min": 0.0,
            "max": 1.0,
            "help": "annual rate at which the focal bank discounts profit (npv_net_profit); "
            "assumption: a bank's cost of equity, 4-12 %",
        },
    )
    stress: StressPath = field(
        default_factory=StressPath,
        metadata={
            "help": "[stress]: a stress path every strategy runs (a preset, own "
            "[[stress.periods]], or both) unless it has its own [strategies.stress]"
        },
    )
    tiers: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={
            "help": 'changes to the service tiers\' defaults, by tier: [tiers."2.0"] '
            "signal_noise = 0.5; any field of banks.tiers.TierSpec"
        },
    )

    def __post_init__(self) -> None:
        names = [s.name for s in self.strategies]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"strategy names must be unique; repeated: {duplicates}")
        if self.reference and self.reference not in names:
            raise ValueError(
                f"reference: expected the name of a strategy ({', '.join(names)}), "
                f"got {self.reference!r}"
            )
        for strategy in self.strategies:
            late = [c.quarter for c in strategy.changes if c.quarter > self.horizon]
            if late:
                raise ValueError(
                    f"strategy {strategy.name!r}: changes in quarters {late} come after the "
                    f"horizon ({self.horizon} quarters)"
                )
        for where, path in [("stress", self.stress)] + [
            (f"strategy {s.name!r}: stress", s.stress) for s in self.strategies if s.stress
        ]:
            late = [p.from_quarter for p in path.periods if p.from_quarter > self.horizon]
            if late:
                raise ValueError(
                    f"{where}: periods start in quarters {late}, after the horizon "
                    f"({self.horizon} quarters)"
                )
        bank_names = [b.name for b in self.banks]
        if len(set(bank_names)) != len(bank_names):
            raise ValueError("bank names must be unique")
        focal = self.banks[0]
        if focal.changes or focal.follow_lag_quarters is not None:
            raise ValueError(
                f"banks[0] ({focal.name!r}) is the focal bank: its moves are each "
                "strategy's [[strategies.changes]], not [[banks.changes]] or "
                "follow_lag_quarters"
            )
        for i, bank in enumerate(self.banks):
            late = [c.quarter for c in bank.changes if c.quarter > self.horizon]
            if late:
                raise ValueError(
                    f"banks[{i}] ({bank.name!r}): changes[].quarter {late} come after the "
                    f"horizon ({self.horizon} quarters)"
                )

    def stress_of(self, strategy: Strategy) -> StressPath:
        """The stress path `strategy` runs: its own, else the scenario's."""
        return strategy.stress if strategy.stress is not None else self.stress

    def strategy(self, name: str) -> Strategy:
        """The strategy called `name`."""
        for s in self.strategies:
            if s.name == name:
                return s
        raise KeyError(f"scenario {self.name!r} has no strategy {name!r}; it has {self.names}")

    @property
    def reference_strategy(self) -> str:
        """The strategy differences are taken against: `reference`, or the first."""
        return self.reference or self.strategies[0].name

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.strategies]
