"""Stress paths: the economy forced off its random course in given quarters.

A stress path is a list of periods (quarters ``from_quarter``..``to_quarter``), each of
which may

- shift the mean of the credit engine's macro factor by ``macro_shift`` standard
  deviations (the factor is the engine's AR(1) draw plus the shift: the shift moves the
  quarter's factor exactly, and the cycle's own persistence is left untouched, so the
  factor returns to its unstressed path after the period);
- force the IPO window ``"open"`` or ``"shut"`` (absent: the model's rule, the macro
  factor against ``equity.ipo_window_floor``);
- multiply firms' valuations (their marks) and the exit multiples by
  ``valuation_factor``;
- shift the banks' funding cost (the FTP rate, ``lending.funding_cost``) and the loan
  reference rate (the LPR, ``lending.base_rate``; outside lenders' rate unchanged) by
  ``funding_cost_shift`` and ``loan_rate_shift`` percentage points.

Named presets (``mild``, ``severe``) live in parksim/data/stress_presets.toml with their
sources and the rule that maps a GDP shock to a macro shift. A path's ``severity`` s
scales every shift (macro and rate shifts × s, valuation factors ^ s); a forced IPO
window is kept for any s > 0 and dropped at s = 0.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

from parksim.core.units import PERCENTAGE_POINT

__all__ = [
    "NO_STRESS",
    "PRESETS_FILE",
    "StressPath",
    "StressPeriod",
    "StressQuarter",
    "load_presets",
    "preset_names",
    "stress_schedule",
]

PRESETS_FILE = Path(__file__).resolve().parents[1] / "data" / "stress_presets.toml"

IpoWindow = Literal["open", "shut"]


@dataclass(frozen=True)
class StressPeriod:
    """One period of a stress path: quarters ``from_quarter``..``to_quarter`` inclusive."""

    from_quarter: int = field(metadata={"min": 1, "help": "first quarter of the period"})
    to_quarter: int = field(metadata={"min": 1, "help": "last quarter of the period (inclusive)"})
    macro_shift: float = field(
        default=0.0,
        metadata={
            "unit": "sd of the macro factor",
            "help": "added to the credit engine's macro factor in these quarters (negative: "
            "a downturn); presets map GDP growth to it at 2 pp of growth per sd "
            "(parksim/data/stress_presets.toml)",
        },
    )
    ipo_window: IpoWindow | None = field(
        default=None,
        metadata={
            "help": '"open" or "shut" in these quarters; absent: the model decides (the '
            "macro factor against equity.ipo_window_floor)"
        },
    )
    valuation_factor: float = field(
        default=1.0,
        metadata={
            "unit": "×",
            "exclusive_min": 0.0,
            "help": "multiplies firms' valuations (marks) and the exit multiples, on top of "
            "the model's cyclical multiples",
        },
    )
    funding_cost_shift: float = field(
        default=0.0,
        metadata={
            "unit": "percentage points",
            "help": "added to the banks' annual funding cost (lending.funding_cost, the FTP "
            "rate), e.g. -0.2 = 20 bp lower",
        },
    )
    loan_rate_shift: float = field(
        default=0.0,
        metadata={
            "unit": "percentage points",
            "help": "added to the loan reference rate (lending.base_rate, the LPR) for loans "
            "priced in these quarters; the outside lenders' rate stays",
        },
    )

    def __post_init__(self) -> None:
        if self.to_quarter < self.from_quarter:
            raise ValueError(
                f"to_quarter ({self.to_quarter}) must not be before from_quarter "
                f"({self.from_quarter})"
            )

    def scaled(self, severity: float, offset: int = 0) -> StressPeriod:
        """This period at `severity` (shifts × s, valuation factor ^ s, a forced window
        dropped at s = 0), moved `offset` quarters later."""
        return replace(
            self,
            from_quarter=self.from_quarter + offset,
            to_quarter=self.to_quarter + offset,
            macro_shift=self.macro_shift * severity,
            ipo_window=self.ipo_window if severity > 0 else None,
            valuation_factor=self.valuation_factor**severity,
            funding_cost_shift=self.funding_cost_shift * severity,
            loan_rate_shift=self.loan_rate_shift * severity,
        )


@dataclass(frozen=True)
class StressPath:
    """A scenario's or a strategy's ``[stress]``: a named preset, its own periods, or both.

    A strategy's ``[stress]`` replaces the scenario's (give both the preset and the
    periods it wants); a strategy without one runs the scenario's."""

    preset: str = field(
        default="",
        metadata={
            "help": "a named path of parksim/data/stress_presets.toml (mild, severe); empty: none"
        },
    )
    severity: float = field(
        default=1.0,
        metadata={
            "unit": "×",
            "min": 0.0,
            "help": "scales every period (the preset's and the own): shifts × severity, "
            "valuation factors ^ severity; 0 is no stress",
        },
    )
    start_quarter: int = field(
        default=1,
        metadata={"min": 1, "help": "the scenario quarter in which the preset's quarter 1 falls"},
    )
    periods: tuple[StressPeriod, ...] = field(
        default=(),
        metadata={"help": "[[stress.periods]]: own periods, in scenario quarters"},
    )

    def __post_init__(self) -> None:
        if self.preset and self.preset not in preset_names():
            raise ValueError(
                f"preset: expected one of {', '.join(preset_names())}, got {self.preset!r}"
            )
        if not math.isfinite(self.severity):
            raise ValueError(f"severity must be finite, got {self.severity!r}")
        quarters = sorted((p.from_quarter, p.to_quarter) for p in self.resolved())
        for (_, end), (start, _) in itertools.pairwise(quarters):
            if start <= end:
                raise ValueError(
                    f"periods overlap in quarter {start} (the preset's periods count, moved "
                    "by start_quarter); give each quarter one period"
                )

    @property
    def active(self) -> bool:
        return bool(self.preset or self.periods)

    def resolved(self) -> tuple[StressPeriod, ...]:
        """Every period in scenario quarters, at this path's severity."""
        own = tuple(p.scaled(self.severity) for p in self.periods)
        if not self.preset:
            return own
        offset = self.start_quarter - 1
        preset = load_presets()[self.preset]["periods"]
        return tuple(p.scaled(self.severity, offset) for p in preset) + own

    def at_severity(self, severity: float) -> StressPath:
        return replace(self, severity=severity)


class StressQuarter(NamedTuple):
    """What a stress path imposes in one quarter (rates as fractions a year)."""

    macro_shift: float
    ipo_window: IpoWindow | None
    valuation_factor: float
    funding_cost_shift: float
    loan_rate_shift: float


NO_STRESS = StressQuarter(0.0, None, 1.0, 0.0, 0.0)


def stress_schedule(path: StressPath | None, horizon: int) -> tuple[StressQuarter, ...]:
    """The quarter-by-quarter stress of `path`, indexed by quarter 0..horizon (quarter 0,
    the opening, is never stressed); periods past the horizon are cut."""
    quarters = [NO_STRESS] * (horizon + 1)
    for p in path.resolved() if path is not None else ():
        given = StressQuarter(
            p.macro_shift,
            p.ipo_window,
            p.valuation_factor,
            p.funding_cost_shift * PERCENTAGE_POINT,
            p.loan_rate_shift * PERCENTAGE_POINT,
        )
        for q in range(p.from_quarter, min(p.to_quarter, horizon) + 1):
            quarters[q] = given
    return tuple(quarters)


@cache
def load_presets() -> dict[str, dict[str, Any]]:
    """The named presets: name → {"description", "source", "periods"}."""
    with PRESETS_FILE.open("rb") as f:
        data = tomllib.load(f)
    presets = {}
    for name, table in data["presets"].items():
        periods = tuple(StressPeriod(**period) for period in table["periods"])
        presets[name] = {
            "description": table.get("description", ""),
            "source": table.get("source", ""),
            "periods": periods,
        }
    return presets


def preset_names() -> tuple[str, ...]:
    return tuple(load_presets())
