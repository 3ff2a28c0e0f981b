"""`escalation score --jsonl`: one text per input line, one JSON line out, in input order.

One worker scores line by line, writing each result as its line is read. With more workers the
lines go in batches to forked worker processes that inherit the compiled scorer (nothing is
re-read or re-compiled), and the parent writes the results in input order. The output is exactly
what the single-process path writes (a test compares them byte for byte).

A line longer than BIG_LINE characters (a whole book on one line) is scored in the parent and
streamed: its sentences are split in chunks (`split_sentences(chunked=True)`), a first pass sums
their nets for the text score that leads the JSON, a second scores each sentence again and writes
it at once. Memory then holds the line and its sentence texts, not every sentence's matches, the
segmenter's working copies and the whole JSON line.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from pipeline.score import (
    Scorer,
    encode_sentence_score,
    encode_text_score,
    encode_text_score_head,
    load_scorer,
    text_score,
)
from pipeline.text import split_sentences

BATCH_LINES = 2000
BIG_LINE = 1_000_000  # characters: a longer line is streamed sentence by sentence


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


def _segments(lines: Iterable[str], big_line: int) -> Iterator[list[str] | str]:
    """Batches (lists) of up to BATCH_LINES ordinary lines, and each big line on its own (a str),
    in input order."""
    batch: list[str] = []
    for line in lines:
        if len(line) > big_line:
            if batch:
                yield batch
                batch = []
            yield line
            continue
        batch.append(line)
        if len(batch) == BATCH_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


def write_streamed(scorer: Scorer, line: str, out: TextIO) -> None:
    """The JSON line of `line` (exactly encode_text_score's), written sentence by sentence."""
    sentences = split_sentences(line, chunked=True)
    total = 0.0
    for sentence in sentences:
        scored = scorer.score_sentence(sentence)
        total += scored.escalation - scored.deescalation
    out.write(encode_text_score_head(text_score(total, len(sentences))))
    for i, sentence in enumerate(sentences):
        if i:
            out.write(", ")
        out.write(encode_sentence_score(scorer.score_sentence(sentence)))
    out.write("]}\n")


def _write_line(scorer: Scorer, line: str, out: TextIO, big_line: int) -> int:
    line = line.rstrip("\n")
    if not line.strip():
        return 0
    if len(line) > big_line:
        write_streamed(scorer, line, out)
    else:
        out.write(encode_text_score(scorer.score_text(line)) + "\n")
    return 1


def default_workers() -> int:
    """One per core available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def score_jsonl(
    lines: Iterable[str],
    out: TextIO,
    lexicon_path: Path | None = None,
    workers: int = 1,
    *,
    big_line: int = BIG_LINE,
) -> int:
    """Score every non-blank line and write its JSON line to `out`; returns the lines written.
    One worker streams: each line's result is written as soon as the line is read (a terminal, a
    co-process). workers > 1 uses forked processes (where fork exists) on batches of BATCH_LINES
    lines once the input is bigger than one batch. A line longer than `big_line` characters is
    always scored here and streamed (`write_streamed`)."""
    scorer = load_scorer(lexicon_path)  # compile (and fail on a bad lexicon) before any worker starts
    # The compiled lexicon lives as long as the process: keep the cyclic collector from re-scanning
    # it (and the forked workers from touching, so copying, its pages) on every collection.
    gc.freeze()
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return sum(_write_line(scorer, line, out, big_line) for line in lines)
    segments = _segments(lines, big_line)
    first = next(segments, None)
    if first is None:
        return 0
    second = next(segments, None)
    if second is None:  # a single batch (or one big line) is not worth starting workers for
        if isinstance(first, str):
            return _write_line(scorer, first, out, big_line)
        text = _score_batch((lexicon_path, first))
        out.write(text)
        return text.count("\n")
    written = 0
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        pending: deque = deque()  # batches in the workers, in input order

        def write_oldest() -> None:
            nonlocal written
            text = pending.popleft().get()
            out.write(text)
            written += text.count("\n")

        for segment in itertools.chain([first, second], segments):
            if isinstance(segment, str):  # a big line: what came before it first, then it, streamed
                while pending:
                    write_oldest()
                written += _write_line(scorer, segment, out, big_line)
                continue
            pending.append(pool.apply_async(_score_batch, ((lexicon_path, segment),)))
            while len(pending) > 2 * workers:  # bounded: the input is read as the output is written
                write_oldest()
        while pending:
            write_oldest()
    return written
