"""`parksim run --stress NAME` and `parksim reverse-stress`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from pathlib import Path

from parksim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_batch_size_argument,
    batch_size_problem,
)
from parksim.credit.stress import StressPath, load_presets, preset_names
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import load_scenario
from parksim.scenario.schema import Scenario

# `--preset scenario`: scale the scenario's own [stress] rather than a named preset.
SCENARIO_PATH = "scenario"


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """`--stress` and `--stress-start` of `parksim run`."""
    run.add_argument(
        "--stress",
        metavar="PRESET",
        help=f"run every strategy under a stress preset ({', '.join(preset_names())}; "
        "parksim/data/stress_presets.toml); replaces the scenario's and strategies' [stress]",
    )
    run.add_argument(
        "--stress-start",
        type=int,
        default=1,
        metavar="QUARTER",
        help="the quarter in which the preset's first quarter falls (default 1)",
    )


def stress_problem(args: argparse.Namespace) -> str | None:
    if args.stress is not None and args.stress not in preset_names():
        return f"--stress: expected one of {', '.join(preset_names())}, got {args.stress!r}"
    if args.stress_start < 1:
        return f"--stress-start: expected a quarter >= 1, got {args.stress_start}"
    return None


def with_stress(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """`scenario` with `--stress` as every strategy's stress path (none: unchanged)."""
    if args.stress is None:
        return scenario
    path = StressPath(preset=args.stress, start_quarter=args.stress_start)
    return dataclasses.replace(
        scenario,
        name=f"{scenario.name}-stress-{args.stress}",
        stress=path,
        strategies=tuple(dataclasses.replace(s, stress=None) for s in scenario.strategies),
    )


def add_reverse_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenario", type=Path, help="scenario TOML file")
    parser.add_argument("--strategy", required=True, help="the strategy tested")
    parser.add_argument(
        "--reference", help="the strategy it must beat (default: the scenario's reference)"
    )
    parser.add_argument(
        "--preset",
        default="severe",
        help=f"the stress path whose severity is scaled: a preset ({', '.join(preset_names())}; "
        "default severe) or `scenario` for the scenario's own [stress]",
    )
    parser.add_argument(
        "--stress-start", type=int, default=1, metavar="QUARTER", help="preset's first quarter"
    )
    parser.add_argument(
        "--metric",
        default="cum_net_profit",
        help="cum_COLUMN (summed over the quarters) or COLUMN (at the horizon); "
        "default cum_net_profit, e.g. cum_group_net_profit for the group view",
    )
    parser.add_argument(
        "--replications", type=int, default=50, help="pairs per severity (default 50)"
    )
    parser.add_argument("--seed", type=int, help="root random seed (default: the scenario's)")
    parser.add_argument(
        "--max-severity", type=float, default=4.0, help="largest severity tried (default 4)"
    )
    parser.add_argument(
        "--tolerance", type=float, default=0.05, help="bisection bracket width (default 0.05)"
    )
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    add_batch_size_argument(parser)
    parser.add_argument("--out", type=Path, help="also write the result as JSON to this file")


def reverse_stress_command(args: argparse.Namespace) -> int:
    from parksim.analysis.reverse_stress import reverse_stress

    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"parksim: invalid scenario\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    reference = args.reference or scenario.reference_strategy
    problem = _reverse_problem(args, scenario, reference)
    if problem:
        print(f"parksim reverse-stress: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    path = (
        scenario.stress
        if args.preset == SCENARIO_PATH
        else StressPath(preset=args.preset, start_quarter=args.stress_start)
    )
    try:
        result = reverse_stress(
            scenario,
            args.strategy,
            reference,
            path,
            metric=args.metric,
            replications=args.replications,
            seed=args.seed,
            workers=args.workers,
            batch_size=args.batch_size,
            max_severity=args.max_severity,
            tolerance=args.tolerance,
        )
    except ValueError as error:
        print(f"parksim reverse-stress: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(
        result.table()
        .round({"severity": 3, "mean": 1, "ci_low": 1, "ci_high": 1})
        .to_string(index=False)
    )
    print(_verdict(result, args, reference))
    if args.out is not None:
        args.out.write_text(json.dumps(_as_json(result, args, reference), indent=2) + "\n")
        print(f"wrote {args.out}")
    return EXIT_OK


def _reverse_problem(args: argparse.Namespace, scenario: Scenario, reference: str) -> str | None:
    names = scenario.names
    for option, name in (("--strategy", args.strategy), ("--reference", reference)):
        if name not in names:
            return f"{option}: expected one of {', '.join(names)}, got {name!r}"
    if args.strategy == reference:
        return "--strategy and --reference must differ"
    if args.preset == SCENARIO_PATH:
        if not scenario.stress.active:
            return "--preset scenario: the scenario has no [stress] to scale"
    elif args.preset not in load_presets():
        choices = ", ".join((*preset_names(), SCENARIO_PATH))
        return f"--preset: expected one of {choices}, got {args.preset!r}"
    if args.replications < 2:
        return f"--replications: expected at least 2, got {args.replications}"
    if args.workers < 1:
        return f"--workers: expected a positive integer, got {args.workers}"
    if batch_size_problem(args):
        return batch_size_problem(args)
    if not (args.max_severity > 0 and math.isfinite(args.max_severity)):
        return f"--max-severity: expected a positive number, got {args.max_severity}"
    if not args.tolerance > 0:
        return f"--tolerance: expected a positive number, got {args.tolerance}"
    if args.stress_start < 1:
        return f"--stress-start: expected a quarter >= 1, got {args.stress_start}"
    if args.out is not None and args.out.exists():
        return f"--out: {args.out} already exists; results are never overwritten"
    return None


def _verdict(result, args: argparse.Namespace, reference: str) -> str:
    pct = round(100 * result.level)
    head = f"{args.strategy} vs {reference}, {args.metric}, preset {args.preset} × severity:"
    if math.isnan(result.threshold):
        return (
            f"{head} still better (the {pct} % interval of the difference above 0) at "
            f"severity {result.max_severity:g}; raise --max-severity"
        )
    low, high = result.interval
    return (
        f"{head} stops beating its reference (the {pct} % interval of the difference "
        f"reaches 0) at severity {result.threshold:.3f} (bisection bracket "
        f"{result.bracket[0]:.3f}-{result.bracket[1]:.3f}; {pct} % bootstrap interval "
        f"{low:.3f}-{high:.3f}); mean difference reaches 0 at "
        f"{'(not bracketed)' if math.isnan(result.break_even) else f'{result.break_even:.3f}'}"
    )


def _as_json(result, args: argparse.Namespace, reference: str) -> dict:
    def num(x: float) -> float | None:
        return None if math.isnan(x) else (str(x) if math.isinf(x) else x)

    return {
        "scenario": str(args.scenario),
        "strategy": args.strategy,
        "reference": reference,
        "preset": args.preset,
        "metric": args.metric,
        "replications": args.replications,
        "level": result.level,
        "threshold": num(result.threshold),
        "bracket": list(result.bracket),
        "interval": [num(x) for x in result.interval],
        "break_even": num(result.break_even),
        "evaluations": result.table().to_dict(orient="records"),
    }
