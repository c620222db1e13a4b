"""Calibration and validation: targets with sources, moments, a simulated-moments fit.

- `targets`: the targets file (figures, sources, bands, roles) and the fitted parameters;
- `observe`, `moments`: what a run is measured by, and how each target is measured;
- `fit`: the objective with common random numbers and the Nelder-Mead search;
- `scenario_file`, `command`: writing the fitted scenario, `parksim calibrate`;
- `checks`: the engine, the degenerate model and Basel's formula against closed forms;
- `validation`, `charts`: regenerate docs/validation.md and its charts.
"""

from parksim.analysis.calibration.fit import CalibrationResult, calibrate, measure, with_parameters
from parksim.analysis.calibration.observe import Observation, observe
from parksim.analysis.calibration.targets import TargetSet, load_targets

__all__ = [
    "CalibrationResult",
    "Observation",
    "TargetSet",
    "calibrate",
    "load_targets",
    "measure",
    "observe",
    "with_parameters",
]
