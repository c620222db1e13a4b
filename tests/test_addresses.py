"""One parameter address everywhere: overrides, keywords, the assumptions file, --parameters."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from parksim.analysis.sensitivity.assumptions import apply_values, load_assumptions, schema_leaves
from parksim.banks.tiers import TIER_SPECS, TierSpec
from parksim.ensemble.folders import build_manifest
from parksim.model import ParkModel
from parksim.scenario.addresses import (
    address_of_keyword,
    keyword_of,
    leaves,
    read,
    scenario_leaves,
)
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import apply_overrides, load_scenario, scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import METADATA_KEYS, UNITS, build, check_metadata

BASELINE = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")
STRATEGY = BASELINE.strategies[0]
# Leaves no single change can set validly: an entry of a mix that must sum to 1, an
# element of the tier's product list (a product name alone is not a list), the reference
# (must name a strategy), a pool share without a pool, a competitor's response lag (absent
# by default, so no nearby value to try; tests/test_competitors.py sets banks.1.x by address).
UNSETTABLE = re.compile(
    r"park\.(sector_mix|stage_mix|entrant_stage_mix)(\..*)?|tiers\.\d\.0\.products\[\d+\]"
    r"|reference|policy\.risk_pool_share|group\.holder|stress\.preset"
    r"|banks\[\d+\]\.follow_(lag_quarters|max_expected_loss)"
)


def candidates(value: Any) -> list[Any]:
    """New values to try for a leaf, nearest first."""
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1]
    if isinstance(value, float):
        return [value * 0.9, value + 0.01, value - 0.01, value + 1.0] if value else [0.01, -0.01]
    if isinstance(value, str):
        return [value + " (changed)"]
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return [list(value[:-1])]
    if isinstance(value, tuple) and all(isinstance(v, float) for v in value):
        return [[v * 0.9 for v in value]]
    if isinstance(value, dict) and all(isinstance(v, float) for v in value.values()):
        return [{k: v * 0.9 for k, v in value.items()}]
    return []


def value_after(scenario: Scenario, strategy, key: str) -> Any:
    """What `key` reads in the model a scenario and strategy make (policy: the strategy's)."""
    if key.startswith("policy."):
        return leaves(strategy.policy, "policy")[key]
    return read(scenario, key)


def plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def settable() -> dict[str, Any]:
    """Each leaf of the baseline and the first new value that makes a valid scenario."""
    found = {}
    for key, value in scenario_leaves(BASELINE).items():
        for candidate in candidates(value):
            try:
                apply_overrides(BASELINE, STRATEGY, {key: candidate})
            except ScenarioError:
                continue
            found[key] = candidate
            break
    return found


SETTABLE = settable()


def test_every_leaf_but_the_constrained_few_can_be_overridden():
    missed = [k for k in scenario_leaves(BASELINE) if k not in SETTABLE]
    assert [k for k in missed if not UNSETTABLE.fullmatch(k)] == []
    assert {"tiers.2.0.fixed_cost", "lifecycle.graduation[2]", "banks[1].tier"} <= set(SETTABLE)


@pytest.mark.parametrize("key", sorted(SETTABLE))
def test_every_address_form_sets_the_same_value(key):
    value = SETTABLE[key]
    by_address = apply_overrides(BASELINE, STRATEGY, {key: value})
    by_keyword = apply_overrides(BASELINE, STRATEGY, **{keyword_of(key): value})
    assert address_of_keyword(keyword_of(key)) == key
    assert value_after(*by_address, key) == value_after(*by_keyword, key)
    assert plain(value_after(*by_address, key)) == pytest.approx(plain(value))
    if key in schema_leaves() and isinstance(value, int | float) and not isinstance(value, bool):
        assumed = apply_values(BASELINE, {key: value})
        assert read(assumed, key) == pytest.approx(value)


def test_only_the_address_changes():
    changed, _ = apply_overrides(BASELINE, STRATEGY, {"tiers.2.0.fixed_cost": 700.0})
    before, after = scenario_leaves(BASELINE), scenario_leaves(changed)
    assert {k for k in before if before[k] != after[k]} == {"tiers.2.0.fixed_cost"}
    assert changed.tiers == {"2.0": {"fixed_cost": 700.0}}


def test_keywords_keep_their_short_forms():
    assert address_of_keyword("bank_tier") == "bank_tier"
    assert address_of_keyword("risk_pool_share") == "policy.risk_pool_share"
    assert address_of_keyword("horizon") == "horizon"
    assert address_of_keyword("lifecycle__graduation") == "lifecycle.graduation"
    assert address_of_keyword("lifecycle__graduation__2") == "lifecycle.graduation[2]"
    assert address_of_keyword("tiers__2_0__fixed_cost") == "tiers.2.0.fixed_cost"
    assert address_of_keyword("banks__1__tier") == "banks[1].tier"


def test_a_model_takes_addresses_and_keywords_together():
    model = ParkModel(
        BASELINE,
        rng=1,
        collect=False,
        overrides={"tiers.1.0.fixed_cost": 123.0, "equity.bar[1]": 1.0},
        bank_tier=2.0,
        tiers__2_0__signal_noise=0.25,
        lifecycle__graduation__0=0.05,
        guarantee_share=0.3,
    )
    assert model.banks[0].spec.signal_noise == 0.25
    assert model.banks[1].spec.fixed_cost == 123.0
    assert model.config.equity.bar[1] == 1.0
    assert model.config.lifecycle.graduation[0] == 0.05
    assert model.policy.guarantee_share == 0.3


def test_a_scenario_with_overrides_round_trips_through_its_manifest():
    model = ParkModel(
        BASELINE,
        rng=1,
        collect=False,
        overrides={"tiers.2.0.fixed_cost": 600.0, "operator.inflow.light": 0.8},
        lifecycle__graduation__1=0.01,
    )
    manifest = build_manifest(model.config, 1, 1, 0.0)
    again = scenario_from_dict(manifest["scenario"], file="manifest.json")
    assert again == model.config
    assert read(again, "tiers.2.0.fixed_cost") == 600.0


# --- errors: the key, the closest valid key, where it came from ------------------------------

EXPECTED = (
    "expected a parameter address such as lifecycle.graduation, equity.bar[2], "
    "operator.inflow.light or tiers.2.0.fixed_cost"
)


def test_an_unknown_override_names_the_key_and_the_closest_one():
    with pytest.raises(ScenarioError) as error:
        apply_overrides(BASELINE, STRATEGY, {"tiers.2.0.fixed_csot": 600}, park__enterprize=3)
    assert str(error.value).splitlines() == [
        f"<overrides>: park.enterprize: unknown key; {EXPECTED}; did you mean 'park.enterprises'?",
        f"<overrides>: tiers.2.0.fixed_csot: unknown key; {EXPECTED}; "
        "did you mean 'tiers.2.0.fixed_cost'?",
    ]


def test_a_bad_tier_value_in_an_override_is_checked_like_a_file():
    with pytest.raises(ScenarioError) as error:
        ParkModel(BASELINE, rng=1, tiers__2_0__fixed_cost=-1.0)
    assert str(error.value) == (
        '<overrides>: tiers."2.0".fixed_cost: expected a non-negative amount, got -1.0'
    )


def assumptions_with(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "assumptions.toml"
    path.write_text(
        '[[parameters]]\nkey = "lifecycle.relocation"\nlow = 0.004\nhigh = 0.016\n'
        'reason = "r"\n\n' + entry,
        encoding="utf-8",
    )
    return path


def test_an_unknown_key_in_the_assumptions_file_names_file_entry_and_closest_key(tmp_path):
    path = assumptions_with(tmp_path, '[[fixed]]\nkey = "tiers.2.0.fixed_csot"\nreason = "r"\n')
    with pytest.raises(ScenarioError) as error:
        load_assumptions(path)
    assert str(error.value) == (
        f"{path}: fixed[0].key: unknown key; {EXPECTED}, got 'tiers.2.0.fixed_csot'; "
        "did you mean 'tiers.2.0.fixed_cost'?"
    )


def test_an_unknown_field_in_the_assumptions_file_is_an_error(tmp_path):
    entry = (
        '[[parameters]]\nkey = "lifecycle.quality_risk"\nlow = 0.4\nhigh = 1.2\n'
        'unit = "probabilty"\nreasno = "r"\n'
    )
    path = assumptions_with(tmp_path, entry)
    with pytest.raises(ScenarioError) as error:
        load_assumptions(path)
    fields = (
        "key, low, high, levels, structural, defaults, distribution, mode, scale, reason, source"
    )
    assert str(error.value).splitlines() == [
        f"{path}: parameters[1].unit: unknown key; expected one of: {fields}",
        f"{path}: parameters[1].reasno: unknown key; expected one of: {fields}; "
        "did you mean 'reason'?",
    ]


def test_parameters_option_names_a_key_that_has_no_range():
    assumptions = load_assumptions()
    with pytest.raises(ScenarioError) as error:
        assumptions.ranged(["lifecycle.relocatoin", "tiers.1.0.products"])
    assert str(error.value).splitlines() == [
        f"--parameters: unknown key; {EXPECTED}, got 'lifecycle.relocatoin'; "
        "did you mean 'lifecycle.relocation'?",
        "--parameters: expected a ranged parameter of assumptions.toml, got "
        "'tiers.1.0.products', which is fixed",
    ]


# --- metadata: only known constraint keys and units ------------------------------------------


def parameter_classes() -> set[type]:
    """Every dataclass reachable from Scenario's fields, and the tier spec."""
    found: set[type] = set()

    def walk(cls: type) -> None:
        if cls in found:
            return
        found.add(cls)
        for f in dataclasses.fields(cls):
            for inner in re.findall(r"\w+", str(f.type)):
                for candidate in _dataclasses_named(inner):
                    walk(candidate)

    walk(Scenario)
    walk(TierSpec)
    return found


def _dataclasses_named(name: str) -> list[type]:
    import parksim.scenario.schema as schema

    value = getattr(schema, name, None)
    return [value] if isinstance(value, type) and dataclasses.is_dataclass(value) else []


def test_every_parameter_field_uses_known_metadata_and_units():
    classes = parameter_classes()
    assert {TierSpec, type(BASELINE.lifecycle), type(BASELINE.operator)} <= classes
    problems = [
        f"{cls.__qualname__}.{f.name}: {key}={f.metadata[key]!r}"
        for cls in classes
        for f in dataclasses.fields(cls)
        for key in f.metadata
        if key not in METADATA_KEYS or (key == "unit" and f.metadata[key] not in UNITS)
    ]
    assert problems == []
    for cls in classes:
        check_metadata(cls)


def test_an_unknown_metadata_key_or_unit_is_an_error_naming_the_field():
    @dataclasses.dataclass(frozen=True)
    class Typo:
        rate: float = dataclasses.field(default=0.1, metadata={"mni": 0.0})
        chance: float = dataclasses.field(default=0.1, metadata={"unit": "probabilty"})

    with pytest.raises(TypeError) as error:
        build(Typo, {})
    known_keys = ", ".join(sorted(METADATA_KEYS))
    known_units = ", ".join(sorted(UNITS))
    qualname = Typo.__qualname__
    assert str(error.value).splitlines() == [
        f"{qualname}.rate: unknown metadata key 'mni'; did you mean 'min'? "
        f"(known: {known_keys}; see parksim/scenario/validate.py)",
        f"{qualname}.chance: unknown unit 'probabilty'; did you mean 'probability'? "
        f"(known: {known_units}; see parksim/scenario/validate.py)",
    ]


def test_tier_defaults_are_the_tier_leaves():
    assert read(BASELINE, "tiers.2.0.fixed_cost") == TIER_SPECS[2.0].fixed_cost
