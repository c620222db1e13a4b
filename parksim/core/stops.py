"""Ctrl-C and SIGTERM held while compiled code runs, and delivered once it has finished.

Python turns Ctrl-C into KeyboardInterrupt at the next bytecode, and a `stop_on_sigterm`
command turns SIGTERM into an exception the same way. Raised inside numba's machinery (a
kernel still compiling, as on every first run with a fresh cache, or a dispatcher
returning) that exception crashed the process with SIGSEGV, or became a failed
replication ("returned a result with an exception set"). So the code that calls kernels
holds the stop and delivers it after:

- `stops_held()`: a model's quarter (or its construction) finishes, then the stop is
  raised; a notebook's interrupt leaves a whole quarter behind it;
- `holding_stops()` and `deliver_held_stop()`: the serial executor holds the stop while a
  chunk runs and delivers it at its next submit, so the finished chunk is kept; a stop
  during the last chunk is discarded when the executor shuts down (the run is complete).

Holds nest: only the outermost installs handlers, and a held stop is delivered only
outside every hold. A second stop while one is held is delivered at once (the user asked
twice). Only a handler that raises is held; an ignored or default signal stays as it
was, and signal handlers belong to the main thread, so other threads run unheld.
"""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: The stops held: Ctrl-C and SIGTERM.
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# The stop held and the handler it was meant for; how many holds are open.
_held: list[tuple[Callable[[int, Any], Any], int]] = []
_depth = 0


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def holding_stops() -> Iterator[None]:
    """Inside, Ctrl-C and SIGTERM are recorded instead of raised (a second one raises)."""
    global _depth
    if not _main_thread():
        yield
        return
    if _depth:
        _depth += 1
        try:
            yield
        finally:
            _depth -= 1
        return
    previous = {}
    for signum in HELD_SIGNALS:
        handler = signal.getsignal(signum)
        if callable(handler):
            previous[signum] = signal.signal(signum, functools.partial(_hold, handler))
    _depth = 1
    try:
        yield
    finally:
        _depth = 0
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _hold(handler: Callable[[int, Any], Any], signum: int, frame: Any) -> None:
    if _held:  # asked twice: stop now
        _held.clear()
        handler(signum, frame)
        return
    _held.append((handler, signum))


def deliver_held_stop() -> None:
    """Raise the stop held, if any, unless inside a hold (the outermost delivers it)."""
    if _held and not _depth and _main_thread():
        handler, signum = _held[0]
        _held.clear()
        handler(signum, None)  # KeyboardInterrupt, or what the SIGTERM handler raises


def discard_held_stop() -> None:
    """Forget a held stop: the work it would have stopped has finished (a serial run's
    last chunk), and a stop left held would break off whatever runs next."""
    _held.clear()


@contextmanager
def stops_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM inside; raise a held one once the block has finished (if
    the block raised, its exception goes on and the held stop is dropped with it)."""
    try:
        with holding_stops():
            yield
    except BaseException:
        if not _depth:
            _held.clear()
        raise
    deliver_held_stop()


def holds_stops[F: Callable[..., Any]](method: F) -> F:
    """`method` runs under `stops_held()`: a stop comes after it, not inside it."""

    @functools.wraps(method)
    def held(*args: Any, **kwargs: Any) -> Any:
        with stops_held():
            return method(*args, **kwargs)

    return held  # type: ignore[return-value]


class Held:
    """`function` as a callable that runs it under `stops_held()`; it pickles when
    `function` does (a bound method does), as a model must."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function

    def __call__(self) -> Any:
        with stops_held():
            return self.function()

    def __repr__(self) -> str:
        return f"Held({self.function!r})"
