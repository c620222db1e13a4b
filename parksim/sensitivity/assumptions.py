"""The plausible space: a range for every assumed parameter (`parksim/data/assumptions.toml`).

Every number a scenario can set is one of four kinds:

- **fitted** to published figures by the calibration (`[[parameters]]` of
  `parksim/data/targets.toml`);
- **sourced**: a published figure (`role = "input"` targets of `targets.toml`, and the
  `[[sourced]]` entries of `assumptions.toml`);
- **fixed**: structural, not a magnitude (a tier's product list, the 1.0 tier as the
  reference level of the multipliers), listed under `[[fixed]]` with the reason;
- **ranged**: an assumption, with `low`, `high` and a distribution under `[[parameters]]`.

Keys are dotted: `lifecycle.refused_failure_mult`, an element `equity.bar[2]`, an entry of
a table `operator.inflow.light`, a tier's field `tiers.2.0.signal_noise`. A ranged key
with `scale = true` names a whole tuple or table: `low` and `high` multiply every element
of the scenario's value. The policy package and the park are what a scenario chooses, so
they are not parameters here.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from parksim.banks.tiers import TIER_SPECS, TIERS, TierSpec
from parksim.calibration.targets import PARAMETER_MOMENT
from parksim.core import fmath
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import to_dict

DATA = Path(__file__).resolve().parents[1] / "data"
ASSUMPTIONS_FILE = DATA / "assumptions.toml"
TARGETS_FILE = DATA / "targets.toml"
DISTRIBUTIONS = ("uniform", "triangular", "log-uniform")
# Scenario tables that describe the park studied or the policy chosen, not a mechanism.
CHOICE_SECTIONS = {
    "park": "the park studied: its size, mixes and entry rate are the scenario's inputs",
    "policy": "the policy package is a lever the strategies choose, not an assumption",
}
# Top-level numbers that say how to run, not what the model assumes.
RUN_SETTINGS = {"horizon", "replications", "seed"}


@dataclass(frozen=True)
class Parameter:
    """One assumed parameter: its range, distribution and why."""

    key: str
    low: float
    high: float
    distribution: str = "uniform"
    mode: float | None = None  # triangular peak; default: the scenario's default value
    scale: bool = False  # low/high multiply every element of a tuple or table
    integer: bool = False  # rounded to the nearest integer (quarters, counts)
    reason: str = ""

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Values at probability levels `u` in [0, 1] (the inverse CDF)."""
        u = np.asarray(u, dtype=float)
        if self.distribution == "uniform":
            values = self.low + u * (self.high - self.low)
        elif self.distribution == "log-uniform":
            values = fmath.exp(math.log(self.low) + u * math.log(self.high / self.low))
        else:
            width = self.high - self.low
            c = (self.peak - self.low) / width
            values = stats.triang.ppf(u, c, loc=self.low, scale=width)
        return np.rint(values) if self.integer else values

    @property
    def peak(self) -> float:
        """The mode of a triangular range (the default value unless `mode` is given)."""
        if self.mode is not None:
            return self.mode
        return 1.0 if self.scale else default_value(self.key)


@dataclass(frozen=True)
class Assumptions:
    """The contents of `assumptions.toml` with the fitted and sourced keys of `targets.toml`."""

    parameters: tuple[Parameter, ...]
    sourced: dict[str, str]  # key -> source
    fixed: dict[str, str]  # key -> reason
    fitted: dict[str, str]  # key -> note

    def ranged(self, keys: Sequence[str] | None = None) -> list[Parameter]:
        """The ranged parameters, all or those named (in the order named)."""
        by_key = {p.key: p for p in self.parameters}
        if keys is None:
            return list(self.parameters)
        missing = [k for k in keys if k not in by_key]
        if missing:
            raise KeyError(
                f"no range for {', '.join(missing)} in {ASSUMPTIONS_FILE.name}; "
                f"ranged parameters are e.g. {', '.join(list(by_key)[:3])}"
            )
        return [by_key[k] for k in keys]


def load_assumptions(path: str | Path = ASSUMPTIONS_FILE) -> Assumptions:
    """Read the assumptions file, and the fitted and sourced keys of `targets.toml`."""
    with Path(path).open("rb") as handle:
        data = tomllib.load(handle)
    with TARGETS_FILE.open("rb") as handle:
        targets = tomllib.load(handle)
    fitted = {p["key"]: p.get("note", "") for p in targets.get("parameters", [])}
    sourced = {
        t["args"]["key"]: t["source"]
        for t in targets.get("targets", [])
        if t.get("moment") == PARAMETER_MOMENT and t.get("role") == "input" and "scenario" not in t
    }
    sourced.update({s["key"]: s["source"] for s in data.get("sourced", [])})
    parameters = tuple(
        _parameter(entry, f"parameters[{i}]", path)
        for i, entry in enumerate(data.get("parameters", []))
    )
    fixed = {f["key"]: f["reason"] for f in data.get("fixed", [])}
    return Assumptions(parameters, sourced, fixed, fitted)


def _parameter(entry: Mapping[str, Any], where: str, path: str | Path) -> Parameter:
    known = {f.name for f in dataclasses.fields(Parameter)} | {"source"}
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ScenarioError(where, f"fields of {sorted(known)}", str(unknown), file=str(path))
    for required in ("key", "low", "high"):
        if required not in entry:
            raise ScenarioError(f"{where}.{required}", "a value", kind="missing", file=str(path))
    key = entry["key"]
    reason = entry.get("reason") or entry.get("source", "")
    values = {k: v for k, v in entry.items() if k not in ("source", "reason")}
    integer = isinstance(default_value(key, missing=0.0), int) and not entry.get("scale")
    return Parameter(**{"integer": integer, **values, "reason": reason})


# --- the scenario's parameters ---------------------------------------------------------------


def _tier_name(tier: float) -> str:
    return f"{tier:.1f}"


def mechanism_sections() -> dict[str, Any]:
    """The scenario's mechanism tables and their defaults: every dataclass-valued field."""
    sections = {}
    for f in dataclasses.fields(Scenario):
        if f.name in CHOICE_SECTIONS or f.default_factory is dataclasses.MISSING:
            continue
        default = f.default_factory()
        if dataclasses.is_dataclass(default):
            sections[f.name] = default
    return sections


@cache
def schema_leaves() -> dict[str, Any]:
    """Every number or switch of the mechanism tables and the tier specs, with its default.

    Tuples give one key per element (`equity.bar[2]`) and tables one per entry
    (`operator.inflow.light`), next to the key of the whole field.
    """
    leaves: dict[str, Any] = {}
    for f in dataclasses.fields(Scenario):
        default = f.default
        if f.name not in RUN_SETTINGS and _is_number(default):
            leaves[f.name] = default
    for section, default in mechanism_sections().items():
        for f in dataclasses.fields(default):
            _add_leaves(leaves, f"{section}.{f.name}", getattr(default, f.name))
    for tier in TIERS:
        spec = TIER_SPECS[tier]
        for f in dataclasses.fields(TierSpec):
            _add_leaves(leaves, f"tiers.{_tier_name(tier)}.{f.name}", getattr(spec, f.name))
    return leaves


def _add_leaves(leaves: dict[str, Any], key: str, value: Any) -> None:
    leaves[key] = value
    if isinstance(value, tuple) and all(_is_number(v) for v in value):
        leaves.update({f"{key}[{i}]": v for i, v in enumerate(value)})
    elif isinstance(value, Mapping):
        leaves.update({f"{key}.{name}": v for name, v in value.items()})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def default_value(key: str, missing: Any = None) -> Any:
    """The schema default of `key`."""
    leaves = schema_leaves()
    if key not in leaves and missing is None:
        raise KeyError(f"{key}: not a parameter of the scenario schema")
    return leaves.get(key, missing)


def parents(key: str) -> list[str]:
    """The whole-field keys that contain `key` (`equity.bar` for `equity.bar[2]`)."""
    if key.endswith("]"):
        return [key.rsplit("[", 1)[0]]
    head = key.rsplit(".", 1)[0]
    leaves = schema_leaves()
    return [head] if head in leaves and isinstance(leaves[head], Mapping) else []


def unranged(assumptions: Assumptions) -> list[str]:
    """Schema keys that are neither fitted, sourced, fixed nor ranged (directly or as part
    of a scaled tuple or table). Each one needs an entry in `assumptions.toml`."""
    covered = (
        {p.key for p in assumptions.parameters}
        | set(assumptions.sourced)
        | set(assumptions.fixed)
        | set(assumptions.fitted)
    )
    missing = []
    for key, value in schema_leaves().items():
        if key in covered or any(parent in covered for parent in parents(key)):
            continue
        composite = isinstance(value, Mapping) or (
            isinstance(value, tuple) and all(_is_number(v) for v in value)
        )
        if composite:
            continue  # covered when each element is
        missing.append(key)
    return missing


# --- putting a point into a scenario ---------------------------------------------------------


def apply_values(scenario: Scenario, values: Mapping[str, float], scaled: Iterable[str] = ()):
    """`scenario` with the parameters `values`, validated; `scaled` keys multiply a vector."""
    data = to_dict(scenario)
    scaled = set(scaled)
    for key, value in values.items():
        container, name, index = _locate(data, key)
        if key in scaled:
            current = container[name]
            container[name] = (
                {k: v * value for k, v in current.items()}
                if isinstance(current, Mapping)
                else [v * value for v in current]
            )
        elif index is None:
            container[name] = _typed(value, default_value(key))
        elif isinstance(index, int):
            current = list(container[name])
            current[index] = float(value)
            container[name] = current
        else:
            container[name] = {**container[name], index: float(value)}
    return scenario_from_dict(data, file="<sensitivity>")


def _typed(value: float, default: Any) -> Any:
    return int(np.rint(value)) if isinstance(default, int) else float(value)


def _locate(data: dict[str, Any], key: str) -> tuple[dict[str, Any], str, int | str | None]:
    """The table holding `key`'s field in the scenario data, the field name, the element."""
    parts = key.split(".")
    if parts[0] == "tiers":
        tier, rest = f"{parts[1]}.{parts[2]}", parts[3:]
        table = data.setdefault("tiers", {}).setdefault(tier, {})
        field_name = rest[0].split("[")[0]
        if field_name not in table:
            table[field_name] = _plain(getattr(TIER_SPECS[float(tier)], field_name))
    elif len(parts) == 1:
        return data, key, None
    else:
        table, rest = data.setdefault(parts[0], {}), parts[1:]
        field_name = rest[0].split("[")[0]
        if field_name not in table:
            table[field_name] = _plain(default_value(f"{parts[0]}.{field_name}"))
    if "[" in rest[0]:
        return table, field_name, int(rest[0].split("[")[1].rstrip("]"))
    return table, field_name, (rest[1] if len(rest) > 1 else None)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value
