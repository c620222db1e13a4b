"""The plausible space: a range for every assumed parameter (`parksim/data/assumptions.toml`).

Every number a scenario can set is one of four kinds:

- **fitted** to published figures by the calibration (`[[parameters]]` of
  `parksim/data/targets.toml`);
- **sourced**: a published figure (`role = "input"` targets of `targets.toml`, and the
  `[[sourced]]` entries of `assumptions.toml`);
- **fixed**: structural, not a magnitude (a tier's product list, the 1.0 tier as the
  reference level of the multipliers), listed under `[[fixed]]` with the reason;
- **ranged**: an assumption, with `low`, `high` and a distribution under `[[parameters]]`,
  or with `levels`: a discrete set of numbers (a competitor's tier) or of choices (where
  equity is booked; a competitor's lag with "never").

A study draws every parameter as a probability level u in [0, 1] and maps it to a value by
the inverse CDF: uniform, log-uniform or triangular over `low`-`high`, rounded to the
nearest integer for an integer field (quarters, counts). A parameter with n `levels` takes
level ⌊u·n⌋ (u = 1 takes the last): every level has mass 1/n, so a Sobol' or Latin-
hypercube design draws each about equally often and a Morris step of 2/3 (four grid
levels) always changes the level. Its design value is the level itself for numeric levels,
else the level's index (0, 1, ...); the scenario gets the level, the string "never" as the
field left absent (a competitor that never follows).

Structural parameters: besides the mechanism tables and the tiers, a range may name the
park (`park.enterprises`, `park.entries_per_quarter`) and a bank (`banks[1].tier`,
`banks[1].follow_lag_quarters`), which the scenario chooses; a study that varies them
asks how the answer depends on the park and the competitors. These entries carry
`structural = true`: a study varies them when `--parameters` names them or with
`--structural`, not by default (they change what is studied). `defaults` are settings a
study adds to its scenario where the scenario leaves them at the schema's default, so the
parameter has something to act on: `stress.severity` with `defaults = {"stress.preset" =
"severe"}` runs the severe preset in a scenario without `[stress]` (a strategy's own
`[strategies.stress]` replaces it, as in a run).

Keys are parameter addresses (parksim.scenario.addresses), as in Python overrides and
`parksim sensitivity --parameters`: `lifecycle.refused_failure_mult`, an element
`equity.bar[2]`, an entry of a table `operator.inflow.light`, a tier's field
`tiers.2.0.signal_noise`; a key that is none is an error naming the closest one. A ranged key
with `scale = true` names a whole tuple or table: `low` and `high` multiply every element
of the scenario's value. The policy package and the park are what a scenario chooses, so
they are not parameters here unless a range names them (see structural parameters).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from scipy import stats

from parksim.analysis.calibration.targets import PARAMETER_MOMENT
from parksim.core import fmath
from parksim.scenario.addresses import (
    canonical,
    leaves,
    resolve,
    scenario_leaves,
    tier_leaves,
    write,
)
from parksim.scenario.errors import ScenarioError, ScenarioErrors
from parksim.scenario.loader import read_toml, scenario_from_dict
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import build, to_dict

DATA = Path(__file__).resolve().parents[2] / "data"
ASSUMPTIONS_FILE = DATA / "assumptions.toml"
TARGETS_FILE = DATA / "targets.toml"
Distribution = Literal["uniform", "triangular", "log-uniform"]
DISTRIBUTIONS: tuple[str, ...] = typing.get_args(Distribution)
# Scenario tables that describe the park studied or the policy chosen, not a mechanism.
CHOICE_SECTIONS = {
    "park": "the park studied: its size, mixes and entry rate are the scenario's inputs",
    "policy": "the policy package is a lever the strategies choose, not an assumption",
}
# Top-level numbers that say how to run, not what the model assumes.
RUN_SETTINGS = {"horizon", "replications", "seed"}
# Where errors in a study's scenario say they come from.
SENSITIVITY = "<sensitivity>"


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
    levels: tuple[Any, ...] = ()  # discrete numbers or choices, each of mass 1/len
    defaults: dict[str, Any] = field(default_factory=dict)  # settings a study adds
    structural: bool = False  # varied only when named (--parameters) or with --structural

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", tuple(self.levels))
        object.__setattr__(self, "defaults", dict(self.defaults))

    @property
    def categorical(self) -> bool:
        """Levels that are not all numbers: the design holds the level's index."""
        return any(not _is_number(level) for level in self.levels)

    def level_index(self, u: np.ndarray) -> np.ndarray:
        """The level drawn at probability levels `u`: ⌊u·n⌋, u = 1 taking the last."""
        n = len(self.levels)
        return np.clip(np.floor(np.asarray(u, dtype=float) * n), 0, n - 1).astype(int)

    def from_unit(self, u: np.ndarray) -> np.ndarray:
        """Values at probability levels `u` in [0, 1] (the inverse CDF); for `levels`, the
        level (numeric) or its index (categorical)."""
        u = np.asarray(u, dtype=float)
        if self.levels:
            index = self.level_index(u)
            if self.categorical:
                return index.astype(float)
            return np.asarray(self.levels, dtype=float)[index]
        if self.distribution == "uniform":
            values = self.low + u * (self.high - self.low)
        elif self.distribution == "log-uniform":
            values = fmath.exp(math.log(self.low) + u * math.log(self.high / self.low))
        else:
            width = self.high - self.low
            c = (self.peak - self.low) / width
            values = stats.triang.ppf(u, c, loc=self.low, scale=width)
        return np.rint(values) if self.integer else values

    def to_unit(self, value: float) -> float:
        """The probability level of `value` (the CDF; the inverse of `from_unit`), held to
        [0, 1] for a value outside the range. A level of `levels` (the value the scenario
        holds, None for "never") is at the middle of its mass; a value that is no level at
        the middle of the nearest numeric level's."""
        if self.levels:
            n = len(self.levels)
            return (self._nearest_level(value) + 0.5) / n
        if self.distribution == "uniform":
            level = (value - self.low) / (self.high - self.low)
        elif self.distribution == "log-uniform":
            level = math.log(max(value, self.low) / self.low) / math.log(self.high / self.low)
        else:
            width = self.high - self.low
            c = (self.peak - self.low) / width
            level = float(stats.triang.cdf(value, c, loc=self.low, scale=width))
        return float(min(max(level, 0.0), 1.0))

    def _nearest_level(self, value: Any) -> int:
        setting = NEVER if value is None else value
        if setting in self.levels:
            return self.levels.index(setting)
        numeric = [i for i, level in enumerate(self.levels) if _is_number(level)]
        if not numeric or not _is_number(setting):
            raise ValueError(f"{self.key}: {value!r} is none of the levels {list(self.levels)}")
        return min(numeric, key=lambda i: abs(self.levels[i] - setting))

    def setting(self, value: float, default: Any = None) -> Any:
        """What design value `value` writes into the scenario: the level (None for
        "never"), an integer for an integer field (or one whose `default` is), else a
        float."""
        if self.levels:
            level = self.levels[int(np.rint(value))] if self.categorical else value
            if level == NEVER:
                return None
            if self.categorical:
                return level
            return int(np.rint(level)) if isinstance(default, int) else float(level)
        if self.integer or isinstance(default, int):
            return int(np.rint(value))
        return float(value)

    @property
    def peak(self) -> float:
        """The mode of a triangular range (the default value unless `mode` is given)."""
        if self.mode is not None:
            return self.mode
        return 1.0 if self.scale else structural_default(self.key)


@dataclass(frozen=True)
class Assumptions:
    """The contents of `assumptions.toml` with the fitted and sourced keys of `targets.toml`."""

    parameters: tuple[Parameter, ...]
    sourced: dict[str, str]  # key -> source
    fixed: dict[str, str]  # key -> reason
    fitted: dict[str, str]  # key -> note

    def ranged(
        self, keys: Sequence[str] | None = None, option: str = "--parameters"
    ) -> list[Parameter]:
        """The ranged parameters, all or those named (in the order named).

        Raises ScenarioErrors naming `option` for a key that is not ranged: fixed, sourced
        or fitted, or not an address at all (with the closest ranged one).
        """
        by_key = {p.key: p for p in self.parameters}
        if keys is None:
            return [p for p in self.parameters if not p.structural]
        keys = [canonical(k) if canonical(k) in by_key else k for k in keys]
        errors = []
        for key in keys:
            if key in by_key:
                continue
            kind = self.kind_of(key)
            expected = f"a ranged parameter of {ASSUMPTIONS_FILE.name}"
            if kind:
                errors.append(ScenarioError(option, expected, f"{key!r}, which is {kind}"))
                continue
            try:
                resolve(key, by_key, where=option)
            except ScenarioError as error:
                errors.append(error)
        if errors:
            raise ScenarioErrors(errors)
        return [by_key[k] for k in keys]

    def structural(self) -> list[Parameter]:
        """The structural parameters (`structural = true`): the park, the competitors,
        where equity is booked, the stress severity."""
        return [p for p in self.parameters if p.structural]

    def kind_of(self, key: str) -> str:
        """How a parameter that has no range is set: fixed, sourced or fitted ("" if none)."""
        for kind, keys in (
            ("fixed", self.fixed),
            ("sourced", self.sourced),
            ("fitted by the calibration", self.fitted),
        ):
            if key in keys:
                return kind
        return ""


@dataclass(frozen=True)
class RangedEntry:
    """A `[[parameters]]` entry of the assumptions file."""

    key: str = field(metadata={"help": "parameter address, e.g. lifecycle.relocation"})
    low: float | None = field(default=None, metadata={"help": "lower end of the range"})
    high: float | None = field(default=None, metadata={"help": "upper end of the range"})
    levels: tuple[Any, ...] = field(
        default=(),
        metadata={
            "help": "instead of low and high: the discrete values (numbers) or choices "
            '(strings; "never" leaves the field absent), each drawn with mass 1/len'
        },
    )
    structural: bool = field(
        default=False,
        metadata={
            "help": "a structural assumption (the park, the competitors, equity booking, "
            "stress): a study varies it when named or with --structural, not by default"
        },
    )
    defaults: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "settings a study adds where its scenario leaves them at the schema "
            'default, e.g. {"stress.preset" = "severe"} for stress.severity'
        },
    )
    distribution: Distribution = field(default="uniform", metadata={"help": "over the range"})
    mode: float | None = field(default=None, metadata={"help": "triangular peak"})
    scale: bool = field(
        default=False, metadata={"help": "low and high multiply a tuple or table field"}
    )
    reason: str = field(default="", metadata={"help": "why this range"})
    source: str = field(default="", metadata={"help": "where a published range comes from"})


@dataclass(frozen=True)
class SourcedEntry:
    """A `[[sourced]]` entry: a parameter set to a published figure."""

    key: str = field(metadata={"help": "parameter address"})
    source: str = field(metadata={"help": "the publication"})


@dataclass(frozen=True)
class FixedEntry:
    """A `[[fixed]]` entry: a structural value, not a magnitude."""

    key: str = field(metadata={"help": "parameter address"})
    reason: str = field(metadata={"help": "why it is structural"})


@dataclass(frozen=True)
class AssumptionsFile:
    """What `assumptions.toml` holds."""

    parameters: tuple[RangedEntry, ...] = field(default=(), metadata={"help": "ranged"})
    sourced: tuple[SourcedEntry, ...] = field(default=(), metadata={"help": "published"})
    fixed: tuple[FixedEntry, ...] = field(default=(), metadata={"help": "structural"})


def load_assumptions(path: str | Path = ASSUMPTIONS_FILE) -> Assumptions:
    """Read the assumptions file, and the fitted and sourced keys of `targets.toml`.

    Raises ScenarioErrors naming the file and the entry for an unknown field, a bad value
    or a key that is not a parameter address (with the closest one).
    """
    file = str(path)
    content = build(AssumptionsFile, read_toml(path, "assumptions"), file=file)
    with TARGETS_FILE.open("rb") as handle:
        targets = tomllib.load(handle)
    valid = schema_leaves()
    structural = {**valid, **structural_leaves()}
    errors = []
    for table in ("parameters", "sourced", "fixed"):
        for i, entry in enumerate(getattr(content, table)):
            keys = structural if table == "parameters" else valid
            try:
                resolve(entry.key, keys, where=f"{table}[{i}].key", file=file)
            except ScenarioError as error:
                errors.append(error)
    for i, entry in enumerate(content.parameters):
        errors.extend(_range_errors(entry, f"parameters[{i}]", valid))
    if errors:
        raise ScenarioErrors(errors, file=file)
    fitted = {p["key"]: p.get("note", "") for p in targets.get("parameters", [])}
    sourced = {
        t["args"]["key"]: t["source"]
        for t in targets.get("targets", [])
        if t.get("moment") == PARAMETER_MOMENT and t.get("role") == "input" and "scenario" not in t
    }
    sourced.update({s.key: s.source for s in content.sourced})
    parameters = tuple(_parameter(entry) for entry in content.parameters)
    fixed = {f.key: f.reason for f in content.fixed}
    return Assumptions(parameters, sourced, fixed, fitted)


def _range_errors(entry: RangedEntry, where: str, valid: Mapping[str, Any]) -> list:
    """A range is `low` and `high`, or `levels` (two or more, numbers or strings)."""
    errors = []
    has_range = entry.low is not None and entry.high is not None
    if entry.levels and (entry.low is not None or entry.high is not None):
        errors.append(ScenarioError(f"{where}", "low and high, or levels, not both", "both"))
    elif not entry.levels and not has_range:
        errors.append(ScenarioError(f"{where}", "low and high, or levels", "neither"))
    elif entry.levels and len(set(map(repr, entry.levels))) < max(2, len(entry.levels)):
        errors.append(
            ScenarioError(f"{where}.levels", "two or more distinct levels", list(entry.levels))
        )
    for key in entry.defaults:
        try:
            resolve(key, valid, where=f"{where}.defaults", file=None)
        except ScenarioError as error:
            errors.append(error)
    return errors


def _parameter(entry: RangedEntry) -> Parameter:
    default = structural_default(entry.key)
    integer = isinstance(default, int) and not isinstance(default, bool) and not entry.scale
    if entry.levels:
        numeric = [v for v in entry.levels if _is_number(v)]
        categorical = len(numeric) < len(entry.levels)
        low, high = (0.0, len(entry.levels) - 1.0) if categorical else (min(numeric), max(numeric))
    else:
        low, high = entry.low, entry.high
    return Parameter(
        key=entry.key,
        low=float(low),
        high=float(high),
        distribution=entry.distribution,
        mode=entry.mode,
        scale=entry.scale,
        integer=integer,
        reason=entry.reason or entry.source,
        levels=tuple(entry.levels),
        defaults=dict(entry.defaults),
        structural=entry.structural,
    )


# --- the scenario's parameters ---------------------------------------------------------------


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
    (`operator.inflow.light`), next to the key of the whole field (see
    parksim.scenario.addresses, which every address goes through).
    """
    found: dict[str, Any] = {}
    for f in dataclasses.fields(Scenario):
        default = f.default
        if f.name not in RUN_SETTINGS and _is_number(default):
            found[f.name] = default
    for section, default in mechanism_sections().items():
        found.update(leaves(default, section))
    found.update(tier_leaves())
    return found


# Banks a range may address (banks[0] is the focal bank, whose tier is the strategy's).
STRUCTURAL_BANKS = 4
#: A level that leaves an optional field absent: a competitor that never follows.
NEVER = "never"


@cache
def structural_leaves() -> dict[str, Any]:
    """Addresses a range may name besides the mechanism tables: the park's numbers and the
    banks' fields (`banks[1].tier`), with the schema's defaults (None where required)."""
    from parksim.scenario.schema import BankSpec, ParkSpec

    found: dict[str, Any] = {}
    for f in dataclasses.fields(ParkSpec):
        default = f.default
        if default is dataclasses.MISSING:  # required: an integer field stands as 0
            default = 0 if f.type in (int, "int") else None
        if f.default_factory is dataclasses.MISSING and not isinstance(default, dict):
            found[f"park.{f.name}"] = default
    for i in range(STRUCTURAL_BANKS):
        for f in dataclasses.fields(BankSpec):
            if f.name not in ("name", "changes"):
                found[f"banks[{i}].{f.name}"] = f.default
    return found


def structural_default(key: str) -> Any:
    """The schema default of a mechanism or structural address."""
    found = structural_leaves()
    return found[key] if key in found else default_value(key)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def default_value(key: str) -> Any:
    """The schema default of `key`."""
    leaves = schema_leaves()
    if key not in leaves:
        raise KeyError(f"{key}: not a parameter of the scenario schema")
    return leaves[key]


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


def current_levels(scenario: Scenario, parameters: Sequence[Parameter]) -> np.ndarray:
    """Each parameter's probability level at the scenario's own value (a scaled
    parameter's multiplier is 1): the centre of a one-at-a-time design."""
    current = scenario_leaves(scenario)
    levels = []
    for p in parameters:
        value = 1.0 if p.scale else current[resolve(p.key, current, file=SENSITIVITY)]
        levels.append(p.to_unit(value if p.levels else float(value)))
    return np.array(levels)


def with_defaults(scenario: Scenario, parameters: Sequence[Parameter]) -> Scenario:
    """`scenario` with each parameter's `defaults` where the scenario leaves that address at
    the schema's default (a severity with no stress path to scale gets the preset)."""
    data = to_dict(scenario)
    current = scenario_leaves(scenario)
    changed = False
    for p in parameters:
        for key, value in p.defaults.items():
            address = resolve(key, current, file=SENSITIVITY)
            if current[address] == default_value(address) and current[address] != value:
                write(data, address, value)
                changed = True
    return scenario_from_dict(data, file=SENSITIVITY) if changed else scenario


def apply_values(
    scenario: Scenario,
    values: Mapping[str, float],
    scaled: Iterable[str] = (),
    parameters: Mapping[str, Parameter] | None = None,
):
    """`scenario` with the parameters `values`, validated; `scaled` keys multiply a vector;
    a key of `parameters` with levels writes its level (`Parameter.setting`)."""
    data = to_dict(scenario)
    current = scenario_leaves(scenario)
    scaled = set(scaled)
    parameters = parameters or {}
    for key, value in values.items():
        if key in parameters and parameters[key].levels:
            old = current[resolve(key, current, file=SENSITIVITY)]
            write(data, key, parameters[key].setting(value, old))
            continue
        old = current[resolve(key, current, file=SENSITIVITY)]
        if key in scaled:
            new = (
                {k: v * value for k, v in old.items()}
                if isinstance(old, Mapping)
                else [v * value for v in old]
            )
        else:
            new = _typed(value, old)
        write(data, key, new)
    return scenario_from_dict(data, file=SENSITIVITY)


def _typed(value: float, default: Any) -> Any:
    return int(np.rint(value)) if isinstance(default, int) else float(value)
