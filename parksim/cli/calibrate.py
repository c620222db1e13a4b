"""`parksim calibrate SCENARIO TARGETS`: fit a scenario to targets, write the fitted file.

Exit status as for the other commands: 0 done, 2 bad input (targets file, arguments, an
output file that exists), 3 the file could not be written (then none is left), with one
clear message and no traceback. The fitted scenario is
written next to the source as `<stem>_calibrated.toml` unless `--out` says otherwise; an
existing file is never overwritten.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from parksim.analysis.calibration.fit import DEFAULT_EVALUATIONS, calibrate, describe_fit
from parksim.analysis.calibration.scenario_file import write_calibrated
from parksim.analysis.calibration.targets import TargetSet, load_targets
from parksim.cli.common import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNWRITABLE
from parksim.ensemble.folders import disk_problem
from parksim.scenario.errors import ScenarioError
from parksim.scenario.schema import Scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of the `calibrate` subcommand."""
    parser.add_argument("scenario", type=Path, help="scenario TOML file to calibrate")
    parser.add_argument(
        "targets", type=Path, help="targets TOML file (the project's: parksim/data/targets.toml)"
    )
    parser.add_argument(
        "--out", type=Path, help="calibrated scenario to write (default: <stem>_calibrated.toml)"
    )
    parser.add_argument(
        "--max-evaluations",
        type=int,
        default=DEFAULT_EVALUATIONS,
        help=f"model evaluations the search may spend (default {DEFAULT_EVALUATIONS})",
    )
    parser.add_argument("--replications", type=int, help="runs per evaluation (default: targets)")
    parser.add_argument("--seed", type=int, help="root seed of the runs (default: targets)")
    parser.add_argument("--quiet", action="store_true", help="no progress or table")


def calibrate_command(scenario: Scenario, args: argparse.Namespace) -> int:
    """Run `parksim calibrate` on a loaded scenario; return the exit status."""
    try:
        targets = _targets(args, scenario)
    except ScenarioError as error:
        print(f"parksim: invalid targets\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValueError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or args.scenario.with_name(f"{args.scenario.stem}_calibrated.toml")
    if out.exists():
        print(f"parksim: --out: {out} already exists; it is never overwritten", file=sys.stderr)
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    try:
        result = calibrate(
            scenario,
            targets,
            max_evaluations=args.max_evaluations,
            progress=None if args.quiet else _progress,
        )
    except ValueError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        write_calibrated(args.scenario, out, args.targets, targets, result)
    except ScenarioError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"parksim: {out}: cannot write: {disk_problem(error)}", file=sys.stderr)
        return EXIT_UNWRITABLE
    if not args.quiet:
        with pd.option_context("display.width", 160, "display.max_colwidth", 40):
            print(describe_fit(result, targets).drop(columns="note").to_string(index=False))
            columns = ["target", "role", "value", "model", "se", "gap", "in_band"]
            print(result.table[columns].to_string(index=False, float_format="{:.4g}".format))
        print(f"wrote {out} in {time.perf_counter() - started:.0f} s")
    return EXIT_OK


def _targets(args: argparse.Namespace, scenario: Scenario) -> TargetSet:
    """The targets file with the command line's measurement overrides, checked."""
    for name in ("max_evaluations", "replications"):
        value = getattr(args, name)
        if value is not None and value < 1:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag}: expected a positive integer, got {value}")
    if args.seed is not None and args.seed < 0:
        raise ValueError(f"--seed: expected a non-negative integer, got {args.seed}")
    targets = load_targets(args.targets)
    measurement = targets.measurement
    if args.replications is not None:
        measurement = replace(measurement, replications=args.replications)
    if args.seed is not None:
        measurement = replace(measurement, seed=args.seed)
    if measurement.strategy not in scenario.names:
        raise ScenarioError(
            "measurement.strategy",
            f"a strategy of scenario {scenario.name!r} ({', '.join(scenario.names)})",
            repr(measurement.strategy),
            file=str(args.targets),
        )
    return replace(targets, measurement=measurement)


def _progress(evaluation: int, objective: float, values: dict[str, float]) -> None:
    shown = ", ".join(f"{key}={value:.4g}" for key, value in values.items())
    print(f"[{evaluation:4d}] objective {objective:9.3f}  {shown}", file=sys.stderr, flush=True)
