"""Stored sentences: top sentences (evidence, the CLI, the report), iteration and the writes of
re-scoring, and the stale-version ranges the re-scoring planner walks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.actors import ALL_ACTORS
from pipeline.clock import now_utc
from pipeline.store.engine import matches_json
from pipeline.store.schema import articles, feeds, sentence_actors, sentences


def normalised_text(text: str) -> str:
    """What makes two sentences one text: case and runs of whitespace do not count (wire copies)."""
    return " ".join(text.casefold().split())


# Ties of score go to the earliest copy, then natural keys: never the order in which the articles
# happened to be stored (feeds stored in another order, or a rerun, would change which copy stands
# for a text and in which order equal texts come).
SCORE_TIES = (articles.c.published_at, articles.c.article_key, sentences.c.seq)


def distinct_texts(rows: Sequence[Mapping[str, Any]], limit: int | None = None) -> list[dict[str, Any]]:
    """`rows` (strongest first, each with `text` and `outlet_key`, its feed's `feeds.outlet`) with
    each text once: the first (strongest) row of a text stands for all of them, with `copies` (rows
    that carried it) and `outlets` (distinct outlets among them: a publisher's two feeds are one); at
    most `limit` texts, in the order of their first row."""
    distinct: dict[str, dict[str, Any]] = {}
    outlets_of: dict[str, set[Any]] = {}
    for row in rows:
        key = normalised_text(row["text"])
        if key not in distinct:
            if limit is not None and len(distinct) >= limit:
                continue  # past the limit only copies of the kept texts count
            distinct[key] = {k: v for k, v in row.items() if k != "outlet_key"} | {"copies": 0}
            outlets_of[key] = set()
        distinct[key]["copies"] += 1
        outlets_of[key].add(row["outlet_key"])
    return [{**item, "outlets": len(outlets_of[key])} for key, item in distinct.items()]


class SentenceStore:
    """Reads and re-scoring writes of sentences (a part of `Warehouse`)."""

    engine: Engine

    def top_sentences(
        self,
        *,
        run_id: str | None = None,
        day: date | None = None,
        actor: str | None = None,
        limit: int = 5,
        descending: bool = True,
        scan: int = 500,
    ) -> list[dict[str, Any]]:
        """Most escalatory (or, with descending=False, most de-escalatory) distinct sentences with
        their article: a text carried by several items is one entry with its `copies` and `outlets`
        (counted among the `scan` strongest rows)."""
        s, a, f = sentences, articles, feeds
        query = (
            sa.select(
                s.c.text,
                s.c.score,
                s.c.matches,
                a.c.title,
                a.c.url,
                a.c.published_at,
                f.c.url.label("feed"),
                f.c.title.label("outlet"),
                f.c.outlet.label("outlet_key"),
            )
            .join(a, a.c.article_id == s.c.article_id)
            .join(f, f.c.feed_id == a.c.feed_id)
        )
        if run_id is not None:
            query = query.where(a.c.run_id == run_id)
        if day is not None:
            query = query.where(a.c.published_day == day)
        if actor is not None and actor != ALL_ACTORS:
            query = query.join(sentence_actors, sentence_actors.c.sentence_id == s.c.sentence_id).where(
                sentence_actors.c.actor == actor
            )
        if descending:
            query = query.where(s.c.score > 0).order_by(s.c.score.desc(), *SCORE_TIES)
        else:
            query = query.where(s.c.score < 0).order_by(s.c.score.asc(), *SCORE_TIES)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(scan, limit))).mappings().all()
        return distinct_texts(
            [
                {
                    "text": r["text"],
                    "score": round(r["score"], 4),
                    "matches": json.loads(r["matches"]),
                    "title": r["title"],
                    "url": r["url"],
                    "published_at": r["published_at"].isoformat(),
                    "feed": r["feed"],
                    "outlet": r["outlet"] or r["feed"],
                    "outlet_key": r["outlet_key"],
                }
                for r in rows
            ],
            limit,
        )

    def range_sentences(
        self, since: date, until: date, actor: str, limit: int, *, escalatory: bool, scan: int = 500
    ) -> list[dict[str, Any]]:
        """Highest (escalatory) or lowest (de-escalatory) scored distinct sentences about `actor`
        (ALL: any) published in [since, until], with their day, article and feed (rows for the
        report): a text carried by several items is one row with its `copies` and `outlets` (counted
        among the `scan` strongest rows), shown by its strongest, earliest copy."""
        s, a, f = sentences.c, articles.c, feeds.c
        query = (
            sa.select(
                a.published_day,
                s.score,
                s.text,
                s.matches,
                a.title,
                a.url,
                f.title.label("feed_title"),
                f.url.label("feed_url"),
                f.outlet.label("outlet_key"),
            )
            .select_from(
                sentences.join(articles, a.article_id == s.article_id).join(feeds, f.feed_id == a.feed_id)
            )
            .where(a.published_day.between(since, until))
            .limit(max(scan, limit))
        )
        if actor != ALL_ACTORS:
            query = query.join(sentence_actors, sentence_actors.c.sentence_id == s.sentence_id).where(
                sentence_actors.c.actor == actor
            )
        if escalatory:
            query = query.where(s.score > 0).order_by(s.score.desc(), *SCORE_TIES)
        else:
            query = query.where(s.score < 0).order_by(s.score.asc(), *SCORE_TIES)
        with self.engine.connect() as conn:
            return distinct_texts([dict(r) for r in conn.execute(query).mappings()], limit)

    def stale_sentence_count(self, current_version: str) -> int:
        """How many stored sentences were scored by another scorer version than the current one."""
        query = sa.select(sa.func.count()).where(sentences.c.scorer_version != current_version)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def sentence_id_ranges(
        self,
        batch_size: int,
        max_batches: int | None = None,
        *,
        other_than_version: str | None = None,
        since: date | None = None,
        until: date | None = None,
    ) -> list[tuple[int, int, int]]:
        """(first_id, last_id, count) of consecutive runs of at most batch_size sentences, in id
        order, at most max_batches of them: those scored by another version than
        `other_than_version` (when given) of articles published in [since, until] (when given)."""
        # Keyset pagination over the primary key: portable (no window functions or FLOOR needed on
        # SQLite) and each query reads one batch of ids.
        query = _filtered(sa.select(sentences.c.sentence_id), other_than_version, since, until)
        query = query.order_by(sentences.c.sentence_id).limit(batch_size)
        ranges: list[tuple[int, int, int]] = []
        last_id = 0
        with self.engine.connect() as conn:
            while max_batches is None or len(ranges) < max_batches:
                ids = conn.execute(query.where(sentences.c.sentence_id > last_id)).scalars().all()
                if not ids:
                    break
                ranges.append((int(ids[0]), int(ids[-1]), len(ids)))
                last_id = ids[-1]
        return ranges

    def sentences_between(
        self,
        first_id: int,
        last_id: int,
        *,
        other_than_version: str | None = None,
        since: date | None = None,
        until: date | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """(sentence_id, text, score, published_day) of the sentences with first_id <= id <= last_id,
        filtered as in `sentence_id_ranges`, in id order."""
        query = _filtered(
            sa.select(sentences.c.sentence_id, sentences.c.text, sentences.c.score, articles.c.published_day),
            other_than_version,
            since,
            until,
        )
        query = query.where(sentences.c.sentence_id.between(first_id, last_id)).order_by(
            sentences.c.sentence_id
        )
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def update_sentence_scores(self, rows: Sequence[Mapping[str, Any]], scorer_version: str) -> int:
        """Write new scores for (sentence_id, score, escalation, deescalation, matches) rows; matches
        is the JSON text, as `score.encode_matches` writes it (what an ingest stores)."""
        if not rows:
            return 0
        stmt = (
            sentences.update()
            .where(sentences.c.sentence_id == sa.bindparam("b_id"))
            .values(
                score=sa.bindparam("b_score"),
                escalation=sa.bindparam("b_escalation"),
                deescalation=sa.bindparam("b_deescalation"),
                matches=sa.bindparam("b_matches"),
                scorer_version=scorer_version,
                scored_at=now_utc(),
            )
        )
        params = [
            {
                "b_id": r["sentence_id"],
                "b_score": r["score"],
                "b_escalation": r["escalation"],
                "b_deescalation": r["deescalation"],
                "b_matches": matches_json(r["matches"]),
            }
            for r in rows
        ]
        with self.engine.begin() as conn:
            conn.execute(stmt, params)
        return len(params)

    def article_day_bounds(self, since: date | None, until: date | None) -> tuple[date, date] | None:
        """(first, last) published day of the stored articles within the optional bounds; None if none."""
        query = sa.select(sa.func.min(articles.c.published_day), sa.func.max(articles.c.published_day))
        if since is not None:
            query = query.where(articles.c.published_day >= since)
        if until is not None:
            query = query.where(articles.c.published_day <= until)
        with self.engine.connect() as conn:
            first, last = conn.execute(query).one()
        return None if first is None else (first, last)


def _filtered(
    query: sa.Select, other_than_version: str | None, since: date | None, until: date | None
) -> sa.Select:
    query = query.select_from(sentences.join(articles, articles.c.article_id == sentences.c.article_id))
    if other_than_version is not None:
        query = query.where(sentences.c.scorer_version != other_than_version)
    if since is not None:
        query = query.where(articles.c.published_day >= since)
    if until is not None:
        query = query.where(articles.c.published_day <= until)
    return query
