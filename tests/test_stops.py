"""Ctrl-C and SIGTERM are held while kernels run and delivered after (parksim.core.stops).

Delivered inside numba's machinery, a stop crashed the process with SIGSEGV (a fresh
kernel cache made it likely: CI hit it); these tests send the signal from inside the held
code, as a user's Ctrl-C would arrive, and check when it comes out.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from parksim.core.stops import deliver_held_stop, holding_stops, stops_held
from parksim.model import ParkModel

#: Ctrl-C raises here as in a terminal (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("ctrl_c_raises")


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.01)  # a signal is handled between bytecodes, so it has arrived by now


def test_a_stop_inside_a_hold_comes_out_after_the_block_has_finished() -> None:
    finished = False
    with pytest.raises(KeyboardInterrupt), stops_held():
        ctrl_c()
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_inner_hold_leaves_the_stop_to_the_outermost() -> None:
    steps = []
    with holding_stops():
        with stops_held():
            ctrl_c()
            steps.append("inner finished")
        steps.append("outer goes on")
    assert steps == ["inner finished", "outer goes on"]
    with pytest.raises(KeyboardInterrupt):
        deliver_held_stop()
    deliver_held_stop()  # delivered once


def test_a_second_ctrl_c_stops_at_once() -> None:
    with pytest.raises(KeyboardInterrupt), stops_held():
        ctrl_c()
        ctrl_c()
        pytest.fail("a second Ctrl-C while one is held must stop at once")


def test_an_error_in_the_block_goes_on_and_drops_the_held_stop() -> None:
    with pytest.raises(ZeroDivisionError), stops_held():
        ctrl_c()
        _ = 1 / 0
    deliver_held_stop()  # nothing left to raise


def test_sigterm_is_held_through_its_own_handler() -> None:
    class Stop(Exception):
        pass

    def on_term(signum: int, frame: object) -> None:
        raise Stop

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        with pytest.raises(Stop), stops_held():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_an_ignored_ctrl_c_stays_ignored() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with stops_held():
        ctrl_c()
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    deliver_held_stop()


def test_ctrl_c_in_a_quarter_stops_the_model_after_the_whole_quarter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A notebook's interrupt mid-quarter: the quarter finishes and is recorded, then
    KeyboardInterrupt; the model is a whole quarter on and can go on stepping."""
    model = ParkModel(rng=1, park__enterprises=100)
    earn_income = ParkModel._earn_income

    def interrupted(self: ParkModel, events: object) -> None:
        ctrl_c()  # arrives in the middle of the quarter's schedule
        earn_income(self, events)

    monkeypatch.setattr(ParkModel, "_earn_income", interrupted)
    with pytest.raises(KeyboardInterrupt):
        model.step()
    assert model.quarter == 1
    assert len(model.records) == 2  # quarter 0 and the whole of quarter 1
    monkeypatch.setattr(ParkModel, "_earn_income", earn_income)
    model.step()
    assert model.quarter == 2 and len(model.records) == 3
