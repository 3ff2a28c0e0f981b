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


def test_a_broad_handler_gives_the_stop_back_and_a_plain_failure_stays_its_own():
    from pipeline.interrupts import reraise_if_stopping

    class DriverError(Exception):
        pass

    outcomes = []
    with pytest.raises(DriverError), stop_on_signals():
        for item in ("first", "second", "third"):
            try:
                if item == "first":
                    raise DriverError("a feed that is really broken")
                try:
                    _signal(signal.SIGINT)
                finally:  # the stop, replaced by a cleanup error
                    raise DriverError("rollback failed")  # noqa: B012
            except DriverError as exc:
                reraise_if_stopping(exc)
                outcomes.append((item, str(exc)))  # recorded as the item's failure, and on
    assert outcomes == [("first", "a feed that is really broken")]  # the second stopped the loop
    reraise_if_stopping(DriverError("outside a stop nothing is raised"))


def test_a_transaction_the_stop_cut_short_is_not_retried(tmp_path):
    """run_transaction retries a transaction a concurrent writer broke; a stop disguised as such an
    error (SQLite's "database is locked") ends it at once."""
    import sqlalchemy as sa
    from sqlalchemy.exc import OperationalError

    from pipeline.store.engine import run_transaction

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    tries = []

    def work(conn):
        tries.append(1)
        if len(tries) == 1:  # an ordinary lock: retried
            raise OperationalError("insert", {}, Exception("database is locked"))
        try:
            _signal(signal.SIGTERM)
        finally:
            raise OperationalError("insert", {}, Exception("database is locked"))  # noqa: B012

    with pytest.raises(OperationalError), stop_on_signals():
        run_transaction(engine, work, "test")
    assert len(tries) == 2
    engine.dispose()


def test_a_stop_while_the_fetch_loop_closes_waits_for_the_close(monkeypatch):
    # A SIGTERM in the middle of the event loop's close left it half closed, and its collection printed a
    # ValueError traceback after the command's own message (a CI run caught it): the close runs whole first.
    import asyncio

    from pipeline.fetch import run_async

    loops = []
    real_close = asyncio.Runner.close

    def close_with_a_stop(runner):
        loops.append(runner.get_loop())
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the loop closes
        real_close(runner)

    monkeypatch.setattr(asyncio.Runner, "close", close_with_a_stop)

    async def work():
        return 7

    with pytest.raises(Interrupted), stop_on_signals():
        run_async(work())
    assert loops and loops[0].is_closed()
