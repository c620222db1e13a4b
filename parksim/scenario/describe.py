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

from parksim.banks.moves import ramp_quarters, upgrade_investment
from parksim.credit.stress import StressPath, StressPeriod
from parksim.policy import PolicyPackage
from parksim.scenario.addresses import leaves, scenario_leaves, tier_leaves
from parksim.scenario.loader import apply_overrides
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
class CompetitorStep:
    """One of a competitor's own scheduled moves ([[banks.changes]]), resolved."""

    quarter: int
    tier_before: float
    tier_after: float
    investment: float  # 万元, booked in the move's quarter
    ramp_quarters: int


@dataclass(frozen=True)
class Competitor:
    """A competitor as a strategy runs it (its [strategies.params] applied): its tier, its
    own moves and how it follows the focal bank (`BankSpec.follow_*`)."""

    name: str
    tier: float
    steps: tuple[CompetitorStep, ...]
    follow_lag_quarters: int | None  # None: it never follows
    follow_ramp_quarters: int
    follow_margin_cut: float  # per year
    follow_max_expected_loss: float | None  # None: its tier's appetite

    @property
    def moves(self) -> bool:
        """Whether it ever moves (on its own schedule or after the focal bank)."""
        return bool(self.steps) or self.follow_lag_quarters is not None


@dataclass(frozen=True)
class StrategyPath:
    """A strategy as the model runs it: how it starts and every change after, with the
    parameters it changes, the competitors and the stress path it runs under (these three
    are resolved only when the scenario is given to :func:`strategy_path`)."""

    name: str
    tier: float
    operator_model: str
    policy: PolicyPackage
    steps: tuple[Step, ...]
    params: dict[str, Any] = dataclasses.field(default_factory=dict)  # [strategies.params]
    competitors: tuple[Competitor, ...] = ()
    stress: StressPath | None = None  # the stress path in force; None: none
    own_stress: bool = False  # the strategy's own [strategies.stress], not the scenario's


def _competitor(bank: BankSpec, tier_changes: Mapping[str, Mapping[str, Any]]) -> Competitor:
    tier, steps = bank.tier, []
    for change in bank.changes:
        investment = change.investment
        if investment is None:
            investment = upgrade_investment(tier, change.tier, tier_changes)
        steps.append(
            CompetitorStep(
                change.quarter,
                tier,
                change.tier,
                investment,
                ramp_quarters(change.tier, change.ramp_quarters, tier_changes),
            )
        )
        tier = change.tier
    return Competitor(
        bank.name,
        bank.tier,
        tuple(steps),
        bank.follow_lag_quarters,
        bank.follow_ramp_quarters,
        bank.follow_margin_cut,
        bank.follow_max_expected_loss,
    )


def strategy_path(
    strategy: Strategy,
    tier_changes: Mapping[str, Mapping[str, Any]] | None = None,
    scenario: Scenario | None = None,
) -> StrategyPath:
    """The resolved path of `strategy` under the scenario's `tier_changes` (its
    [tiers."x.0"] tables): investments default to `upgrade_investment`, and a change's
    policy fields are laid over the package in force before it (as the model does).

    Given the `scenario`, the path is the one the model runs: the strategy's
    [strategies.params] applied to the scenario (`apply_overrides`, as `ParkModel` does;
    its tier tables replace `tier_changes`), with the competitors (banks after the first)
    and the stress path in force (`Scenario.stress_of`)."""
    extra: dict[str, Any] = {}
    if scenario is not None:
        config, run = apply_overrides(scenario, strategy)
        tier_changes = config.tiers
        stress = config.stress_of(run)
        extra = {
            "params": dict(strategy.params),
            "competitors": tuple(_competitor(b, config.tiers) for b in config.banks[1:]),
            "stress": stress if stress.active else None,
            "own_stress": run.stress is not None,
        }
    tier, policy, steps = strategy.bank_tier, strategy.policy, []
    for change in strategy.changes:
        policy = dataclasses.replace(policy, **change.policy) if change.policy else policy
        investment = ramp = None
        if change.bank_tier is not None:
            investment = change.investment
            if investment is None:
                investment = upgrade_investment(tier, change.bank_tier, tier_changes)
            ramp = ramp_quarters(change.bank_tier, change.ramp_quarters, tier_changes)
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
        strategy.name,
        strategy.bank_tier,
        strategy.operator_model,
        strategy.policy,
        tuple(steps),
        **extra,
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
    if path.params:
        lines.append(
            translate("Model parameters this strategy changes: {params}.").format(
                params=translate(", ").join(
                    f"{key} = {parameter_text(value)}" for key, value in path.params.items()
                )
            )
        )
    lines += competitor_words(path.competitors, translate)
    if path.stress is not None:
        lines += stress_words(path.stress, path.own_stress, translate)
    return lines


def _moves_words(competitor: Competitor, translate: Translate) -> list[str]:
    parts = [
        translate(
            "from quarter {quarter}: tier {before} → {after} (investment {investment} 万元, "
            "ramp over {ramp} quarters)"
        ).format(
            quarter=step.quarter,
            before=f"{step.tier_before:.1f}",
            after=f"{step.tier_after:.1f}",
            investment=_number(step.investment, 0),
            ramp=step.ramp_quarters,
        )
        for step in competitor.steps
    ]
    if competitor.follow_lag_quarters is not None:
        parts.append(
            translate(
                "follows the focal bank to its new tier {lag} quarters after each of its moves "
                "(never down; ramp over {ramp} quarters)"
            ).format(lag=competitor.follow_lag_quarters, ramp=competitor.follow_ramp_quarters)
        )
        if competitor.follow_margin_cut:
            parts.append(
                translate("cuts its loan margin by {cut} pp a year as it follows").format(
                    cut=_number(100.0 * competitor.follow_margin_cut, 3)
                )
            )
        if competitor.follow_max_expected_loss is not None:
            parts.append(
                translate("accepts an expected loss of up to {loss} % a year as it follows").format(
                    loss=_number(100.0 * competitor.follow_max_expected_loss, 3)
                )
            )
    return parts


def competitor_words(
    competitors: tuple[Competitor, ...], translate: Translate = _same
) -> list[str]:
    """The competitors in sentences: one for each that moves (its own moves, how it follows
    the focal bank), one naming those that do not."""
    lines = [
        translate("Competitor {name} (tier {tier}): {moves}.").format(
            name=c.name,
            tier=f"{c.tier:.1f}",
            moves=translate("; ").join(_moves_words(c, translate)),
        )
        for c in competitors
        if c.moves
    ]
    still = [c for c in competitors if not c.moves]
    if still:
        lines.append(
            translate("Competitors that do not move: {banks}.").format(
                banks=translate(", ").join(
                    translate("{name} (tier {tier})").format(name=c.name, tier=f"{c.tier:.1f}")
                    for c in still
                )
            )
        )
    return lines


def _shift(value: float) -> str:
    return f"{value:+.3g}".replace("-", "−")


def period_words(period: StressPeriod, translate: Translate = _same) -> str:
    """One stress period in words: "Quarters 1–4: macro factor −2.7 sd, ..." (what it
    leaves at no stress is not said)."""
    parts = []
    if period.macro_shift:
        parts.append(translate("macro factor {value} sd").format(value=_shift(period.macro_shift)))
    if period.valuation_factor != 1.0:
        parts.append(
            translate("valuations × {value}").format(value=f"{period.valuation_factor:.3g}")
        )
    if period.loan_rate_shift:
        parts.append(
            translate("loan reference rate {value} pp").format(value=_shift(period.loan_rate_shift))
        )
    if period.funding_cost_shift:
        parts.append(
            translate("funding cost {value} pp").format(value=_shift(period.funding_cost_shift))
        )
    if period.ipo_window is not None:
        parts.append(
            translate("IPO window {value}").format(value=translate(str(period.ipo_window)))
        )
    if not parts:
        parts.append(translate("no change"))
    return translate("Quarters {start}–{end}: {effects}.").format(
        start=period.from_quarter, end=period.to_quarter, effects=translate(", ").join(parts)
    )


def stress_words(stress: StressPath, own: bool = False, translate: Translate = _same) -> list[str]:
    """The stress path in force in sentences: where it is set, its preset, severity and
    start, then each period as the model runs it (scenario quarters, at the severity)."""
    where = translate(
        "the strategy's own [strategies.stress]" if own else "the scenario's [stress]"
    )
    what = []
    if stress.preset:
        what.append(
            translate("preset {preset}, its quarter 1 in quarter {start}").format(
                preset=stress.preset, start=stress.start_quarter
            )
        )
    if stress.periods:
        what.append(translate("{n} own periods").format(n=len(stress.periods)))
    head = translate("Stress path ({where}): {what}, at severity {severity}.").format(
        where=where, what=translate(", ").join(what), severity=f"{stress.severity:g}"
    )
    return [head] + [period_words(p, translate) for p in stress.resolved()]


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
    strategy: Strategy,
    tier_changes: Mapping[str, Mapping[str, Any]] | None = None,
    scenario: Scenario | None = None,
) -> list[str]:
    """Lines describing one strategy as the model will run it, under the scenario's
    `tier_changes` (its [tiers."x.0"] tables); given the `scenario`, also its params, the
    competitors and the stress path (:func:`context_text`)."""
    path = strategy_path(strategy, tier_changes, scenario)
    lines = [
        f"{path.name}: tier {path.tier:.1f}, operator {path.operator_model}",
        f"    policy: {policy_text(path.policy)}",
    ]
    lines += [f"    change {_step_text(step)}" for step in path.steps]
    if not path.steps:
        lines.append("    changes: none")
    return lines + context_text(path)


def _value_text(value: Any) -> str:
    return _field_text(value) if isinstance(value, bool | int | float) else parameter_text(value)


def _period_text(period: StressPeriod) -> str:
    fields = ("macro_shift", "valuation_factor", "loan_rate_shift", "funding_cost_shift")
    parts = [f"{name}={getattr(period, name):g}" for name in fields]
    if period.ipo_window is not None:
        parts.append(f"ipo_window={period.ipo_window}")
    return f"quarters {period.from_quarter}-{period.to_quarter}: " + " ".join(parts)


def context_text(path: StrategyPath) -> list[str]:
    """The terse lines of what a strategy runs under, when resolved with the scenario: its
    [strategies.params], each competitor (its own changes, its follow rule) and the stress
    path in force."""
    lines = []
    if path.params:
        lines.append(
            "    params: " + " ".join(f"{k}={_value_text(v)}" for k, v in path.params.items())
        )
    for c in path.competitors:
        rule = "no moves" if not c.moves else ""
        if c.follow_lag_quarters is not None:
            rule = (
                f"follow_lag_quarters={c.follow_lag_quarters} "
                f"follow_ramp_quarters={c.follow_ramp_quarters} "
                f"follow_margin_cut={c.follow_margin_cut:g}"
            )
            if c.follow_max_expected_loss is not None:
                rule += f" follow_max_expected_loss={c.follow_max_expected_loss:g}"
        lines.append(f"    competitor {c.name}: tier {c.tier:.1f}" + (f", {rule}" if rule else ""))
        lines += [
            f"    competitor {c.name} change quarter {step.quarter}: tier "
            f"{step.tier_before:.1f} -> {step.tier_after:.1f} (investment "
            f"{step.investment:,.0f} 万元, ramp {step.ramp_quarters} quarters)"
            for step in c.steps
        ]
    stress = path.stress
    if stress is None:
        lines.append("    stress: none")
        return lines
    where = "[strategies.stress]" if path.own_stress else "[stress]"
    head = f"    stress ({where}): preset {stress.preset or 'none'} severity={stress.severity:g}"
    if stress.preset:
        head += f" start_quarter={stress.start_quarter}"
    head += f", {len(stress.periods)} own periods"
    lines.append(head)
    lines += [f"    stress {_period_text(p)}" for p in stress.resolved()]
    return lines


def describe(scenario: Scenario) -> list[str]:
    """Lines describing every strategy, and the reference of differences.csv."""
    lines = [f"reference strategy (differences.csv): {scenario.reference_strategy}"]
    for strategy in scenario.strategies:
        lines += describe_strategy(strategy, scenario.tiers, scenario)
    return lines
