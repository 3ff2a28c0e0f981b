"""Judging an incident timeline against known events (pipeline.backtest): pure, synthetic."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipeline.backtest import EventsError, KnownEvent, judge, judgement_dict, parse_events
from pipeline.incidents import Candidate, Evidence, IncidentParams, fold

START = date(2026, 3, 1)
PARAMS = IncidentParams(quiet_days=5, page_severity="warning")


def day(n: int) -> date:
    return START + timedelta(days=n)


def cand(n: int, actor: str, severity: str, surprise: float, partners: tuple[str, ...] = ()) -> Candidate:
    return Candidate(day(n), actor, "escalation", severity, surprise, partners, 0.0, 3, 2,
                     (Evidence(text=f"{actor} shelling on day {n}", score=0.8, day=day(n)),))


def event(name: str, actors: set[str], first: int, last: int) -> KnownEvent:
    return KnownEvent(name, frozenset(actors), day(first), day(last))


def timeline():
    days: dict[date, list[Candidate]] = {}
    for c in (
        cand(2, "AAA", "warning", 6.0),  # opens and pages: the known event of AAA
        cand(4, "AAA", "critical", 9.0),  # an upgrade inside BBB's window? no: AAA only
        cand(10, "CCC", "watch", 3.5),  # opens below the paging severity
        cand(12, "CCC", "warning", 6.0, ("DDD",)),  # CCC/DDD pages: a quiet window of DDD
        cand(20, "EEE", "warning", 5.5),
    ):
        days.setdefault(c.day, []).append(c)
    return fold(days, PARAMS, since=day(0), until=day(27))


def test_events_are_paged_by_an_open_or_an_upgrade_and_quiet_windows_count_what_paged():
    escalations = [
        event("first", {"AAA"}, 2, 3),  # opened on day 2
        event("later", {"AAA"}, 4, 5),  # the same incident upgrades on day 4
        event("missed", {"ZZZ"}, 1, 9),
        event("outside the range", {"AAA"}, 40, 41),
    ]
    quiet = [event("calm", {"DDD"}, 11, 13), event("really calm", {"EEE"}, 0, 5)]
    judged = judge(timeline(), escalations, quiet, day(0), day(27))
    assert [(o.event.name, o.day, o.reason) for o in judged.escalations] == [
        ("first", day(2), "open"),
        ("later", day(4), "upgrade"),
        ("missed", None, ""),
    ]
    assert (judged.hits, judged.first_page_hits, judged.quiet_paged) == (2, 1, 1)
    assert len(judged.paged_incidents) == 3 and judged.pages == 4  # AAA open+upgrade, CCC/DDD, EEE
    assert judged.per_week == pytest.approx(3 / 4)
    figures = judgement_dict(judged)
    assert figures["escalations_paged"] == 2 and figures["quiet"][0]["incident_actors"] == ["CCC", "DDD"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a mapping"),
        ({"escalations": {"a": 1}}, "must be a list"),
        ({"escalations": [{"name": "x", "actors": ["A"], "first": "2026-01-02"}]}, "needs name"),
        ({"quiet": [{"name": "x", "actors": ["A"], "first": "soon", "last": "2026-01-02"}]}, "not a day"),
    ],
)
def test_bad_events_are_refused_with_the_reason(data, message):
    with pytest.raises(EventsError, match=message):
        parse_events(data)
