"""Reading scenario files: TOML in, a validated `Scenario` out, or one clear error.

Validation happens here, once, at the boundary; the model trusts what it is given.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from parksim.banks.tiers import TIER_SPECS, TIERS, TierSpec
from parksim.policy import PolicyPackage
from parksim.scenario.addresses import (
    address_of_keyword,
    resolve,
    scenario_leaves,
    tier_name,
    write,
)
from parksim.scenario.errors import ScenarioError, ScenarioErrors
from parksim.scenario.schema import Scenario, Strategy
from parksim.scenario.validate import build, to_dict

# Overrides of the strategy a model runs, by name (mesa.batch_run sweeps these); its policy
# fields are `policy.<field>`, or the field's name alone as a keyword.
STRATEGY_KEYS = ("bank_tier", "operator_model")
# Where override errors say they come from.
OVERRIDES = "<overrides>"


def read_toml(path: str | Path, what: str = "scenario") -> dict[str, Any]:
    """Parse a TOML input file; raise ScenarioError naming the file when it cannot be read."""
    file = str(path)
    try:
        # utf-8-sig: a byte-order mark (Windows Notepad writes one) is not part of the TOML.
        return tomllib.loads(Path(path).read_bytes().decode("utf-8-sig"))
    except FileNotFoundError:
        raise ScenarioError("", f"an existing {what} file", file=file) from None
    except IsADirectoryError:
        raise ScenarioError("", "a TOML file, got a directory", file=file) from None
    except OSError as error:  # no permission, an I/O error, a name too long
        reason = (error.strerror or str(error)).lower()
        raise ScenarioError("", f"a readable {what} file ({reason})", file=file) from None
    except UnicodeDecodeError as error:
        raise ScenarioError(
            "", f"a UTF-8 text file (byte {error.start} is not UTF-8)", file=file
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError("", f"valid TOML ({error})", file=file) from None


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file; raise ScenarioError naming file, key and problem."""
    return scenario_from_dict(read_toml(path), file=str(path))


def scenario_from_dict(data: Mapping[str, Any], file: str | None = None) -> Scenario:
    """Validate a scenario given as plain data (what a TOML file parses to)."""
    try:
        scenario = build(Scenario, _merge_strategy_policies(data), file=file)
    except ScenarioErrors as errors:
        kept = [_with_params_hint(e) for e in _without_inherited(errors, data)]
        raise ScenarioErrors(kept, file=file) from None
    _check_change_policies(scenario, file)
    scenario = dataclasses.replace(scenario, tiers=_validated_tiers(scenario.tiers, file))
    _check_strategy_params(scenario, file)
    return scenario


# Where a strategy's own fields are set, rather than in [strategies.params].
_OWN_FIELDS = {
    "bank_tier": "the strategy's bank_tier",
    "operator_model": "the strategy's operator_model",
    "policy": "the strategy's [strategies.policy] table",
}


# Settings of the run as a whole: every strategy runs the same quarters and replications,
# and is compared at one discount rate with one reference.
_WHOLE_SCENARIO = ("name", "description", "horizon", "replications", "seed", "reference")
_WHOLE_SCENARIO += ("discount_rate",)


def _check_strategy_params(scenario: Scenario, file: str | None) -> None:
    """Each strategy's [strategies.params] names parameters of the scenario by address and
    gives each a valid value; an error names the strategy and the key as written."""
    valid = list(scenario_leaves(scenario))
    errors: list[ScenarioError] = []
    for i, strategy in enumerate(scenario.strategies):
        bare = dataclasses.replace(strategy, params={})
        for address, value in strategy.params.items():
            where = f'strategies[{i}].params."{address}"'
            head = str(address).split(".")[0].split("[")[0]
            if head in _WHOLE_SCENARIO:
                errors.append(
                    ScenarioError(
                        where,
                        f"a model parameter; the scenario's {head} is the same for every strategy",
                        kind="unknown_key",
                        file=file,
                    )
                )
                continue
            if head in _OWN_FIELDS:
                errors.append(
                    ScenarioError(
                        where,
                        f"a model parameter; strategy {strategy.name!r} sets this in "
                        f"{_OWN_FIELDS[head]}",
                        kind="unknown_key",
                        file=file,
                    )
                )
                continue
            try:
                resolve(address, valid, file=file)
                apply_overrides(scenario, bare, {address: value})
            except ScenarioError as error:
                first = next(iter(error)) if isinstance(error, ScenarioErrors) else error
                errors.append(
                    ScenarioError(
                        where,
                        first.expected,
                        first.got,
                        kind=first.kind,
                        hint=first.hint,
                        file=file,
                    )
                )
    if errors:
        raise ScenarioErrors(errors, file=file)


_STRATEGY_FIELD = re.compile(r"strategies\[\d+\]\.(?P<name>[^.\[]+)")
_SCENARIO_FIELDS = {f.name for f in dataclasses.fields(Scenario)} - {"name", "strategies"}


def _with_params_hint(error: ScenarioError) -> ScenarioError:
    """A strategy's unknown key that is a table of the scenario (`[strategies.tiers]`,
    `[strategies.lifecycle]`) says how a strategy changes a model parameter."""
    match = _STRATEGY_FIELD.fullmatch(error.key)
    if error.kind != "unknown_key" or not match or match["name"] not in _SCENARIO_FIELDS:
        return error
    example = (
        'e.g. "tiers.2.0.fixed_cost" = 600'
        if match["name"] == "tiers"
        else (f'e.g. "{match["name"]}.<field>" = <value>')
    )
    hint = f"a strategy changes model parameters in [strategies.params] by address, {example}"
    return ScenarioError(
        error.key, error.expected, error.got, kind=error.kind, hint=hint, file=error.file
    )


def _check_change_policies(scenario: Scenario, file: str | None) -> None:
    """Each change's policy fields, laid over the policy in force, make a valid package."""
    errors = []
    for i, strategy in enumerate(scenario.strategies):
        in_force = to_dict(strategy.policy)
        for j, change in enumerate(strategy.changes):
            if not change.policy:
                continue
            in_force = {**in_force, **change.policy}
            key = f"strategies[{i}].changes[{j}].policy"
            try:
                build(PolicyPackage, in_force, key=key, file=file)
            except ScenarioError as error:
                errors.append(error)
    if errors:
        raise ScenarioErrors(errors, file=file)


def _validated_tiers(
    tiers: Mapping[str, Mapping[str, Any]], file: str | None
) -> dict[str, dict[str, Any]]:
    """Check each [tiers."x.0"] table against TierSpec; keep only the fields it changes."""
    names = {tier_name(t): t for t in TIERS}
    errors, validated = [], {}
    for name, changes in tiers.items():
        if name not in names:
            expected = "one of " + ", ".join(f'"{n}"' for n in names)
            errors.append(ScenarioError(f"tiers.{name}", expected, kind="unknown_key", file=file))
            continue
        merged = {**to_dict(TIER_SPECS[names[name]]), **changes}
        try:
            spec = build(TierSpec, merged, key=f'tiers."{name}"', file=file)
        except ScenarioError as error:
            errors.append(error)
            continue
        validated[name] = {k: getattr(spec, k) for k in changes}
    if errors:
        raise ScenarioErrors(errors, file=file)
    return validated


def _merge_strategy_policies(data: Mapping[str, Any]) -> dict[str, Any]:
    """A strategy's [policy] changes only the fields it names of the scenario's [policy]."""
    merged = copy.deepcopy(dict(data))
    base = merged.get("policy", {})
    strategies = merged.get("strategies")
    if isinstance(base, Mapping) and isinstance(strategies, list):
        for strategy in strategies:
            if isinstance(strategy, dict):
                own = strategy.get("policy", {})
                if isinstance(own, Mapping):
                    strategy["policy"] = {**base, **own}
    return merged


def _without_inherited(errors: ScenarioErrors, data: Mapping[str, Any]) -> list[ScenarioError]:
    """The errors less those a strategy only inherits from [policy], reported there once."""
    in_policy = {(e.key.removeprefix("policy"), e.problem) for e in errors if _in_policy(e.key)}
    strategies = data.get("strategies")
    kept = []
    for error in errors:
        match = _STRATEGY_POLICY_KEY.fullmatch(error.key)
        if match and (match["rest"], error.problem) in in_policy:
            own = strategies[int(match["index"])].get("policy", {})
            own = own if isinstance(own, Mapping) else {}
            field = match["rest"].lstrip(".").split(".")[0].split("[")[0]
            # A whole-table check (no field) is inherited when the strategy sets nothing.
            inherited = field not in own if field else not own
            if inherited:
                continue
        kept.append(error)
    return kept


def _in_policy(key: str) -> bool:
    return key == "policy" or key.startswith(("policy.", "policy["))


_STRATEGY_POLICY_KEY = re.compile(r"strategies\[(?P<index>\d+)\]\.policy(?P<rest>([.\[].*)?)")


def apply_overrides(
    scenario: Scenario,
    strategy: Strategy,
    overrides: Mapping[str, Any] | None = None,
    **keywords: Any,
) -> tuple[Scenario, Strategy]:
    """`scenario` run as `strategy`, with parameters changed; return both, validated.

    `overrides` maps parameter addresses (`tiers.2.0.fixed_cost`, `lifecycle.graduation`,
    `equity.bar[2]`; see parksim.scenario.addresses) to values; `keywords` spell the same
    addresses as Python names (`lifecycle__graduation`, `tiers__2_0__fixed_cost`, a policy
    field or top-level field alone). `bank_tier`, `operator_model` and `policy.*` set the
    strategy's own fields. Unknown addresses raise ScenarioErrors naming each one and the
    closest valid address.
    """
    # The strategy's own [strategies.params] first: the caller's overrides win over them.
    changes = dict(strategy.params)
    changes.update({address_of_keyword(k): v for k, v in keywords.items()})
    changes.update(overrides or {})
    if not changes:
        return scenario, strategy
    valid = [*STRATEGY_KEYS, *scenario_leaves(scenario)]
    errors = []
    for key in changes:
        try:
            resolve(key, valid, file=OVERRIDES)
        except ScenarioError as error:
            errors.append(error)
    if errors:
        raise ScenarioErrors(errors, file=OVERRIDES)
    data = to_dict(scenario)
    own = to_dict(strategy)
    own["params"] = {}  # applied to the scenario below: the changed scenario is its own
    for key, value in changes.items():
        if key in STRATEGY_KEYS:
            own[key] = value
        elif key.startswith("policy."):
            write(own, key, value)
        else:
            write(data, key, value)
    # The changed scenario holds this strategy alone: a reference it cut (one the caller
    # did not set) becomes the strategy itself.
    data["strategies"] = [own]
    if data.get("reference") and "reference" not in changes:
        data["reference"] = own["name"]
    data.pop("policy", None)
    new = scenario_from_dict(data, file=OVERRIDES)
    return new, new.strategies[0]
