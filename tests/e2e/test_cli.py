"""The `escalation` command as a user runs it: a real subprocess, a real SQLite file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import escalation

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'warehouse.db'}"


def test_demo_run_then_alerts_json(db_url):
    result = escalation("run", "--feeds", "samples/demo_feeds.yaml", "--no-notify", db_url=db_url)
    assert result.returncode == 0, result.stderr
    assert "new articles" in result.stdout
    assert "Top escalatory sentences" in result.stdout

    listed = escalation("alerts", "--since", "2026-10-01", "--until", "2026-10-31", "--json", db_url=db_url)
    assert listed.returncode == 0, listed.stderr
    alerts = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
    assert alerts
    for alert in alerts:
        assert {"day", "actor", "severity", "value", "baseline", "evidence"} <= alert.keys()
        assert all(item["url"] for item in alert["evidence"])

    # Running the same feeds again stores nothing new.
    again = escalation("run", "--feeds", "samples/demo_feeds.yaml", "--no-notify", db_url=db_url)
    assert again.returncode == 0, again.stderr
    relisted = escalation("alerts", "--since", "2026-10-01", "--until", "2026-10-31", "--json", db_url=db_url)
    assert len(relisted.stdout.splitlines()) == len(listed.stdout.splitlines())


def test_signals_and_backtest_detect_over_a_range(db_url):
    assert (
        escalation(
            "ingest", "samples/feeds/" + sorted(os.listdir(REPO / "samples" / "feeds"))[0], db_url=db_url
        ).returncode
        == 0
    )
    signals = escalation("signals", "--since", "2026-10-01", "--until", "2026-10-16", db_url=db_url)
    assert signals.returncode == 0, signals.stderr
    assert "rows" in signals.stdout
    detect = escalation(
        "detect", "--since", "2026-10-01", "--until", "2026-10-16", "--no-notify", db_url=db_url
    )
    assert detect.returncode == 0, detect.stderr
    assert "backtest" in detect.stdout


def test_score_jsonl_contract():
    result = escalation(
        "score",
        "--jsonl",
        stdin="Militias fired rockets at the base and vowed to increase their attacks.\n"
        "The two sides agreed to a ceasefire after talks mediated by Qatar.\n",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert -1.0 <= line["score"] <= 1.0
        for sentence in line["sentences"]:
            assert {"text", "score", "matches"} <= sentence.keys()
    assert lines[0]["score"] > 0 > lines[1]["score"]


def test_score_explains_terms():
    result = escalation("score", "There are red flags indicating that matters are escalating.")
    assert result.returncode == 0, result.stderr
    assert "red flag" in result.stdout.lower()


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("signals",), {"ESCALATION_DB_URL": "nosuchdriver://x"}, "ESCALATION_DB_URL"),
        (("run", "--feeds", "/nonexistent/feeds.yaml"), {}, "/nonexistent/feeds.yaml"),
        (("signals", "--since", "yesterday"), {}, "--since"),
        (("run",), {"ESCALATION_FETCH_TIMEOUT_S": "soon"}, "ESCALATION_FETCH_TIMEOUT_S"),
    ],
)
def test_bad_input_is_one_clear_line_without_traceback(db_url, args, env, expected):
    result = escalation(*args, db_url=db_url, env=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 2


def test_detect_options_override_the_settings(db_url):
    assert (
        escalation("run", "--feeds", "samples/demo_feeds.yaml", "--no-notify", db_url=db_url).returncode == 0
    )
    window = ("--since", "2026-10-01", "--until", "2026-10-16", "--no-notify")

    def count(*extra):
        result = escalation("detect", *window, *extra, db_url=db_url)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip().splitlines()[-1].split()[0])

    relaxed = count(
        "--watch", "1.5", "--warning", "3", "--critical", "6", "--spread-floor", "2", "--cooldown-days", "0"
    )
    strict = count("--watch", "50", "--warning", "60", "--critical", "70")
    assert relaxed > strict == 0

    bad = escalation("detect", *window, "--detector", "magic", db_url=db_url)
    assert bad.returncode == 2 and "detector must be one of mad, ewma" in bad.stderr
    # The mass ranking's floor moves its escalation alerts; the index ranking ignores it.
    loose = count("--ranking", "mass", "--mass-spread-floor", "0.05", "--cooldown-days", "0")
    tight = count("--ranking", "mass", "--mass-spread-floor", "500", "--cooldown-days", "0")
    assert loose > tight
    index = ("--ranking", "index", "--cooldown-days", "0")
    assert count(*index, "--mass-spread-floor", "0.05") == count(*index, "--mass-spread-floor", "500")
    bad = escalation("detect", *window, "--ranking", "votes", db_url=db_url)
    assert bad.returncode == 2 and "ranking must be one of mass, index" in bad.stderr


def test_analyst_commands_on_the_demo_warehouse(db_url, tmp_path):
    import pyarrow.parquet as pq

    assert (
        escalation("run", "--feeds", "samples/demo_feeds.yaml", "--no-notify", db_url=db_url).returncode == 0
    )

    current = escalation("db", "current", db_url=db_url)
    assert current.returncode == 0 and "up to date" in current.stdout
    upgraded = escalation("db", "upgrade", db_url=db_url)
    assert upgraded.returncode == 0 and "escalation_sentences" in upgraded.stdout

    listed = escalation("query", "--list", db_url=db_url)
    assert "top_escalating_actors" in listed.stdout and "--param actor=<text>" in listed.stdout

    out = tmp_path / "drivers.csv"
    drivers = escalation(
        "query",
        "spike_drivers",
        "-p",
        "actor=IRN",
        "-p",
        "day=2026-10-13",
        "-f",
        "csv",
        "--out",
        str(out),
        db_url=db_url,
    )
    assert drivers.returncode == 0, drivers.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("day,score,text") and len(lines) > 3

    as_json = escalation(
        "query",
        "top_escalating_actors",
        "-p",
        "since=2026-10-10",
        "-p",
        "until=2026-10-16",
        "-p",
        "baseline_since=2026-10-01",
        "-f",
        "json",
        db_url=db_url,
    )
    top = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert top and {"actor", "rise"} <= top[0].keys() and top[0]["rise"] >= top[-1]["rise"]

    missing = escalation("query", "spike_drivers", db_url=db_url)
    assert missing.returncode == 2 and "parameter 'actor' (text) is required" in missing.stderr

    parquet = tmp_path / "signals.parquet"
    exported = escalation(
        "export",
        "signals",
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-16",
        "-f",
        "parquet",
        "--out",
        str(parquet),
        db_url=db_url,
    )
    assert exported.returncode == 0, exported.stderr
    table = pq.read_table(parquet)
    assert table.num_rows > 0 and {"day", "actor", "escalation_index"} <= set(table.column_names)
    assert str(table.schema.field("day").type) == "date32[day]"

    sentences = escalation(
        "export", "sentences", "--since", "2026-10-13", "--until", "2026-10-13", db_url=db_url
    )
    assert sentences.stdout.startswith("day,actor,sentence_id") and "2026-10-13" in sentences.stdout
    assert escalation("export", "nonsense", db_url=db_url).returncode == 2

    report = tmp_path / "report.html"
    made = escalation(
        "report",
        "--since",
        "2026-10-01",
        "--until",
        "2026-10-16",
        "--actors",
        "IRN,USA",
        "--out",
        str(report),
        db_url=db_url,
    )
    assert made.returncode == 0, made.stderr
    html = report.read_text()
    assert "IRN" in html and "USA" in html and "<script src=" not in html
