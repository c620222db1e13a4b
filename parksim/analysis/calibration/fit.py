"""Calibration by simulated moments with common random numbers.

The objective is Σ_k w_k ((m_k(θ) − t_k) / s_k)² over the `fit` targets, where m_k(θ) is
the model's moment with parameters θ, t_k the published figure and s_k half its agreement
band. Every evaluation runs the same replications with the same seeds (common random
numbers), so a difference between two parameter vectors comes from θ, not from luck.

Common random numbers do not make the objective smooth, though: when one firm's fate
flips, every later draw of the run shifts, so the objective jumps at small changes of θ
and a direct search chases noise. The search therefore fits each moment with a response
surface (quadratic in each parameter) over a Latin-hypercube design of evaluations, and
minimises the objective on the surfaces (`scipy.optimize.minimize`, L-BFGS-B); a second
stage repeats this in a smaller box around the first stage's optimum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats.qmc import LatinHypercube

from parksim.analysis.calibration.moments import MOMENTS
from parksim.analysis.calibration.observe import Observation, observe
from parksim.analysis.calibration.targets import (
    PARAMETER_MOMENT,
    FittedParameter,
    Measurement,
    ParameterKey,
    Target,
    TargetSet,
)
from parksim.model import ParkModel
from parksim.scenario import addresses
from parksim.scenario.schema import Scenario
from parksim.scenario.validate import build, to_dict

DEFAULT_EVALUATIONS = 150
# Misfit of a moment the runs could not measure (e.g. an empty cohort).
UNMEASURABLE = 1e6
# Fitted values are rounded to this many significant digits before the final measurement,
# so the scenario file written reproduces the reported table exactly.
SIGNIFICANT_DIGITS = 4
TABLE_COLUMNS = (
    "target",
    "role",
    "value",
    "band_low",
    "band_high",
    "model",
    "se",
    "gap",
    "in_band",
    "known_gap",
    "source",
    "note",
)


def with_parameters(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """`scenario` with the parameters `values` (keys such as `lifecycle.failure_pd[0]`)."""
    data = to_dict(scenario)
    for key, value in values.items():
        addresses.write(data, str(ParameterKey.parse(key)), float(value))
    return build(Scenario, data, file="<calibration>")


def search_values(targets: TargetSet, scenario: Scenario) -> dict[str, float]:
    """The parameters as the search sees them in `scenario`: values, or multiples of the
    parameter they are relative to."""
    values = {p.key: p.parsed.read(scenario) for p in targets.parameters}
    return {
        p.key: values[p.key] / values[p.relative_to] if p.relative_to else values[p.key]
        for p in targets.parameters
    }


def scenario_values(targets: TargetSet, search: Mapping[str, float]) -> dict[str, float]:
    """Scenario values from search values (multiples resolved in the parameters' order),
    rounded to `SIGNIFICANT_DIGITS` so that a written file reproduces them exactly."""
    values: dict[str, float] = {}
    for p in targets.parameters:
        value = float(search[p.key])
        if p.relative_to:
            value *= values[p.relative_to]
        values[p.key] = _round(value)
    return values


def seeds(measurement: Measurement) -> list[np.random.SeedSequence]:
    """The replications' seeds: the same for every evaluation (common random numbers)."""
    return np.random.SeedSequence(measurement.seed).spawn(measurement.replications)


def simulate(scenario: Scenario, measurement: Measurement) -> list[Observation]:
    """Run the measurement's replications of `scenario` and observe each.

    One model at a time, not through `simulate_batch`: `observe` reads each run's
    population quarter by quarter (entrants, equity rounds, the loan book), which the
    metric arrays of a batch do not hold."""
    runs = []
    for seed in seeds(measurement):
        model = ParkModel(
            scenario,
            measurement.strategy,
            rng=np.random.default_rng(seed),
            collect=False,
            horizon=measurement.horizon,
        )
        runs.append(observe(model))
    return runs


def moment_value(target: Target, runs: list[Observation], scenario: Scenario) -> float:
    """The model's value of `target`: a moment of the runs, or a scenario parameter."""
    if target.moment == PARAMETER_MOMENT:
        return ParameterKey.parse(target.args["key"]).read(scenario)
    return float(MOMENTS[target.moment](runs, **target.args))


def measure(
    scenario: Scenario,
    targets: TargetSet,
    runs: list[Observation] | None = None,
    roles: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """Each target that applies to `scenario` against the model: one row per target.

    `runs` are runs of the measurement's strategy (simulated if not given); a target with
    its own `strategy` is measured on runs of that strategy (the measurement's horizon,
    replications and seeds), and one with `strategy = "*"` on every strategy of the
    scenario, one row each, named `target[strategy]`.
    `se` is the Monte Carlo standard error (the spread of the per-replication values over
    √replications); `gap` is model − value; `in_band` whether the model lies in the band.
    """
    targets_here = targets.for_scenario(scenario, roles)
    default = targets.measurement.strategy
    runs_of: dict[str, list[Observation]] = {} if runs is None else {default: runs}
    known = {s.name for s in scenario.strategies}

    def runs_for(strategy: str) -> list[Observation]:
        if strategy not in runs_of:
            if strategy not in known:
                raise ValueError(
                    f"a target is measured on strategy {strategy!r}, which scenario "
                    f"{scenario.name!r} does not have; it has {sorted(known)}"
                )
            runs_of[strategy] = simulate(scenario, replace(targets.measurement, strategy=strategy))
        return runs_of[strategy]

    rows = []
    for target in targets_here:
        strategies = target.strategies(scenario, default)
        for strategy in strategies:
            observed = [] if target.moment == PARAMETER_MOMENT else runs_for(strategy)
            model = moment_value(target, observed, scenario)
            se = _standard_error(target, observed, scenario)
            low, high = target.band
            name = (
                target.name
                if len(strategies) == 1 and not target.strategy
                else (f"{target.name}[{strategy}]")
            )
            rows.append(
                (
                    name,
                    target.role,
                    target.value,
                    low,
                    high,
                    model,
                    se,
                    model - target.value,
                    bool(low <= model <= high),
                    target.known_gap,
                    target.source,
                    target.note,
                )
            )
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def base_name(row: str) -> str:
    """The target of a `measure` row: `cost_income[tier2_heavy]` -> `cost_income`."""
    return row.split("[", 1)[0]


def _standard_error(target: Target, runs: list[Observation], scenario: Scenario) -> float:
    if target.moment == PARAMETER_MOMENT or len(runs) < 2:
        return 0.0
    per_run = np.array([moment_value(target, [run], scenario) for run in runs])
    per_run = per_run[np.isfinite(per_run)]
    if len(per_run) < 2:
        return np.nan
    return float(per_run.std(ddof=1) / np.sqrt(len(per_run)))


def misfit(targets: list[Target], runs: list[Observation], scenario: Scenario) -> float:
    """Σ weight · ((model − value) / half band)² over `targets`."""
    total = 0.0
    for target in targets:
        model = moment_value(target, runs, scenario)
        if not np.isfinite(model):
            return UNMEASURABLE
        total += target.weight * ((model - target.value) / target.scale) ** 2
    return total


@dataclass
class CalibrationResult:
    """What a calibration found, and how the targets compare before and after."""

    scenario: Scenario  # the fitted scenario (name `<name>_calibrated`)
    start: dict[str, float]
    fitted: dict[str, float]
    table: pd.DataFrame  # every target of the scenario, measured at the fitted parameters
    start_table: pd.DataFrame  # the same at the starting parameters
    objective_start: float
    objective_fitted: float
    # One row per model evaluation: stage (1 or 2), the parameters, the fit moments and
    # the objective; and the R² of each fit moment's response surface in the last stage.
    evaluations: pd.DataFrame = field(default_factory=pd.DataFrame)
    surface_r2: dict[str, float] = field(default_factory=dict)


def calibrate(
    scenario: Scenario,
    targets: TargetSet,
    *,
    max_evaluations: int = DEFAULT_EVALUATIONS,
    shrink: float = 0.3,
    progress: Callable[[int, float, dict[str, float]], None] | None = None,
) -> CalibrationResult:
    """Fit `targets.parameters` of `scenario` to its `fit` targets.

    Two stages of `max_evaluations` between them (60% and 40%). Each evaluates the model
    on a Latin-hypercube design over a box of the parameters (stage 1: their whole ranges;
    stage 2: a box `shrink` times as wide around stage 1's optimum), fits every fit moment
    with a response surface quadratic in each parameter, and minimises the objective on
    those surfaces with L-BFGS-B. The surfaces average out what common random numbers
    cannot: one firm's different fate shifts the random streams of every later draw, so
    the simulated objective is noisy at small parameter changes. Returns the fitted
    scenario, renamed `<name>_calibrated`, with the table of every target before and after.
    """
    problem = _Problem.of(scenario, targets, progress)
    first = max(int(0.6 * max_evaluations), problem.minimum_design)
    second = max(max_evaluations - first, problem.minimum_design)
    box = (np.zeros(problem.dimension), np.ones(problem.dimension))
    best = problem.stage(1, box, first, start=problem.start_unit)
    box = (np.clip(best - shrink / 2, 0, 1), np.clip(best + shrink / 2, 0, 1))
    best = problem.stage(2, box, second, start=best)

    fitted_values = problem.values_at(best)
    fitted = replace(with_parameters(scenario, fitted_values), name=f"{scenario.name}_calibrated")
    start_runs = simulate(scenario, targets.measurement)
    fitted_runs = simulate(fitted, targets.measurement)
    return CalibrationResult(
        scenario=fitted,
        start={p.key: p.parsed.read(scenario) for p in targets.parameters},
        fitted=fitted_values,
        table=measure(fitted, targets, fitted_runs),
        start_table=measure(scenario, targets, start_runs),
        objective_start=misfit(problem.fit_targets, start_runs, scenario),
        objective_fitted=misfit(problem.fit_targets, fitted_runs, fitted),
        evaluations=problem.history(),
        surface_r2=problem.surface_r2,
    )


@dataclass
class _Problem:
    """The calibration problem in the unit cube of the parameters' ranges."""

    scenario: Scenario
    targets: TargetSet
    fit_targets: list[Target]
    lower: np.ndarray
    width: np.ndarray
    start_unit: np.ndarray
    progress: Callable[[int, float, dict[str, float]], None] | None
    points: list[tuple[int, np.ndarray, np.ndarray, float]] = field(default_factory=list)
    surface_r2: dict[str, float] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario, targets: TargetSet, progress) -> _Problem:
        parameters = targets.parameters
        if not parameters:
            raise ValueError("the targets file names no [[parameters]] to fit")
        fit_targets = targets.for_scenario(scenario, ("fit",))
        if not fit_targets:
            raise ValueError(f"no target with role 'fit' applies to scenario {scenario.name!r}")
        for p in parameters:  # both ends of an absolute range must give a valid scenario
            if not p.relative_to:
                with_parameters(scenario, {p.key: p.lower})
                with_parameters(scenario, {p.key: p.upper})
        lower = np.array([p.lower for p in parameters])
        width = np.array([p.upper for p in parameters]) - lower
        start = np.array(list(search_values(targets, scenario).values()))
        start_unit = np.clip((start - lower) / width, 0.0, 1.0)
        return cls(scenario, targets, fit_targets, lower, width, start_unit, progress)

    @property
    def dimension(self) -> int:
        return len(self.lower)

    @property
    def minimum_design(self) -> int:
        """Evaluations a response surface needs, with a few to spare."""
        return _features(np.zeros((1, self.dimension))).shape[1] + 4

    def values_at(self, unit: np.ndarray) -> dict[str, float]:
        """The scenario values of the parameters at a point of the unit cube."""
        search = self.lower + self.width * np.clip(unit, 0.0, 1.0)
        keys = [p.key for p in self.targets.parameters]
        return scenario_values(self.targets, dict(zip(keys, search, strict=True)))

    def evaluate(self, stage: int, unit: np.ndarray) -> None:
        """Run the model at `unit`; record its fit moments and objective."""
        values = self.values_at(unit)
        candidate = with_parameters(self.scenario, values)
        runs = simulate(candidate, self.targets.measurement)
        moments = np.array([moment_value(t, runs, candidate) for t in self.fit_targets])
        objective = self._objective(moments)
        self.points.append((stage, unit.copy(), moments, objective))
        if self.progress is not None:
            self.progress(len(self.points), objective, values)

    def _objective(self, moments: np.ndarray) -> float:
        if not np.all(np.isfinite(moments)):
            return UNMEASURABLE
        value = np.array([t.value for t in self.fit_targets])
        scale = np.array([t.scale for t in self.fit_targets])
        weight = np.array([t.weight for t in self.fit_targets])
        return float(np.sum(weight * ((moments - value) / scale) ** 2))

    def stage(
        self, stage: int, box: tuple[np.ndarray, np.ndarray], n: int, start: np.ndarray
    ) -> np.ndarray:
        """Evaluate a design of `n` points in `box` (`start` among them); return the
        surfaces' optimum in the box."""
        low, high = box
        design = LatinHypercube(d=self.dimension, seed=self.targets.measurement.seed + stage)
        for unit in low + (high - low) * design.random(n - 1):
            self.evaluate(stage, unit)
        self.evaluate(stage, np.clip(start, low, high))
        inside = [p for p in self.points if np.all((p[1] >= low - 1e-12) & (p[1] <= high + 1e-12))]
        coefficients = self._fit_surfaces(inside)

        def predicted(unit: np.ndarray) -> float:
            return self._objective(_features(unit[None, :])[0] @ coefficients.T)

        observed = sorted(inside, key=lambda p: p[3])[:5]
        starts = [p[1] for p in observed] + [(low + high) / 2]
        results = [
            minimize(predicted, x0, method="L-BFGS-B", bounds=list(zip(low, high, strict=True)))
            for x0 in starts
        ]
        return np.clip(min(results, key=lambda r: r.fun).x, low, high)

    def _fit_surfaces(self, points: list) -> np.ndarray:
        """One row of surface coefficients per fit moment, through the evaluated `points`."""
        units = np.array([p[1] for p in points])
        moments = np.array([p[2] for p in points])
        surfaces = []
        for k, target in enumerate(self.fit_targets):
            coefficients, r2 = _fit_surface(units, moments[:, k])
            surfaces.append(coefficients)
            self.surface_r2[target.name] = r2
        return np.array(surfaces)

    def history(self) -> pd.DataFrame:
        keys = [p.key for p in self.targets.parameters]
        rows = []
        for number, (stage, unit, moments, objective) in enumerate(self.points, start=1):
            row = {"evaluation": number, "stage": stage, "objective": objective}
            row.update(self.values_at(unit))
            row.update({t.name: m for t, m in zip(self.fit_targets, moments, strict=True)})
            rows.append(row)
        return pd.DataFrame(
            rows,
            columns=[
                "evaluation",
                "stage",
                "objective",
                *keys,
                *[t.name for t in self.fit_targets],
            ],
        )


def _features(unit: np.ndarray) -> np.ndarray:
    """Features of points in the unit cube: 1, u_i and u_i². Cross terms are left out:
    each moment hangs mainly on one or two parameters, and with d parameters they would
    add d(d−1)/2 coefficients that the noise of the evaluations would mostly fit."""
    return np.column_stack([np.ones(len(unit)), unit, unit**2])


def _fit_surface(units: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Least-squares surface through the finite values; its coefficients and R²."""
    finite = np.isfinite(values)
    x, y = _features(units[finite]), values[finite]
    coefficients, *_ = np.linalg.lstsq(x, y, rcond=None)
    residual = y - x @ coefficients
    total = np.sum((y - y.mean()) ** 2)
    return coefficients, float(1.0 - residual @ residual / total) if total > 0 else 1.0


def _round(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def search_range(p: FittedParameter) -> str:
    """`[lower, upper]`, as multiples of the reference for a relative parameter."""
    text = f"[{p.lower:g}, {p.upper:g}]"
    return f"{text} × {p.relative_to}" if p.relative_to else text


def describe_fit(result: CalibrationResult, targets: TargetSet) -> pd.DataFrame:
    """One row per fitted parameter: key, start, fitted, range and note."""
    rows: list[dict[str, Any]] = []
    for p in targets.parameters:
        rows.append(
            {
                "parameter": p.key,
                "start": result.start[p.key],
                "fitted": result.fitted[p.key],
                "search range": search_range(p),
                "note": p.note,
            }
        )
    return pd.DataFrame(rows)
