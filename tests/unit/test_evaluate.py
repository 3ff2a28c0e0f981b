"""`escalation eval` (both file formats, the baselines side by side, the PLOVER root table) and the
`escalation score` command: terminal explanations and the parallel --jsonl path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import escalation

from pipeline.evaluate import EvalError, read_examples, run_eval
from pipeline.score import encode_text_score, load_scorer
from pipeline.score_lines import BATCH_LINES, score_jsonl

CONFLICT = [
    "Rebels shelled the northern villages overnight.",
    "The army launched air strikes on the border town.",
    "Gunmen attacked a police convoy and killed four officers.",
    "The minister threatened retaliation against the neighbour.",
    "The government expelled the ambassador over spying.",
    "The opposition accused the president of rigging the vote.",
]
COOPERATION = [
    "The two sides agreed to a ceasefire on Monday.",
    "Envoys held peace talks in the capital.",
    "The donors sent humanitarian aid to the refugees.",
    "The neighbours signed a trade agreement.",
    "The rivals restored diplomatic relations.",
    "The president praised the mediator's efforts.",
]


def write_plover(path: Path) -> Path:
    roots = ["ASSAULT", "ASSAULT", "ASSAULT", "THREATEN", "SANCTION", "ACCUSE"]
    quads = [4, 4, 4, 3, 4, 3]
    coop_roots = ["AGREE", "CONSULT", "AID", "AGREE", "AGREE", "SUPPORT"]
    coop_quads = [1, 1, 2, 1, 1, 1]
    lines = [f"{s}\t{q}\t{r}" for s, q, r in zip(CONFLICT, quads, roots, strict=True)]
    lines += [f"{s}\t{q}\t{r}" for s, q, r in zip(COOPERATION, coop_quads, coop_roots, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_cameo(path: Path) -> Path:
    lines = [f"{s}\t{4 if i < 3 else 3}" for i, s in enumerate(CONFLICT)]
    lines += [f"{s}\t{1 if i % 2 else 2}" for i, s in enumerate(COOPERATION)]
    lines += ["The central bank kept rates unchanged.\t0", "The parliament passed the budget.\t0"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_both_file_formats_are_read(tmp_path):
    plover = read_examples(write_plover(tmp_path / "p.tsv"))
    cameo = read_examples(write_cameo(tmp_path / "c.tsv"))
    assert plover[0].root == "ASSAULT" and plover[0].label == 4
    assert cameo[0].root is None and {e.label for e in cameo} == {0, 1, 2, 3, 4}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("a\tb\tc\td\n", "expected 'sentence<TAB>label' or 'sentence<TAB>quad<TAB>root', got 4 columns"),
        ("no tab here\n", "got 1 columns"),
        ("x\tseven\n", "not a number 0-4"),
        ("x\t9\tASSAULT\n", "not a CAMEO quad class"),
        ("\t3\n", "empty sentence"),
        ("\n\n", "no examples"),
    ],
)
def test_a_malformed_file_is_one_clear_error(tmp_path, content, message):
    path = tmp_path / "bad.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(EvalError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_examples(path)


def test_plover_report_has_roots_and_the_cross_file_baseline(tmp_path):
    report = run_eval(write_plover(tmp_path / "p.tsv"), worst=3, train_path=write_cameo(tmp_path / "c.tsv"))
    assert report.file_format == "plover"
    names = [s.name for s in report.systems]
    assert names[0].startswith("escalation scorer") and "VADER" in names[1]
    assert "cross-validated" in names[2] and names[3] == "TF-IDF + LR, trained on c.tsv"
    ours = report.systems[0]
    assert ours.auc_conflict == ours.auc_conflict_vs_coop  # no neutral class in a PLOVER file
    assert ours.auc_conflict > 0.9
    trained = report.systems[3]
    assert trained.auc_conflict is not None and trained.note == ""
    roots = {r.root: r for r in report.roots}
    assert roots["ASSAULT"].count == 3 and roots["ASSAULT"].quad == 4 and roots["ASSAULT"].mean_score > 0
    assert roots["AGREE"].mean_score < 0
    assert 0 <= roots["AGREE"].in_band <= roots["AGREE"].count
    assert len(report.worst) == 3 and report.worst[0]["root"]


def test_the_baseline_note_says_why_it_did_not_run(tmp_path):
    path = tmp_path / "tiny.tsv"
    path.write_text("They attacked the town.\t4\nThey agreed on a truce.\t1\nTalks went well.\t1\n")
    report = run_eval(path)
    baseline = report.systems[2]
    assert baseline.auc_conflict is None
    assert "two sentences each" in baseline.note and "not installed" not in baseline.note


def test_eval_command_prints_both_baselines_and_the_root_table(tmp_path):
    plover, cameo = write_plover(tmp_path / "p.tsv"), write_cameo(tmp_path / "c.tsv")
    result = escalation("eval", str(plover), "--train", str(cameo), "--worst", "2")
    assert result.returncode == 0, result.stderr
    assert "(plover)" in result.stdout and "PLOVER root codes" in result.stdout
    assert "trained on c.tsv" in result.stdout and "cross-validated" in result.stdout
    assert "ASSAULT" in result.stdout


@pytest.mark.parametrize(
    "args", [("eval", "/nonexistent.tsv"), ("eval", "BAD", "--train", "/nonexistent.tsv")]
)
def test_eval_command_bad_file_is_one_line(tmp_path, args):
    bad = tmp_path / "bad.tsv"
    bad.write_text("only one column\n")
    result = escalation(*[str(bad) if a == "BAD" else a for a in args])
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nonexistent.tsv" in result.stderr
    malformed = escalation("eval", str(bad))
    assert (
        malformed.returncode == 2 and "bad.tsv:1" in malformed.stderr and "Traceback" not in malformed.stderr
    )


def test_score_command_shows_every_modifier():
    result = escalation("score", "Iran says they won't be subjected to sanctions.")
    assert result.returncode == 0, result.stderr
    assert "[negation:won't]" in result.stdout


def test_score_command_bad_lexicon_is_one_line(tmp_path):
    bad = tmp_path / "lexicon.yaml"
    bad.write_text("version: [unclosed")
    for args in (("score", "a text"), ("score", "--jsonl")):
        result = escalation(*args, stdin="a line\n", env={"ESCALATION_LEXICON_FILE": str(bad)})
        assert (
            result.returncode == 2 and "not valid YAML" in result.stderr and "Traceback" not in result.stderr
        )


def test_parallel_jsonl_is_exactly_the_single_process_output(tmp_path):
    import io

    texts = CONFLICT + COOPERATION + ["", "Nothing to see. Really nothing!", "   "]
    lines = [
        f"{texts[i % len(texts)]} (item {i})\n" if texts[i % len(texts)].strip() else "\n"
        for i in range(2 * BATCH_LINES + 7)
    ]
    single, parallel = io.StringIO(), io.StringIO()
    written = score_jsonl(lines, single, workers=1)
    assert score_jsonl(lines, parallel, workers=2) == written
    assert parallel.getvalue() == single.getvalue()
    expected = [
        encode_text_score(load_scorer().score_text(line.rstrip("\n"))) for line in lines if line.strip()
    ]
    assert single.getvalue().splitlines() == expected and written == len(expected)
    assert json.loads(expected[0])["sentences"][0]["matches"]


def test_parallel_jsonl_to_a_file_a_byte_buffer_and_in_rounds_is_the_single_process_output(
    tmp_path, monkeypatch
):
    import io

    import pipeline.score_lines as score_lines

    lines = [f"{(CONFLICT + COOPERATION)[i % 12]} (item {i})\n" for i in range(3 * BATCH_LINES + 5)]
    single = io.StringIO()
    written = score_jsonl(lines, single, workers=1)
    expected = single.getvalue().encode("utf-8")
    # A file: each worker writes its share to the file descriptor itself, in turn.
    with (tmp_path / "out.jsonl").open("w", encoding="utf-8") as out:
        out.write("already there\n")
        assert score_jsonl(lines, out, workers=3) == written
    assert (tmp_path / "out.jsonl").read_bytes() == b"already there\n" + expected
    # A byte buffer without a file: the shares come back to the parent.
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    assert score_jsonl(lines, text, workers=2) == written
    text.flush()
    assert buffer.getvalue() == expected
    # Several rounds, the last one too small to fork for.
    monkeypatch.setattr(score_lines, "ROUND_LINES", BATCH_LINES + 1)
    with (tmp_path / "rounds.jsonl").open("w", encoding="utf-8") as out:
        assert score_jsonl(lines, out, workers=2) == written
    assert (tmp_path / "rounds.jsonl").read_bytes() == expected


def test_one_worker_writes_a_file_s_lines_in_batches_and_a_pipe_s_line_by_line(tmp_path):
    # Read from a regular file, nobody waits for each line's answer: one worker writes batch by batch
    # (a system call per line with PYTHONUNBUFFERED). Read from a pipe, it still answers every line
    # as it comes. Both write exactly what scoring a list writes.
    import io
    import os

    class Recorder(io.StringIO):
        writes = 0

        def write(self, text: str) -> int:
            self.writes += 1
            return super().write(text)

    lines = [f"{CONFLICT[i % 6]} (item {i})\n" for i in range(BATCH_LINES + 10)] + ["\n", "No news.\n"]
    listed = io.StringIO()
    written = score_jsonl(lines, listed, workers=1)
    (tmp_path / "in.txt").write_text("".join(lines), encoding="utf-8")
    with (tmp_path / "in.txt").open(encoding="utf-8") as source:
        batched = Recorder()
        assert score_jsonl(source, batched, workers=1) == written
    assert batched.getvalue() == listed.getvalue() and batched.writes == 2  # two batches
    read_end, write_end = os.pipe()
    few = lines[:5]
    os.write(write_end, "".join(few).encode("utf-8"))
    os.close(write_end)
    with open(read_end, encoding="utf-8") as source:
        streamed = Recorder()
        assert score_jsonl(source, streamed, workers=1) == len(few)
    assert streamed.getvalue() == "".join(listed.getvalue().splitlines(keepends=True)[:5])
    assert streamed.writes == len(few)


def test_a_worker_error_is_raised_in_the_parent(tmp_path):
    # A lone surrogate cannot be written as UTF-8: the single process fails on it, and so must the
    # parallel path when the line is in a child's share, without writing that share.
    lines = [f"{CONFLICT[i % 6]} (item {i})\n" for i in range(2 * BATCH_LINES + 10)]
    lines[-3] = "Rebels \ud800 attacked.\n"
    with (tmp_path / "single.jsonl").open("w", encoding="utf-8") as out, pytest.raises(UnicodeEncodeError):
        score_jsonl(lines, out, workers=1)
    with (tmp_path / "parallel.jsonl").open("w", encoding="utf-8") as out, pytest.raises(UnicodeEncodeError):
        score_jsonl(lines, out, workers=2)
    written = (tmp_path / "parallel.jsonl").read_text(encoding="utf-8").splitlines()
    # the parent's share only: with two workers the child claims the last lines first, so the
    # failing line and whatever the child scored are never written (how much of the parent's share
    # is out before the child's error arrives depends on timing: none of it on a busy machine)
    assert len(written) < len(lines) - 3
    assert written == [json_line.rstrip("\n") for json_line in _single_lines(lines[: len(written)])]


def _single_lines(lines: list[str]) -> list[str]:
    import io

    out = io.StringIO()
    score_jsonl(lines, out, workers=1)
    return out.getvalue().splitlines()


def test_score_jsonl_command_uses_workers_and_keeps_order():
    stdin = "".join(f"{CONFLICT[i % 6]} Round {i}.\n" for i in range(BATCH_LINES + 50))
    one = escalation("score", "--jsonl", "--workers", "1", stdin=stdin)
    two = escalation("score", "--jsonl", "--workers", "2", stdin=stdin)
    assert one.returncode == 0 and two.returncode == 0, two.stderr
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == BATCH_LINES + 50
    bad = escalation("score", "--jsonl", "--workers", "0", stdin=stdin)
    assert bad.returncode == 2 and "--workers" in bad.stderr


def test_a_big_line_is_streamed_and_writes_exactly_the_same_json(tmp_path):
    import io

    big = " ".join(CONFLICT + COOPERATION) * 20  # about 7,000 characters, over big_line below
    lines = [f"{CONFLICT[i % 6]} (item {i})\n" for i in range(BATCH_LINES + 10)]
    lines[5] = big + "\n"
    lines[BATCH_LINES + 3] = big + "\n"
    expected = [encode_text_score(load_scorer().score_text(line.rstrip("\n"))) for line in lines]
    for workers in (1, 2):
        out = io.StringIO()
        assert score_jsonl(lines, out, workers=workers, big_line=1000) == len(lines)
        assert out.getvalue().splitlines() == expected, workers
    alone = io.StringIO()  # a big line alone: no workers started, streamed all the same
    assert score_jsonl([big], alone, workers=2, big_line=1000) == 1
    assert alone.getvalue() == expected[5] + "\n"


def test_long_paragraphs_collapse_whitespace_and_split_in_chunks_like_the_whole():
    import sys

    from pipeline import text

    spaces = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    messy = f"{spaces} a{spaces}b  c\u3000d {spaces}"
    assert text._collapse_whitespace(messy) == " ".join(messy.split()) == "a b c d"
    plain = " ".join(f"{CONFLICT[i % 6]} Then {COOPERATION[i % 6].lower()}" for i in range(2000))
    assert len(plain) > 100_000
    whole = text._text_to_sentences(plain).split("\n")
    chunked = text._segment_long(plain, chunk=5_000)
    assert chunked == whole and len(whole) == 4000


def test_score_jsonl_on_one_20_mb_line_stays_small():
    """The issue's case: one 20 MB line took GBs; streamed it peaks near 150 MB (measured; the
    bound leaves room), with the text score first as always."""
    import subprocess
    import sys

    from helpers import REPO

    sentence = "Rebels shelled the northern villages overnight. Envoys held peace talks in the capital. "
    line = sentence * (20_000_000 // len(sentence)) + "\n"
    code = (
        "import resource, sys\n"
        "from pipeline.score_lines import score_jsonl\n"
        "class Count:\n"
        "    size = 0\n"
        "    def write(self, s):\n"
        "        self.size += len(s)\n"
        "out = Count()\n"
        "score_jsonl(sys.stdin, out, workers=1)\n"
        "print(out.size, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], input=line, capture_output=True, text=True, cwd=REPO, timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    size, peak_kb = map(int, result.stdout.split())
    assert size > 100_000_000  # every sentence was written, with its matches
    assert peak_kb < 400_000, f"peak {peak_kb // 1024} MB"
