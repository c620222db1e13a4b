"""The `parksim` command: run or validate a scenario file.

Exit status: 0 done, 1 the run failed, 2 bad input (scenario file or arguments). Bad
input prints one clear message per problem, no traceback, and writes no result folder.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from parksim import __version__
from parksim.results import ResultsFolderError
from parksim.scenario.errors import ScenarioError
from parksim.scenario.loader import load_scenario

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parksim",
        description="Simulate how commercial banks serve industrial parks.",
    )
    parser.add_argument("--version", action="version", version=f"parksim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run every strategy of a scenario")
    run.add_argument("scenario", type=Path, help="scenario TOML file")
    run.add_argument("--replications", type=int, help="replications per strategy")
    run.add_argument("--seed", type=int, help="root random seed (default: the scenario's)")
    run.add_argument("--out", type=Path, help="run folder to create (must not exist)")
    run.add_argument("--results", type=Path, default=Path("results"), help="results root")
    run.add_argument("--quiet", action="store_true", help="no progress bar or summary")

    validate = commands.add_parser("validate", help="check a scenario file without running")
    validate.add_argument("scenario", type=Path, help="scenario TOML file")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = _parser().parse_args(argv)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as error:
        print(f"parksim: invalid scenario\n{error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.command == "validate":
        print(
            f"{args.scenario}: valid ({len(scenario.strategies)} strategies, "
            f"{scenario.horizon} quarters)"
        )
        return EXIT_OK
    return _run(scenario, args)


def _run(scenario, args: argparse.Namespace) -> int:
    from parksim.runner import run

    if args.replications is not None and args.replications < 1:
        print(
            f"parksim: --replications: expected a positive integer, got {args.replications}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if args.seed is not None and args.seed < 0:
        print(f"parksim: --seed: expected a non-negative integer, got {args.seed}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.out is not None and args.out.exists():
        print(
            f"parksim: --out: {args.out} already exists; results are never overwritten",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    started = time.perf_counter()
    result = run(scenario, args.replications, args.seed, progress=not args.quiet)
    try:
        folder = result.save(args.out, results_root=args.results)
    except ResultsFolderError as error:
        print(f"parksim: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not args.quiet:
        columns = [
            "cum_net_profit_mean",
            "cum_credit_loss_mean",
            "final_npl_ratio_mean",
            "cum_listings_mean",
        ]
        print(result.summary[columns].round(3).to_string())
        print(f"wrote {folder} in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
