"""daily_signals: the aggregation SQL that (re)computes a range of days (its definition is in
pipeline/signals.py), and the reads of the signal series (detection, report, charts)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pipeline.actors import ALL_ACTORS
from pipeline.clock import now_utc
from pipeline.score import DEESCALATORY_THRESHOLD, ESCALATORY_THRESHOLD, asserted_acts, read_in_context
from pipeline.store.engine import advisory_lock, run_transaction
from pipeline.store.schema import (
    article_sources,
    articles,
    daily_measures,
    daily_signals,
    feeds,
    sentence_actors,
    sentences,
)

SIGNALS_LOCK_KEY = 0x7369_676E  # "sign"
MEASURES = (
    "escalation_index",
    "deescalation_index",
    "escalatory_sentences",
    "deescalatory_sentences",
    "articles",
    "sources",
    "sentences",
    "max_score",
)
# The ranking measures of daily_measures (defined in pipeline/signals.py); 0 where a row is missing.
RANKING_MEASURES = (
    "escalatory_texts",
    "escalatory_outlets",
    "material_mass",
    "verbal_mass",
    "context_texts",
    "active_outlets",
)


def _normalised(text: str) -> str:
    return " ".join(text.casefold().split())


def _ranking_rows(
    conn: Connection, since: date, until: date, verbal_categories: Collection[str]
) -> list[dict[str, Any]]:
    """The daily_measures rows of [since, until] (every actor with an escalatory sentence, and ALL)."""
    s, a, sa_ = sentences.c, articles.c, sentence_actors.c
    day = a.published_day
    # Outlets, not feeds: two feeds of one publisher (its world and its regional feed) are one outlet.
    outlet_of = dict(conn.execute(sa.select(feeds.c.feed_id, feeds.c.outlet)).all())
    active_outlets: dict[date, set[str]] = defaultdict(set)
    for d, feed_id in conn.execute(sa.select(day, a.feed_id).where(day.between(since, until)).distinct()):
        active_outlets[d].add(outlet_of[feed_id])
    active = {d: len(names) for d, names in active_outlets.items()}
    escalatory = (
        sa.select(s.sentence_id, day, a.feed_id, s.text, s.score, s.matches)
        .join(articles, a.article_id == s.article_id)
        .where(day.between(since, until), s.score >= ESCALATORY_THRESHOLD)
    )
    actors_of: dict[int, list[str]] = defaultdict(list)
    for sentence_id, actor in conn.execute(
        sa.select(sa_.sentence_id, sa_.actor)
        .join(sentences, s.sentence_id == sa_.sentence_id)
        .join(articles, a.article_id == s.article_id)
        .where(day.between(since, until), s.score >= ESCALATORY_THRESHOLD)
    ).all():
        actors_of[sentence_id].append(actor)
    # (day, actor) -> normalised text -> its reading
    texts: dict[tuple[date, str], dict[str, _DayText]] = defaultdict(dict)
    for sentence_id, d, feed_id, text, score, matches in conn.execute(escalatory).all():
        found = json.loads(matches) if matches else []
        categories = {m.get("category") for m in found if float(m.get("effective_weight", 1.0)) > 0}
        material = frozenset(categories - set(verbal_categories) - {None})
        named = frozenset(actors_of.get(sentence_id, ()))
        reading = _DayText(
            score=float(score),
            material=material,
            context=read_in_context(found),  # harm read as a disaster, an accident or crime
            named=named,
            outlets=frozenset({outlet_of[feed_id]}),
            asserted=material & asserted_acts(found),  # not "reportedly", "will", "demand a coup"
        )
        key = _normalised(text)
        for actor in {ALL_ACTORS, *named}:
            cell = texts[d, actor]
            known = cell.get(key)
            cell[key] = reading if known is None else known.with_copy(reading)
    rows = []
    for (d, actor), cell in texts.items():
        plain = [v for v in cell.values() if not v.context]
        acts: dict[str, float] = {}
        for text_reading in plain:  # which kinds of act the day's texts assert, outside context
            for category in text_reading.asserted:
                acts[category] = max(acts.get(category, 0.0), round(text_reading.score, 6))
        outlets = len(frozenset().union(*(v.outlets for v in cell.values())))
        rows.append(_measure_row(d, actor, cell, plain, acts, outlets, int(active.get(d, 0))))
    return rows


@dataclass(frozen=True, slots=True)
class _DayText:
    """One distinct escalatory text of an actor's day, over all its copies."""

    score: float  # the best score of its copies
    material: frozenset[str]  # material categories it carries (not verbal ones)
    context: bool  # read as a disaster, an accident or crime
    named: frozenset[str]  # the actors its copies name
    outlets: frozenset[str]  # the outlets that carried it (feeds.outlet)
    asserted: frozenset[str]  # the material acts it asserts (score.asserted_acts)

    def with_copy(self, copy: _DayText) -> _DayText:
        """A copy: its strongest reading counts, material, asserted or in context if any copy is."""
        return _DayText(
            max(self.score, copy.score),
            self.material | copy.material,
            self.context or copy.context,
            self.named | copy.named,
            self.outlets | copy.outlets,
            self.asserted | copy.asserted,
        )


def _pair_masses(actor: str, plain: Sequence[_DayText]) -> dict[str, list[float]]:
    """{partner: [mass, outlets]}: the distinct material texts outside context that name `actor` and
    the partner (an actor pair; ALL is no partner, and ALL's own row has none), their summed best
    scores and the distinct outlets that carried them."""
    if actor == ALL_ACTORS:
        return {}
    mass: dict[str, float] = defaultdict(float)
    carriers: dict[str, set[str]] = defaultdict(set)
    for reading in plain:
        if not reading.material:
            continue  # rhetoric between two actors is no front
        for partner in reading.named - {actor, ALL_ACTORS}:
            mass[partner] += reading.score
            carriers[partner] |= reading.outlets
    return {partner: [round(mass[partner], 6), len(carriers[partner])] for partner in sorted(mass)}


def _measure_row(
    d: date, actor: str, cell: dict[str, _DayText], plain: Sequence[_DayText], acts: dict[str, float],
    outlets: int, active: int,
) -> dict[str, Any]:
    return {
        "day": d,
        "actor": actor,
        "escalatory_texts": len(cell),
        "escalatory_outlets": outlets,
        "material_mass": round(sum(v.score for v in plain if v.material), 6),
        "verbal_mass": round(sum(v.score for v in plain if not v.material), 6),
        "context_texts": sum(1 for v in cell.values() if v.context),
        "active_outlets": active,
        "act_scores": json.dumps(acts, sort_keys=True),
        "pair_masses": json.dumps(_pair_masses(actor, plain), sort_keys=True),
    }


def _aggregate(
    day_column: sa.ColumnElement,
    actor_column: sa.ColumnElement,
    source: sa.FromClause,
    since: date,
    until: date,
    shrinkage: float,
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
            (100.0 * sa.func.sum(positive) / (n + shrinkage)).label("escalation_index"),
            (100.0 * sa.func.sum(negative) / (n + shrinkage)).label("deescalation_index"),
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
    """Distinct outlets per (day, actor) among the feeds that carried its articles (feeds.outlet: a
    publisher's two feeds are one source): a separate query, since one article can have many sources."""
    return (
        sa.select(day_column, actor_column, sa.func.count(sa.distinct(feeds.c.outlet)))
        .select_from(
            source.join(article_sources, article_sources.c.article_id == articles.c.article_id).join(
                feeds, feeds.c.feed_id == article_sources.c.feed_id
            )
        )
        .where(articles.c.published_day.between(since, until))
        .group_by(day_column, actor_column)
    )


class SignalStore:
    """Writes and reads of daily_signals (a part of `Warehouse`)."""

    engine: Engine

    def recompute_daily_signals(
        self, since: date, until: date, *, shrinkage: float, verbal_categories: Collection[str] = ()
    ) -> int:
        """Delete the signal rows (and ranking measure rows) of [since, until] and insert them anew
        from the sentences, in one transaction; returns the signal rows written. `shrinkage`: the
        pseudo-sentences of the index; `verbal_categories`: the scorer categories of verbal conflict
        (the rest are material acts)."""
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
                *conn.execute(
                    _aggregate(day, sentence_actors.c.actor, by_actor, since, until, shrinkage)
                ).mappings(),
                *conn.execute(_aggregate(day, all_label, everything, since, until, shrinkage)).mappings(),
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
            ranking = _ranking_rows(conn, since, until, verbal_categories)
            conn.execute(daily_measures.delete().where(daily_measures.c.day.between(since, until)))
            if ranking:
                conn.execute(daily_measures.insert(), ranking)
            return len(values)

        # Two concurrent recomputations of one range: the loser runs again from the start.
        return run_transaction(self.engine, work, f"signals {since}..{until}", retry_on_conflict=True)

    def signal_rows(
        self, since: date, until: date, actors: Sequence[str] | None = None
    ) -> dict[str, dict[date, dict[str, Any]]]:
        """actor -> day -> the signal row (every measure, and the ranking measures of daily_measures,
        0 where it has none; `act_scores` and `pair_masses` as dicts, empty where it has none), for the days of
        [since, until] that have a signal row."""
        s, m = daily_signals.c, daily_measures.c
        ranking = [sa.func.coalesce(m[name], 0).label(name) for name in RANKING_MEASURES]
        acts = sa.func.coalesce(m.act_scores, "{}").label("act_scores")
        pairs = sa.func.coalesce(m.pair_masses, "{}").label("pair_masses")
        query = (
            sa.select(s.day, s.actor, *(s[name] for name in MEASURES), *ranking, acts, pairs)
            .select_from(
                daily_signals.outerjoin(daily_measures, sa.and_(m.day == s.day, m.actor == s.actor))
            )
            .where(s.day.between(since, until))
        )
        if actors is not None:
            query = query.where(s.actor.in_(list(actors)))
        by_actor: dict[str, dict[date, dict[str, Any]]] = defaultdict(dict)
        with self.engine.connect() as conn:
            for row in conn.execute(query).mappings():
                values = dict(row)
                values["act_scores"] = json.loads(values["act_scores"] or "{}")
                values["pair_masses"] = json.loads(values["pair_masses"] or "{}")
                by_actor[row["actor"]][row["day"]] = values
        return dict(by_actor)

    def first_signal_days(self) -> dict[str, date]:
        """actor -> the first day it has a signal row (its first appearance)."""
        s = daily_signals.c
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(s.actor, sa.func.min(s.day)).group_by(s.actor)).all())

    def measure_values(self, actor: str, measure: str, since: date, until: date) -> dict[date, float]:
        """day -> value of one measure of one actor, for the days of [since, until] that have a row."""
        if measure not in MEASURES:
            raise ValueError(f"unknown signal measure {measure!r}")
        s = daily_signals.c
        query = (
            sa.select(s.day, s[measure]).where(s.actor == actor, s.day.between(since, until)).order_by(s.day)
        )
        with self.engine.connect() as conn:
            return {day: float(value) for day, value in conn.execute(query).all()}

    def top_actors(self, measure: str, since: date, until: date, limit: int) -> list[tuple[str, float]]:
        """The actors (not ALL) with the largest positive sum of `measure` over [since, until]."""
        if measure not in MEASURES:
            raise ValueError(f"unknown signal measure {measure!r}")
        column = daily_signals.c[measure]
        total = sa.func.sum(column).label("total")
        query = (
            sa.select(daily_signals.c.actor, total)
            .where(daily_signals.c.day.between(since, until), daily_signals.c.actor != ALL_ACTORS)
            .group_by(daily_signals.c.actor)
            .having(sa.func.sum(column) > 0)
            .order_by(total.desc(), daily_signals.c.actor)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [(actor, float(value)) for actor, value in conn.execute(query).all()]

    def signal_day_bounds(self) -> tuple[date, date] | None:
        """(first, last) day that has a signal row; None when there is none."""
        s = daily_signals.c
        with self.engine.connect() as conn:
            first, last = conn.execute(sa.select(sa.func.min(s.day), sa.func.max(s.day))).one()
        return None if first is None else (first, last)

    def has_signals(self, since: date, until: date) -> bool:
        query = sa.select(daily_signals.c.day).where(daily_signals.c.day.between(since, until)).limit(1)
        with self.engine.connect() as conn:
            return conn.execute(query).first() is not None
