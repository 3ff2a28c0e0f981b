"""`escalation score --jsonl`: one text per input line, one JSON line out, in input order.

One worker reading a pipe or a terminal scores line by line, writing each result as its line is
read; reading a regular file, it scores in batches as below, in this process. With more workers the
lines are read in rounds of up to ROUND_LINES; for each round this process forks workers - 1
children, which inherit the compiled scorer and the lines (nothing is re-read, re-compiled or
sent), and every process scores a contiguous share (with two workers its end is not fixed: the
parent claims pieces from the front, the child from the back, until they meet). Each child writes its share straight to the
output's file descriptor when the share before it has been written, so the output crosses no pipe
either. The output is exactly what the single-process path writes (tests compare them byte for byte).

A line longer than BIG_LINE characters (a whole book on one line) is scored in this process and
streamed: its sentences are split in chunks (`split_sentences(chunked=True)`), a first pass sums
their nets for the text score that leads the JSON, a second scores each sentence again and writes
it at once. Memory then holds the line and its sentence texts, not every sentence's matches, the
segmenter's working copies and the whole JSON line. A round holding such a line is scored here alone.
"""

from __future__ import annotations

import codecs
import gc
import itertools
import os
import pickle
import signal
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, TextIO

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
# Lines read before the workers fork for them: each round is split between them.
ROUND_LINES = 100_000
# With two workers, the pieces of a round they claim one by one (see _score_round).
CLAIM_LINES = 500
BIG_LINE = 1_000_000  # characters: a longer line is streamed sentence by sentence


def _score_batch(args: tuple[Path | None, list[str], str | None, str]) -> tuple[int, str | bytes]:
    """(lines written, output) of a batch of lines (blank lines skipped); runs in a worker or
    in-process. With an encoding the output comes back encoded: bytes cross the pipe from a worker
    as they are, and the parent writes them without decoding and re-encoding."""
    lexicon_path, lines, encoding, errors = args
    scorer = load_scorer(lexicon_path)  # cached per process; a forked worker inherits the parent's
    score_text = scorer.score_text
    # `line and not line.isspace()` is `line.strip()` without copying the line
    out = [encode_text_score(score_text(line.rstrip("\n"))) for line in lines if line and not line.isspace()]
    text = "\n".join(out) + "\n" if out else ""
    return len(out), text.encode(encoding, errors) if encoding else text


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
    if not line or line.isspace():
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
    co-process), unless `lines` reads a regular file, which nobody waits on line by line: then it
    writes batch by batch. workers > 1 uses forked processes (where fork exists) for each round of more than
    BATCH_LINES lines. A line longer than `big_line` characters is always scored here and streamed
    (`write_streamed`)."""
    scorer = load_scorer(lexicon_path)  # compile (and fail on a bad lexicon) before any worker starts
    # The compiled lexicon lives as long as the process: keep the cyclic collector from re-scanning
    # it (and the forked workers from touching, so copying, its pages) on every collection.
    gc.freeze()
    forking = workers > 1 and hasattr(os, "fork")
    if not forking and not _from_regular_file(lines):
        return sum(_write_line(scorer, line, out, big_line) for line in lines)
    # Several workers, or input that is all there already (a file, not a pipe or a terminal that a
    # reader waits on): lines are scored in batches and each batch's output written at once (with
    # PYTHONUNBUFFERED, writing line by line was a system call per line).
    raw = _byte_buffer(out)
    if raw:
        out.flush()  # whatever was written to it as text goes first
    sink = _Sink(out, *raw) if raw else _Sink(out, None, "strict")
    written = 0
    iterator = iter(lines)
    while chunk := list(itertools.islice(iterator, ROUND_LINES)):
        if any(len(line) > big_line for line in chunk):  # streamed here, in order, as text
            sink.flush()
            written += sum(_write_line(scorer, line, out, big_line) for line in chunk)
            out.flush()
        elif len(chunk) <= BATCH_LINES or not forking:  # not worth starting workers for, or one worker
            for count, data in _share_batches(chunk, lexicon_path, sink):
                sink.write(data)
                written += count
        else:
            written += _score_round(chunk, lexicon_path, workers, sink)
    sink.flush()
    return written


def _from_regular_file(lines: Iterable[str]) -> bool:
    """Whether `lines` is a stream reading a regular file (stdin redirected from one)."""
    try:
        return stat.S_ISREG(os.fstat(lines.fileno()).st_mode)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):  # a list, io.StringIO, a closed stream
        return False


class _Sink:
    """Where the output goes: the byte buffer under a UTF-8 text stream (and its file descriptor,
    if it has one), or the text stream itself."""

    def __init__(self, out: TextIO, buffer: BinaryIO | None, errors: str):
        self.buffer = buffer
        self.errors = errors
        self.encoding = "utf-8" if buffer is not None else None
        self.write: Callable[[Any], object] = buffer.write if buffer is not None else out.write
        self.flush: Callable[[], object] = buffer.flush if buffer is not None else out.flush
        self.fd: int | None = None
        if buffer is not None:
            try:
                self.fd = buffer.fileno()
            except (AttributeError, OSError, ValueError):  # a buffer without a file (io.BytesIO)
                self.fd = None


def _score_round(lines: list[str], lexicon_path: Path | None, workers: int, sink: _Sink) -> int:
    """Score `lines` on `workers` processes: this one and workers - 1 children forked now, each with
    a contiguous share. The children inherit the lines and the compiled scorer, so nothing is sent
    to them. With a file descriptor under the output, each child writes its share there itself once
    the process before it has passed it the turn (a byte over a pipe), so no output crosses between
    processes either; otherwise its share comes back in its report. A child's report is its line
    count, or its exception, which is raised here.

    With two workers the split point is not fixed: the lines are cut in CLAIM_LINES pieces, one
    token each in a pipe; this process takes pieces from the front and the child from the back, a
    token per piece, until none is left, so the two meet wherever the faster one (on a machine
    shared with other jobs) has got to. The output is the same whichever process scores a piece."""
    claims: int | None = None
    if workers == 2:
        pieces = [lines[start : start + CLAIM_LINES] for start in range(0, len(lines), CLAIM_LINES)]
        claims, fill = os.pipe()
        try:
            _write_all(fill, b"x" * len(pieces))  # a few hundred bytes: fits the pipe's buffer
        finally:
            os.close(fill)  # no writer left: a read past the last token returns b"" at once
        shares: list[list[str]] = [[], []]
        groups: list[list[list[str]]] = [pieces, pieces[::-1]]
    else:
        size = -(-len(lines) // workers)
        shares = [lines[start : start + size] for start in range(0, len(lines), size)]
        groups = [[share] for share in shares]
    turns = [os.pipe() for _ in shares[1:]]  # turns[k - 1]: child k may write
    reports = [os.pipe() for _ in shares[1:]]
    sink.flush()  # nothing buffered may be written after a child's share
    children: list[int] = []
    try:
        for k in range(1, len(shares)):
            pid = os.fork()
            if pid == 0:
                _child(k, groups[k], lexicon_path, sink, turns, reports, claims)  # never returns
            children.append(pid)
    except BaseException:
        _stop(children, turns, reports)
        if claims is not None:
            os.close(claims)
        raise
    for number, (read_end, write_end) in enumerate(turns):
        os.close(read_end)
        if number:
            os.close(write_end)
    for _, write_end in reports:
        os.close(write_end)
    written = 0
    done = False
    try:
        for piece in _claimed(groups[0], claims):  # the first share streams
            for count, data in _share_batches(piece, lexicon_path, sink):
                sink.write(data)
                written += count
        sink.flush()
        done = True
    finally:
        if claims is not None:
            os.close(claims)
        os.write(turns[0][1], b"y" if done else b"n")
        os.close(turns[0][1])
        if not done:
            for pid in children:
                os.kill(pid, signal.SIGKILL)
        failure: BaseException | None = None
        for read_end, _ in reports:
            report = _read_all(read_end)
            os.close(read_end)
            if done and failure is None:
                try:
                    status, count, data = pickle.loads(report)
                except Exception:  # a child that was killed leaves no report
                    status, count, data = "error", 0, RuntimeError("a score worker ended without a report")
                if status == "ok":
                    for chunk in data or ():
                        sink.write(chunk)
                    written += count
                else:
                    failure = data
        _reap(children)
    if failure is not None:
        raise failure
    return written


def _share_batches(
    lines: list[str], lexicon_path: Path | None, sink: _Sink
) -> Iterator[tuple[int, str | bytes]]:
    """A share's output batch by batch: no output string of the whole share is ever built (its
    pages were a good part of the cost of a fork)."""
    for start in range(0, len(lines), BATCH_LINES):
        yield _score_batch((lexicon_path, lines[start : start + BATCH_LINES], sink.encoding, sink.errors))


def _claimed(pieces: list[list[str]], claims: int | None) -> Iterator[list[str]]:
    """`pieces` in their order: all of them without `claims`; with it, one piece per token read from
    it (a one-byte read: two processes never get the same token), until none is left."""
    for piece in pieces:
        if claims is not None and not os.read(claims, 1):
            return
        yield piece


def _child(
    k: int,
    pieces: list[list[str]],
    lexicon_path: Path | None,
    sink: _Sink,
    turns: list[tuple[int, int]],
    reports: list[tuple[int, int]],
    claims: int | None = None,
) -> None:
    """Child k: score its share, wait for its turn, write (or report) the output, pass the turn on,
    report; then leave at once (os._exit: no atexit handlers, no flushing of the parent's buffers).
    With `claims` its pieces come from the back of the round (last first) and it scores those it
    claims; its output is put back in input order before it is written."""
    status = 1
    try:
        turn = turns[k - 1][0]
        next_turn = turns[k][1] if k < len(turns) else None
        report = reports[k - 1][1]
        for read_end, write_end in turns:
            if read_end != turn:
                os.close(read_end)
            if write_end != next_turn:
                os.close(write_end)
        for read_end, write_end in reports:
            os.close(read_end)
            if write_end != report:
                os.close(write_end)
        failure: BaseException | None = None
        count, parts = 0, []
        try:
            for piece in _claimed(pieces, claims):
                batches = list(_share_batches(piece, lexicon_path, sink))
                count += sum(batch_count for batch_count, _ in batches)
                parts.append([chunk for _, chunk in batches])
        except Exception as exc:
            failure = exc
            if claims is not None:  # take the tokens left, so the parent stops scoring soon
                while os.read(claims, 4096):
                    pass
        if claims is not None:
            parts.reverse()  # claimed last piece first
        data: list[str | bytes] | None = [chunk for piece in parts for chunk in piece]
        go = os.read(turn, 1) == b"y"  # b"n", or nothing if the parent died: write nothing
        if go and failure is None and sink.fd is not None:
            try:
                for chunk in data:
                    _write_all(sink.fd, chunk)
            except Exception as exc:
                failure = exc
            data = None
        if next_turn is not None:
            os.write(next_turn, b"y" if go and failure is None else b"n")
        if failure is not None:
            message = _picklable(failure)
            _write_all(report, pickle.dumps(("error", 0, message)))
        elif go:
            _write_all(report, pickle.dumps(("ok", count, data)))
        status = 0
    finally:
        os._exit(status)


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"score worker failed: {exc!r}")
    return exc


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _read_all(fd: int) -> bytes:
    parts = []
    while part := os.read(fd, 1 << 20):
        parts.append(part)
    return b"".join(parts)


def _stop(children: list[int], turns: list[tuple[int, int]], reports: list[tuple[int, int]]) -> None:
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pair in (*turns, *reports):
        for end in pair:
            os.close(end)
    _reap(children)


def _reap(children: list[int]) -> None:
    for pid in children:
        os.waitpid(pid, 0)
