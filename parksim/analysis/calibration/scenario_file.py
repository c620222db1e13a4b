"""Writing a calibrated scenario file: the original file's tables with the fitted values.

The file keeps everything the original scenario file set, adds the fitted parameters in
their tables, renames the scenario `<name>_calibrated`, and opens with a comment that says
where it came from. It is validated before it is written, and an existing file is never
overwritten. TOML is written with `tomli_w` (the standard library reads TOML but does not
write it); the header comment is prepended by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import tomli_w

from parksim import __version__
from parksim.analysis.calibration.fit import CalibrationResult, search_range
from parksim.analysis.calibration.targets import ParameterKey, TargetSet
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import read_toml, scenario_from_dict


def calibrated_data(source: Path, result: CalibrationResult) -> dict[str, Any]:
    """The source file's tables with the fitted values in place, renamed."""
    data = read_toml(source)  # as the scenario was read: a byte-order mark is fine
    for key in result.fitted:
        parsed = ParameterKey.parse(key)
        value = getattr(getattr(result.scenario, parsed.section), parsed.name)
        table = data.setdefault(parsed.section, {})
        table[parsed.name] = list(value) if isinstance(value, tuple) else value
    data["name"] = result.scenario.name
    return data


def header(source: Path, targets_path: Path | str, targets: TargetSet, result: CalibrationResult):
    """The opening comment: provenance, the fitted parameters and the fit targets."""
    m = targets.measurement
    lines = [
        f"# Calibrated by `parksim calibrate` (parksim {__version__}) from {source.as_posix()}",
        f"# to the fit targets of {Path(targets_path).as_posix()}: strategy {m.strategy}, "
        f"{m.horizon} quarters,",
        f"# {m.replications} replications from seed {m.seed} (the same seeds for every "
        "evaluation).",
        f"# Objective {result.objective_start:.3f} at the start, "
        f"{result.objective_fitted:.3f} fitted, after {len(result.evaluations)} evaluations.",
        "#",
        "# Fitted parameters (start -> fitted, search range):",
    ]
    for p in targets.parameters:
        lines.append(
            f"#   {p.key} = {result.start[p.key]:.4g} -> {result.fitted[p.key]:.4g} "
            f"{search_range(p)}"
        )
    lines += ["#", "# Targets (published figure, model at the fitted parameters, role):"]
    for row in result.table.itertuples():
        flag = "in band" if row.in_band else "OUT of band"
        lines.append(f"#   {row.target}: {row.value:.4g} vs {row.model:.4g} ({row.role}, {flag})")
    lines += [
        "#",
        "# Every other parameter keeps the value of the source file or its documented default.",
        "",
    ]
    return "\n".join(lines) + "\n"


def write_calibrated(
    source: Path,
    out: Path,
    targets_path: Path | str,
    targets: TargetSet,
    result: CalibrationResult,
) -> Path:
    """Write the calibrated scenario to `out` (which must not exist); return `out`."""
    data = calibrated_data(source, result)
    # What is written must load as the fitted scenario; a mismatch is a bug, not bad input.
    loaded = scenario_from_dict(data, file=str(out))
    if loaded != result.scenario:
        raise RuntimeError("the calibrated file would not reproduce the fitted scenario")
    text = header(source, targets_path, targets, result) + tomli_w.dumps(data)
    created = False
    try:
        with out.open("x", encoding="utf-8") as handle:
            created = True
            handle.write(text)
    except FileExistsError:
        raise ScenarioError(
            "", "a new file; calibrated scenarios are never overwritten", file=str(out)
        ) from None
    except OSError:  # a full disk: leave no half-written scenario behind
        if created:
            out.unlink(missing_ok=True)
        raise
    return out
