"""`escalation score --jsonl`: one text per input line, one JSON line out, in input order.

One worker scores line by line, writing each result as its line is read. With more workers the
lines go in batches to forked worker processes that inherit the compiled scorer (nothing is
re-read or re-compiled), and the parent writes the results in input order. The output is exactly
what the single-process path writes (a test compares them byte for byte).
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from pipeline.score import encode_text_score, load_scorer

BATCH_LINES = 2000


def _score_batch(args: tuple[Path | None, list[str]]) -> str:
    """The output of a batch of lines (blank lines skipped); runs in a worker or in-process."""
    lexicon_path, lines = args
    scorer = load_scorer(lexicon_path)  # cached per process; a forked worker inherits the parent's
    out = []
    for line in lines:
        line = line.rstrip("\n")
        if line.strip():
            out.append(encode_text_score(scorer.score_text(line)))
            out.append("\n")
    return "".join(out)


def _batches(lines: Iterable[str], lexicon_path: Path | None) -> Iterator[tuple[Path | None, list[str]]]:
    iterator = iter(lines)
    while batch := list(itertools.islice(iterator, BATCH_LINES)):
        yield lexicon_path, batch


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
    batches = _batches(lines, lexicon_path)
    first = next(batches, None)
    if first is None:
        return 0
    second = next(batches, None)
    if second is None:  # a single batch is not worth starting workers for
        text = _score_batch(first)
        out.write(text)
        return text.count("\n")
    written = 0
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        for text in pool.imap(_score_batch, itertools.chain([first, second], batches)):
            out.write(text)
            written += text.count("\n")
    return written
