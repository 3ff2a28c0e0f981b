"""Reads for analysts (pipeline.api turns them into pandas DataFrames): daily signals, sentences with
their terms and actors, alerts and incidents, each filtered as the CLI filters (days, actors, kind,
mode). Typed values on both dialects (dates are dates, times aware UTC), plain Python lists for the
list columns; nothing here writes.

Days are optional on every read: None leaves that end open (all the data)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.store.engine import chunks
from pipeline.store.schema import alerts, articles, daily_signals, feeds, sentence_actors, sentences
from pipeline.store.sentences import distinct_texts
from pipeline.store.signals import MEASURES
from pipeline.store.views import QueryResult

KINDS = ("escalation", "deescalation")
MODES = ("live", "backtest")
SEVERITIES = ("watch", "warning", "critical")

# incident_overview (sql/views/incident_overview.sql) with the types its columns hold: a view's
# columns carry no type on SQLite, so the dates and times are parsed here as on PostgreSQL.
_incident_overview = sa.table(
    "incident_overview",
    sa.column("incident_id", sa.Integer),
    sa.column("mode", sa.Text),
    sa.column("kind", sa.Text),
    sa.column("actors", sa.Text),
    sa.column("lead", sa.Text),
    sa.column("opened", sa.Date),
    sa.column("last_alert", sa.Date),
    sa.column("closed", sa.Date),
    sa.column("peak_severity", sa.Text),
    sa.column("peak_surprise", sa.Float),
    sa.column("alerts", sa.Integer),
    sa.column("critical_alerts", sa.Integer),
    sa.column("first_paged", sa.Date),
    sa.column("paged_severity", sa.Text),
    sa.column("pages", sa.Integer),
    sa.column("upgrades", sa.Integer),
    sa.column("last_page_day", sa.Date),
    sa.column("last_page_severity", sa.Text),
    sa.column("deliveries_sent", sa.Integer),
    sa.column("deliveries_failed", sa.Integer),
    sa.column("deliveries_pending", sa.Integer),
    sa.column("evidence_json", sa.Text),
)


def _choice(value: str | None, allowed: Sequence[str], name: str) -> str | None:
    if value is not None and value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    return value


def _between(column: sa.ColumnElement, since: date | None, until: date | None) -> list[sa.ColumnElement]:
    return [
        c for c in (column >= since if since else None, column <= until if until else None) if c is not None
    ]


def _terms(matches: list[dict[str, Any]]) -> list[str]:
    """The matched terms that count (a negated or hedged-away match has effective weight 0), in
    reading order, each once."""
    seen: list[str] = []
    for m in matches:
        term = m.get("term")
        if term and m.get("effective_weight", m.get("weight", 0)) and term not in seen:
            seen.append(term)
    return seen


def _distinct_by_day(rows: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """`rows` (by day) with each text once per day, with its copies and outlets (distinct outlets)."""
    out: list[dict[str, Any]] = []
    for _day, group in itertools.groupby(rows, key=lambda r: r["day"]):
        out += distinct_texts(list(group))
        if limit is not None and len(out) >= limit:
            return out[:limit]
    return out


class AnalystStore:
    """Analyst reads (a part of `Warehouse`)."""

    engine: Engine

    def signal_table(
        self, since: date | None = None, until: date | None = None, actors: Sequence[str] | None = None
    ) -> QueryResult:
        """One row per day and actor (ALL: every sentence) with every measure, by day and actor."""
        s = daily_signals.c
        query = (
            sa.select(s.day, s.actor, *(s[m] for m in MEASURES))
            .where(*_between(s.day, since, until))
            .order_by(s.day, s.actor)
        )
        if actors is not None:
            query = query.where(s.actor.in_(list(actors)))
        with self.engine.connect() as conn:
            result = conn.execute(query)
            return QueryResult(list(result.keys()), [tuple(r) for r in result])

    def sentence_table(
        self,
        since: date | None = None,
        until: date | None = None,
        actors: Sequence[str] | None = None,
        *,
        min_score: float | None = None,
        max_score: float | None = None,
        limit: int | None = None,
        distinct: bool = False,
    ) -> QueryResult:
        """One row per sentence (articles published in the days), with its score and parts, the
        terms that counted and every match, the actors it names (a list), its article and outlet.
        `actors`: sentences naming any of them. Ordered by day and sentence id. `distinct`: each
        text once a day (wire copies folded, as evidence is shown), its first copy standing for
        all, with `copies` and `outlets` columns; `limit` then counts distinct rows."""
        s, a, f = sentences.c, articles.c, feeds.c
        query = (
            sa.select(
                a.published_day.label("day"),
                s.sentence_id,
                s.score,
                s.escalation,
                s.deescalation,
                s.text,
                s.matches,
                s.scorer_version,
                a.title,
                a.url,
                a.published_at,
                f.title.label("outlet"),
                f.url.label("feed_url"),
                f.outlet.label("outlet_key"),
            )
            .select_from(
                sentences.join(articles, a.article_id == s.article_id).join(feeds, f.feed_id == a.feed_id)
            )
            .where(*_between(a.published_day, since, until))
            .order_by(a.published_day, s.sentence_id)
        )
        if actors is not None:
            named = sa.select(sentence_actors.c.sentence_id).where(
                sentence_actors.c.sentence_id == s.sentence_id, sentence_actors.c.actor.in_(list(actors))
            )
            query = query.where(named.exists())
        if min_score is not None:
            query = query.where(s.score >= min_score)
        if max_score is not None:
            query = query.where(s.score <= max_score)
        if limit is not None and not distinct:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
            if distinct:
                rows = _distinct_by_day(rows, limit)
            named_by: dict[int, list[str]] = {}
            for ids in chunks([r["sentence_id"] for r in rows]):
                for sentence_id, actor in conn.execute(
                    sa.select(sentence_actors.c.sentence_id, sentence_actors.c.actor)
                    .where(sentence_actors.c.sentence_id.in_(list(ids)))
                    .order_by(sentence_actors.c.sentence_id, sentence_actors.c.actor)
                ):
                    named_by.setdefault(sentence_id, []).append(actor)
        columns = [
            "day", "sentence_id", "score", "escalation", "deescalation", "text", "terms", "actors",
            "matches", "scorer_version", "title", "url", "published_at", "outlet", "feed_url",
        ]  # fmt: skip
        out = []
        for r in rows:
            matches = json.loads(r["matches"])
            r = {
                **r,
                "matches": matches,
                "terms": _terms(matches),
                "actors": named_by.get(r["sentence_id"], []),
            }
            r["outlet"] = r["outlet"] or r["feed_url"]
            out.append(tuple(r[c] for c in columns))
        if distinct:
            columns += ["copies", "outlets"]
            out = [(*row, r["copies"], r["outlets"]) for row, r in zip(out, rows, strict=True)]
        return QueryResult(columns, out)

    def alert_table(
        self,
        since: date | None = None,
        until: date | None = None,
        actors: Sequence[str] | None = None,
        *,
        kind: str | None = None,
        mode: str | None = None,
        severity: str | None = None,
    ) -> QueryResult:
        """One row per stored alert (by day, actor, kind): what spiked, by how much, its
        corroboration and evidence (a list of the distinct sentences). `severity`: that or higher."""
        c = alerts.c
        query = (
            sa.select(
                c.alert_id,
                c.day,
                c.actor,
                c.kind,
                c.severity,
                c.measure,
                c.value,
                c.baseline,
                c.spread,
                c.surprise,
                c.articles,
                c.sources,
                c.mode,
                c.counterparts,
                c.context_share,
                c.evidence,
            )  # fmt: skip
            .where(*_between(c.day, since, until))
            .order_by(c.day, c.actor, c.kind)
        )
        if actors is not None:
            query = query.where(c.actor.in_(list(actors)))
        if _choice(kind, KINDS, "kind"):
            query = query.where(c.kind == kind)
        if _choice(mode, MODES, "mode"):
            query = query.where(c.mode == mode)
        if _choice(severity, SEVERITIES, "severity"):
            query = query.where(c.severity.in_(SEVERITIES[SEVERITIES.index(severity) :]))
        with self.engine.connect() as conn:
            result = conn.execute(query)
            columns = list(result.keys())
            rows = []
            for r in result.mappings():
                r = dict(r)
                r["counterparts"] = [x for x in (r["counterparts"] or "").split(",") if x]
                r["context_share"] = r["context_share"] or 0.0
                r["evidence"] = json.loads(r["evidence"])
                rows.append(tuple(r[k] for k in columns))
        return QueryResult(columns, rows)

    def incident_table(
        self,
        since: date | None = None,
        until: date | None = None,
        actors: Sequence[str] | None = None,
        *,
        kind: str | None = None,
        mode: str | None = None,
    ) -> QueryResult:
        """One row per incident active at some point of the days (opened by `until`, not closed
        before `since`), from the incident_overview view: actors (a list), since when, peak, pages
        and their deliveries, and the distinct evidence (a list). `actors`: incidents naming any."""
        i = _incident_overview.c
        query = sa.select(_incident_overview).order_by(i.opened, i.kind, i.lead, i.mode)
        if until is not None:
            query = query.where(i.opened <= until)
        if since is not None:
            query = query.where(sa.or_(i.closed.is_(None), i.closed >= since))
        if _choice(kind, KINDS, "kind"):
            query = query.where(i.kind == kind)
        if _choice(mode, MODES, "mode"):
            query = query.where(i.mode == mode)
        wanted = set(actors) if actors is not None else None
        with self.engine.connect() as conn:
            result = conn.execute(query)
            columns = [k if k != "evidence_json" else "evidence" for k in result.keys()]
            rows = []
            for r in result.mappings():
                r = dict(r)
                r["actors"] = [x for x in (r["actors"] or "").split(",") if x]
                if wanted is not None and not wanted & set(r["actors"]):
                    continue
                r["evidence"] = json.loads(r.pop("evidence_json") or "[]")
                rows.append(tuple(r[k] for k in columns))
        return QueryResult(columns, rows)
