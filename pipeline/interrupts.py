"""Ctrl-C (SIGINT) and SIGTERM as one clean stop of a command.

Inside `stop_on_signals()` the first SIGINT or SIGTERM raises `Interrupted` (a KeyboardInterrupt)
in the main thread, wherever it is: an open transaction rolls back, and the caller's handler marks
its run interrupted. Signals after the first are ignored until the block ends, so that handler
runs to its end (a second Ctrl-C cannot leave a run row `running`). A `deferred()` section holds a
signal until it ends: what must not be cut in two (an alert sent to a channel and recorded as
sent) runs whole, then the stop happens. Outside `stop_on_signals` (an Airflow task) `deferred`
changes nothing and the process's own handlers apply.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Generator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop (SIGINT or SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _State:
    active = False  # inside stop_on_signals
    stopping = False  # the first signal has been raised: later ones are ignored
    depth = 0  # nested deferred() sections
    held: int | None = None  # a signal that arrived inside a deferred section
    stopped = False  # a stop was raised by the last stop_on_signals block (kept after it ends)


_state = _State()


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _state.stopping:
        return
    if _state.depth:
        _state.held = signum
        return
    _state.stopping = _state.stopped = True
    raise Interrupted(signum)


def stopping() -> bool:
    """Whether a SIGINT/SIGTERM has been raised in the running stop_on_signals block. An exception
    caught there may be the stop in disguise: a driver that cleans up in a `finally` after the
    KeyboardInterrupt (psycopg restoring autocommit on a connection cut mid-ping) raises its own
    error, which replaces it."""
    return _state.active and _state.stopping


def is_stop(exc: BaseException) -> bool:
    """Whether an exception caught inside stop_on_signals is the stop: a KeyboardInterrupt (our
    `Interrupted` is one), or any error raised while a stop is under way (see `stopping`)."""
    return isinstance(exc, KeyboardInterrupt) or stopping()


def reraise_if_stopping(exc: BaseException) -> None:
    """For a broad `except Exception` that records a failure and goes on (one broken feed, page or
    channel must not stop a run): the stop in disguise (see `stopping`) is raised again, so it stops
    the command instead of becoming that item's failure while the run carries on without it."""
    if stopping():
        raise exc


def was_stopped() -> bool:
    """Whether a SIGINT/SIGTERM stopped the last stop_on_signals block (asked after it ended)."""
    return _state.stopped


@contextmanager
def stop_on_signals() -> Generator[None, None, None]:
    """SIGINT and SIGTERM raise `Interrupted` once inside the block (main thread only; elsewhere
    the block changes nothing)."""
    if threading.current_thread() is not threading.main_thread() or _state.active:
        yield
        return
    previous = {s: signal.getsignal(s) for s in SIGNALS}
    _state.active, _state.stopping, _state.held, _state.stopped = True, False, None, False
    for s in SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _state.active, _state.stopping, _state.held = False, False, None


@contextmanager
def deferred() -> Generator[None, None, None]:
    """Hold SIGINT/SIGTERM until the section ends, then stop (when inside stop_on_signals)."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
        if _state.depth == 0 and _state.held is not None and not _state.stopping:
            signum, _state.held = _state.held, None
            _state.stopping = _state.stopped = True
            raise Interrupted(signum)
