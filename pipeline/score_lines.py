"""`escalation score --jsonl`: one text per input line, one JSON line out, in input order.

One worker scores line by line, writing each result as its line is read. With more workers the
lines go in batches to forked worker processes that inherit the compiled scorer (nothing is
re-read or re-compiled), and the parent writes the results in input order. The output is exactly
what the single-process path writes (a test compares them byte for byte).
"""

from __future__ import annotations

import codecs
import collections
import gc
import itertools
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from pipeline.score import encode_text_score, load_scorer

BATCH_LINES = 2000


def _score_batch(args: tuple[Path | None, list[str], str | None, str]) -> tuple[int, str | bytes]:
    """(lines written, output) of a batch of lines (blank lines skipped); runs in a worker or
    in-process. With an encoding the output comes back encoded: bytes cross the pipe from a worker
    as they are, and the parent writes them without decoding and re-encoding."""
    lexicon_path, lines, encoding, errors = args
    scorer = load_scorer(lexicon_path)  # cached per process; a forked worker inherits the parent's
    score_text = scorer.score_text
    out = [encode_text_score(score_text(line.rstrip("\n"))) for line in lines if line.strip()]
    text = "\n".join(out) + "\n" if out else ""
    return len(out), text.encode(encoding, errors) if encoding else text


def _batches(
    lines: Iterable[str], lexicon_path: Path | None, encoding: str | None, errors: str
) -> Iterator[tuple[Path | None, list[str], str | None, str]]:
    iterator = iter(lines)
    while batch := list(itertools.islice(iterator, BATCH_LINES)):
        yield lexicon_path, batch, encoding, errors


def _byte_buffer(out: TextIO) -> tuple[BinaryIO, str] | None:
    """(byte buffer, errors) under a UTF-8 text stream (sys.stdout, a file), to write encoded
    output into directly; None when there is none (io.StringIO) or the stream has another encoding."""
    buffer = getattr(out, "buffer", None)
    try:
        utf8 = codecs.lookup(getattr(out, "encoding", None) or "").name == "utf-8"
    except LookupError:
        utf8 = False
    if buffer is None or not utf8:
        return None
    return buffer, getattr(out, "errors", None) or "strict"


def default_workers() -> int:
    """One per core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def score_jsonl(lines: Iterable[str], out: TextIO, lexicon_path: Path | None = None, workers: int = 1) -> int:
    """Score every non-blank line and write its JSON line to `out`; returns the lines written.
    One worker streams: each line's result is written as soon as the line is read (a terminal, a
    co-process). workers > 1 uses forked processes (where fork exists) on batches of BATCH_LINES
    lines once the input is bigger than one batch."""
    scorer = load_scorer(lexicon_path)  # compile (and fail on a bad lexicon) before any worker starts
    # The compiled lexicon lives as long as the process: keep the cyclic collector from re-scanning
    # it (and the forked workers from touching, so copying, its pages) on every collection.
    gc.freeze()
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        written = 0
        for line in lines:
            line = line.rstrip("\n")
            if line.strip():
                out.write(encode_text_score(scorer.score_text(line)) + "\n")
                written += 1
        return written
    raw = _byte_buffer(out)
    if raw:
        out.flush()  # whatever was written to it as text goes first
    encoding, errors = ("utf-8", raw[1]) if raw else (None, "strict")
    write = raw[0].write if raw else out.write
    batches = _batches(lines, lexicon_path, encoding, errors)
    first = next(batches, None)
    if first is None:
        return 0
    second = next(batches, None)
    if second is None:  # a single batch is not worth starting workers for
        written, data = _score_batch(first)
        write(data)
    else:
        written = _score_in_parallel(itertools.chain([first, second], batches), write, workers)
    if raw:
        raw[0].flush()
    return written


def _score_in_parallel(
    batches: Iterator[tuple[Path | None, list[str], str | None, str]],
    write: Callable[[Any], object],
    workers: int,
) -> int:
    """Batch i goes to worker i % workers, worker 0 being this process: the parent scores its share
    instead of waiting, so `workers` processes share the cores, not workers + 1. The forked workers
    keep up to two rounds of batches queued; the results are written in input order."""
    written = 0
    context = multiprocessing.get_context("fork")
    with context.Pool(workers - 1) as pool:
        pending: collections.deque[tuple[Any, Any]] = collections.deque()
        ahead = 2 * workers
        for index, batch in enumerate(batches):
            if index % workers:
                pending.append((pool.apply_async(_score_batch, (batch,)), None))
            else:
                pending.append((None, batch))
            while len(pending) > ahead or (pending and pending[0][0] is not None and pending[0][0].ready()):
                written += _write_next(pending, write)
        while pending:
            written += _write_next(pending, write)
    return written


def _write_next(pending: collections.deque[tuple[Any, Any]], write: Callable[[Any], object]) -> int:
    result, batch = pending.popleft()
    count, data = result.get() if result is not None else _score_batch(batch)
    write(data)
    return count
