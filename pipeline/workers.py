"""A few worker processes that run one function over a stream of large tasks, results in order.

Not concurrent.futures.ProcessPoolExecutor: its workers share one result pipe, and a worker killed
while it writes a result (the OOM killer's SIGKILL) leaves half a message there; the executor then
waits for the rest for ever (CPython 3.11), and so does the feed. Here every worker has a pipe of
its own and takes one task at a time: a worker that dies is seen at once through its process
sentinel, its pipe is never read after that, and a read it cuts short ends at the end of file
instead of blocking (this process holds no copy of the worker's end). Its death is `WorkerDied`.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import BaseContext
from typing import Any

_DISCARD = -1  # the index of a task whose result nobody waits for (a warm-up)


class WorkerDied(RuntimeError):
    """A worker process ended while it had a task."""


def _serve(connection: Connection) -> None:
    """A worker's life: (function, args) in, (True, result) or (False, exception) out, until None
    or the end of its pipe."""
    # The parent decides when work stops (a Ctrl-C reaches the whole process group): the parent
    # then closes or kills its workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        function, args = message
        try:
            reply: tuple[bool, Any] = (True, function(*args))
        except Exception as exc:
            reply = (False, exc)
        try:
            connection.send(reply)
        except (BrokenPipeError, EOFError):
            return
        except Exception as exc:  # a result or an exception that does not pickle
            connection.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


@dataclass(eq=False)
class _Worker:
    process: Any  # a multiprocessing Process of the pool's context
    connection: Connection
    task: int | None = None  # the index of the task it holds, or None when idle

    @property
    def alive(self) -> bool:
        return self.process.exitcode is None

    def died(self, while_: str) -> WorkerDied:
        self.process.join(1)
        return WorkerDied(f"worker process {self.process.pid} ended {while_} (exit code {self.process.exitcode})")

    def send(self, message: object) -> None:
        """A message to an idle worker, which is reading: it takes the whole of it."""
        try:
            self.connection.send(message)
        except OSError:  # its end is closed: it is gone
            raise self.died("before it took a task") from None


@dataclass(eq=False)
class WorkerPool:
    """`processes` worker processes of `context` (spawn: no inherited locks or connections)."""

    processes: int
    context: BaseContext
    _workers: list[_Worker] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if self.processes < 1:
            raise ValueError(f"a worker pool needs at least one process, not {self.processes}")
        try:
            for _ in range(self.processes):
                parent_end, child_end = self.context.Pipe(duplex=True)
                # daemon: a parent that dies without closing the pool takes its workers along
                process = self.context.Process(target=_serve, args=(child_end,), daemon=True)  # type: ignore[attr-defined]
                process.start()
                child_end.close()  # the worker's end lives in the worker only: its death is an EOF here
                self._workers.append(_Worker(process, parent_end))
        except BaseException:
            self.close()
            raise

    def broadcast(self, function: Callable[..., Any], *args: Any) -> None:
        """function(*args) once in every worker, results dropped (a task that warms a worker up
        while the caller prepares the real work); an error in it is raised by the next `map`."""
        for worker in self._workers:
            worker.send((function, args))
            worker.task = _DISCARD

    def map(self, function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """function(*task) for every task, in the tasks' order, each task taken from `tasks` only when a
        worker is free for it (a big task is held by one worker at a time) and fewer than `processes`
        results wait for an earlier one. A task's exception is raised here; a worker's death raises
        WorkerDied. The pool stays open: `close` ends it."""
        pending = iter(tasks)
        exhausted = False
        dispatched = 0  # tasks sent so far; the next one gets this index
        wanted = 0  # the index of the next result to hand out
        done: dict[int, tuple[bool, Any]] = {}
        while True:
            # Free workers get their next task first, so they work while the caller takes results; but
            # no more while `processes` results wait for an earlier one (their memory is bounded).
            for worker in self._workers:
                if exhausted or worker.task is not None or len(done) >= self.processes:
                    continue
                try:
                    task = next(pending)
                except StopIteration:
                    exhausted = True
                    break
                worker.send((function, tuple(task)))
                worker.task, dispatched = dispatched, dispatched + 1
            while wanted in done:
                ok, value = done.pop(wanted)
                wanted += 1
                if not ok:
                    raise value
                yield value
            busy = [w for w in self._workers if w.task is not None]
            if not busy:  # every task sent has come back and been handed out
                if exhausted:
                    return
                continue  # the results that held the workers back are out: on with the tasks
            sentinels = {w.process.sentinel: w for w in busy}
            ready = set(wait([*sentinels, *(w.connection for w in busy)]))
            for worker in busy:
                if worker.process.sentinel in ready or not worker.alive:
                    raise worker.died("while it held a task")
                if worker.connection in ready:
                    try:
                        reply = worker.connection.recv()
                    except (EOFError, OSError):
                        raise worker.died("while it sent a result") from None
                    index, worker.task = worker.task, None
                    if index != _DISCARD:
                        done[index] = reply
                    elif not reply[0]:
                        raise reply[1]

    def close(self) -> None:
        """End every worker: an idle one is told to stop, one that holds a task (or does not stop) is
        killed. Safe to call twice."""
        for worker in self._workers:
            if worker.alive and worker.task is None:
                try:
                    worker.connection.send(None)
                except OSError:
                    pass
        for worker in self._workers:
            if worker.task is None:
                worker.process.join(2)
            if worker.alive:
                worker.process.kill()
            worker.process.join()
            worker.connection.close()
        self._workers.clear()
