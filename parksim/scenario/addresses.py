"""Parameter addresses: one dotted key names a number of a scenario everywhere.

The same address is a key of a Python override (`ParkModel(..., overrides={...})`), a key
of `parksim/data/assumptions.toml` and of `parksim sensitivity --parameters`:

==============================  ===========================================================
address                         names
==============================  ===========================================================
``horizon``                     a top-level field of the scenario
``lifecycle.graduation``        a field of a table (here a tuple, one value per stage)
``lifecycle.graduation[2]``     one element of a tuple or list
``operator.inflow.light``       one entry of a table (``park.sector_mix.biomedicine``)
``banks[1].tier``               a field of one bank (``banks.1.tier`` says the same)
``tiers.2.0.fixed_cost``        a field of a service tier (the tier as in ``[tiers."2.0"]``;
                                ``tiers.2.0.fixed_cost[1]`` for an element)
==============================  ===========================================================

As Python keywords (``mesa.batch_run`` sweeps keywords), ``__`` stands for ``.``, a part
that is a number for ``[i]`` and ``2_0`` for a tier: ``lifecycle__graduation``,
``lifecycle__graduation__2``, ``tiers__2_0__fixed_cost``, ``banks__1__tier``. A policy
field may be named alone (``risk_pool_share`` is ``policy.risk_pool_share``), and so may a
top-level field (``horizon``). In a scenario file an address is a table and a key:
``[tiers."2.0"]`` then ``fixed_cost = 600.0``.

An unknown address raises ScenarioError naming where it came from, the address and the
closest valid one.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from parksim.banks.tiers import TIER_SPECS, TIERS, tier_spec
from parksim.policy import PolicyPackage
from parksim.scenario.errors import ScenarioError

__all__ = [
    "EXPECTED",
    "address_of_keyword",
    "canonical",
    "keyword_of",
    "leaves",
    "read",
    "resolve",
    "scenario_leaves",
    "steps",
    "tier_leaves",
    "tier_name",
    "write",
]

# What a valid address looks like, as in "expected <this>".
EXPECTED = (
    "a parameter address such as lifecycle.graduation, equity.bar[2], "
    "operator.inflow.light or tiers.2.0.fixed_cost"
)
# Scenario fields that are not parameters: the strategies compared (a model's own strategy
# is set by bank_tier, operator_model and policy.*) and the tier tables (read as tiers.x.0).
NOT_ADDRESSED = ("strategies", "tiers")
POLICY_FIELDS = tuple(f.name for f in dataclasses.fields(PolicyPackage))
_TIER_PART = re.compile(r"\d+_\d+")
_STEP = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def tier_name(tier: float) -> str:
    """The name of a tier in addresses and `[tiers."2.0"]` tables."""
    return f"{float(tier):.1f}"


# --- the addresses a scenario has ------------------------------------------------------------


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every address inside dataclass instance `value`, with its value.

    A tuple or table of scalars gives the key of the whole field and one key per element
    (`equity.bar`, `equity.bar[2]`) or entry (`operator.inflow`, `operator.inflow.light`);
    a tuple of tables gives `banks[0].name`.
    """
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        if f.init:
            _add(out, _join(prefix, f.name), getattr(value, f.name))
    return out


def _add(out: dict[str, Any], key: str, value: Any) -> None:
    if dataclasses.is_dataclass(value):
        out.update(leaves(value, key))
    elif isinstance(value, tuple | list):
        if value and all(dataclasses.is_dataclass(v) for v in value):
            for i, item in enumerate(value):
                out.update(leaves(item, f"{key}[{i}]"))
            return
        out[key] = value
        if all(_is_scalar(v) for v in value):
            out.update({f"{key}[{i}]": v for i, v in enumerate(value)})
    elif isinstance(value, Mapping):
        out[key] = value
        if all(_is_scalar(v) for v in value.values()):
            out.update({f"{key}.{name}": v for name, v in value.items()})
    else:
        out[key] = value


def _is_scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def tier_leaves(changes: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The addresses of every tier's fields (`tiers.2.0.fixed_cost`), with `changes` (a
    scenario's `tiers` table) laid over the defaults."""
    changes = changes or {}
    out: dict[str, Any] = {}
    for tier in TIERS:
        name = tier_name(tier)
        out.update(leaves(tier_spec(tier, dict(changes.get(name, {}))), f"tiers.{name}"))
    return out


def scenario_leaves(scenario: Any) -> dict[str, Any]:
    """Every address of `scenario` (a `Scenario`), with its value."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(scenario):
        if f.init and f.name not in NOT_ADDRESSED:
            _add(out, f.name, getattr(scenario, f.name))
    out.update(tier_leaves(scenario.tiers))
    return out


# --- resolving, reading and writing ---------------------------------------------------------


def resolve(
    key: Any, valid: Iterable[str], *, where: str | None = None, file: str | None = None
) -> str:
    """`key` if it is one of the `valid` addresses; else ScenarioError naming the key (at
    `where`, the field of `file` that holds it, when the address is a value there) and the
    closest valid address."""
    valid = list(valid)
    if isinstance(key, str) and key in valid:
        return key
    if isinstance(key, str) and key and canonical(key) in valid:
        return canonical(key)
    text = str(key)
    close = difflib.get_close_matches(text, valid, n=1)
    hint = f"did you mean {close[0]!r}?" if close else None
    if where is None:
        raise ScenarioError(text, EXPECTED, kind="unknown_key", hint=hint, file=file)
    raise ScenarioError(where, EXPECTED, repr(text), kind="unknown_key", hint=hint, file=file)


def address_of_keyword(name: str) -> str:
    """The address a Python keyword spells: `__` for `.`, `__2` for `[2]`, `2_0` for the tier
    2.0; a policy field alone stands for `policy.<field>`."""
    if "__" not in name:
        return f"policy.{name}" if name in POLICY_FIELDS else name
    parts = name.split("__")
    address = parts[0]
    for part in parts[1:]:
        if part.isdigit():
            address += f"[{part}]"
        elif address == "tiers" and _TIER_PART.fullmatch(part):
            address += "." + part.replace("_", ".")
        else:
            address += "." + part
    return address


def keyword_of(address: str) -> str:
    """The Python keyword that spells `address` (the inverse of `address_of_keyword`)."""
    parts = steps(address)
    if parts[0] == "tiers" and len(parts) > 1:
        parts[1] = str(parts[1]).replace(".", "_")
    return "__".join(str(part) for part in parts)


def canonical(address: str) -> str:
    """`address` with every index in brackets: `banks.1.tier` is `banks[1].tier`."""
    parts = steps(address)
    out = str(parts[0])
    for part in parts[1:]:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def steps(address: str) -> list[str | int]:
    """The address as table keys and list indices: `tiers.2.0.x[1]` -> tiers, 2.0, x, 1."""
    parts: list[str | int] = [
        int(index or name) if (index or name).isdigit() else name
        for index, name in _STEP.findall(address)
    ]
    if parts and parts[0] == "tiers" and len(parts) > 2:
        parts[1:3] = [f"{parts[1]}.{parts[2]}"]
    return parts


def read(scenario: Any, address: str) -> Any:
    """The value at `address` of `scenario`."""
    found = scenario_leaves(scenario)
    return found[resolve(address, found)]


def write(data: dict[str, Any], address: str, value: Any) -> None:
    """Set `address` in `data`, a scenario as plain tables (`to_dict`), in place.

    A tier field the scenario leaves at its default is filled in from the tier's spec
    first, so setting one element keeps the others.
    """
    parts = steps(address)
    if parts[0] == "tiers":
        table = data.setdefault("tiers", {}).setdefault(parts[1], {})
        name = parts[2]
        if name not in table:
            table[name] = _plain(getattr(TIER_SPECS[float(parts[1])], name))
        container, parts = table, parts[2:]
    else:
        container = data
    for part in parts[:-1]:
        if isinstance(container[part], tuple):
            container[part] = list(container[part])
        elif isinstance(container[part], Mapping):
            container[part] = dict(container[part])
        container = container[part]
    container[parts[-1]] = value


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value
