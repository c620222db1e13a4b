"""`parksim sensitivity SCENARIO`: a Morris or Sobol study of the assumed parameters.

Exit status as for `parksim run`: 0 done, 1 some points failed (the others are analysed
and kept; `--resume` retries the failed ones), 2 bad input (one line naming the flag or
key and what was expected; no folder is written), 3 the disk refused a write (full,
read-only, no permission, a file in the way: one line saying what was kept, no folder or
one that `--resume` finishes), 130 interrupted by Ctrl-C and 143 stopped by SIGTERM
(finished points are kept for `--resume`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from parksim.analysis.sensitivity import METHODS
from parksim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNWRITABLE,
    add_batch_size_argument,
    executor_problem,
    interrupted_status,
    recorded_workers,
    workers_option,
)
from parksim.ensemble.executors import EXECUTOR_KINDS
from parksim.ensemble.folders import FolderUnwritable, ResultsFolderError
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import load_scenario


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of the `sensitivity` subcommand."""
    parser.add_argument(
        "scenario", type=Path, nargs="?", help="scenario TOML file (not with --resume)"
    )
    parser.add_argument("--method", choices=METHODS, default="morris", help="default morris")
    parser.add_argument("--trajectories", type=int, help="Morris trajectories (default 10)")
    parser.add_argument(
        "--samples", type=int, help="Sobol base samples, a power of two (default 64)"
    )
    parser.add_argument(
        "--replications", type=int, default=4, help="replications per strategy and point"
    )
    parser.add_argument(
        "--parameters",
        help="comma-separated parameter addresses ranged in parksim/data/assumptions.toml, "
        "e.g. tiers.2.0.signal_noise,lifecycle.refused_failure_mult (default: every ranged one)",
    )
    parser.add_argument(
        "--structural",
        action="store_true",
        help="also vary the structural assumptions (park size and entry rate, the main "
        "competitor's tier and response lag, where equity is booked, stress severity)",
    )
    parser.add_argument(
        "--pair",
        action="append",
        metavar="STRATEGY:VERSUS",
        help="a difference to study, e.g. to2_q4_heavy:stay_1_heavy (repeatable); the study "
        "runs only these pairs' strategies (default: every strategy, the rule's pairs)",
    )
    parser.add_argument(
        "--metrics", help="comma-separated metrics of differences.csv (default: all)"
    )
    parser.add_argument("--seed", type=int, help="root random seed (default: the scenario's)")
    parser.add_argument("--out", type=Path, help="study folder to create (must not exist)")
    parser.add_argument("--results", type=Path, default=Path("results"), help="results root")
    parser.add_argument(
        "--resume", type=Path, metavar="STUDY_DIR", help="continue an interrupted study"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="worker processes (default 1; with --resume: as many as the study had)",
    )
    parser.add_argument("--executor", choices=EXECUTOR_KINDS, help="serial, processes or dask")
    parser.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run on this existing Dask cluster"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    parser.add_argument(
        "--no-charts",
        action="store_true",
        help="write the tables only, no figures/ (draw them later with `parksim plot STUDY_DIR`)",
    )
    add_batch_size_argument(parser)
    # The run command's checks read these; a study sizes its own chunks.
    parser.set_defaults(chunk_size=None)


def _keys(text: str | None) -> list[str] | None:
    return None if text is None else [k.strip() for k in text.split(",") if k.strip()]


def sensitivity_command(args: argparse.Namespace) -> int:
    """Run `parksim sensitivity`; return the exit status."""

    problem = executor_problem(args) or _problem(args)
    if problem:
        print(f"parksim: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.resume is not None:
        if args.workers is None and args.scheduler is None and args.executor is None:
            args.workers = _recorded_workers(args.resume)
        return _execute(args, args.resume, None, None)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"parksim: invalid scenario\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    from parksim.analysis.sensitivity.study import make_plan

    size = args.trajectories if args.method == "morris" else args.samples
    try:
        plan = make_plan(
            scenario,
            args.method,
            size,
            args.replications,
            args.seed,
            _keys(args.parameters),
            _keys(args.metrics),
            pairs=args.pair,
            structural=args.structural,
        )
    except ValueError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out or _default_folder(args.results, scenario.name, plan.method)
    return _execute(args, out, scenario, plan)


def _problem(args: argparse.Namespace) -> str | None:
    if args.resume is not None:
        if args.scenario is not None or args.out is not None:
            return "--resume: a resumed study keeps its scenario and folder; drop them"
        return None
    if args.scenario is None:
        return "sensitivity: give a scenario file, or --resume STUDY_DIR"
    if args.method == "morris" and args.samples is not None:
        return "--samples: sets Sobol base samples; with --method morris use --trajectories"
    if args.method == "sobol" and args.trajectories is not None:
        return "--trajectories: sets Morris trajectories; with --method sobol use --samples"
    if args.out is not None and args.out.exists():
        return f"--out: {args.out} already exists; results are never overwritten"
    return None


def _recorded_workers(folder: Path) -> int | None:
    """The worker count the study ran with (its manifest's), to resume as it ran."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the resume itself says what is wrong with the folder
    return recorded_workers(manifest) if isinstance(manifest, dict) else None


def _default_folder(results: Path, name: str, method: str) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    path, n = results / name / f"sensitivity-{method}-{stamp}", 1
    while path.exists():
        n += 1
        path = results / name / f"sensitivity-{method}-{stamp}-{n}"
    return path


def _execute(args: argparse.Namespace, out: Path, scenario, plan) -> int:
    from parksim.analysis.sensitivity.study import resume_study, run_study
    from parksim.ensemble.executors import ExecutorUnavailable, open_executor
    from parksim.ensemble.runner import RunIncomplete
    from parksim.viz.sensitivity_report import draw_study

    started = time.perf_counter()
    draw = None if args.no_charts else draw_study
    workers_given = args.workers or 1
    try:
        with open_executor(workers_given, args.executor, args.scheduler) as workers:
            options = {
                "executor": workers.executor,
                "workers": workers.slots,
                "progress": not args.quiet,
                "batch_size": args.batch_size,
            }
            if plan is None:
                folder = resume_study(out, draw=draw, **options)
            else:
                folder = run_study(scenario, plan, out, draw=draw, **options)
    except FolderUnwritable as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_UNWRITABLE
    except (ExecutorUnavailable, ResultsFolderError) as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunIncomplete as incomplete:
        print(
            f"parksim: {incomplete.total - incomplete.done} of {incomplete.total} runs did not "
            f"finish (see {out}/failures.csv); the indices use the complete points. Retry "
            f"them with:\n  parksim sensitivity --resume {out}{workers_option(workers_given)}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except KeyboardInterrupt as stop:
        print(
            f"\nparksim: interrupted; finished points are kept in {out}. Continue with:\n"
            f"  parksim sensitivity --resume {out}{workers_option(workers_given)}",
            file=sys.stderr,
        )
        return interrupted_status(stop)
    if not args.quiet:
        _print_summary(folder)
        print(f"wrote {folder} in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def _print_summary(folder: Path) -> None:
    import pandas as pd

    robust = pd.read_csv(folder / "robustness.csv", keep_default_na=False)
    first = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["metrics"][0]
    shown = robust[robust["metric"] == first]
    columns = ["strategy", "versus", "metric", "share_wins", "flip_region"]
    with pd.option_context("display.max_colwidth", 80, "display.width", 160):
        print(shown[columns].round(3).to_string(index=False))
