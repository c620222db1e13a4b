"""Where a run's chunks execute: in this process, in local worker processes, or on Dask.

All three are `concurrent.futures.Executor`s, so the runner treats them alike:

- `SerialExecutor`: a plain loop in this process (`--workers 1`, the default);
- `ProcessPoolExecutor`: W processes on this machine (`--workers W`);
- `distributed.Client.get_executor()`: an existing Dask cluster (`--scheduler ADDRESS`) or
  a local one started for the run (`--executor dask`).

Dask is an optional extra (`pip install "parksim[dist]"`); it is imported only when asked
for. Results never depend on the executor: every replication is a pure function of its
seed (parksim.ensemble.runner).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import signal
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from parksim.core.stops import deliver_held_stop, discard_held_stop, holding_stops

ExecutorKind = Literal["serial", "processes", "dask"]
EXECUTOR_KINDS: tuple[str, ...] = ("serial", "processes", "dask")
DASK_MISSING = 'Dask is not installed; install it with: pip install "parksim[dist]"'
# Seconds to wait for an existing scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 10
# Dask settings of the local clusters parksim starts. Dask sets MALLOC_TRIM_THRESHOLD_ in
# its workers (to give memory back to the OS); setting it turns off glibc's dynamic mmap
# threshold, so every numpy array over 128 KiB is mapped and unmapped afresh: a Qilu model
# ran 1.25-2.4x slower in such a process (measured). The statistical profiler samples the
# running task's stack every 10 ms, which the model does not need either.
LOCAL_CLUSTER_CONFIG = {
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    "distributed.worker.profile.enabled": False,
}


class ExecutorUnavailable(RuntimeError):
    """The executor asked for cannot be started (Dask missing, scheduler unreachable)."""


class SerialExecutor(Executor):
    """Runs each task when it is submitted, here: the plain loop, as an Executor.

    A task's exception is kept in its future, as any executor would. Ctrl-C
    (KeyboardInterrupt) and SIGTERM are not exceptions of the task: they are held while it
    runs and delivered at the next `submit` (parksim.core.stops), so the task that was
    running finishes and is kept, as a worker process finishes its chunk. A second Ctrl-C
    while one is held stops at once.
    """

    def submit(self, fn, /, *args, **kwargs) -> Future:
        deliver_held_stop()
        future: Future = Future()
        with holding_stops():
            try:
                result = fn(*args, **kwargs)
            except Exception as error:
                future.set_exception(error)
            else:
                future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """A stop held through the last task is dropped: everything submitted finished."""
        discard_held_stop()


@dataclass(frozen=True)
class Workers:
    """An open executor and how many tasks it runs at once."""

    executor: Executor
    slots: int
    description: str


def _start_worker() -> None:
    """What a pool worker does before its first task."""
    # Ctrl-C goes to the whole process group: the parent stops the run and lets the
    # workers finish their chunk, instead of every worker printing a traceback. SIGTERM
    # keeps its default: `kill PID` reaches the parent alone, which stops as for Ctrl-C
    # (parksim.cli.common.stop_on_sigterm) and shuts the pool down; a pool that breaks
    # terminates its workers with SIGTERM, so they must not ignore it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The modules a worker runs, imported now and kept out of the garbage collector's
    # full collections for the worker's life (some 200,000 objects: numba, pandas,
    # scipy). A full collection comes about once in five batches of 32 baseline runs and
    # walked them all: 36 ms a batch on average, 18 ms frozen; the runs took 2-5 % less
    # CPU (measured). A process of the user's (a notebook) is never frozen: its objects
    # may become garbage.
    import parksim.ensemble.runner  # noqa: F401

    gc.collect()
    gc.freeze()


@contextmanager
def open_executor(
    workers: int = 1, kind: ExecutorKind | None = None, scheduler: str | None = None
) -> Iterator[Workers]:
    """Start the executor a run asks for; shut it down (and any cluster it started) on exit.

    `kind` defaults to "serial" for one worker and "processes" for more; `scheduler` (a Dask
    scheduler address such as ``tcp://10.0.0.5:8786``) means Dask on that cluster.
    Raises ExecutorUnavailable when Dask is needed but missing or the scheduler does not
    answer.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if scheduler is not None or kind == "dask":
        with _dask(workers, scheduler) as opened:
            yield opened
    elif kind == "processes" or (kind is None and workers > 1):
        # "spawn" everywhere: the same behaviour as macOS and Windows, and safe to start
        # from a process with threads (a notebook kernel, a progress bar).
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
        )
        try:
            yield Workers(pool, workers, f"{workers} processes")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        serial = SerialExecutor()
        try:
            yield Workers(serial, 1, "this process")
        finally:
            serial.shutdown()


@contextmanager
def _dask(workers: int, scheduler: str | None) -> Iterator[Workers]:
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorUnavailable(DASK_MISSING) from None
    cluster = None
    try:
        if scheduler is None:
            with dask.config.set(LOCAL_CLUSTER_CONFIG):
                cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        if cluster is not None:
            cluster.close()
        where = scheduler or "a local cluster"
        raise ExecutorUnavailable(f"cannot reach the Dask scheduler at {where}: {error}") from None
    try:
        slots = max(1, sum(client.nthreads().values()))
        where = "a local Dask cluster" if cluster is not None else f"Dask at {scheduler}"
        # pure=False: chunks are not deduplicated by their arguments' hash (nor hashed).
        yield Workers(client.get_executor(pure=False), slots, f"{where} ({slots} threads)")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
