"""Incident storage: what the incident fold reads (an alert's context, its distinct evidence, the
stored alerts), the incidents with their alerts and pages (upserted on natural keys), reads for the
CLI, and the SQL of the page delivery state machine (the alerts' one, on `page_deliveries`).

Natural keys: an incident by (mode, kind, opened, lead), a page by (incident, day), a page delivery
by (page, channel). Detection refolds every incident of a mode from the stored alerts and saves the
result here, so a re-run of the same days leaves the same rows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pipeline.actors import ALL_ACTORS
from pipeline.clock import now_utc
from pipeline.config import GRAVE_ACT_PAGE, SEVERITIES
from pipeline.score import read_in_context
from pipeline.store import alerts as alert_store
from pipeline.store.engine import advisory_lock, run_transaction
from pipeline.store.schema import (
    alerts,
    articles,
    incident_alerts,
    incident_pages,
    incidents,
    page_deliveries,
    sentence_actors,
    sentences,
)

_FOLD_LOCK_KEY = 0x6573_6369  # "esci": one incident fold at a time across processes


@dataclass(frozen=True)
class AlertContext:
    """The sentences of an actor's day on one side (escalatory: score > 0, else < 0)."""

    sentences: int
    in_context: int  # of them, read in a disaster or accident context
    partners: tuple[tuple[str, int], ...]  # co-mentioned actors with their sentence counts, most first

    @property
    def context_share(self) -> float:
        return self.in_context / self.sentences if self.sentences else 0.0


@dataclass(frozen=True)
class StoredIncident:
    mode: str
    kind: str
    lead: str
    opened: date
    actors: tuple[str, ...]
    last_alert: date
    closed: date | None
    severity: str
    peak_surprise: float
    alerts: int
    evidence: tuple[dict[str, Any], ...]
    paged_severity: str | None = None
    first_paged: date | None = None
    alert_ids: tuple[int, ...] = ()
    incident_id: int | None = None
    pages: int = 0  # stored pages (read side)
    sent_to_people: int = 0  # page deliveries sent on a channel other than the log (read side)

    @property
    def key(self) -> tuple[str, date, str]:
        return (self.kind, self.opened, self.lead)


@dataclass(frozen=True)
class IncidentPage:
    """One page of an incident, as delivered: what the incident is and why it paged."""

    incident_key: tuple[str, date, str]  # (kind, opened, lead)
    day: date
    reason: str  # open | upgrade | grave act
    severity: str
    previous_severity: str | None
    surprise: float
    cause_actor: str
    why: str
    evidence: tuple[dict[str, Any], ...] = ()
    actors: tuple[str, ...] = ()
    mode: str = ""
    alerts: int = 0
    page_id: int | None = None
    incident_id: int | None = None

    @property
    def kind(self) -> str:
        return self.incident_key[0]

    @property
    def opened(self) -> date:
        return self.incident_key[1]


@dataclass
class SavedFold:
    incident_ids: dict[tuple[str, date, str], int] = field(default_factory=dict)
    page_ids: dict[tuple[tuple[str, date, str], date], int] = field(default_factory=dict)
    removed: int = 0  # incidents of an earlier fold that no longer exist (and never paged anyone)


def _actors_text(actors: Iterable[str]) -> str:
    return ",".join(sorted(actors))


def _evidence_json(evidence: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(list(evidence), ensure_ascii=False, default=str)


class IncidentStore:
    """Incidents, their alerts, pages and page deliveries (a part of `Warehouse`)."""

    engine: Engine

    # -- what the fold reads ----------------------------------------------------------------------
    def alert_context(self, day: date, actor: str, *, escalatory: bool = True) -> AlertContext:
        """The actor's sentences of the day on one side: how many, how many in a disaster or
        accident context, and which other actors they name (the pseudo-actor ALL never)."""
        s, a, sa_ = sentences.c, articles.c, sentence_actors.c
        side = s.score > 0 if escalatory else s.score < 0
        query = (
            sa.select(s.sentence_id, s.matches)
            .join(articles, a.article_id == s.article_id)
            .join(sentence_actors, sa_.sentence_id == s.sentence_id)
            .where(a.published_day == day, sa_.actor == actor, side)
        )
        others = sentence_actors.alias("others")
        partner_query = (
            sa.select(others.c.actor, sa.func.count(sa.distinct(s.sentence_id)))
            .select_from(sentences)
            .join(articles, a.article_id == s.article_id)
            .join(sentence_actors, sa_.sentence_id == s.sentence_id)
            .join(others, others.c.sentence_id == s.sentence_id)
            .where(
                a.published_day == day,
                sa_.actor == actor,
                side,
                others.c.actor != actor,
                others.c.actor != ALL_ACTORS,
            )
            .group_by(others.c.actor)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            partners = conn.execute(partner_query).all()
        # A sentence whose escalation is all harm read in a context (the lexicon's disaster, accident and
        # crime modifiers) is no political escalation.
        in_context = sum(1 for _, matches in rows if read_in_context(json.loads(matches)))
        ordered = tuple(sorted(((p, int(n)) for p, n in partners), key=lambda item: (-item[1], item[0])))
        return AlertContext(len(rows), in_context, ordered)

    def alerts_to_fold(self, mode: str) -> list[alert_store.Alert]:
        """The stored alerts a fold of `mode` reads, by day: live incidents are made of live alerts
        only; backtest incidents of every stored alert (what would have happened)."""
        with self.engine.connect() as conn:
            return _alerts_to_fold(conn, mode)

    def refold_incidents(
        self,
        mode: str,
        fold: Callable[[list[alert_store.Alert]], tuple[Sequence[StoredIncident], Sequence[IncidentPage]]],
    ) -> tuple[SavedFold, list[IncidentPage]]:
        """Read the mode's alerts, fold them with `fold` (the caller's pure logic) and save the result
        in one transaction. On PostgreSQL an advisory lock makes it one fold at a time, so two
        detection runs at the same moment cannot save a fold that misses the other's alerts; on
        SQLite (one writer, the read outside the write lock) the later run's fold may miss alerts the
        other stored meanwhile, until the next run refolds them."""

        def work(conn: Connection) -> tuple[SavedFold, list[IncidentPage]]:
            advisory_lock(conn, _FOLD_LOCK_KEY)
            folded, pages = fold(_alerts_to_fold(conn, mode))
            return _save_fold(conn, mode, folded, pages, now_utc()), list(pages)

        return run_transaction(self.engine, work, f"incidents ({mode})", retry_on_conflict=True)

    # -- the fold's result ------------------------------------------------------------------------
    def save_incident_fold(
        self, mode: str, folded: Sequence[StoredIncident], pages: Sequence[IncidentPage]
    ) -> SavedFold:
        """Make the incidents of `mode` those of a fold: upsert each on its natural key with its
        alerts, insert its pages that are new (a page already stored keeps its row and deliveries),
        and remove the incidents of an earlier fold that no longer exist, unless one of their pages
        went to a channel (what was sent stays on record). One transaction."""
        stamp = now_utc()
        return run_transaction(
            self.engine,
            lambda conn: _save_fold(conn, mode, folded, pages, stamp),
            f"incidents ({mode})",
            retry_on_conflict=True,
        )

    # -- reads ------------------------------------------------------------------------------------
    def load_incidents(self, since: date, until: date, mode: str | None = None) -> list[StoredIncident]:
        """Incidents active at some point of [since, until] (opened by `until`, not closed before
        `since`), by opening day; with their alert ids and number of stored pages."""
        i = incidents.c
        query = (
            sa.select(incidents)
            .where(i.opened <= until, sa.or_(i.closed.is_(None), i.closed >= since))
            .order_by(i.opened, i.kind, i.lead, i.mode)
        )
        if mode is not None:
            query = query.where(i.mode == mode)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            ids = [r["incident_id"] for r in rows]
            links: dict[int, list[int]] = {}
            pages: Counter[int] = Counter()
            sent: Counter[int] = Counter()
            if ids:
                for incident_id, alert_id in conn.execute(
                    sa.select(incident_alerts.c.incident_id, incident_alerts.c.alert_id)
                    .where(incident_alerts.c.incident_id.in_(ids))
                    .order_by(incident_alerts.c.alert_id)
                ):
                    links.setdefault(incident_id, []).append(alert_id)
                for incident_id, count in conn.execute(
                    sa.select(incident_pages.c.incident_id, sa.func.count())
                    .where(incident_pages.c.incident_id.in_(ids))
                    .group_by(incident_pages.c.incident_id)
                ):
                    pages[incident_id] = int(count)
                for incident_id, count in conn.execute(
                    sa.select(incident_pages.c.incident_id, sa.func.count())
                    .join(page_deliveries, page_deliveries.c.page_id == incident_pages.c.page_id)
                    .where(
                        incident_pages.c.incident_id.in_(ids),
                        page_deliveries.c.status == "sent",
                        page_deliveries.c.channel != "log",
                    )
                    .group_by(incident_pages.c.incident_id)
                ):
                    sent[incident_id] = int(count)
        return [
            StoredIncident(
                mode=r["mode"],
                kind=r["kind"],
                lead=r["lead"],
                opened=r["opened"],
                actors=tuple(a for a in r["actors"].split(",") if a),
                last_alert=r["last_alert"],
                closed=r["closed"],
                severity=r["severity"],
                peak_surprise=r["peak_surprise"],
                alerts=r["alerts"],
                evidence=tuple(json.loads(r["evidence"])),
                paged_severity=r["paged_severity"],
                first_paged=r["first_paged"],
                alert_ids=tuple(links.get(r["incident_id"], ())),
                incident_id=r["incident_id"],
                pages=pages[r["incident_id"]],
                sent_to_people=sent[r["incident_id"]],
            )
            for r in rows
        ]

    def load_page(self, page_id: int) -> IncidentPage | None:
        p, i = incident_pages.c, incidents.c
        query = (
            sa.select(incident_pages, i.mode, i.kind, i.opened, i.lead, i.actors, i.alerts)
            .join(incidents, i.incident_id == p.incident_id)
            .where(p.page_id == page_id)
        )
        with self.engine.connect() as conn:
            r = conn.execute(query).mappings().first()
        if r is None:
            return None
        return IncidentPage(
            incident_key=(r["kind"], r["opened"], r["lead"]),
            day=r["day"],
            reason=r["reason"],
            severity=r["severity"],
            previous_severity=r["previous_severity"],
            surprise=r["surprise"],
            cause_actor=r["cause_actor"],
            why=r["why"],
            evidence=tuple(json.loads(r["evidence"])),
            actors=tuple(a for a in r["actors"].split(",") if a),
            mode=r["mode"],
            alerts=r["alerts"],
            page_id=r["page_id"],
            incident_id=r["incident_id"],
        )

    # -- page deliveries --------------------------------------------------------------------------
    def pages_to_deliver(self, page_ids: Iterable[int]) -> list[int]:
        """Of these pages, those that repeat nothing already sent: a page is left out when another
        page of its incident already went to a channel at a severity and surprise at least its own
        (so a refold that moves a page to another day cannot page twice); a grave-act page (a grave
        act joined an incident that had paged without one) repeats only an earlier grave-act page."""
        wanted = sorted(set(page_ids))
        if not wanted:
            return []
        p = incident_pages.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(p.page_id, p.incident_id, p.severity, p.surprise, p.reason).where(p.page_id.in_(wanted))
            ).all()
            incident_ids = sorted({r.incident_id for r in rows})
            sent = conn.execute(
                sa.select(p.page_id, p.incident_id, p.severity, p.surprise, p.reason).where(
                    p.incident_id.in_(incident_ids),
                    p.page_id.in_(sa.select(page_deliveries.c.page_id)),
                )
            ).all()
        chosen = []
        for row in rows:
            earlier = [s for s in sent if s.incident_id == row.incident_id and s.page_id != row.page_id]
            if row.reason == GRAVE_ACT_PAGE:
                repeat = any(s.reason == GRAVE_ACT_PAGE for s in earlier)
            else:
                repeat = any(
                    SEVERITIES.index(s.severity) >= SEVERITIES.index(row.severity)
                    and s.surprise >= row.surprise
                    for s in earlier
                )
            if not repeat:
                chosen.append(row.page_id)
        return chosen

    def add_pending_page_deliveries(self, page_ids: Iterable[int], channels: Sequence[str]) -> None:
        alert_store.add_pending(self.engine, page_deliveries, "page_id", page_ids, channels)

    def unsent_page_deliveries(self, channels: Sequence[str]) -> list[tuple[int, str]]:
        return alert_store.unsent(self.engine, page_deliveries, "page_id", channels)

    def claim_page_delivery(self, page_id: int, channel: str, stale_before: datetime) -> int | None:
        return alert_store.claim(self.engine, page_deliveries, "page_id", page_id, channel, stale_before)

    def finish_page_delivery(
        self,
        page_id: int,
        channel: str,
        status: str,
        attempts: int,
        error: str | None,
        sent_at: datetime | None,
    ) -> None:
        alert_store.finish(
            self.engine, page_deliveries, "page_id", page_id, channel, status, attempts, error, sent_at
        )

    def page_delivery_states(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(
                    sa.select(page_deliveries).order_by(page_deliveries.c.page_id, page_deliveries.c.channel)
                ).mappings()
            ]


def _alerts_to_fold(conn: Connection, mode: str) -> list[alert_store.Alert]:
    query = sa.select(alerts).order_by(alerts.c.day, alerts.c.actor, alerts.c.kind)
    if mode == "live":
        query = query.where(alerts.c.mode == "live")
    return [alert_store._row_to_alert(r) for r in conn.execute(query).mappings()]


def _save_fold(
    conn: Connection,
    mode: str,
    folded: Sequence[StoredIncident],
    pages: Sequence[IncidentPage],
    stamp: datetime,
) -> SavedFold:
    """The body of `save_incident_fold`, in the caller's transaction."""
    saved = SavedFold()
    i = incidents.c
    compared = (
        "actors",
        "last_alert",
        "closed",
        "severity",
        "peak_surprise",
        "alerts",
        "evidence",
        "paged_severity",
        "first_paged",
    )
    rows = (
        conn.execute(
            sa.select(i.incident_id, i.kind, i.opened, i.lead, *(i[c] for c in compared)).where(
                i.mode == mode
            )
        )
        .mappings()
        .all()
    )
    existing = {(row["kind"], row["opened"], row["lead"]): row["incident_id"] for row in rows}
    stored_values = {row["incident_id"]: {c: row[c] for c in compared} for row in rows}
    for item in folded:
        values = {
            "actors": _actors_text(item.actors),
            "last_alert": item.last_alert,
            "closed": item.closed,
            "severity": item.severity,
            "peak_surprise": item.peak_surprise,
            "alerts": item.alerts,
            "evidence": _evidence_json(item.evidence),
            "paged_severity": item.paged_severity,
            "first_paged": item.first_paged,
            "updated_at": stamp,
        }
        incident_id = existing.pop(item.key, None)
        if incident_id is None:
            incident_id = conn.execute(
                incidents.insert()
                .values(
                    mode=mode,
                    kind=item.kind,
                    opened=item.opened,
                    lead=item.lead,
                    created_at=stamp,
                    **values,
                )
                .returning(i.incident_id)
            ).scalar_one()
        elif {c: values[c] for c in compared} != stored_values[incident_id]:  # unchanged rows keep updated_at
            conn.execute(incidents.update().where(i.incident_id == incident_id).values(**values))
        saved.incident_ids[item.key] = incident_id
        conn.execute(incident_alerts.delete().where(incident_alerts.c.incident_id == incident_id))
        if item.alert_ids:
            conn.execute(
                incident_alerts.insert(),
                [{"incident_id": incident_id, "alert_id": a} for a in dict.fromkeys(item.alert_ids)],
            )
    p = incident_pages.c
    for page in pages:
        incident_id = saved.incident_ids[page.incident_key]
        page_id = conn.execute(
            sa.select(p.page_id).where(p.incident_id == incident_id, p.day == page.day)
        ).scalar_one_or_none()
        if page_id is None:
            page_id = conn.execute(
                incident_pages.insert()
                .values(
                    incident_id=incident_id,
                    day=page.day,
                    reason=page.reason,
                    severity=page.severity,
                    previous_severity=page.previous_severity,
                    surprise=page.surprise,
                    cause_actor=page.cause_actor,
                    why=page.why,
                    evidence=_evidence_json(page.evidence),
                    created_at=stamp,
                )
                .returning(p.page_id)
            ).scalar_one()
        saved.page_ids[(page.incident_key, page.day)] = page_id
    kept_pages = set(saved.page_ids.values())
    for incident_id in existing.values():  # no longer in the fold
        page_ids = list(conn.execute(sa.select(p.page_id).where(p.incident_id == incident_id)).scalars())
        delivered = (
            page_ids
            and conn.execute(
                sa.select(sa.func.count())
                .select_from(page_deliveries)
                .where(page_deliveries.c.page_id.in_(page_ids))
            ).scalar_one()
        )
        if delivered:
            continue
        conn.execute(incident_pages.delete().where(p.incident_id == incident_id))
        conn.execute(incident_alerts.delete().where(incident_alerts.c.incident_id == incident_id))
        conn.execute(incidents.delete().where(i.incident_id == incident_id))
        saved.removed += 1
    # Pages of a kept incident that the fold no longer makes (and nobody got) go too.
    stale = conn.execute(
        sa.select(p.page_id).where(
            p.incident_id.in_(list(saved.incident_ids.values())) if saved.incident_ids else sa.false()
        )
    ).scalars()
    for page_id in stale:
        if page_id in kept_pages:
            continue
        sent = conn.execute(
            sa.select(sa.func.count())
            .select_from(page_deliveries)
            .where(page_deliveries.c.page_id == page_id)
        ).scalar_one()
        if not sent:
            conn.execute(incident_pages.delete().where(p.page_id == page_id))
    return saved
