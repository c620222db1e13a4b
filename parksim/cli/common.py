"""What every command shares: its exit statuses, and what the commands that run ensembles
(`run`, `sensitivity`) check of their options."""

from __future__ import annotations

import argparse

#: Exit statuses of every command (explained by `parksim --help`, parksim.cli.EXIT_STATUS).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNWRITABLE = 0, 1, 2, 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


def executor_problem(args: argparse.Namespace) -> str | None:
    """Why the executor options cannot work together, or None."""
    if args.workers < 1:
        return f"--workers: expected a positive integer, got {args.workers}"
    if args.chunk_size is not None and args.chunk_size < 1:
        return f"--chunk-size: expected a positive integer, got {args.chunk_size}"
    if args.scheduler is not None and args.executor not in (None, "dask"):
        return f"--scheduler runs on Dask; it cannot be combined with --executor {args.executor}"
    if args.scheduler is not None and args.workers != 1:
        return "--workers: a Dask cluster (--scheduler) has its own workers; drop --workers"
    if args.executor == "serial" and args.workers != 1:
        return "--executor serial runs in this process; drop --workers or choose processes"
    return None
