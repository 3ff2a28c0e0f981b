"""The `escalation` command as a user runs it: a real subprocess, a real SQLite file."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from helpers import escalation, schema_url

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

    def count(*extra, env=None):
        result = escalation("detect", *window, *extra, db_url=db_url, env=env)
        assert result.returncode == 0, result.stderr
        return int(result.stdout.strip().splitlines()[-1].split()[0])

    relaxed = count(
        "--watch", "1.5", "--warning", "3", "--critical", "6", "--spread-floor", "2", "--cooldown-days", "0"
    )
    # a new front alerts at the warning threshold whatever it is (its pair, not a z, is the news)
    strict = count("--watch", "50", "--warning", "60", "--critical", "70", env={"ESCALATION_NEW_PAIR": "0"})
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
    for fmt in ("table", "xml"):  # export's formats are the three its help lists
        refused = escalation("export", "signals", "-f", fmt, db_url=db_url)
        assert refused.returncode == 2
        assert f"--format must be one of csv, json, parquet, not '{fmt}'" in refused.stderr
    assert "csv | json | parquet" in escalation("export", "--help", db_url=db_url).stdout

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

    # no range given: the last 60 days, or the data's last 60 days when those hold none
    default = escalation("report", "--actors", "IRN,IRNN", "--out", str(report), db_url=db_url)
    assert default.returncode == 0, default.stderr
    assert "warning: no data for actor code IRNN in the warehouse (did you mean IRN?)" in default.stderr
    today = datetime.now(UTC).date()
    if today - timedelta(days=59) > date(2026, 10, 16):  # the demo's last day
        assert "report: no data in the 60 days to" in default.stderr
        assert default.stdout.strip().endswith(".. 2026-10-16")
    else:
        assert default.stdout.strip().endswith(f".. {today}")


READ_COMMANDS = [
    ("alerts",),
    ("alerts", "--json"),
    ("query", "top_escalating_actors"),
    ("export", "signals"),
    ("report", "--out", "{tmp}/r.html"),
    ("signals",),
    ("detect", "--no-notify"),
    ("rescore",),
    ("db", "current"),
]


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a))
def test_read_commands_on_a_missing_sqlite_warehouse_create_nothing(tmp_path, args):
    missing = tmp_path / "typo" / "x.db"
    result = escalation(*(a.format(tmp=tmp_path) for a in args), db_url=f"sqlite:///{missing}")
    assert result.returncode == 2, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(missing) in lines[0] and "escalation run" in lines[0], result.stderr
    assert not missing.parent.exists() and not (tmp_path / "r.html").exists()


def test_read_commands_on_an_empty_postgresql_schema_create_nothing(pg_url, pg_schema):
    import sqlalchemy as sa

    # A bare postgresql:// URL with a password: psycopg is used, the password never shown.
    url = sa.make_url(pg_url).set(drivername="postgresql", password="s3cret-pw")
    url = schema_url(url.render_as_string(hide_password=False), pg_schema)
    for args in (("alerts",), ("query", "top_escalating_actors"), ("signals",)):
        result = escalation(*args, db_url=url)
        assert result.returncode == 2 and "s3cret-pw" not in result.stderr, result.stderr
        assert "no escalation schema" in result.stderr and "***" in result.stderr, result.stderr
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        count = conn.execute(
            sa.text("select count(*) from pg_class where relnamespace = cast(:s as regnamespace)"),
            {"s": pg_schema},
        ).scalar_one()
    engine.dispose()
    assert count == 0
    assert escalation("db", "upgrade", db_url=url).returncode == 0  # the command the error names
    assert escalation("alerts", db_url=url).returncode == 0


def test_db_option_overrides_the_setting_before_or_after_the_command(tmp_path):
    demo = f"sqlite:///{tmp_path / 'demo.db'}"
    elsewhere = {"ESCALATION_DB_URL": f"sqlite:///{tmp_path / 'elsewhere' / 'x.db'}"}
    ran = escalation(
        "--db", demo, "run", "--feeds", "samples/demo_feeds.yaml", "--no-notify", env=elsewhere
    )
    assert ran.returncode == 0, ran.stderr
    assert not (tmp_path / "elsewhere").exists()  # the variable was not used
    window = ("--since", "2026-10-01", "--until", "2026-10-31", "--json")
    before = escalation("--db", demo, "alerts", *window, env=elsewhere)
    after = escalation("alerts", *window, "--db", demo, env=elsewhere)
    equals = escalation("alerts", f"--db={demo}", *window, env=elsewhere)
    assert before.returncode == after.returncode == equals.returncode == 0, after.stderr
    assert before.stdout and before.stdout == after.stdout == equals.stdout
    current = escalation("db", "current", "--db", demo, env=elsewhere)
    assert current.returncode == 0 and "up to date" in current.stdout
    # Without --db the variable's (missing) warehouse is the one read, and named.
    missing = escalation("alerts", env=elsewhere)
    assert missing.returncode == 2 and "elsewhere" in missing.stderr
    # A --db value after `--` is an argument, not the option.
    scored = escalation("--db", demo, "score", "--", "--db")
    assert scored.returncode == 0, scored.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_demo_ends_with_commands_that_show_the_demo(tmp_path):
    import socket

    venv = Path(sys.executable).parent.parent
    demo = tmp_path / "demo.db"
    with socket.socket() as probe:  # a free port for the demo's page server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    made = subprocess.run(
        # -o: the venv running this test is taken as installed (make must not pip-install into it)
        ["make", "--no-print-directory", "-o", str(venv / ".installed"), "demo", f"VENV={venv}", f"DEMO_FILE={demo}",
         f"DEMO_PAGES_PORT={port}"],  # fmt: skip
        cwd=REPO,
        # Not a sub-make of a `make test` (MAKEFLAGS/MAKELEVEL): its "make[1]: Entering directory" lines
        # would come before the demo's own output.
        env={k: v for k, v in os.environ.items() if not k.startswith("ESCALATION_") and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    block = made.stdout.split("Now try (the demo's articles are from ")[1]
    first, last = block[:10], block[14:24]
    assert first <= last and first.startswith("20")
    commands = [shlex.split(line) for line in block.splitlines()[1:] if line.strip()]
    assert len(commands) >= 4
    for command in commands:
        assert command[0] == f"{venv}/bin/escalation" and command[1:3] == ["--db", f"sqlite:///{demo}"]
        args = [a.replace("report.html", str(tmp_path / "report.html")) for a in command[1:]]
        result = escalation(*args)
        assert result.returncode == 0, (command, result.stderr)
        assert result.stdout.strip() and "no alerts" not in result.stderr and "no rows" not in result.stderr
    assert "alerts --since " + first in made.stdout and "(0)" not in escalation(*commands[0][1:]).stdout


def test_empty_answers_name_the_warehouse_and_where_the_data_lies(db_url):
    assert escalation("run", "--feeds", "samples/demo_feeds.yaml", "--no-notify", db_url=db_url).returncode == 0
    for args in (("alerts", "--until", "2026-12-01"), ("export", "signals", "--until", "2026-12-01")):
        result = escalation(*args, db_url=db_url)
        assert result.returncode == 0, result.stderr
        assert db_url in result.stderr and "2026-11-02 .. 2026-12-01" in result.stderr
        assert "its articles are from 2026-10-01 to 2026-10-16" in result.stderr, result.stderr
    query = escalation("query", "top_escalating_actors", "-p", "since=2026-11-20", "-p", "until=2026-12-01", db_url=db_url)
    assert "-p since=2026-10-01 -p until=2026-10-16" in query.stderr, query.stderr
    full = escalation("alerts", "--since", "2026-10-01", "--until", "2026-10-16", db_url=db_url)
    assert "its articles are" not in full.stderr  # only an empty answer explains itself


def test_run_with_every_feed_failing_points_to_the_demo(db_url, tmp_path):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("version: 1\nfeeds:\n  - name: gone\n    url: " + str(tmp_path / "missing.xml") + "\n")
    result = escalation("run", "--feeds", str(feeds), "--no-notify", db_url=db_url)
    assert "make demo" in result.stderr and "samples/demo_feeds.yaml" in result.stderr, result.stderr


def test_help_shows_no_value_for_flags_and_names_arguments():
    for command in ("run", "alerts", "detect", "score", "extract", "ingest", "query", "db upgrade"):
        shown = escalation(*command.split(), "--help")
        assert shown.returncode == 0 and "<bool>" not in shown.stdout, (command, shown.stdout)
        assert "{sources}" not in shown.stdout
    alerts = escalation("alerts", "--help").stdout
    assert any(line.split()[:1] == ["--json"] and "Write JSON lines" in line for line in alerts.splitlines())
    assert "{SOURCE}..." in escalation("ingest", "--help").stdout


def test_run_and_ingest_agree_on_exit_codes_and_ingest_says_signals_wait(db_url, tmp_path):
    missing = str(tmp_path / "missing.xml")
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"version: 1\nfeeds:\n  - name: gone\n    url: {missing}\n")
    ran = escalation("run", "--feeds", str(feeds), "--no-notify", db_url=db_url)
    some_failed = escalation("ingest", "samples/feeds/gulf_ledger.xml", missing, db_url=db_url)
    assert ran.returncode == some_failed.returncode == 0, (ran.stderr, some_failed.stderr)
    assert "failed" in some_failed.stdout and "file not found" in some_failed.stdout
    assert "signals not computed: `escalation signals --since 2026-10-" in some_failed.stderr


def test_export_refuses_table_before_work_and_report_warns_of_unknown_actors(db_url, tmp_path):
    refused = escalation("export", "signals", "--format", "table", db_url=f"sqlite:///{tmp_path / 'none.db'}")
    assert refused.returncode == 2 and "--format must be one of csv, json, parquet, not 'table'" in refused.stderr
    assert not (tmp_path / "none.db").exists()
    assert escalation("run", "--feeds", "samples/demo_feeds.yaml", "--no-notify", db_url=db_url).returncode == 0
    report = escalation(
        "report", "--since", "2026-10-01", "--until", "2026-10-16", "--actors", "IRN,XXQ",
        "--out", str(tmp_path / "r.html"), db_url=db_url,
    )
    assert report.returncode == 0 and "no data for actor code XXQ in the warehouse" in report.stderr  # IRN has signals


def test_alerts_on_an_80_column_terminal_keep_dates_and_evidence_whole():
    from rich.console import Console

    from pipeline.cli import _alerts_table

    evidence = "Tehran accused Washington of escalating the conflict and threatened to retaliate against bases."
    alert = {
        "day": "2026-10-16", "actor": "IRN", "kind": "escalation", "severity": "critical",
        "measure": "escalation_index", "value": 65.95, "baseline": 0.0, "surprise": 8.2,
        "evidence": [{"text": evidence}],
    }
    narrow = Console(width=80, record=True)
    narrow.print(_alerts_table([alert], width=80))
    text = narrow.export_text()
    assert "2026-10-16 IRN escalation critical: index 65.95 vs baseline 0.00, surprise 8.2" in text
    assert evidence[:60] in text.replace("\n", " ")  # the headline reads as a sentence, not a word a line
    wide = Console(width=160, record=True)
    wide.print(_alerts_table([alert], width=160))
    assert "top evidence" in wide.export_text()
