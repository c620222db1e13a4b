"""Calibration targets: what the model should reproduce, where each figure comes from, and
which parameters a calibration may move.

A targets file (TOML; the project's is `parksim/data/targets.toml`) is validated at load
time like a scenario file: a mistake raises `ScenarioError` naming the file, the key and
what was expected. It holds three parts:

- `[measurement]`: how the model is run to measure moments (strategy, horizon,
  replications, seed). Every evaluation of a calibration uses these same seeds (common
  random numbers), so two parameter vectors are compared on the same luck.
- `[[parameters]]`: the parameters the calibration fits, each a scenario key such as
  `lifecycle.failure_pd[0]`, with the bounds of its search range.
- `[[targets]]`: one published figure each, with its source, the `moment` that measures it
  in the model (a function of `parksim.analysis.calibration.moments`, or `parameter` for a value
  set by hand in the scenario), an agreement band and a role: `fit` (in the objective),
  `holdout` (out-of-sample: never in the objective), `check` (reported, not fitted) or
  `input` (a parameter set by hand to the published figure).
"""

from __future__ import annotations

import inspect
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from parksim.analysis.calibration.moments import MOMENTS
from parksim.scenario import addresses
from parksim.scenario.loader import read_toml
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import build

Role = Literal["fit", "holdout", "check", "input"]
Gap = Literal["", "above", "below"]

PARAMETER_MOMENT = "parameter"
EVERY_STRATEGY = "*"


def default_targets_path() -> Path:
    """The project's targets file, shipped with the package."""
    return Path(str(files("parksim") / "data" / "targets.toml"))


@dataclass(frozen=True)
class ParameterKey:
    """A number inside a scenario: `section.name`, or element `index` of a tuple field.

    The addresses a calibration fits, a subset of the scenario's parameter addresses
    (`parksim.scenario.addresses`, which parses and reads them)."""

    section: str
    name: str
    index: int | None = None

    @classmethod
    def parse(cls, key: str) -> ParameterKey:
        parts = addresses.steps(key)
        names, index = parts, None
        if len(parts) == 3 and isinstance(parts[2], int):
            names, index = parts[:2], parts[2]
        named = len(names) == 2 and all(isinstance(n, str) and n.isidentifier() for n in names)
        parsed = cls(*names, index) if named else None
        if parsed is None or str(parsed) != key:
            raise ValueError(f"parameter key {key!r} must read section.field or section.field[i]")
        return parsed

    def __str__(self) -> str:
        suffix = "" if self.index is None else f"[{self.index}]"
        return f"{self.section}.{self.name}{suffix}"

    def read(self, scenario: Scenario) -> float:
        return float(addresses.read(scenario, str(self)))

    def check_fittable(self) -> None:
        """A fitted parameter must be a float (or a float in a tuple) of a mechanism table."""
        default = _mechanism_default(self.section)
        if self.name not in {f.name for f in fields(default)}:
            known = ", ".join(f.name for f in fields(default))
            raise ValueError(f"[{self.section}] has no field {self.name!r}; it has {known}")
        value = getattr(default, self.name)
        if self.index is None:
            ok = isinstance(value, float)
        else:
            ok = isinstance(value, tuple) and self.index < len(value)
            ok = ok and isinstance(value[self.index], float)
        if not ok:
            raise ValueError(
                f"{self} is not a number that can be fitted (a float, or an element of a "
                f"tuple of floats); its default is {value!r}"
            )


def _mechanism_default(section: str) -> Any:
    """The default instance of a scenario table whose fields all have defaults."""
    for f in fields(Scenario):
        if f.name == section and f.default_factory is not MISSING:
            default = f.default_factory()
            if is_dataclass(default):
                return default
    tables = [
        f.name
        for f in fields(Scenario)
        if f.default_factory is not MISSING and is_dataclass(f.default_factory())
    ]
    raise ValueError(f"section {section!r} is not a mechanism table; expected one of {tables}")


@dataclass(frozen=True)
class Measurement:
    """How the model is run to measure moments."""

    strategy: str = field(metadata={"help": "strategy of the scenario to run"})
    horizon: int = field(default=60, metadata={"min": 4, "max": 400, "help": "quarters per run"})
    replications: int = field(default=6, metadata={"min": 1, "help": "runs per evaluation"})
    seed: int = field(
        default=20240601, metadata={"min": 0, "help": "root seed; the same for every evaluation"}
    )


@dataclass(frozen=True)
class FittedParameter:
    """A scenario parameter the calibration moves, within [lower, upper]."""

    key: str = field(metadata={"help": "section.field or section.field[i]"})
    lower: float = field(metadata={"help": "lower end of the search range"})
    upper: float = field(metadata={"help": "upper end of the search range"})
    relative_to: str = field(
        default="",
        metadata={
            "help": "key of a parameter listed before this one: fit this one as a multiple "
            "of it, with lower and upper bounding the multiple"
        },
    )
    prior: float | None = field(
        default=None,
        metadata={
            "help": "the hand-set value before any fit (scenario units), which the "
            "validation report shows as the uncalibrated model"
        },
    )
    note: str = field(default="", metadata={"help": "what the parameter is and why it is fitted"})

    def __post_init__(self) -> None:
        ParameterKey.parse(self.key).check_fittable()
        if self.relative_to == self.key:
            raise ValueError("a parameter cannot be relative to itself")
        if not self.lower < self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")

    @property
    def parsed(self) -> ParameterKey:
        return ParameterKey.parse(self.key)


@dataclass(frozen=True)
class Target:
    """A published figure and the moment that measures it in the model."""

    name: str = field(metadata={"help": "short unique name"})
    moment: str = field(metadata={"help": f"one of {sorted(MOMENTS)} or {PARAMETER_MOMENT!r}"})
    value: float = field(metadata={"help": "the published figure"})
    band: tuple[float, float] = field(
        metadata={"help": "[low, high]: the model agrees with the figure inside this range"}
    )
    source: str = field(metadata={"help": "where the figure comes from"})
    role: Role = field(metadata={"help": "fit, holdout, check or input"})
    args: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "keyword arguments of the moment"}
    )
    scenario: str = field(
        default="", metadata={"help": "only for the scenario of this name; empty: any"}
    )
    strategy: str = field(
        default="",
        metadata={
            "help": "strategy whose runs measure the moment; empty: [measurement]'s; "
            f"{EVERY_STRATEGY!r}: every strategy of the scenario, one row each"
        },
    )
    weight: float = field(default=1.0, metadata={"min": 0.0, "help": "weight in the objective"})
    known_gap: Gap = field(
        default="",
        metadata={"help": "above/below: the model is known to miss the band on that side"},
    )
    note: str = field(default="", metadata={"help": "how the figure maps onto the model"})
    parameters: tuple[str, ...] = field(
        default=(),
        metadata={
            "help": "hand-set scenario keys that chiefly set this moment; where the target "
            "misses, the validation report gives their ranges in assumptions.toml"
        },
    )

    def __post_init__(self) -> None:
        for key in self.parameters:
            if not addresses.steps(key):
                raise ValueError(f"parameters: {key!r} is not a scenario key")
        low, high = self.band
        if not low <= high:
            raise ValueError(f"band must be [low, high] with low <= high, got {list(self.band)}")
        if self.strategy and self.role == "fit":
            raise ValueError(
                "a fit target is measured on [measurement]'s strategy (the objective runs "
                f"only that one); remove strategy = {self.strategy!r} or make it a check"
            )
        if self.moment == PARAMETER_MOMENT:
            if self.strategy:
                raise ValueError("a parameter target reads the scenario; it takes no strategy")
            if set(self.args) != {"key"} or not isinstance(self.args["key"], str):
                raise ValueError("a parameter target needs args = {key = 'section.field'}")
            key = ParameterKey.parse(self.args["key"])
            if key.section not in {f.name for f in fields(Scenario)}:
                raise ValueError(f"args.key: the scenario has no section {key.section!r}")
            return
        if self.moment not in MOMENTS:
            expected = ", ".join([*sorted(MOMENTS), PARAMETER_MOMENT])
            raise ValueError(f"moment {self.moment!r} is unknown; expected one of {expected}")
        accepted = list(inspect.signature(MOMENTS[self.moment]).parameters)[1:]
        unknown = sorted(set(self.args) - set(accepted))
        if unknown:
            raise ValueError(
                f"moment {self.moment} takes no argument {unknown}; it takes {accepted}"
            )

    @property
    def scale(self) -> float:
        """Half the band: the distance counted as one unit of misfit in the objective."""
        low, high = self.band
        return max((high - low) / 2.0, 1e-12)

    def applies_to(self, scenario: Scenario) -> bool:
        return self.scenario in ("", scenario.name)

    def strategies(self, scenario: Scenario, default: str) -> list[str]:
        """The strategies this target is measured on in `scenario`."""
        if self.strategy == EVERY_STRATEGY:
            return [s.name for s in scenario.strategies]
        return [self.strategy or default]


@dataclass(frozen=True)
class TargetSet:
    """A whole targets file."""

    measurement: Measurement = field(metadata={"help": "how the model is run"})
    targets: tuple[Target, ...] = field(metadata={"min_len": 1, "help": "the targets"})
    parameters: tuple[FittedParameter, ...] = field(
        default=(), metadata={"help": "the parameters a calibration fits"}
    )
    description: str = field(default="", metadata={"help": "what the targets are for"})

    def __post_init__(self) -> None:
        for what, names in (
            ("target names", [t.name for t in self.targets]),
            ("parameter keys", [p.key for p in self.parameters]),
        ):
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                raise ValueError(f"{what} must be unique; repeated: {repeated}")
        earlier: list[str] = []
        for p in self.parameters:
            if p.relative_to and p.relative_to not in earlier:
                raise ValueError(
                    f"parameter {p.key}: relative_to {p.relative_to!r} must be the key of a "
                    f"parameter listed before it (one of {earlier})"
                )
            earlier.append(p.key)

    def for_scenario(self, scenario: Scenario, roles: tuple[str, ...] | None = None):
        """The targets that apply to `scenario`, optionally only those of `roles`."""
        return [
            t for t in self.targets if t.applies_to(scenario) and (roles is None or t.role in roles)
        ]


def load_targets(path: str | Path | None = None) -> TargetSet:
    """Load and validate a targets file (default: the project's); raise ScenarioError."""
    path = default_targets_path() if path is None else Path(path)
    return build(TargetSet, read_toml(path, what="targets"), file=str(path))
