"""The worker pool of big feeds (pipeline.workers): results in order, errors raised, and a worker that
dies, even while it writes a result, is an error at once, never a wait (ProcessPoolExecutor's shared
result pipe waited for ever on half a message)."""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time

import psutil
import pytest

from pipeline.workers import WorkerDied, WorkerPool

SPAWN = multiprocessing.get_context("spawn")


def _square_after(number: int, pause: float) -> int:
    time.sleep(pause)
    return number * number


def _fail(message: str) -> None:
    raise ValueError(message)


def _pid() -> int:
    return os.getpid()


def _big(size: int) -> bytes:
    return b"x" * size


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _children() -> list[psutil.Process]:
    return [p for p in psutil.Process().children() if "spawn_main" in " ".join(p.cmdline())]


@pytest.fixture
def pool():
    workers = WorkerPool(2, SPAWN)
    yield workers
    workers.close()


def test_results_come_in_the_order_of_the_tasks_whatever_the_order_they_finish_in(pool):
    pauses = [random.Random(7).uniform(0, 0.05) for _ in range(20)]
    assert list(pool.map(_square_after, ((n, pause) for n, pause in enumerate(pauses)))) == [n * n for n in range(20)]


def test_a_task_is_taken_only_when_a_worker_is_free(pool):
    taken = []

    def tasks():
        for number in range(20):
            taken.append(number)
            yield (number, 0.2 if number == 0 else 0.01)

    results = pool.map(_square_after, tasks())
    assert next(results) == 0
    # While the first task ran, the other worker went through short ones, one at a time, until two
    # results waited for the first: two tasks in the workers and two results held, no more.
    assert len(taken) <= 4
    assert list(results) == [n * n for n in range(1, 20)]


def test_a_tasks_error_is_raised_with_its_type(pool):
    with pytest.raises(ValueError, match="bad part"):
        list(pool.map(_fail, [("bad part",)]))


def test_a_warm_up_error_is_raised_by_the_next_map(pool):
    pool.broadcast(_fail, "no lexicon")
    with pytest.raises(ValueError, match="no lexicon"):
        list(pool.map(_pid, [()]))


def test_the_pool_runs_on_every_worker_and_the_warm_up_result_is_dropped(pool):
    pool.broadcast(_sleep, 0.01)
    pids = set(pool.map(_square_after, ((n, 0.05) for n in range(6))))
    assert pids == {n * n for n in range(6)}
    assert len(set(pool.map(_pid, [()] * 8))) >= 1


def _run_in_thread(target) -> tuple[threading.Thread, list[BaseException]]:
    raised: list[BaseException] = []

    def run():
        try:
            target()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, raised


def test_a_worker_killed_while_it_sends_a_big_result_is_an_error_not_a_wait(pool):
    size = 400 * 1024 * 1024  # long enough to write that the kill lands in the middle of it
    me = psutil.Process()
    before = me.io_counters().read_chars
    results = pool.map(_big, [(size,)])
    thread, raised = _run_in_thread(lambda: next(results))
    deadline = time.monotonic() + 60
    # Once this process has read a few MiB of the result from the pipe, the worker is in the middle of
    # writing it (one write call for the whole): kill it then.
    while me.io_counters().read_chars - before < 4 * 1024 * 1024:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    for child in _children():
        child.kill()
    thread.join(60)
    assert not thread.is_alive(), "the pool waited for the rest of a message that will never come"
    assert raised and isinstance(raised[0], WorkerDied), raised
    assert "while it sent a result" in str(raised[0])


def test_a_worker_killed_while_idle_fails_the_next_task(pool):
    assert list(pool.map(_pid, [()])) != []
    for child in _children():
        child.kill()
        child.wait(10)
    with pytest.raises(WorkerDied):
        list(pool.map(_pid, [()] * 4))


def test_close_ends_busy_and_idle_workers():
    workers = WorkerPool(2, SPAWN)
    results = workers.map(_sleep, [(30,)])
    thread, _ = _run_in_thread(lambda: next(results))
    time.sleep(0.5)
    started = time.monotonic()
    workers.close()
    assert time.monotonic() - started < 10  # a busy worker is killed, not waited for
    assert _children() == []
    workers.close()  # twice is harmless
    thread.join(10)


def test_a_pool_needs_a_process():
    with pytest.raises(ValueError, match="at least one process"):
        WorkerPool(0, SPAWN)
