"""`escalation incidents` and `escalation backtest` as a user runs them: a real subprocess, a real
SQLite file. The read command creates nothing; the backtest is the code path of `detect`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import escalation

RANGE = ("--since", "2026-09-01", "--until", "2026-10-31")
EVENTS = """
escalations:
  - {name: rocket barrage on the base in Syria, actors: [SYR, USA], first: 2026-10-13, last: 2026-10-15}
  - {name: something that never happened, actors: [NOR], first: 2026-10-02, last: 2026-10-04}
quiet:
  - {name: a calm week in Qatar, actors: [QAT], first: 2026-09-20, last: 2026-09-27}
"""


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """The demo feeds ingested, signals computed, no detection run yet."""
    path = tmp_path_factory.mktemp("incidents") / "warehouse.db"
    url = f"sqlite:///{path}"
    feeds = sorted((Path(__file__).resolve().parents[2] / "samples" / "feeds").glob("*.xml"))
    result = escalation("ingest", *map(str, feeds), db_url=url, env={"ESCALATION_ARTICLE_FETCH": "0"})
    assert result.returncode == 0, result.stderr
    assert escalation("signals", *RANGE, db_url=url).returncode == 0
    return url


def _lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_incidents_on_a_missing_warehouse_is_one_line_and_creates_nothing(tmp_path):
    missing = tmp_path / "nothing-here" / "warehouse.db"
    result = escalation("incidents", *RANGE, db_url=f"sqlite:///{missing}")
    assert result.returncode == 2 and "no warehouse at" in result.stderr and "Traceback" not in result.stderr
    assert not missing.exists() and not missing.parent.exists()


def test_backtest_and_detect_page_the_same_incidents_and_incidents_lists_them(demo_db, tmp_path):
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS)
    before = escalation("incidents", *RANGE, "--json", db_url=demo_db)
    assert before.returncode == 0, before.stderr
    assert before.stdout == ""  # nothing detected yet: the read command made nothing up

    replay = escalation("backtest", "--events", str(events), *RANGE, "--json", db_url=demo_db)
    assert replay.returncode == 0, replay.stderr
    (figures,) = _lines(replay.stdout)
    assert (figures["escalations"], figures["escalations_paged"], figures["quiet_windows"]) == (2, 1, 1)
    hit = next(e for e in figures["events"] if e["paged"])
    assert hit["name"].startswith("rocket barrage") and hit["day"] == "2026-10-13" and hit["reason"] == "open"
    assert figures["quiet_windows_paged"] == 0 and figures["paged_escalation_incidents"] >= 1
    assert figures["paged_incidents_per_week"] == pytest.approx(
        figures["paged_escalation_incidents"] / figures["weeks"], abs=1e-3
    )
    assert (
        escalation("incidents", *RANGE, "--json", db_url=demo_db).stdout == ""
    )  # the backtest wrote nothing

    detect = escalation("detect", *RANGE, "--no-notify", db_url=demo_db)
    assert detect.returncode == 0 and "mode backtest" in detect.stdout
    listed = _lines(escalation("incidents", *RANGE, "--mode", "backtest", "--json", db_url=demo_db).stdout)
    assert listed
    for item in listed:
        assert {
            "id",
            "kind",
            "actors",
            "opened",
            "closed",
            "peak_severity",
            "paged",
            "first_paged",
            "alerts",
        } <= set(item)
        assert all(
            {"text", "title", "url", "outlet", "day", "copies", "outlets"} <= set(e) for e in item["evidence"]
        )
    stored = sorted(
        (tuple(i["actors"]), i["first_paged"]) for i in listed if i["kind"] == "escalation" and i["paged"]
    )
    replayed = sorted((tuple(i["actors"]), i["first_paged"]) for i in figures["incidents"])
    assert stored == replayed  # one code path: the stored backtest pages what the replay judged

    again = escalation("incidents", *RANGE, "--mode", "backtest", "--json", db_url=demo_db)
    assert _lines(again.stdout) == listed
    table = escalation("incidents", *RANGE, db_url=demo_db)
    assert table.returncode == 0 and "Incidents 2026-09-01 .. 2026-10-31" in table.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("escalations: [unclosed", "not valid YAML"),
        ("escalations:\n  - {name: x, actors: [], first: 2026-10-01, last: 2026-10-02}\n", "actors must be"),
        (
            "escalations:\n  - {name: x, actors: [SYR], first: 2026-10-05, last: 2026-10-02}\n",
            "is after last",
        ),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_a_bad_events_file_is_one_clear_line(demo_db, tmp_path, content, expected):
    events = tmp_path / "events.yaml"
    events.write_text(content)
    result = escalation("backtest", "--events", str(events), db_url=demo_db)
    assert (
        result.returncode == 2
        and expected in " ".join(result.stderr.split())
        and "Traceback" not in result.stderr
    )


def test_backtest_without_signals_says_what_to_run(demo_db, tmp_path):
    events = tmp_path / "events.yaml"
    events.write_text(EVENTS)
    result = escalation(
        "backtest", "--events", str(events), "--since", "2026-11-01", "--until", "2026-11-05", db_url=demo_db
    )
    assert result.returncode == 2 and "no stored articles" in result.stderr
