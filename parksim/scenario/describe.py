"""A scenario's strategies as resolved, in words: what `parksim validate` prints and what
the report (`parksim report`) says about each strategy.

A strategy's path is resolved once (:func:`strategy_path`): its starting tier, operator
model and policy package, then each scheduled change with its quarter, the tier before
and after, the investment and ramp the move takes (the scenario's `[tiers."x.0"]`
applied), the operator's new model and the policy fields that change, with the package
in force from then on. Two texts are made from it: the terse one of `parksim validate`
(field names, for scenario authors; :func:`describe`) and sentences for readers
(:func:`strategy_words`), whose English templates a caller may translate (the report
passes `parksim.viz.i18n.tr`); this layer holds no translations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parksim.banks.moves import upgrade_investment
from parksim.policy import PolicyPackage
from parksim.scenario.addresses import leaves, scenario_leaves, tier_leaves
from parksim.scenario.schema import BankSpec, ParkSpec, Scenario, Strategy

#: A translation of an English template (identity for English).
Translate = Callable[[str], str]

#: The operator's models in words.
OPERATOR_WORDS: dict[str, str] = {
    "heavy": "a heavy-asset operator (重资产: builds and owns the buildings)",
    "light": "a light-asset operator (轻资产: manages, owns little)",
    "adaptive": "an adaptive operator (switches between heavy and light assets)",
}

#: Each policy field in words, with the template its value is shown in.
POLICY_WORDS: dict[str, tuple[str, str]] = {
    "risk_pool_share": ("risk-pool (风险补偿资金池) share of a loss", "{value} %"),
    "risk_pool_size": ("risk-pool capital", "{value} 万元"),
    "guarantee_share": ("government guarantee share of a loss", "{value} %"),
    "guarantee_fee": ("guarantee fee", "{value} % a year"),
    "interest_subsidy": ("interest subsidy (贴息)", "{value} % a year"),
    "reits_available": ("REITs available", "{value}"),
    "mna_loan_cap": ("M&A loan cap (share of the deal price)", "{value} %"),
}
#: Policy fields held as shares (shown as percentages).
PERCENT_FIELDS = ("risk_pool_share", "guarantee_share", "guarantee_fee", "interest_subsidy")
PERCENT_FIELDS += ("mna_loan_cap",)


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Step:
    """One scheduled change of a strategy, resolved."""

    quarter: int
    tier_before: float
    tier_after: float | None  # None: the tier stays
    investment: float | None  # 万元, booked in the change's quarter (tier moves only)
    ramp_quarters: int | None  # quarters over which the new tier phases in
    operator_model: str | None  # None: the operator stays
    policy_changes: dict[str, Any]  # the policy fields that change, with their new values
    policy: PolicyPackage  # the package in force from this quarter


@dataclass(frozen=True)
class StrategyPath:
    """A strategy as the model runs it: how it starts and every change after."""

    name: str
    tier: float
    operator_model: str
    policy: PolicyPackage
    steps: tuple[Step, ...]


def strategy_path(
    strategy: Strategy, tier_changes: Mapping[str, Mapping[str, Any]] | None = None
) -> StrategyPath:
    """The resolved path of `strategy` under the scenario's `tier_changes` (its
    [tiers."x.0"] tables): investments default to `upgrade_investment`, and a change's
    policy fields are laid over the package in force before it (as the model does)."""
    tier, policy, steps = strategy.bank_tier, strategy.policy, []
    for change in strategy.changes:
        policy = dataclasses.replace(policy, **change.policy) if change.policy else policy
        investment = ramp = None
        if change.bank_tier is not None:
            investment = change.investment
            if investment is None:
                investment = upgrade_investment(tier, change.bank_tier, tier_changes)
            ramp = change.ramp_quarters
        steps.append(
            Step(
                change.quarter,
                tier,
                change.bank_tier,
                investment,
                ramp,
                change.operator_model,
                dict(change.policy),
                policy,
            )
        )
        tier = change.bank_tier if change.bank_tier is not None else tier
    return StrategyPath(
        strategy.name, strategy.bank_tier, strategy.operator_model, strategy.policy, tuple(steps)
    )


# --- words for readers --------------------------------------------------------------------


def _number(value: float, decimals: int = 2) -> str:
    """A number with thousands separators and at most `decimals` decimals, no trailing 0."""
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def policy_value(name: str, value: Any, translate: Translate = _same) -> str:
    """A policy field's value in words: 0.5 share -> "50 %", 20000 -> "20,000 万元"."""
    if isinstance(value, bool):
        shown = translate("yes") if value else translate("no")
    elif name in PERCENT_FIELDS:
        shown = _number(100.0 * value)
    else:
        shown = _number(value)
    return translate(POLICY_WORDS[name][1]).format(value=shown)


def policy_words(fields: Mapping[str, Any], translate: Translate = _same) -> str:
    """Policy fields and values in words, in the order of `PolicyPackage`."""
    order = [f.name for f in dataclasses.fields(PolicyPackage)]
    return translate(", ").join(
        f"{translate(POLICY_WORDS[name][0])} {policy_value(name, fields[name], translate)}"
        for name in order
        if name in fields
    )


def _policy_fields(policy: PolicyPackage) -> dict[str, Any]:
    return {f.name: getattr(policy, f.name) for f in dataclasses.fields(PolicyPackage)}


def step_words(step: Step, translate: Translate = _same) -> str:
    """One change in words: "from quarter 4: tier 1.0 → 2.0 (investment 2,000 万元, ramp
    over 4 quarters); risk-pool share of a loss 50 %, risk-pool capital 20,000 万元"."""
    parts = []
    if step.tier_after is not None:
        parts.append(
            translate(
                "tier {before} → {after} (investment {investment} 万元, ramp over {ramp} quarters)"
            ).format(
                before=f"{step.tier_before:.1f}",
                after=f"{step.tier_after:.1f}",
                investment=_number(step.investment or 0.0, 0),
                ramp=step.ramp_quarters,
            )
        )
    if step.operator_model is not None:
        parts.append(
            translate("the operator becomes {operator}").format(
                operator=translate(OPERATOR_WORDS[step.operator_model])
            )
        )
    if step.policy_changes:
        parts.append(
            translate("policy: {changes}").format(
                changes=policy_words(step.policy_changes, translate)
            )
        )
    return translate("From quarter {quarter}: {moves}").format(
        quarter=step.quarter, moves=translate("; ").join(parts)
    )


def strategy_words(path: StrategyPath, translate: Translate = _same) -> list[str]:
    """A strategy's path as sentences: how it starts (tier, operator, the whole policy
    package), then one sentence per scheduled change, in quarter order."""
    start = translate(
        "The focal bank serves the park at tier {tier}, with {operator}; policy: {policy}."
    ).format(
        tier=f"{path.tier:.1f}",
        operator=translate(OPERATOR_WORDS[path.operator_model]),
        policy=policy_words(_policy_fields(path.policy), translate),
    )
    lines = [start]
    lines += [step_words(step, translate) + translate(".") for step in path.steps]
    if not path.steps:
        lines.append(translate("No scheduled changes."))
    return lines


# --- parameters set away from their defaults ------------------------------------------------

#: Scenario fields that are not parameters or are said elsewhere (the run's settings, the
#: strategies and the text).
NOT_PARAMETERS = (
    "name",
    "description",
    "strategies",
    "tiers",
    "reference",
    "horizon",
    "replications",
    "seed",
)


def _default_leaves(scenario: Scenario) -> dict[str, Any]:
    """The addresses of `scenario` that have a schema default, with that default."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Scenario):
        if f.name in NOT_PARAMETERS or f.name in ("park", "banks"):
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            out.update(leaves(default, f.name))
        elif default is not dataclasses.MISSING:
            out[f.name] = default
    for f in dataclasses.fields(ParkSpec):
        if f.default_factory is not dataclasses.MISSING:
            out.update(_leaves_of_value(f"park.{f.name}", f.default_factory()))
        elif f.default is not dataclasses.MISSING:
            out[f"park.{f.name}"] = f.default
    bank_default = next(f.default for f in dataclasses.fields(BankSpec) if f.name == "tier")
    for i in range(len(scenario.banks)):
        out[f"banks[{i}].tier"] = bank_default
    out.update(tier_leaves())
    return out


def _leaves_of_value(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return {key: value, **{f"{key}.{k}": v for k, v in value.items()}}
    return {key: value}


def _composite(value: Any) -> bool:
    return isinstance(value, tuple | list | Mapping)


def changed_parameters(scenario: Scenario) -> list[tuple[str, Any, Any]]:
    """(address, value, default) of every parameter `scenario` sets away from its schema
    default, in address order: a tuple or table that differs is named whole (`equity.bar`),
    not element by element. The focal bank's tier is the strategies' and is left out."""
    values = scenario_leaves(scenario)
    defaults = _default_leaves(scenario)
    composite = {key for key, value in values.items() if _composite(value)}
    out = []
    for key in sorted(values):
        if key not in defaults or key == "banks[0].tier":
            continue
        parent = key.rsplit("[", 1)[0] if key.endswith("]") else key.rsplit(".", 1)[0]
        if parent in composite and parent != key:
            continue
        if values[key] != defaults[key]:
            out.append((key, values[key], defaults[key]))
    return out


def parameter_text(value: Any) -> str:
    """A parameter's value as a scenario file writes it (numbers with `g`, lists and
    tables in brackets)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        whole = value.is_integer() and abs(value) >= 1e3
        return f"{value:,.0f}" if whole else f"{value:g}"
    if isinstance(value, tuple | list):
        return "[" + ", ".join(parameter_text(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k} = {parameter_text(v)}" for k, v in value.items()) + "}"
    return str(value)


# --- the terse text of `parksim validate` ----------------------------------------------------


def policy_text(policy: PolicyPackage) -> str:
    """Every field of a policy package, as `name=value`."""
    return " ".join(f"{k}={_field_text(v)}" for k, v in _policy_fields(policy).items())


def _field_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value:g}"


def _step_text(step: Step) -> str:
    parts = [f"quarter {step.quarter}:"]
    if step.tier_after is not None:
        parts.append(
            f"tier {step.tier_before:.1f} -> {step.tier_after:.1f} (investment "
            f"{step.investment:,.0f} 万元, ramp {step.ramp_quarters} quarters)"
        )
    if step.operator_model is not None:
        parts.append(f"operator {step.operator_model}")
    if step.policy_changes:
        parts.append(
            "policy " + " ".join(f"{k}={_field_text(v)}" for k, v in step.policy_changes.items())
        )
    return " ".join(parts)


def describe_strategy(
    strategy: Strategy, tier_changes: Mapping[str, Mapping[str, Any]] | None = None
) -> list[str]:
    """Lines describing one strategy as the model will run it, under the scenario's
    `tier_changes` (its [tiers."x.0"] tables)."""
    path = strategy_path(strategy, tier_changes)
    lines = [
        f"{path.name}: tier {path.tier:.1f}, operator {path.operator_model}",
        f"    policy: {policy_text(path.policy)}",
    ]
    lines += [f"    change {_step_text(step)}" for step in path.steps]
    if not path.steps:
        lines.append("    changes: none")
    return lines


def describe(scenario: Scenario) -> list[str]:
    """Lines describing every strategy, and the reference of differences.csv."""
    lines = [f"reference strategy (differences.csv): {scenario.reference_strategy}"]
    for strategy in scenario.strategies:
        lines += describe_strategy(strategy, scenario.tiers)
    return lines
