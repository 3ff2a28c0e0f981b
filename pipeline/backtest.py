"""Judging an incident timeline against known events: which known escalations paged in their
window, which quiet windows (disasters, accidents) paged, and paged escalation incidents per week.

Pure: events come from a YAML file shaped like ../shared/data/world_news_2021_2022.events.yaml
(``escalations:`` and ``quiet:`` lists of ``{name, actors, first, last}``), the timeline from
`pipeline.incidents.fold` (what `pipeline.alerts.backtest` returns). An escalation counts as paged
when an escalation incident involving one of its actors pages (opens, or gets worse) on a day of
its window; "by a first page" counts only incidents whose first page falls there. A quiet window
counts as paged when such a page falls in it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from pipeline.incidents import Incident, Page, Timeline


class EventsError(ValueError):
    """The events file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class KnownEvent:
    name: str
    actors: frozenset[str]
    first: date
    last: date


@dataclass(frozen=True)
class EventOutcome:
    event: KnownEvent
    day: date | None  # the first page in its window
    reason: str  # open | upgrade | "" (missed)
    incident: Incident | None

    @property
    def paged(self) -> bool:
        return self.day is not None


@dataclass(frozen=True)
class Judgement:
    since: date
    until: date
    escalations: tuple[EventOutcome, ...]
    quiet: tuple[EventOutcome, ...]  # every quiet window of the range; paged ones have a day
    paged_incidents: tuple[Incident, ...]  # escalation incidents whose first page is in the range
    pages: int  # escalation pages (open and upgrade) in the range

    @property
    def weeks(self) -> float:
        return ((self.until - self.since).days + 1) / 7

    @property
    def hits(self) -> int:
        return sum(1 for o in self.escalations if o.paged)

    @property
    def first_page_hits(self) -> int:
        return sum(1 for o in self.escalations if o.reason == "open")

    @property
    def quiet_paged(self) -> int:
        return sum(1 for o in self.quiet if o.paged)

    @property
    def per_week(self) -> float:
        return len(self.paged_incidents) / self.weeks if self.weeks else 0.0


def _day(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise EventsError(f"{where}: {value!r} is not a day (YYYY-MM-DD)") from None


def parse_events(data: Any, source: str = "events") -> tuple[list[KnownEvent], list[KnownEvent]]:
    if not isinstance(data, Mapping) or not ({"escalations", "quiet"} & set(data)):
        raise EventsError(f"{source}: expected a mapping with 'escalations' and/or 'quiet' lists")
    out: dict[str, list[KnownEvent]] = {}
    for section in ("escalations", "quiet"):
        rows = data.get(section) or []
        if not isinstance(rows, list):
            raise EventsError(f"{source}: '{section}' must be a list")
        events = []
        for n, row in enumerate(rows, 1):
            where = f"{source}: {section} #{n}"
            if not isinstance(row, Mapping) or not {"name", "actors", "first", "last"} <= set(row):
                raise EventsError(f"{where}: needs name, actors, first and last")
            actors = row["actors"]
            if not isinstance(actors, list) or not actors or not all(isinstance(a, str) for a in actors):
                raise EventsError(f"{where}: actors must be a non-empty list of actor codes")
            first, last = _day(row["first"], where), _day(row["last"], where)
            if first > last:
                raise EventsError(f"{where}: first {first} is after last {last}")
            events.append(KnownEvent(str(row["name"]), frozenset(a.upper() for a in actors), first, last))
        out[section] = events
    return out["escalations"], out["quiet"]


def load_events(path: Path) -> tuple[list[KnownEvent], list[KnownEvent]]:
    """(known escalations, quiet windows) of an events file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EventsError(f"cannot read events file {path}: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EventsError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    return parse_events(data, str(path))


def _first_hit(
    pages: Sequence[Page], actors_of: Mapping[int, frozenset[str]], event: KnownEvent
) -> tuple[Page | None, list[Page]]:
    hits = [
        p
        for p in pages
        if actors_of.get(p.incident.number, p.incident.actors) & event.actors
        and event.first <= p.day <= event.last
    ]
    opening = next((p for p in hits if p.reason == "open"), None)
    return opening or (hits[0] if hits else None), hits


def judge(
    timeline: Timeline,
    escalations: Iterable[KnownEvent],
    quiet: Iterable[KnownEvent],
    since: date,
    until: date,
) -> Judgement:
    """The timeline against the events whose window starts in [since, until]."""
    pages = sorted(
        (p for p in timeline.pages if p.incident.kind == "escalation" and since <= p.day <= until),
        key=lambda p: (p.day, p.reason != "open", p.incident.number),
    )
    final = {i.number: i for i in timeline.incidents}  # an incident may gain a counterpart later
    actors_of = {n: i.actors for n, i in final.items()}

    def outcome(event: KnownEvent) -> EventOutcome:
        page, _ = _first_hit(pages, actors_of, event)
        if page is None:
            return EventOutcome(event, None, "", None)
        return EventOutcome(event, page.day, page.reason, final.get(page.incident.number, page.incident))

    chosen = [outcome(e) for e in escalations if since <= e.first <= until]
    calm = [outcome(e) for e in quiet if since <= e.first <= until]
    opened = sorted({p.incident.number for p in pages if p.reason == "open"})
    paged = tuple(final[n] for n in opened if n in final)
    return Judgement(since, until, tuple(chosen), tuple(calm), paged, len(pages))


def incident_line(incident: Incident) -> dict[str, Any]:
    """One paged incident as the backtest lists it (JSON-ready)."""
    top = incident.evidence[0] if incident.evidence else None
    return {
        "kind": incident.kind,
        "actors": sorted(incident.actors),
        "opened": incident.opened.isoformat(),
        "first_paged": incident.first_paged.isoformat() if incident.first_paged else None,
        "closed": incident.closed.isoformat() if incident.closed else None,
        "peak_severity": incident.severity,
        "alerts": incident.alerts,
        "top_evidence": {"text": top.text, "title": top.title, "url": top.url, "outlet": top.outlet}
        if top
        else None,
    }


def strongest_alert(alerts: Iterable[Any], event: KnownEvent, kind: str = "escalation") -> Any | None:
    """The most surprising alert of the event's actors and `kind` in its window (what came closest
    to paging when the event did not page), or None when the detector raised nothing there."""
    inside = [
        a for a in alerts if a.kind == kind and a.actor in event.actors and event.first <= a.day <= event.last
    ]
    return max(inside, key=lambda a: a.surprise, default=None)


def judgement_dict(judgement: Judgement, alerts: Sequence[Any] = ()) -> dict[str, Any]:
    """Every figure as JSON; with the run's alerts, each event also names its strongest alert."""

    def event(o: EventOutcome) -> dict[str, Any]:
        best = strongest_alert(alerts, o.event)
        return {
            "name": o.event.name,
            "actors": sorted(o.event.actors),
            "first": o.event.first.isoformat(),
            "last": o.event.last.isoformat(),
            "paged": o.paged,
            "day": o.day.isoformat() if o.day else None,
            "reason": o.reason or None,
            "incident_actors": sorted(o.incident.actors) if o.incident else None,
            "strongest_alert": None
            if best is None
            else {
                "day": best.day.isoformat(),
                "actor": best.actor,
                "severity": best.severity,
                "surprise": round(best.surprise, 2),
                "sources": best.sources,
                "context_share": round(best.context_share, 3),
            },
        }

    return {
        "since": judgement.since.isoformat(),
        "until": judgement.until.isoformat(),
        "escalations_paged": judgement.hits,
        "escalations_paged_by_a_first_page": judgement.first_page_hits,
        "escalations": len(judgement.escalations),
        "quiet_windows_paged": judgement.quiet_paged,
        "quiet_windows": len(judgement.quiet),
        "paged_escalation_incidents": len(judgement.paged_incidents),
        "escalation_pages": judgement.pages,
        "weeks": round(judgement.weeks, 2),
        "paged_incidents_per_week": round(judgement.per_week, 3),
        "events": [event(o) for o in judgement.escalations],
        "quiet": [event(o) for o in judgement.quiet],
        "incidents": [incident_line(i) for i in judgement.paged_incidents],
    }
