"""Tests for the scenario validator (parksim.scenario.validate)."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from parksim.scenario.errors import ScenarioError, ScenarioErrors
from parksim.scenario.validate import build, field_docs, to_dict

FILE = "scenarios/x.toml"

# --------------------------------------------------------------------------------------------
# example dataclasses (module level so get_type_hints can resolve them)


@dataclass(frozen=True)
class Policy:
    pool_share: float = field(default=0.5, metadata={"unit": "share", "help": "Pooled share"})
    retained_share: float = field(default=0.2, metadata={"unit": "share"})

    def __post_init__(self) -> None:
        if self.pool_share + self.retained_share > 1:
            raise ValueError("pool_share + retained_share must not exceed 1")


@dataclass(frozen=True)
class Bank:
    name: str
    tier: Literal[1.0, 2.0, 3.0]
    capital: float = field(default=100.0, metadata={"non_negative": True, "unit": "万元"})
    default_rate: float = field(default=0.01, metadata={"unit": "probability"})
    branches: int = field(default=1, metadata={"min": 1, "max": 50})
    active: bool = True


@dataclass(frozen=True)
class Strategy:
    name: str
    policy: Policy = field(default_factory=Policy)
    style: Literal["greedy", "cautious"] = "cautious"
    sector_mix: dict[str, float] = field(
        default_factory=lambda: {"all": 1.0}, metadata={"sum_to_one": True}
    )


@dataclass(frozen=True)
class Scenario:
    banks: tuple[Bank, ...] = field(metadata={"min_len": 1, "help": "Banks serving the park"})
    strategies: list[Strategy] = field(default_factory=list)
    seed: int | None = None
    years: int = field(default=10, metadata={"exclusive_min": 0})


@dataclass(frozen=True)
class Numbers:
    rates: list[float] = field(default_factory=list, metadata={"unit": "probability"})
    weights: tuple[float, ...] = field(default=(1.0,), metadata={"sum_to_one": True})
    caps: dict[str, float] = field(default_factory=dict, metadata={"non_negative": True})
    window: tuple[int, int] = (0, 1)
    ratio: float = field(default=0.5, metadata={"exclusive_min": 0, "exclusive_max": 1})
    ceiling: float = field(default=1.0, metadata={"allow_inf": True, "non_negative": True})
    tags: list[str] = field(default_factory=list, metadata={"min_len": 1, "max_len": 3})


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Misc:
    key_or_count: int | str = 0
    colour: Colour = Colour.RED
    flag_level: Literal[1, True] = 1
    anything: Any = None
    derived: float = field(init=False, default=0.0)


# --------------------------------------------------------------------------------------------
# helpers


def errors_of(cls: type, data: dict[str, Any], **kwargs: Any) -> ScenarioErrors:
    with pytest.raises(ScenarioErrors) as info:
        build(cls, data, file=FILE, **kwargs)
    return info.value


def only_error(cls: type, data: dict[str, Any], **kwargs: Any) -> ScenarioError:
    errs = errors_of(cls, data, **kwargs)
    assert len(errs) == 1, str(errs)
    return errs.errors[0]


def bank(**overrides: Any) -> dict[str, Any]:
    return {"name": "b", "tier": 1, **overrides}


# --------------------------------------------------------------------------------------------
# error objects


def test_error_str_names_file_key_expected_and_got() -> None:
    err = ScenarioError("banks[1].tier", "one of 1.0, 2.0, 3.0", "4.0", file=FILE)
    assert str(err) == "scenarios/x.toml: banks[1].tier: expected one of 1.0, 2.0, 3.0, got 4.0"
    assert isinstance(err, ValueError)
    assert (err.file, err.key, err.expected, err.got) == (
        FILE,
        "banks[1].tier",
        "one of 1.0, 2.0, 3.0",
        "4.0",
    )


def test_error_str_without_file_or_key() -> None:
    assert str(ScenarioError("seed", "an integer", "true")) == "seed: expected an integer, got true"
    assert str(ScenarioError("", "x must exceed y", kind="check", file=FILE)) == (
        "scenarios/x.toml: x must exceed y"
    )


def test_scenario_errors_aggregate_one_line_each() -> None:
    a = ScenarioError("a", "a number", "'x'", file=FILE)
    b = ScenarioError("b", "a string", "1", file=FILE)
    errs = ScenarioErrors([a, ScenarioErrors([b])])
    assert isinstance(errs, ScenarioError)
    assert list(errs) == [a, b]
    assert str(errs).splitlines() == [str(a), str(b)]
    assert (errs.key, errs.file) == ("a", FILE)
    with pytest.raises(ValueError, match="at least one"):
        ScenarioErrors([])


def test_errors_pickle() -> None:
    errs = errors_of(Scenario, {"banks": [bank(tier=4)], "sed": 1})
    again = pickle.loads(pickle.dumps(errs))
    assert str(again) == str(errs)
    assert [e.kind for e in again] == [e.kind for e in errs]


# --------------------------------------------------------------------------------------------
# each error kind


def test_unknown_key_lists_fields_and_suggests() -> None:
    err = only_error(Scenario, {"banks": [bank()], "sed": 1})
    assert err.kind == "unknown_key"
    assert str(err) == (
        "scenarios/x.toml: sed: unknown key; expected one of: banks, strategies, seed, years; "
        "did you mean 'seed'?"
    )


def test_unknown_key_without_close_match() -> None:
    err = only_error(Scenario, {"banks": [bank()], "zzz": 1})
    assert err.hint is None
    assert str(err).endswith("zzz: unknown key; expected one of: banks, strategies, seed, years")


def test_init_false_field_is_unknown() -> None:
    err = only_error(Misc, {"derived": 1.0})
    assert err.kind == "unknown_key"
    assert "derived" not in err.expected


def test_missing_required_field() -> None:
    err = only_error(Scenario, {"banks": [{"tier": 1}]})
    assert err.kind == "missing"
    assert str(err) == "scenarios/x.toml: banks[0].name: missing required field; expected a string"


def test_number_rejects_string() -> None:
    err = only_error(Bank, bank(capital="high"))
    assert str(err) == "scenarios/x.toml: capital: expected a non-negative amount, got 'high'"
    err = only_error(Numbers, {"ceiling": "x", "tags": ["a"]})
    assert err.expected == "a non-negative amount"
    err = only_error(Misc, {"anything": 1, "key_or_count": [1]})
    assert err.expected == "an integer or a string"


@pytest.mark.parametrize("value", [True, False])
def test_bool_is_not_a_number(value: bool) -> None:
    for key in ("capital", "branches"):
        err = only_error(Bank, bank(**{key: value}))
        assert err.kind == "type"
        assert err.got == ("true" if value else "false")


def test_int_rejects_integral_float() -> None:
    err = only_error(Scenario, {"banks": [bank()], "seed": 4.0})
    assert str(err) == "scenarios/x.toml: seed: expected an integer, got 4.0"
    assert build(Scenario, {"banks": [bank()], "seed": 4}).seed == 4


def test_bool_field_rejects_int_and_string() -> None:
    assert only_error(Bank, bank(active=1)).expected == "a boolean (true or false)"
    assert only_error(Bank, bank(active="yes")).got == "'yes'"


def test_str_field_rejects_number() -> None:
    assert str(only_error(Bank, bank(name=3))).endswith("name: expected a string, got 3")


def test_literal_float_accepts_int_and_returns_float() -> None:
    b = build(Bank, bank(tier=2))
    assert b.tier == 2.0
    assert type(b.tier) is float


def test_literal_rejects_other_values() -> None:
    err = only_error(Bank, bank(tier=4.0))
    assert str(err) == "scenarios/x.toml: tier: expected one of 1.0, 2.0, 3.0, got 4.0"
    assert only_error(Bank, bank(tier=True)).got == "true"
    assert only_error(Bank, bank(tier="1")).got == "'1'"


def test_literal_strings_suggest_close_match() -> None:
    err = only_error(Strategy, {"name": "s", "style": "gredy"})
    assert str(err) == (
        "scenarios/x.toml: style: expected one of 'greedy', 'cautious', got 'gredy'; "
        "did you mean 'greedy'?"
    )


def test_literal_keeps_bool_and_int_apart() -> None:
    assert build(Misc, {"flag_level": True}).flag_level is True
    assert build(Misc, {"flag_level": 1}).flag_level == 1
    assert only_error(Misc, {"flag_level": 1.0}).expected == "one of 1, true"


def test_probability_share_and_non_negative() -> None:
    err = only_error(Bank, bank(default_rate=1.2))
    assert str(err) == "scenarios/x.toml: default_rate: expected a probability in [0, 1], got 1.2"
    err = only_error(Strategy, {"name": "s", "policy": {"pool_share": -0.1}})
    assert str(err) == "scenarios/x.toml: policy.pool_share: expected a share in [0, 1], got -0.1"
    err = only_error(Bank, bank(capital=-5))
    assert str(err) == "scenarios/x.toml: capital: expected a non-negative amount, got -5"
    assert build(Bank, bank(default_rate=1, capital=0)).default_rate == 1.0


def test_min_max_and_exclusive_bounds() -> None:
    assert only_error(Bank, bank(branches=0)).expected == "an integer in [1, 50]"
    assert only_error(Bank, bank(branches=51)).got == "51"
    assert build(Bank, bank(branches=50)).branches == 50
    err = only_error(Numbers, {"ratio": 1, "tags": ["a"]})
    assert str(err) == "scenarios/x.toml: ratio: expected a number in (0, 1), got 1"
    err = only_error(Scenario, {"banks": [bank()], "years": 0})
    assert err.expected == "a positive integer"


def test_bounds_apply_to_each_element() -> None:
    errs = errors_of(Numbers, {"rates": [0.1, 1.5, -1], "caps": {"a": 1, "b": -2}, "tags": ["x"]})
    assert [(e.key, e.expected, e.got) for e in errs] == [
        ("rates[1]", "a probability in [0, 1]", "1.5"),
        ("rates[2]", "a probability in [0, 1]", "-1"),
        ("caps.b", "a non-negative amount", "-2"),
    ]


def test_min_len_and_max_len() -> None:
    err = only_error(Scenario, {"banks": []})
    assert str(err) == "scenarios/x.toml: banks: expected a list of at least 1 item, got 0 items"
    err = only_error(Numbers, {"tags": ["a", "b", "c", "d"]})
    assert err.expected == "a list of at most 3 items"


def test_sum_to_one() -> None:
    err = only_error(Strategy, {"name": "s", "sector_mix": {"a": 0.5, "b": 0.43}})
    assert str(err) == "scenarios/x.toml: sector_mix: expected shares that sum to 1, got 0.93"
    assert only_error(Numbers, {"weights": [0.5, 0.6], "tags": ["a"]}).got == "1.1"
    ok = build(Strategy, {"name": "s", "sector_mix": {"a": 0.1, "b": 0.2, "c": 0.7}})
    assert ok.sector_mix == {"a": 0.1, "b": 0.2, "c": 0.7}
    assert build(Numbers, {"weights": [1 / 3] * 3, "tags": ["a"]}).weights == (1 / 3,) * 3


def test_nan_and_inf() -> None:
    assert only_error(Bank, bank(capital=math.nan)).got == "nan"
    assert only_error(Bank, bank(capital=math.inf)).got == "inf"
    assert build(Numbers, {"ceiling": math.inf, "tags": ["a"]}).ceiling == math.inf
    assert only_error(Numbers, {"ceiling": -math.inf, "tags": ["a"]}).got == "-inf"


def test_wrong_container_kinds() -> None:
    assert only_error(Scenario, {"banks": {"a": 1}}).expected == "a list, each a table"
    assert only_error(Scenario, {"banks": ["x"]}).key == "banks[0]"
    err = only_error(Strategy, {"name": "s", "policy": 0.5})
    assert (err.key, err.expected, err.got) == ("policy", "a table", "0.5")
    err = only_error(Numbers, {"window": [1, 2, 3], "tags": ["a"]})
    assert (err.expected, err.got) == ("a list of 2 items", "3 items")


def test_post_init_value_error_becomes_check_error() -> None:
    data = {
        "banks": [bank()],
        "strategies": [{"name": "a"}, {"name": "b"}, {"name": "c", "policy": {"pool_share": 0.9}}],
    }
    err = only_error(Scenario, data)
    assert err.kind == "check"
    assert err.key == "strategies[2].policy"
    assert err.expected == "pool_share + retained_share must not exceed 1"
    assert str(err) == (
        "scenarios/x.toml: strategies[2].policy: pool_share + retained_share must not exceed 1"
    )


def test_not_a_table_at_top_level() -> None:
    err = only_error(Bank, [1, 2])  # type: ignore[arg-type]
    assert str(err) == "scenarios/x.toml: expected a table, got a list of 2 items"


# --------------------------------------------------------------------------------------------
# key paths and aggregation


def test_many_errors_reported_together_with_paths() -> None:
    data = {
        "banks": [bank(), bank(tier=4.0, capital=-5), {"tier": 2, "colour": "red"}],
        "strategies": [
            {"name": "a"},
            {"name": "b"},
            {"name": "c", "policy": {"pool_share": "high"}, "style": "wild"},
        ],
        "seed": True,
        "sed": 3,
    }
    errs = errors_of(Scenario, data)
    assert [e.key for e in errs] == [
        "banks[1].tier",
        "banks[1].capital",
        "banks[2].colour",
        "banks[2].name",
        "strategies[2].policy.pool_share",
        "strategies[2].style",
        "seed",
        "sed",
    ]
    lines = str(errs).splitlines()
    assert len(lines) == 8
    assert all(line.startswith("scenarios/x.toml: ") for line in lines)
    assert lines[0] == "scenarios/x.toml: banks[1].tier: expected one of 1.0, 2.0, 3.0, got 4.0"
    assert "strategies[2].policy.pool_share: expected a share in [0, 1], got 'high'" in lines[4]


def test_post_init_not_run_when_fields_invalid() -> None:
    # The cross-field check would add a misleading second error about the same table.
    err = only_error(Strategy, {"name": "s", "policy": {"pool_share": 0.9, "retained_share": 2}})
    assert err.key == "policy.retained_share"


def test_key_prefix_and_quoted_dict_keys() -> None:
    err = only_error(Strategy, {"name": "s", "sector_mix": {"light.industry": "x"}}, key="s[2]")
    assert err.key == 's[2].sector_mix."light.industry"'
    assert build(Bank, bank(), key="banks[0]").name == "b"


def test_no_file_means_no_file_prefix() -> None:
    with pytest.raises(ScenarioErrors) as info:
        build(Bank, bank(tier=5))
    assert str(info.value) == "tier: expected one of 1.0, 2.0, 3.0, got 5"
    assert info.value.file is None


# --------------------------------------------------------------------------------------------
# successful builds


def test_builds_nested_objects_with_tuples_and_defaults() -> None:
    s = build(
        Scenario,
        {"banks": [bank(), bank(name="c", tier=3.0)], "strategies": [{"name": "x"}]},
        file=FILE,
    )
    assert isinstance(s.banks, tuple)
    assert isinstance(s.strategies, list)
    assert s.banks[1] == Bank(name="c", tier=3.0)
    assert s.strategies[0].policy == Policy()
    assert s.seed is None
    assert type(s.banks[0].capital) is float


def test_numpy_scalars_are_accepted() -> None:
    b = build(Bank, bank(capital=np.float64(3.5), branches=np.int64(2), active=np.bool_(False)))
    assert (b.capital, b.branches, b.active) == (3.5, 2, False)
    assert type(b.branches) is int


def test_union_enum_and_any() -> None:
    m = build(Misc, {"key_or_count": "k", "colour": "blue", "anything": [1, {"a": 2}]})
    assert (m.key_or_count, m.colour, m.anything) == ("k", Colour.BLUE, [1, {"a": 2}])
    assert build(Misc, {"key_or_count": 3}).key_or_count == 3
    err = only_error(Misc, {"colour": "bleu"})
    assert (err.expected, err.hint) == ("one of 'red', 'blue'", "did you mean 'blue'?")


def test_programming_errors_raise_type_error() -> None:
    @dataclass
    class Odd:
        value: set[int]

    with pytest.raises(TypeError, match="cannot validate"):
        build(Odd, {"value": [1]})
    with pytest.raises(TypeError, match="dataclass"):
        build(dict, {})  # type: ignore[type-var]
    with pytest.raises(TypeError, match="dataclass instance"):
        to_dict(Bank)


# --------------------------------------------------------------------------------------------
# to_dict and field_docs


def test_to_dict_plain_values() -> None:
    @dataclass(frozen=True)
    class Holder:
        values: tuple[float, ...]
        count: Any
        colour: Colour
        array: Any
        maybe: float | None = None

    d = to_dict(Holder((1.0, 2.0), np.int64(3), Colour.BLUE, np.arange(2)))
    assert d == {"values": [1.0, 2.0], "count": 3, "colour": "blue", "array": [0, 1]}
    assert type(d["count"]) is int
    json.dumps(d)


def test_field_docs_rows() -> None:
    rows = {row[0]: row[1:] for row in field_docs(Scenario)}
    assert rows["banks"] == ("list[table]", "required", "Banks serving the park (at least 1 item)")
    assert rows["banks[].tier"] == ("one of 1.0, 2.0, 3.0", "required", "")
    assert rows["banks[].capital"] == ("float", "100.0", "a non-negative amount; unit: 万元")
    assert rows["banks[].default_rate"] == ("float", "0.01", "a probability in [0, 1]")
    assert rows["strategies[].policy"][1] == "defaults of its fields"
    assert rows["strategies[].policy.pool_share"] == (
        "float",
        "0.5",
        "Pooled share (a share in [0, 1])",
    )
    assert rows["strategies[].style"] == ("one of 'greedy', 'cautious'", '"cautious"', "")
    assert rows["strategies[].sector_mix"] == ("dict[str, float]", "{ all = 1.0 }", "sums to 1")
    assert rows["seed"] == ("int | None", "unset", "")
    assert rows["years"] == ("int", "10", "a positive integer")
    names = {f.name for f in dataclasses.fields(Bank)}
    assert {p.removeprefix("banks[].") for p in rows if p.startswith("banks[].")} == names


# --------------------------------------------------------------------------------------------
# property tests

_finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
_probability = st.floats(0, 1)
_names = st.text(min_size=1, max_size=8)

_bank_dicts = st.fixed_dictionaries(
    {"name": _names, "tier": st.sampled_from([1, 2, 3, 1.0, 2.0, 3.0])},
    optional={
        "capital": st.one_of(st.integers(0, 10**9), st.floats(0, 1e12)),
        "default_rate": _probability,
        "branches": st.integers(1, 50),
        "active": st.booleans(),
    },
)


@st.composite
def _mixes(draw: st.DrawFn) -> dict[str, float]:
    keys = draw(st.lists(_names, min_size=1, max_size=4, unique=True))
    raw = draw(st.lists(st.floats(0.01, 1), min_size=len(keys), max_size=len(keys)))
    total = math.fsum(raw)
    return {k: v / total for k, v in zip(keys, raw, strict=True)}


_strategy_dicts = st.fixed_dictionaries(
    {"name": _names},
    optional={
        "policy": st.fixed_dictionaries(
            {}, optional={"pool_share": st.floats(0, 0.5), "retained_share": st.floats(0, 0.5)}
        ),
        "style": st.sampled_from(["greedy", "cautious"]),
        "sector_mix": _mixes(),
    },
)

_scenario_dicts = st.fixed_dictionaries(
    {"banks": st.lists(_bank_dicts, min_size=1, max_size=4)},
    optional={
        "strategies": st.lists(_strategy_dicts, max_size=3),
        "seed": st.integers(-(2**63), 2**63 - 1),
        "years": st.integers(1, 100),
    },
)


@given(_scenario_dicts)
def test_round_trip_through_to_dict(data: dict[str, Any]) -> None:
    built = build(Scenario, data, file=FILE)
    plain = to_dict(built)
    assert build(Scenario, plain) == built
    # JSON is the other output format; it must carry the same information.
    assert build(Scenario, json.loads(json.dumps(plain))) == built
    assert to_dict(build(Scenario, plain)) == plain


@given(st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=1 + 1e-9)).filter(math.isfinite))
def test_out_of_range_probability_rejected(value: float) -> None:
    err = only_error(Bank, bank(default_rate=value))
    assert err.expected == "a probability in [0, 1]"
    assert err.got == repr(value)


@given(st.one_of(_finite, st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_int_field_accepts_only_true_integers(value: Any) -> None:
    data = {"banks": [bank()], "seed": value}
    if isinstance(value, int) and not isinstance(value, bool):
        assert build(Scenario, data).seed == value
    else:
        assert only_error(Scenario, data).key == "seed"


# --------------------------------------------------------------------------------------------
# scenario files: a strategy's [strategies.params], a byte-order mark

BASELINE_FILE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"


def _baseline_with(tmp_path, block: str, strategy: int = 1):
    """The baseline file with `block` appended to its strategy number `strategy`."""
    head, *strategies = BASELINE_FILE.read_text(encoding="utf-8").split("[[strategies]]")
    strategies[strategy] = strategies[strategy].rstrip() + "\n" + block + "\n\n"
    path = tmp_path / "params.toml"
    path.write_text("[[strategies]]".join([head, *strategies]), encoding="utf-8")
    return path


def test_a_strategys_params_change_its_model_alone(tmp_path) -> None:
    from parksim.model import ParkModel
    from parksim.scenario.loader import load_scenario, scenario_from_dict

    block = '[strategies.params]\n"tiers.2.0.fixed_cost" = 600\n"lifecycle.graduation[1]" = 0.05'
    scenario = load_scenario(_baseline_with(tmp_path, block))
    own, other = scenario.strategies[1], scenario.strategies[0]
    assert own.params == {"tiers.2.0.fixed_cost": 600, "lifecycle.graduation[1]": 0.05}
    changed = ParkModel(scenario, own.name, rng=1)
    assert changed.config.tiers == {"2.0": {"fixed_cost": 600.0}}
    assert changed.config.lifecycle.graduation[1] == 0.05
    # The other elements of the tuple keep the scenario's values.
    kept = scenario.lifecycle.graduation
    assert changed.config.lifecycle.graduation[0] == kept[0]
    assert changed.config.lifecycle.graduation[2:] == kept[2:]
    unchanged = ParkModel(scenario, other.name, rng=1)
    assert unchanged.config.tiers == {} and unchanged.config.lifecycle == scenario.lifecycle
    # A caller's override wins over the strategy's own value.
    overridden = ParkModel(scenario, own.name, rng=1, overrides={"tiers.2.0.fixed_cost": 700})
    assert overridden.config.tiers["2.0"]["fixed_cost"] == 700
    # The manifest records the scenario as plain data: it reads back the same.
    assert scenario_from_dict(to_dict(scenario)) == scenario


@pytest.mark.parametrize(
    ("block", "key", "words"),
    [
        (
            '"tiers.2.0.fixd_cost" = 600',
            '"tiers.2.0.fixd_cost"',
            ["unknown key", "did you mean 'tiers.2.0.fixed_cost'?"],
        ),
        ('"tiers.2.0.fixed_cost" = -5', '"tiers.2.0.fixed_cost"', ["non-negative", "got -5"]),
        ("horizon = 5", '"horizon"', ["same for every strategy"]),
        ("bank_tier = 2.0", '"bank_tier"', ["the strategy's bank_tier"]),
        ('"policy.risk_pool_share" = 0.5', '"policy.risk_pool_share"', ["[strategies.policy]"]),
    ],
)
def test_a_bad_params_key_names_file_strategy_and_key(tmp_path, block, key, words) -> None:
    from parksim.scenario.loader import load_scenario

    path = _baseline_with(tmp_path, "[strategies.params]\n" + block)
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: strategies[1].params.{key}: "), message
    for word in words:
        assert word in message, message
    assert len(message.splitlines()) == 1


def test_a_strategy_table_of_the_scenario_points_to_params(tmp_path) -> None:
    """`[strategies.tiers."2.0"]` was "strategies[1].tiers: unknown key" and nothing more."""
    from parksim.scenario.loader import load_scenario

    path = _baseline_with(tmp_path, '[strategies.tiers."2.0"]\nfixed_cost = 600')
    with pytest.raises(ScenarioError) as raised:
        load_scenario(path)
    message = str(raised.value)
    assert "strategies[1].tiers: unknown key" in message
    assert '[strategies.params] by address, e.g. "tiers.2.0.fixed_cost" = 600' in message


def test_a_utf8_file_with_a_byte_order_mark_reads(tmp_path) -> None:
    """Notepad's UTF-8 starts with a BOM; it was "Invalid statement (at line 1, column 1)"."""
    from parksim.scenario.loader import load_scenario

    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASELINE_FILE.read_bytes())
    assert load_scenario(path) == load_scenario(BASELINE_FILE)
