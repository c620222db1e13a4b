"""The `parksim` command: run, resume, validate or compare.

Exit status (also in `parksim --help`): see EXIT_STATUS below. Bad input prints one clear
message per problem, no traceback, and writes no result folder; a disk that refuses a
write prints one line saying what was kept and how to go on.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from parksim import __version__
from parksim.cli.calibrate import add_arguments as add_calibrate_arguments
from parksim.cli.calibrate import calibrate_command
from parksim.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_UNWRITABLE,
    add_batch_size_argument,
    executor_problem,
    interrupted_status,
    recorded_workers,
    stop_on_sigterm,
    workers_option,
)
from parksim.cli.sensitivity import add_arguments as add_sensitivity_arguments
from parksim.cli.sensitivity import sensitivity_command
from parksim.cli.stress import (
    add_reverse_arguments,
    add_run_arguments,
    reverse_stress_command,
    stress_problem,
    with_stress,
)
from parksim.ensemble.executors import EXECUTOR_KINDS, Workers
from parksim.ensemble.folders import FolderUnwritable, ResultsFolderError, disk_problem
from parksim.results import RunResult
from parksim.scenario.describe import describe
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import load_scenario
from parksim.viz import charts
from parksim.viz.i18n import LANGS

if TYPE_CHECKING:  # the runner imports the model: only when a run starts
    from parksim.ensemble.runner import RunIncomplete

EXIT_STATUS = f"""\
exit status:
  {EXIT_OK}    done
  {EXIT_FAILED}    the run failed: some replications raised; the others are kept and
       `parksim run --resume RUN_DIR` retries the failed ones
  {EXIT_BAD_INPUT}    bad input: a scenario or targets file, an argument, a folder that
       exists or cannot be resumed or compared; nothing is written
  {EXIT_UNWRITABLE}    the disk refused a write (no permission, read-only, full, a file in the
       way): no folder is left, or one that `parksim run --resume RUN_DIR` finishes
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C): finished replications are kept for --resume
  {EXIT_TERMINATED}  stopped by SIGTERM (`kill PID`): as for Ctrl-C
"""
#: Summary columns printed at the end of a run or a comparison.
PRINTED_COLUMNS = (
    "cum_net_profit_mean",
    "cum_credit_loss_mean",
    "cum_gross_credit_loss_mean",
    "cum_policy_recoveries_mean",
    "cum_credit_loss_es99",
    "return_on_risk",
    "final_npl_ratio_mean",
    "cum_listings_mean",
)


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The top-level parser and each sub-command's, by name."""
    # No abbreviations: `--rep 5` must not quietly mean `--replications 5`.
    parser = argparse.ArgumentParser(
        prog="parksim",
        description="Simulate how commercial banks serve industrial parks.",
        epilog=EXIT_STATUS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"parksim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help,
            description=help[0].upper() + help[1:] + ".",
            epilog=EXIT_STATUS,
            formatter_class=argparse.RawDescriptionHelpFormatter,
            allow_abbrev=False,
        )

    run = command("run", "run every strategy of a scenario")
    run.add_argument(
        "scenario",
        type=Path,
        nargs="?",
        help="scenario TOML file, or a run's manifest.json to rerun it (with --resume: optional)",
    )
    run.add_argument(
        "--from",
        dest="from_run",
        type=Path,
        metavar="RUN_DIR",
        help="rerun the scenario, seed and replications recorded in RUN_DIR/manifest.json",
    )
    run.add_argument("--replications", type=int, help="replications per strategy")
    run.add_argument("--seed", type=int, help="root random seed (default: the scenario's)")
    run.add_argument("--out", type=Path, help="run folder to create (must not exist)")
    run.add_argument("--results", type=Path, default=Path("results"), help="results root")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    run.add_argument(
        "--resume",
        type=Path,
        metavar="RUN_DIR",
        help="continue an interrupted or failed run: keep its finished replications",
    )
    run.add_argument(
        "--workers",
        type=int,
        help="worker processes on this machine (default 1; with --resume: as many as the "
        "run had, at most this machine's CPUs)",
    )
    run.add_argument(
        "--executor",
        choices=EXECUTOR_KINDS,
        help="serial (default for 1 worker), processes (for more), dask (a local cluster)",
    )
    run.add_argument(
        "--scheduler", metavar="tcp://HOST:PORT", help="run on this existing Dask cluster"
    )
    run.add_argument(
        "--chunk-size", type=int, help="replications per task (default: chosen for the workers)"
    )
    add_batch_size_argument(run)
    run.add_argument(
        "--reference",
        metavar="STRATEGY",
        help="the strategy differences.csv compares the others with (default: the "
        "scenario's reference, else its first strategy)",
    )
    run.add_argument(
        "--no-charts",
        action="store_true",
        help="write the tables only, no figures/ (draw them later with `parksim plot`)",
    )

    add_run_arguments(run)

    validate = command("validate", "check a scenario file without running")
    validate.add_argument("scenario", type=Path, help="scenario TOML file")

    compare = command("compare", "put the strategies of several runs side by side (same horizon)")
    compare.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR", help="run folders")
    compare.add_argument("--out", type=Path, help="comparison folder to create (must not exist)")
    compare.add_argument("--results", type=Path, default=Path("results"), help="results root")
    compare.add_argument("--quiet", action="store_true", help="no summary")
    compare.add_argument("--no-charts", action="store_true", help="write the tables only")

    differences = command(
        "differences", "recompute a run's differences against another reference strategy"
    )
    differences.add_argument("run", type=Path, metavar="RUN_DIR", help="a complete run folder")
    differences.add_argument(
        "--reference", required=True, metavar="STRATEGY", help="the strategy to compare with"
    )
    differences.add_argument(
        "--out",
        type=Path,
        help="CSV file to write (default RUN_DIR/differences-vs-STRATEGY.csv; never overwritten)",
    )
    differences.add_argument("--quiet", action="store_true", help="no table")

    plot = command("plot", "redraw every chart of a run or a sensitivity study from its folder")
    plot.add_argument(
        "run", type=Path, metavar="RUN_DIR", help="a complete run folder or study folder"
    )
    plot.add_argument("--lang", choices=LANGS, default="en", help="language (default en)")
    plot.add_argument(
        "--format",
        default="png,svg",
        help=f"comma-separated, some of {','.join(charts.FORMATS)} (default png,svg)",
    )
    plot.add_argument(
        "--out", type=Path, help="folder for the charts (default RUN_DIR/figures-LANG)"
    )
    plot.add_argument(
        "--pair",
        metavar="STRATEGY:VERSUS",
        help="a study's charts for this pair of strategies (default: the study's first pair)",
    )
    plot.add_argument(
        "--metric", help="a study's charts for this metric (default: the study's first)"
    )

    report = command("report", "write one self-contained HTML report of a run")
    report.add_argument("run", type=Path, metavar="RUN_DIR", help="a complete run folder")
    report.add_argument("--lang", choices=LANGS, default="en", help="language (default en)")
    report.add_argument("--out", type=Path, help="HTML file (default RUN_DIR/report-LANG.html)")
    report.add_argument(
        "--sensitivity",
        type=Path,
        metavar="STUDY_DIR",
        help="a `parksim sensitivity` study whose indices.csv ranks the assumptions "
        "(default: a study of the same scenario next to RUN_DIR, if any)",
    )

    calibrate = command("calibrate", "fit a scenario's parameters to targets")
    add_calibrate_arguments(calibrate)
    sensitivity = command(
        "sensitivity", "Morris or Sobol sensitivity of the strategies to the assumptions"
    )
    add_sensitivity_arguments(sensitivity)

    reverse = command(
        "reverse-stress",
        "the smallest severity of a stress preset at which a strategy stops beating its reference",
    )
    add_reverse_arguments(reverse)

    app = command("app", "watch one park run in the browser (Mesa + Solara; the app extra)")
    app.description = """\
Serve a page of one park as it runs, at http://HOST:PORT/: enterprises by stage,
the focal bank's exposure, NPL ratio, net profit and credit loss, the operator's
occupancy, quarter by quarter. Step, play or reset the model; choose the strategy,
the focal bank's tier, the operator model, the policy levers and the seed (they
take effect at Reset). The page loads nothing from the internet. Ctrl-C stops
the server. Needs the app extra: pip install -e ".[app]"."""
    app.add_argument(
        "scenario",
        type=Path,
        nargs="?",
        default=Path("scenarios/baseline.toml"),
        help="scenario TOML file (default scenarios/baseline.toml)",
    )
    app.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    app.add_argument("--port", type=int, default=8765, help="port to serve on (default 8765)")
    return parser, {
        "run": run,
        "validate": validate,
        "compare": compare,
        "differences": differences,
        "calibrate": calibrate,
        "sensitivity": sensitivity,
        "plot": plot,
        "report": report,
        "app": app,
        "reverse-stress": reverse,
    }


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Parse the command line; a mistake is shown with its sub-command's usage (exit 2)."""
    parser, commands = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script.

    SIGTERM stops a command as Ctrl-C does (parksim.cli.common.stop_on_sigterm): what
    finished is kept, worker processes are shut down, the folder's lock is released.
    """
    args = _parse(argv)
    with stop_on_sigterm():
        try:
            return _command(args)
        except KeyboardInterrupt as stop:
            # A command that keeps work for --resume says so itself; this is the rest.
            print("\nparksim: stopped", file=sys.stderr)
            return interrupted_status(stop)


def _command(args: argparse.Namespace) -> int:
    if args.command == "compare":
        return _compare(args)
    if args.command == "sensitivity":
        return sensitivity_command(args)
    if args.command == "reverse-stress":
        return reverse_stress_command(args)
    if args.command == "differences":
        return _differences(args)
    if args.command == "plot":
        return _plot(args)
    if args.command == "report":
        return _report(args)
    if (
        args.command == "run"
        and args.stress is not None
        and (args.resume is not None or _names_a_run(args))
    ):
        print("parksim run: --stress: a rerun or resumed run keeps its stress", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "run" and _names_a_run(args):
        return _rerun(args)
    if args.command == "run" and args.resume is not None:
        return _resume(args)
    if args.command == "run" and args.scenario is None:
        print("parksim run: give a scenario file, or --resume RUN_DIR", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"parksim: invalid scenario\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "validate":
        n = len(scenario.strategies)
        print(
            f"{args.scenario}: valid ({n} {'strategy' if n == 1 else 'strategies'}, "
            f"{scenario.horizon} quarters)"
        )
        print("\n".join(describe(scenario)))
        return EXIT_OK
    if args.command == "calibrate":
        return calibrate_command(scenario, args)
    if args.command == "app":
        return _app(args)
    return _run(scenario, args)


def _app(args: argparse.Namespace) -> int:
    """Serve the page of the (validated) scenario until Ctrl-C: this process becomes
    `solara run`, so a signal to it stops the server (a child would outlive it)."""
    import importlib.util
    import os
    import socket

    from parksim.viz.app import SCENARIO_VARIABLE

    if importlib.util.find_spec("solara") is None:
        print('parksim app: needs the app extra: pip install -e ".[app]"', file=sys.stderr)
        return EXIT_BAD_INPUT
    with socket.socket() as probe:
        try:
            probe.bind((args.host, args.port))
        except OSError as error:
            print(
                f"parksim app: cannot serve on {args.host}:{args.port} ({error.strerror}); "
                "choose another with --port or --host",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
    os.environ[SCENARIO_VARIABLE] = str(args.scenario.resolve())
    command = [sys.executable, "-m", "solara", "run", "parksim.viz.app_page:Page", "--production"]
    command += ["--host", args.host, "--port", str(args.port), "--no-open"]
    print(f"parksim app: serving {args.scenario} at http://{args.host}:{args.port}/", flush=True)
    os.execv(sys.executable, command)
    return EXIT_OK  # not reached: execv does not return


def _run(scenario, args: argparse.Namespace) -> int:
    from parksim.ensemble.folders import default_run_folder, iso_time
    from parksim.results import run

    problem = (
        executor_problem(args)
        or _run_problem(args)
        or _reference_problem(args, scenario)
        or stress_problem(args)
    )
    if problem:
        print(f"parksim: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.reference is not None:
        # The reference changes no number of a run, only what differences.csv pairs with;
        # the manifest's scenario records it, so the folder reloads the same.
        scenario = dataclasses.replace(scenario, reference=args.reference)
    scenario = with_stress(scenario, args)
    seed = scenario.seed if args.seed is None else args.seed
    out = args.out or default_run_folder(args.results, scenario, seed, iso_time(time.time()))

    def start(workers: Workers) -> RunResult:
        return run(
            scenario,
            args.replications,
            seed,
            out=out,
            executor=workers.executor,
            workers=workers.slots,
            chunk_size=args.chunk_size,
            batch_size=args.batch_size,
            progress=not args.quiet,
            charts=not args.no_charts,
        )

    return _run_and_report(args, out, start)


def _resume(args: argparse.Namespace) -> int:
    from parksim.ensemble.runfolder import RunAlreadyComplete, RunFolder
    from parksim.results import resume

    problem = executor_problem(args) or _resume_problem(args)
    if problem:
        print(f"parksim: {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        given = None if args.scenario is None else load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"parksim: invalid scenario\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        folder = RunFolder.open(args.resume)
        scenario = folder.resumable_scenario(given)
    except RunAlreadyComplete as done:
        print(f"parksim: {done}")
        return EXIT_OK
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.workers is None and args.scheduler is None and args.executor is None:
        args.workers = recorded_workers(folder.manifest)
    for option, value in (("--seed", args.seed), ("--replications", args.replications)):
        recorded = folder.manifest[option.lstrip("-")]
        if value is not None and value != recorded:
            print(
                f"parksim: {option}: the run in {args.resume} has {recorded}, got {value}; "
                "a resumed run keeps its seed and replications",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT

    def start(workers: Workers) -> RunResult:
        return resume(
            args.resume,
            scenario,
            executor=workers.executor,
            workers=workers.slots,
            chunk_size=args.chunk_size,
            batch_size=args.batch_size,
            progress=not args.quiet,
            charts=not args.no_charts,
        )

    return _run_and_report(args, args.resume, start)


def _run_and_report(
    args: argparse.Namespace, out: Path, start: Callable[[Workers], RunResult]
) -> int:
    """Open the executor the options ask for, run `start` on it, report how the run ended.

    The executor is opened before the run folder is made, so a missing Dask or an
    unreachable scheduler is bad input that leaves no folder behind.
    """
    from parksim.ensemble.executors import ExecutorUnavailable, open_executor
    from parksim.ensemble.runner import RunIncomplete

    started = time.perf_counter()
    try:
        with open_executor(args.workers or 1, args.executor, args.scheduler) as workers:
            result = start(workers)
    except ExecutorUnavailable as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FolderUnwritable as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_UNWRITABLE
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunIncomplete as incomplete:
        _report_incomplete(incomplete)
        return EXIT_FAILED
    except KeyboardInterrupt as stop:
        _report_interrupted(out, args.workers)
        return interrupted_status(stop)
    if not args.quiet:
        print(result.summary[list(PRINTED_COLUMNS)].round(3).to_string())
        _print_policy_notes(result.summary)
        print(f"wrote {result.path} in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def _print_policy_notes(summary) -> None:
    """The summary's notes on policy (why a pool can raise losses), once per strategy."""
    for name, note in summary["policy_note"].items():
        if note:
            print(f"{name}: {note}")


def _run_problem(args: argparse.Namespace) -> str | None:
    if args.replications is not None and args.replications < 1:
        return f"--replications: expected a positive integer, got {args.replications}"
    if args.seed is not None and args.seed < 0:
        return f"--seed: expected a non-negative integer, got {args.seed}"
    if args.out is not None and args.out.exists():
        return f"--out: {args.out} already exists; results are never overwritten"
    return None


def _resume_problem(args: argparse.Namespace) -> str | None:
    if args.out is not None:
        return "--out: a resumed run stays in its folder; drop --out"
    if args.reference is not None:
        return (
            "--reference: a resumed run keeps its reference; once it is complete, "
            f"`parksim differences {args.resume} --reference {args.reference}` "
            "compares with another"
        )
    return None


def _reference_problem(args: argparse.Namespace, scenario) -> str | None:
    if args.reference is None or args.reference in scenario.names:
        return None
    return (
        f"--reference: expected a strategy of scenario {scenario.name!r} "
        f"({', '.join(scenario.names)}), got {args.reference!r}"
    )


def _report_incomplete(incomplete: RunIncomplete) -> None:
    failures = incomplete.failures
    if failures:
        print(f"parksim: {len(failures)} replication(s) raised:", file=sys.stderr)
        for f in failures[:10]:
            seed = f"SeedSequence({f.seed['entropy']}, spawn_key={tuple(f.seed['spawn_key'])})"
            print(
                f"  {f.strategy} replication {f.replication} ({seed}): {f.error}", file=sys.stderr
            )
        if len(failures) > 10:
            print(f"  ... and {len(failures) - 10} more", file=sys.stderr)
    if incomplete.executor_error:
        print(f"parksim: the executor failed: {incomplete.executor_error}", file=sys.stderr)
    print(
        f"parksim: {incomplete.done} of {incomplete.total} model runs (strategy × "
        f"replication) finished and kept in {incomplete.folder} (failures in failures.json); "
        f"run the others with:\n  parksim run --resume {incomplete.folder}",
        file=sys.stderr,
    )


def _report_interrupted(out: Path, workers: int | None = None) -> None:
    from parksim.ensemble.runfolder import RunFolder

    try:
        kept = RunFolder.open(out).progress_text()
    except (OSError, ResultsFolderError):
        print("\nparksim: interrupted before any result was written", file=sys.stderr)
        return
    print(
        f"\nparksim: interrupted; {kept} finished and are kept in {out}. "
        f"Continue with:\n  parksim run --resume {out}{workers_option(workers)}",
        file=sys.stderr,
    )


def _compare(args: argparse.Namespace) -> int:
    from parksim.results import compare

    if args.out is not None and args.out.exists():
        print(
            f"parksim: --out: {args.out} already exists; results are never overwritten",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    try:
        comparison = compare(args.runs)
        comparison.draw_charts = not args.no_charts
        folder = comparison.save(args.out, results_root=args.results)
    except FolderUnwritable as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_UNWRITABLE
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.quiet:
        print(comparison.summary[list(PRINTED_COLUMNS)].round(3).to_string())
    # Whether the differences are paired changes how to read them: always say.
    print(f"parksim compare: {comparison.manifest['pairing']}")
    if not args.quiet:
        print(f"wrote {folder}")
    return EXIT_OK


# --- rerunning, plotting and reporting a run folder ---------------------------------------


def _names_a_run(args: argparse.Namespace) -> bool:
    """Whether `parksim run` was given a run to repeat (--from RUN_DIR or a manifest.json)."""
    given = args.scenario
    return args.from_run is not None or (
        given is not None and args.resume is None and given.suffix == ".json"
    )


def _rerun(args: argparse.Namespace) -> int:
    """`parksim run RUN_DIR/manifest.json` or `--from RUN_DIR`: the recorded scenario,
    seed and replications again, into a new folder."""
    from parksim.ensemble.folders import NUMERIC_VERSIONS, code_versions, read_manifest
    from parksim.scenario.loader import scenario_from_dict

    if args.from_run is not None and args.scenario is not None:
        print("parksim run: give a scenario file or --from RUN_DIR, not both", file=sys.stderr)
        return EXIT_BAD_INPUT
    given = args.from_run if args.from_run is not None else args.scenario
    folder = given.parent if given.suffix == ".json" else given
    try:
        manifest = read_manifest(folder)
        scenario = scenario_from_dict(manifest["scenario"], file=str(folder / "manifest.json"))
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ScenarioError as error:
        print(f"parksim: invalid scenario in {folder / 'manifest.json'}\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    theirs, ours = manifest.get("versions", {}), code_versions()
    changed = [
        f"{n} {theirs.get(n, '?')} (now {ours[n]})"
        for n in NUMERIC_VERSIONS
        if theirs.get(n) != ours[n]
    ]
    if changed:
        print(
            f"parksim: note: {folder} was made by other code ({', '.join(changed)}); "
            "the rerun's numbers may differ",
            file=sys.stderr,
        )
    if args.seed is None:
        args.seed = manifest["seed"]
    if args.replications is None:
        args.replications = manifest["replications"]
    return _run(scenario, args)


def _plot(args: argparse.Namespace) -> int:
    """`parksim plot RUN_DIR`: every chart of the run, in a language and formats."""
    from parksim.analysis.sensitivity.study import is_study

    if is_study(args.run):
        return _plot_study(args)
    if args.pair is not None or args.metric is not None:
        option = "--pair" if args.pair is not None else "--metric"
        print(
            f"parksim: {option}: chooses a sensitivity study's outcome; {args.run} is a run "
            "(its charts show every strategy and metric)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    formats = [f.strip().lower() for f in args.format.split(",") if f.strip()]
    try:
        charts.check_formats(formats)
        result = RunResult.load(args.run)
    except ValueError as error:
        print(f"parksim: --{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out if args.out is not None else args.run / f"figures-{args.lang}"
    try:
        paths = result.save_figures(out, lang=args.lang, formats=formats)
    except OSError as error:
        print(f"parksim: {out}: cannot write the charts: {disk_problem(error)}", file=sys.stderr)
        return EXIT_UNWRITABLE
    print(f"wrote {len(paths)} files ({', '.join(formats)}) to {out}")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    """`parksim report RUN_DIR`: one self-contained HTML page about the run."""
    from parksim.viz.report import write_report

    try:
        path = write_report(
            RunResult.load(args.run), args.out, lang=args.lang, study=args.sensitivity
        )
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"parksim: cannot write the report: {disk_problem(error)}", file=sys.stderr)
        return EXIT_UNWRITABLE
    print(f"wrote {path}")
    return EXIT_OK


def _plot_study(args: argparse.Namespace) -> int:
    """`parksim plot STUDY_DIR [--pair S:V] [--metric M]`: a study's charts, for the outcome
    it drew (the default) or another pair or metric."""
    from parksim.analysis.sensitivity.study import load_tables
    from parksim.viz.sensitivity_report import draw_study, main_outcome

    try:
        tables = load_tables(args.run)
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    metrics = list(tables.plan.metrics)
    if args.metric is not None and args.metric not in metrics:
        print(
            f"parksim: --metric: expected one of the study's metrics ({', '.join(metrics)}), "
            f"got {args.metric!r}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    metric = args.metric or metrics[0]
    strategy, versus, _ = main_outcome(tables.scenario, tables.pairs, metric)
    if args.pair is not None:
        pair = tuple(part.strip() for part in args.pair.split(":"))
        if pair not in tables.pairs:
            known = ", ".join(f"{s}:{v}" for s, v in tables.pairs)
            print(
                f"parksim: --pair: expected STRATEGY:VERSUS, one of the study's pairs "
                f"({known}), got {args.pair!r}",
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        strategy, versus = pair
    if args.lang != "en" or args.format != "png,svg":
        print(
            "parksim: note: a study's charts are drawn in English, as PNG and SVG",
            file=sys.stderr,
        )
    if args.out is not None:
        out = args.out
    elif args.pair is None and args.metric is None:
        out = args.run / "figures-en"
    else:
        out = args.run / f"figures-{_file_part(strategy)}-vs-{_file_part(versus)}-{metric}"
    try:
        paths = draw_study(args.run, tables, (strategy, versus, metric), out)
    except OSError as error:
        print(f"parksim: {out}: cannot write the charts: {disk_problem(error)}", file=sys.stderr)
        return EXIT_UNWRITABLE
    print(f"wrote {len(paths)} files ({metric}: {strategy} − {versus}) to {out}")
    return EXIT_OK


def _file_part(name: str) -> str:
    """A strategy's name as part of a file name (letters, digits, '.', '_' and '-')."""
    return re.sub(r"[^\w.-]+", "_", name)


def _differences(args: argparse.Namespace) -> int:
    """`parksim differences RUN_DIR --reference X`: the run's differences from another
    strategy, into a new file; differences.csv and every other file stay as they are."""
    from parksim.ensemble.folders import write_atomically

    try:
        result = RunResult.load(args.run)
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    names = result.scenario.names
    if args.reference not in names:
        print(
            f"parksim: --reference: expected a strategy of the run ({', '.join(names)}), "
            f"got {args.reference!r}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    out = args.out or args.run / f"differences-vs-{_file_part(args.reference)}.csv"
    if out.exists():
        print(
            f"parksim: {out} already exists; it is never overwritten (choose another --out)",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    table = result.differences(args.reference)
    try:
        write_atomically(out, lambda tmp: table.to_csv(tmp, index=False))
    except OSError as error:
        print(f"parksim: {out}: cannot write: {disk_problem(error)}", file=sys.stderr)
        return EXIT_UNWRITABLE
    if not args.quiet:
        shown = table[table["metric"].isin(["cum_net_profit", "cum_credit_loss"])]
        columns = ["strategy", "reference", "metric", "mean", "ci_low", "ci_high", "p_better"]
        with _pd_display():
            print(shown[columns].round(3).to_string(index=False))
    print(f"wrote {out}")
    return EXIT_OK


def _pd_display():
    """Wide enough for a table of strategy names and intervals."""
    import pandas as pd

    return pd.option_context("display.width", 160, "display.max_colwidth", 40)
