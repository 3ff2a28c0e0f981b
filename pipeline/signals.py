"""Signals stage: daily time series per actor (and for all articles, actor 'ALL').

For a UTC day d and an actor a, over the sentences of articles published on d that mention a:
    sentences                = n
    escalatory_sentences     = #{score >= ESCALATORY_THRESHOLD}
    deescalatory_sentences   = #{score <= DEESCALATORY_THRESHOLD}
    escalation_index         = 100 * sum(max(score, 0)) / (n + 3)
    deescalation_index       = 100 * sum(max(-score, 0)) / (n + 3)
    articles, sources        = distinct articles, distinct feeds that carried them
    max_score                = max(score)
The index is a mean intensity, not a count: a busier news day with the same mix of language does
not rise. The "+ 3" shrinks thin days toward 0, so one angry sentence is not a 100-point day.
The aggregation runs in SQL (GROUP BY), identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pipeline.score import DEESCALATORY_THRESHOLD, ESCALATORY_THRESHOLD
from pipeline.warehouse import (
    ALL_ACTORS,
    Warehouse,
    advisory_lock,
    article_sources,
    articles,
    daily_signals,
    now_utc,
    run_transaction,
    sentence_actors,
    sentences,
)

SHRINKAGE_SENTENCES = 3
SIGNALS_LOCK_KEY = 0x7369_676E  # "sign"


@dataclass(frozen=True)
class SignalsReport:
    since: date
    until: date
    rows_written: int


def _aggregate(
    day_column: sa.ColumnElement,
    actor_column: sa.ColumnElement,
    source: sa.FromClause,
    since: date,
    until: date,
) -> sa.Select:
    s = sentences.c
    positive = sa.case((s.score > 0, s.score), else_=0.0)
    negative = sa.case((s.score < 0, -s.score), else_=0.0)
    n = sa.func.count(s.sentence_id)
    return (
        sa.select(
            day_column.label("day"),
            actor_column.label("actor"),
            sa.func.count(sa.distinct(articles.c.article_id)).label("articles"),
            n.label("sentences"),
            sa.func.sum(sa.case((s.score >= ESCALATORY_THRESHOLD, 1), else_=0)).label("escalatory_sentences"),
            sa.func.sum(sa.case((s.score <= DEESCALATORY_THRESHOLD, 1), else_=0)).label(
                "deescalatory_sentences"
            ),
            (100.0 * sa.func.sum(positive) / (n + SHRINKAGE_SENTENCES)).label("escalation_index"),
            (100.0 * sa.func.sum(negative) / (n + SHRINKAGE_SENTENCES)).label("deescalation_index"),
            sa.func.max(s.score).label("max_score"),
        )
        .select_from(source)
        .where(articles.c.published_day.between(since, until))
        .group_by(day_column, actor_column)
    )


def _sources(
    day_column: sa.ColumnElement,
    actor_column: sa.ColumnElement,
    source: sa.FromClause,
    since: date,
    until: date,
) -> sa.Select:
    """Distinct feeds per (day, actor): a separate query, since one article can have many sources."""
    return (
        sa.select(day_column, actor_column, sa.func.count(sa.distinct(article_sources.c.feed_id)))
        .select_from(source.join(article_sources, article_sources.c.article_id == articles.c.article_id))
        .where(articles.c.published_day.between(since, until))
        .group_by(day_column, actor_column)
    )


def compute_signals(warehouse: Warehouse, since: date, until: date) -> SignalsReport:
    """Recompute every signal row of [since, until]: delete the range and insert it anew, atomically."""
    if since > until:
        raise ValueError(f"since {since} is after until {until}")
    by_actor = sentences.join(articles, articles.c.article_id == sentences.c.article_id).join(
        sentence_actors, sentence_actors.c.sentence_id == sentences.c.sentence_id
    )
    everything = sentences.join(articles, articles.c.article_id == sentences.c.article_id)
    day = articles.c.published_day
    all_label = sa.literal(ALL_ACTORS, sa.String(32))
    computed_at = now_utc()

    def work(conn: Connection) -> int:
        # Two recomputations at once (overlapping ingests, a backfill next to the daily run) would
        # both delete the range and both insert it: one at a time, and each reads after the lock.
        advisory_lock(conn, SIGNALS_LOCK_KEY)
        sources = {
            (d, a): count
            for d, a, count in [
                *conn.execute(_sources(day, sentence_actors.c.actor, by_actor, since, until)).all(),
                *conn.execute(_sources(day, all_label, everything, since, until)).all(),
            ]
        }
        rows = [
            *conn.execute(_aggregate(day, sentence_actors.c.actor, by_actor, since, until)).mappings().all(),
            *conn.execute(_aggregate(day, all_label, everything, since, until)).mappings().all(),
        ]
        conn.execute(daily_signals.delete().where(daily_signals.c.day.between(since, until)))
        values = [
            {
                **row,
                "escalatory_sentences": int(row["escalatory_sentences"] or 0),
                "deescalatory_sentences": int(row["deescalatory_sentences"] or 0),
                "escalation_index": float(row["escalation_index"] or 0.0),
                "deescalation_index": float(row["deescalation_index"] or 0.0),
                "max_score": float(row["max_score"] or 0.0),
                "sources": sources.get((row["day"], row["actor"]), 0),
                "computed_at": computed_at,
            }
            for row in rows
        ]
        if values:
            conn.execute(daily_signals.insert(), values)
        return len(values)

    # Two concurrent recomputations of one range: the loser runs again from the start.
    written = run_transaction(warehouse.engine, work, f"signals {since}..{until}", retry_on_conflict=True)
    return SignalsReport(since, until, written)
