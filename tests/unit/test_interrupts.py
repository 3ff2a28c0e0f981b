"""pipeline.interrupts: the first SIGINT/SIGTERM stops, later ones wait for the clean-up, and a
deferred section is never cut in two."""

from __future__ import annotations

import os
import signal

import pytest

from pipeline.interrupts import Interrupted, deferred, stop_on_signals, was_stopped


def _signal(signum: int) -> None:
    os.kill(os.getpid(), signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_first_signal_stops_and_later_ones_are_ignored(signum):
    cleaned = []
    with pytest.raises(Interrupted) as caught, stop_on_signals():
        try:
            _signal(signum)
            pytest.fail("the signal did not stop the block")
        except KeyboardInterrupt:
            _signal(signum)  # a second Ctrl-C during the clean-up
            cleaned.append(True)
            raise
    assert caught.value.signum == signum and cleaned == [True] and was_stopped()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers restored


def test_a_deferred_section_runs_whole_then_stops():
    steps = []
    with pytest.raises(Interrupted), stop_on_signals():
        with deferred():
            _signal(signal.SIGTERM)
            steps.append("sent")
            steps.append("recorded")
        steps.append("after")  # never reached
    assert steps == ["sent", "recorded"]


def test_deferred_outside_stop_on_signals_changes_nothing():
    with deferred():
        pass
    with stop_on_signals():
        pass
    assert not was_stopped()


def test_a_stop_that_a_cleanup_error_replaced_is_still_known_as_the_stop():
    from pipeline.interrupts import is_stop, stopping

    class DriverError(Exception):
        pass

    seen = []
    with pytest.raises(DriverError), stop_on_signals():
        assert not stopping()
        try:
            try:
                _signal(signal.SIGTERM)
            finally:  # a driver restoring a setting on a connection the stop cut mid-command
                raise DriverError("can't change 'autocommit' now")
        except DriverError as exc:
            seen.append((stopping(), is_stop(exc)))
            raise
    assert seen == [(True, True)] and not stopping()
    # outside a stop, only a KeyboardInterrupt is one
    assert is_stop(KeyboardInterrupt()) and not is_stop(DriverError("a plain failure"))
