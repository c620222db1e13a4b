"""What every command shares: its exit statuses, how it stops on a signal, and what the
commands that run ensembles (`run`, `sensitivity`) check of their options."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Exit statuses of every command (explained by `parksim --help`, parksim.cli.EXIT_STATUS).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNWRITABLE = 0, 1, 2, 3
EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130, what a shell reports for Ctrl-C
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, what a shell reports for `kill`


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill PID`, a scheduler stopping a job), turned into the stop Ctrl-C makes:
    every command that handles Ctrl-C (finished work kept, workers shut down, the lock
    released) handles it alike."""


def interrupted_status(stop: KeyboardInterrupt) -> int:
    """The exit status of a command stopped by Ctrl-C (130) or by SIGTERM (143)."""
    return EXIT_TERMINATED if isinstance(stop, Terminated) else EXIT_INTERRUPTED


def _raise_terminated(signum: int, frame: object) -> None:
    # Once is enough: a second SIGTERM while the workers finish their chunks and shut
    # down would break off the clean-up it asks for (SIGKILL still stops at once).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated


@contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM raises `Terminated` in the main thread, as Ctrl-C raises
    KeyboardInterrupt. Without it the process would die at once: its worker processes
    left running and the run folder's lock left behind."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def add_batch_size_argument(parser: argparse.ArgumentParser) -> None:
    """`--batch-size` of the commands that run replications (run, sensitivity,
    reverse-stress)."""
    parser.add_argument(
        "--batch-size",
        type=int,
        metavar="N",
        help="replications a worker runs together (default: chosen from the park's size and "
        "the free memory, at most 32); the tables do not depend on it",
    )


def batch_size_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with --batch-size (argparse made it an int), or None."""
    batch_size = getattr(args, "batch_size", None)
    if batch_size is not None and batch_size < 1:
        return f"--batch-size: expected a positive integer, got {batch_size}"
    return None


def executor_problem(args: argparse.Namespace) -> str | None:
    """Why the executor options cannot work together, or None."""
    workers = 1 if args.workers is None else args.workers
    if workers < 1:
        return f"--workers: expected a positive integer, got {workers}"
    if args.chunk_size is not None and args.chunk_size < 1:
        return f"--chunk-size: expected a positive integer, got {args.chunk_size}"
    if batch_size_problem(args):
        return batch_size_problem(args)
    if args.scheduler is not None and args.executor not in (None, "dask"):
        return f"--scheduler runs on Dask; it cannot be combined with --executor {args.executor}"
    if args.scheduler is not None and workers != 1:
        return "--workers: a Dask cluster (--scheduler) has its own workers; drop --workers"
    if args.executor == "serial" and workers != 1:
        return "--executor serial runs in this process; drop --workers or choose processes"
    return None


def workers_option(workers: int | None) -> str:
    """` --workers N` for a resume hint when the stopped command had several, else ""."""
    return f" --workers {workers}" if workers is not None and workers > 1 else ""


def recorded_workers(manifest: dict) -> int | None:
    """The worker count a run or study last ran with (its manifest's "workers"), to resume
    as it ran: at most this machine's CPUs (a Dask cluster counted its threads); None
    when the manifest has none (a folder from before workers were recorded)."""
    try:
        workers = int(manifest["workers"])
    except (KeyError, TypeError, ValueError):
        return None
    return max(1, min(workers, os.cpu_count() or 1)) if workers >= 1 else None
