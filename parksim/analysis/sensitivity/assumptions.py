"""The plausible space: a range for every assumed parameter (`parksim/data/assumptions.toml`).

Every number a scenario can set is one of four kinds:

- **fitted** to published figures by the calibration (`[[parameters]]` of
  `parksim/data/targets.toml`);
- **sourced**: a published figure (`role = "input"` targets of `targets.toml`, and the
  `[[sourced]]` entries of `assumptions.toml`);
- **fixed**: structural, not a magnitude (a tier's product list, the 1.0 tier as the
  reference level of the multipliers), listed under `[[fixed]]` with the reason;
- **ranged**: an assumption, with `low`, `high` and a distribution under `[[parameters]]`.

Keys are parameter addresses (parksim.scenario.addresses), as in Python overrides and
`parksim sensitivity --parameters`: `lifecycle.refused_failure_mult`, an element
`equity.bar[2]`, an entry of a table `operator.inflow.light`, a tier's field
`tiers.2.0.signal_noise`; a key that is none is an error naming the closest one. A ranged key
with `scale = true` names a whole tuple or table: `low` and `high` multiply every element
of the scenario's value. The policy package and the park are what a scenario chooses, so
they are not parameters here.
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
from parksim.scenario.addresses import leaves, resolve, scenario_leaves, tier_leaves, write
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

    def to_unit(self, value: float) -> float:
        """The probability level of `value` (the CDF; the inverse of `from_unit`), held to
        [0, 1] for a value outside the range."""
        if self.distribution == "uniform":
            level = (value - self.low) / (self.high - self.low)
        elif self.distribution == "log-uniform":
            level = math.log(max(value, self.low) / self.low) / math.log(self.high / self.low)
        else:
            width = self.high - self.low
            c = (self.peak - self.low) / width
            level = float(stats.triang.cdf(value, c, loc=self.low, scale=width))
        return float(min(max(level, 0.0), 1.0))

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

    def ranged(
        self, keys: Sequence[str] | None = None, option: str = "--parameters"
    ) -> list[Parameter]:
        """The ranged parameters, all or those named (in the order named).

        Raises ScenarioErrors naming `option` for a key that is not ranged: fixed, sourced
        or fitted, or not an address at all (with the closest ranged one).
        """
        by_key = {p.key: p for p in self.parameters}
        if keys is None:
            return list(self.parameters)
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
    low: float = field(metadata={"help": "lower end of the plausible range"})
    high: float = field(metadata={"help": "upper end of the plausible range"})
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
    errors = []
    for table in ("parameters", "sourced", "fixed"):
        for i, entry in enumerate(getattr(content, table)):
            try:
                resolve(entry.key, valid, where=f"{table}[{i}].key", file=file)
            except ScenarioError as error:
                errors.append(error)
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


def _parameter(entry: RangedEntry) -> Parameter:
    integer = isinstance(default_value(entry.key), int) and not entry.scale
    return Parameter(
        key=entry.key,
        low=entry.low,
        high=entry.high,
        distribution=entry.distribution,
        mode=entry.mode,
        scale=entry.scale,
        integer=integer,
        reason=entry.reason or entry.source,
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
        value = 1.0 if p.scale else float(current[resolve(p.key, current, file=SENSITIVITY)])
        levels.append(p.to_unit(value))
    return np.array(levels)


def apply_values(scenario: Scenario, values: Mapping[str, float], scaled: Iterable[str] = ()):
    """`scenario` with the parameters `values`, validated; `scaled` keys multiply a vector."""
    data = to_dict(scenario)
    current = scenario_leaves(scenario)
    scaled = set(scaled)
    for key, value in values.items():
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
