"""`escalation score --jsonl` run by main() without typer's command (the fast path): the same bytes,
the same errors and exit codes as through typer, and everything else still goes through typer."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from helpers import REPO, escalation

from pipeline import cli
from pipeline.score_lines import score_jsonl

LINES = (
    "Militias fired rockets at the base and vowed to increase their attacks.\n"
    "\n"
    "The two sides agreed to a ceasefire after talks. Envoys praised the mediator.\n"
    "Nothing happened in the quiet town on Sunday.\n"
    "   \n"
    "The army shelled the villages; the rebels said they won't negotiate.\n"
)
# The same command through typer: --db makes argv one the fast path leaves alone, and `score`
# never opens the warehouse.
TYPER = ("--db", "sqlite:///unused-by-score.db")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["score", "--jsonl"], (True, None)),
        (["score", "--jsonl", "--workers", "2"], (True, 2)),
        (["score", "--workers", "3", "--jsonl"], (True, 3)),
        (["score", "--jsonl", "--workers=12"], (True, 12)),
        (["score"], (False, None)),
        (["score", "some text"], (False, None)),
        (["score", "--jsonl", "some text"], (False, None)),
        (["score", "--jsonl", "--help"], (False, None)),
        (["score", "--help"], (False, None)),
        (["score", "--jsonl", "--jsonl"], (False, None)),
        (["score", "--jsonl", "--workers"], (False, None)),
        (["score", "--jsonl", "--workers", "0"], (False, None)),
        (["score", "--jsonl", "--workers", "-1"], (False, None)),
        (["score", "--jsonl", "--workers", "02"], (False, None)),
        (["score", "--jsonl", "--workers", "two"], (False, None)),
        (["score", "--jsonl", "--workers", "1", "--workers", "2"], (False, None)),
        (["score", "--jsonl", "--"], (False, None)),
        (["--db", "sqlite:///x.db", "score", "--jsonl"], (False, None)),
        (["signals", "--jsonl"], (False, None)),
        ([], (False, None)),
    ],
)
def test_only_plain_score_jsonl_takes_the_fast_path(args, expected):
    assert cli._fast_score_jsonl(list(args)) == expected


def test_main_scores_without_typer(monkeypatch):
    def no_typer(*args, **kwargs):
        raise AssertionError("typer's app was called")

    out = io.StringIO()
    monkeypatch.setattr(cli, "app", no_typer)
    monkeypatch.setattr(sys, "argv", ["escalation", "score", "--jsonl", "--workers", "1"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(LINES))
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the fast path installs typer's, as typer does
    with pytest.raises(SystemExit) as exited:
        cli.main()
    assert exited.value.code == 0
    expected = io.StringIO()
    assert score_jsonl(io.StringIO(LINES), expected, workers=1) == 4
    assert out.getvalue() == expected.getvalue()


@pytest.mark.parametrize("workers", [(), ("--workers", "1"), ("--workers", "2")])
def test_fast_path_writes_what_typer_writes(workers):
    lines = LINES * 1500  # more than a batch: --workers 2 forks
    fast = escalation("score", "--jsonl", *workers, stdin=lines)
    typer_path = escalation(*TYPER, "score", "--jsonl", *workers, stdin=lines)
    assert fast.returncode == typer_path.returncode == 0, fast.stderr + typer_path.stderr
    assert fast.stdout == typer_path.stdout and len(fast.stdout.splitlines()) == 4 * 1500
    assert fast.stderr == typer_path.stderr == ""


@pytest.mark.parametrize(
    "env",
    [
        {"ESCALATION_LEXICON_FILE": "/nonexistent/lexicon.yaml"},
        {"ESCALATION_LEXICON_FILE": "lexicon-without-categories"},
        {"ESCALATION_FETCH_TIMEOUT_S": "soon"},
    ],
)
def test_fast_path_fails_as_typer_does(tmp_path, env):
    if env.get("ESCALATION_LEXICON_FILE") == "lexicon-without-categories":
        bad = tmp_path / "lexicon.yaml"
        bad.write_text("version: 1\n")
        env = {"ESCALATION_LEXICON_FILE": str(bad)}
    fast = escalation("score", "--jsonl", stdin=LINES, env=env)
    typer_path = escalation(*TYPER, "score", "--jsonl", stdin=LINES, env=env)
    assert fast.returncode == typer_path.returncode == 2
    assert fast.stderr == typer_path.stderr and fast.stderr.startswith("error: ")
    assert "Traceback" not in fast.stderr and fast.stdout == typer_path.stdout == ""


def test_malformed_and_help_forms_still_go_through_typer():
    zero = escalation("score", "--jsonl", "--workers", "0", stdin=LINES)
    assert zero.returncode == 2 and zero.stderr == "error: --workers must be at least 1, got 0\n"
    word = escalation("score", "--jsonl", "--workers", "two", stdin=LINES)
    assert word.returncode == 2 and "Invalid value for '--workers'" in word.stderr
    shown = escalation("score", "--jsonl", "--help")
    assert shown.returncode == 0 and "Usage:" in shown.stdout and "--workers" in shown.stdout


def test_a_closed_pipe_ends_both_paths_alike(tmp_path):
    # A reader that stops after one line (`| head -1`): typer's standalone mode exits 1 without a word.
    source = tmp_path / "lines.txt"
    source.write_text(LINES * 20_000, encoding="utf-8")
    results = []
    for prefix in ((), TYPER):
        with source.open("rb") as stdin:
            process = subprocess.Popen(
                [sys.executable, "-m", "pipeline.cli", *prefix, "score", "--jsonl", "--workers", "1"],
                cwd=REPO,
                env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
                stdin=stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            assert process.stdout is not None and process.stderr is not None
            first = process.stdout.readline()
            process.stdout.close()
            code = process.wait(timeout=300)
            results.append((first[:1], code, process.stderr.read()))
            process.stderr.close()
    assert results[0] == results[1] and results[0][:2] == (b"{", 1), results


def test_the_fast_path_imports_no_typer_and_the_app_is_built_when_used():
    # The typer app is recorded, not built, at import (cli._LazyTyper): score --jsonl never builds it.
    probe = (
        "import io, sys\n"
        "sys.argv = ['escalation', 'score', '--jsonl', '--workers', '1']\n"
        "sys.stdin = io.StringIO('Rockets hit the base.\\n')\n"
        "from pipeline import cli\n"
        "imported = 'typer' in sys.modules or 'click' in sys.modules\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit as exit:\n"
        "    code = exit.code\n"
        "sys.stderr.write(f'{imported} {\"typer\" in sys.modules} {code}\\n')\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.stderr == "False False 0\n" and ran.stdout.startswith('{"score": ')
    names = [command.name or command.callback.__name__ for command in cli.app.registered_commands]
    assert names[:3] == ["run", "ingest", "score"] and "db" in [g.name for g in cli.app.registered_groups]


def test_the_recorded_app_is_what_typer_runs():
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli.app, ["score", "--jsonl", "--workers", "1"], input=LINES)
    expected = io.StringIO()
    score_jsonl(io.StringIO(LINES), expected, workers=1)
    assert result.exit_code == 0 and result.output == expected.getvalue()
    shown = CliRunner().invoke(cli.app, ["db", "--help"])
    assert shown.exit_code == 0 and "upgrade" in shown.output and "current" in shown.output
