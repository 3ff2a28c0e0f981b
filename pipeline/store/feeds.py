"""Feeds, the fetch log, and the one feed writer: a feed's new articles with their sentences and
actors, written in ONE transaction (batch by batch for a big feed's parts), with a fast path per
dialect (SQLite: driver-level executemany with ids numbered under its write lock; PostgreSQL:
ON CONFLICT ... RETURNING)."""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from pipeline.articles import ArticleRecord, SentenceRecord
from pipeline.clock import now_utc
from pipeline.feeds import outlet_key
from pipeline.parse import canonical_url, host_key
from pipeline.store.engine import (
    ConcurrentWriteError,
    chunks,
    clean_text,
    insert_for,
    is_transient,
    matches_json,
    run_transaction,
    sqlite_time,
)
from pipeline.store.schema import (
    article_pages,
    article_sources,
    articles,
    feeds,
    fetch_log,
    sentence_actors,
    sentences,
)

_SQLITE_SLICE = 20_000  # rows per driver-level executemany


@dataclass(frozen=True)
class FetchRecord:
    """One fetch of one feed as the warehouse records it (feed row + fetch log)."""

    feed_url: str
    fetched_at: datetime
    ok: bool
    status: int | None = None
    not_modified: bool = False
    error: str | None = None
    bozo_reason: str | None = None
    entries_seen: int = 0
    elapsed_s: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    feed_title: str | None = None


@dataclass(frozen=True)
class StoreResult:
    new_articles: int
    new_sentences: int
    existing_articles: int
    # Published days whose signals this feed changed: new articles, and known articles that gained
    # this feed as a source (their day's source count changed).
    days: tuple[date, ...] = ()


class FeedWriter:
    """One feed's articles written in one transaction: `add` batch by batch (each in key order: two
    ingests of overlapping feeds then wait for each other on the same key instead of deadlocking),
    then `finish` once. A key already stored (earlier, by another feed of this run, by a concurrent
    ingest, or by an earlier batch) is skipped: the first occurrence wins. Made by
    `Warehouse.feed_writer` (or `store_feed_batch`), never directly.

    Every created article gets its `article_pages` row: a teaser (`ArticleRecord.needs_page`) is
    'pending' for the page step, or 'skipped' with error 'disabled' when `pages_enabled` is False
    (ESCALATION_ARTICLE_FETCH=0: an archive replay must not leave thousands of old links to fetch
    later); a real feed body is 'skipped'."""

    def __init__(
        self,
        conn: Connection,
        fetch: FetchRecord,
        run_id: str | None,
        scorer_version: str,
        *,
        pages_enabled: bool = True,
    ):
        self._conn = conn
        self._fetch = fetch
        self._run_id = run_id
        self._scorer_version = scorer_version
        self._pages_enabled = pages_enabled
        self._scored_at = now_utc()
        self._feed_id = _upsert_feed(conn, fetch)
        self._created: dict[str, int] = {}
        self._offered: set[str] = set()
        self._added = 0
        self._new_sentences = 0
        self._days: set[date] = set()
        self.result: StoreResult | None = None

    def existing_article_keys(self, keys: Iterable[str]) -> set[str]:
        """The keys the warehouse already holds, read inside this writer's transaction."""
        return _existing_keys(self._conn, keys)

    def add(self, batch: Sequence[ArticleRecord]) -> None:
        if self.result is not None:
            raise RuntimeError("feed writer already finished")
        if not batch:
            return
        conn = self._conn
        ordered = sorted(batch, key=lambda a: a.article_key)
        rows = [
            {
                "article_key": article.article_key,
                "feed_id": self._feed_id,
                "guid": clean_text(article.guid),
                "url": clean_text(article.url),
                "title": clean_text(article.title),
                "published_at": article.published_at,
                "published_day": article.published_at.astimezone(UTC).date(),
                "date_source": article.date_source,
                "fetched_at": self._fetch.fetched_at,
                "content_hash": article.content_hash,
                "sentence_count": len(article.sentences),
                "run_id": self._run_id,
            }
            for article in ordered
        ]
        # One batched insert; a key stored meanwhile is skipped and returns no row, so only the
        # articles this writer created get sentences.
        if conn.dialect.name == "sqlite":
            created = _insert_articles_sqlite(conn, rows)
        else:
            created = _insert_articles_postgresql(conn, rows)
        self._new_sentences += _insert_sentences(
            conn,
            [(created[a.article_key], a) for a in ordered if a.article_key in created],
            self._scorer_version,
            self._scored_at,
        )
        _insert_page_rows(
            conn, [(created[a.article_key], a) for a in ordered if a.article_key in created], self._pages_enabled
        )
        self._created.update(created)
        self._days.update(row["published_day"] for row in rows if row["article_key"] in created)
        self._offered.update(row["article_key"] for row in rows)
        self._added += len(batch)

    def finish(self, fetch: FetchRecord, seen_keys: Iterable[str]) -> StoreResult:
        """Link every article the feed carried (`seen_keys`: new or known) to the feed as a source
        and log the fetch; `fetch` is the final record (entries seen, feed title)."""
        if self.result is not None:
            raise RuntimeError("feed writer already finished")
        conn, created = self._conn, self._created
        if fetch is not self._fetch:
            _upsert_feed(conn, fetch)
        # The created articles' ids are known; the others (known before, or stored meanwhile by a
        # concurrent writer) are looked up.
        source_ids = set(created.values())
        for chunk in chunks(sorted((set(seen_keys) | self._offered) - created.keys())):
            source_ids.update(
                conn.execute(
                    sa.select(articles.c.article_id).where(articles.c.article_key.in_(chunk))
                ).scalars()
            )
        linked: set[int] = set()
        if source_ids:
            # One executemany (a multi-row VALUES would be compiled anew for every chunk size).
            linked.update(
                conn.execute(
                    insert_for(conn, article_sources)
                    .on_conflict_do_nothing()
                    .returning(article_sources.c.article_id),
                    [
                        {"article_id": i, "feed_id": self._feed_id, "first_seen_at": fetch.fetched_at}
                        for i in sorted(source_ids)
                    ],
                ).scalars()
            )
        # The new articles' days are known; only known articles that gained this feed are looked up.
        days = set(self._days)
        for chunk in chunks(sorted(linked - set(created.values()))):
            days.update(
                conn.execute(
                    sa.select(articles.c.published_day).where(articles.c.article_id.in_(chunk)).distinct()
                ).scalars()
            )
        _log_fetch(conn, self._feed_id, fetch, self._run_id, len(created))
        self.result = StoreResult(
            len(created), self._new_sentences, self._added - len(created), tuple(sorted(days))
        )
        return self.result


class FeedStore:
    """Feed rows, the fetch log and article writes (a part of `Warehouse`)."""

    engine: Engine

    @contextmanager
    def feed_writer(
        self, fetch: FetchRecord, run_id: str | None, scorer_version: str, *, pages_enabled: bool = True
    ) -> Generator[FeedWriter, None, None]:
        """`with warehouse.feed_writer(fetch, run_id, version) as w: w.add(batch) ...; w.finish(final, keys)`:
        ONE transaction, committed when the block ends after `finish`; nothing is written when the
        block raises (or ends without `finish`). Not retried: a concurrent writer's deadlock or lock
        timeout raises ConcurrentWriteError (the caller may redo the feed with store_feed_batch)."""
        try:
            with self.engine.begin() as conn:
                writer = FeedWriter(conn, fetch, run_id, scorer_version, pages_enabled=pages_enabled)
                yield writer
                if writer.result is None:
                    raise RuntimeError(f"feed writer of {fetch.feed_url} ended without finish(): rolled back")
        except DBAPIError as exc:
            if is_transient(exc):
                raise ConcurrentWriteError(
                    f"feed {fetch.feed_url}: concurrent writer ({type(exc.orig).__name__})"
                ) from exc
            raise

    def store_feed_batch(
        self,
        fetch: FetchRecord,
        batch: Sequence[ArticleRecord],
        run_id: str | None,
        scorer_version: str,
        *,
        seen_keys: Iterable[str] = (),
        pages_enabled: bool = True,
    ) -> StoreResult:
        """A feed whose articles are all at hand: one FeedWriter transaction, run again from the
        start when a concurrent writer gets in the way. `seen_keys`: every entry key the feed carried
        (new or known), so that an article carried by several feeds counts each as a source."""
        seen = list(seen_keys)

        def work(conn: Connection) -> StoreResult:
            writer = FeedWriter(conn, fetch, run_id, scorer_version, pages_enabled=pages_enabled)
            writer.add(batch)
            return writer.finish(fetch, seen)

        return run_transaction(self.engine, work, f"store batch of {fetch.feed_url}")

    def record_fetch(self, fetch: FetchRecord, run_id: str | None) -> None:
        """A fetch that brought no articles (a failure, a 304): the feed row and the fetch log only."""

        def work(conn: Connection) -> None:
            _log_fetch(conn, _upsert_feed(conn, fetch), fetch, run_id, 0)

        run_transaction(self.engine, work, f"record fetch of {fetch.feed_url}")

    def validators_for(self, feed_url: str) -> tuple[str | None, str | None]:
        """(ETag, Last-Modified) cached for a feed, for a conditional GET."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(feeds.c.etag, feeds.c.last_modified).where(feeds.c.url == feed_url)
            ).first()
        return (row.etag, row.last_modified) if row else (None, None)

    def recent_article_keys_of_feed(self, feed_url: str, since: date, limit: int = 50_000) -> set[str]:
        """Keys of the newest articles (published `since` or later, at most `limit`) that this feed
        stored first: what a re-fetch of it mostly carries again (an index range scan)."""
        query = (
            sa.select(articles.c.article_key)
            .join(feeds, feeds.c.feed_id == articles.c.feed_id)
            .where(feeds.c.url == feed_url, articles.c.published_day >= since)
            .order_by(articles.c.published_day.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return set(conn.execute(query).scalars())

    def existing_article_keys(self, keys: Iterable[str]) -> set[str]:
        with self.engine.connect() as conn:
            return _existing_keys(conn, keys)


def _existing_keys(conn: Connection, keys: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(keys))):
        found.update(
            conn.execute(sa.select(articles.c.article_key).where(articles.c.article_key.in_(chunk))).scalars()
        )
    return found


def _upsert_feed(conn: Connection, fetch: FetchRecord) -> int:
    values: dict[str, Any] = {
        "url": fetch.feed_url,
        "outlet": outlet_key(fetch.feed_url),
        "first_seen_at": fetch.fetched_at,
        "last_fetched_at": fetch.fetched_at,
        "last_status": fetch.status,
        "last_error": fetch.error,
    }
    update: dict[str, Any] = {
        "last_fetched_at": fetch.fetched_at,
        "last_status": fetch.status,
        "last_error": fetch.error,
    }
    if fetch.ok:
        # Validators only change on success, so a failed fetch never loses the cached ETag.
        for key, value in (
            ("etag", fetch.etag),
            ("last_modified", fetch.last_modified),
            ("title", fetch.feed_title),
        ):
            if value is not None:
                values[key] = update[key] = value
        values["last_success_at"] = update["last_success_at"] = fetch.fetched_at
    stmt = insert_for(conn, feeds).values(**values)
    conn.execute(stmt.on_conflict_do_update(index_elements=[feeds.c.url], set_=update))
    return conn.execute(sa.select(feeds.c.feed_id).where(feeds.c.url == fetch.feed_url)).scalar_one()


def _log_fetch(
    conn: Connection, feed_id: int, fetch: FetchRecord, run_id: str | None, new_articles: int
) -> None:
    conn.execute(
        fetch_log.insert().values(
            feed_id=feed_id,
            run_id=run_id,
            fetched_at=fetch.fetched_at,
            ok=fetch.ok,
            status=fetch.status,
            not_modified=fetch.not_modified,
            error=fetch.error,
            bozo_reason=fetch.bozo_reason,
            entries_seen=fetch.entries_seen,
            new_articles=new_articles,
            elapsed_s=fetch.elapsed_s,
        )
    )


def _insert_articles_postgresql(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """{key: id} of the rows created; a key stored meanwhile is skipped by the conflict clause."""
    created: dict[str, int] = {}
    statement = (
        insert_for(conn, articles)
        .on_conflict_do_nothing(index_elements=[articles.c.article_key])
        .returning(articles.c.article_key, articles.c.article_id)
    )
    for chunk in chunks(rows):
        created.update(conn.execute(statement, list(chunk)).all())
    return created


def _insert_articles_sqlite(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """The article insert on SQLite: {key: id} of the rows it created. The feed upsert before it
    took SQLite's single write lock, so a key found absent here stays absent until commit: the ids
    can be numbered here and one executemany inserts the rows (SQLAlchemy's per-row parameter
    processing was most of the time)."""
    present = _existing_keys(conn, [row["article_key"] for row in rows])
    fresh = list(
        {row["article_key"]: row for row in reversed(rows) if row["article_key"] not in present}.values()
    )
    fresh.reverse()  # the first row of a repeated key wins, as with the conflict clause
    if not fresh:
        return {}
    first = (conn.execute(sa.select(sa.func.max(articles.c.article_id))).scalar() or 0) + 1
    ids = range(first, first + len(fresh))
    conn.exec_driver_sql(
        "insert into articles (article_id, article_key, feed_id, guid, url, title, published_at,"
        " published_day, date_source, fetched_at, content_hash, sentence_count, run_id)"
        " values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                article_id,
                row["article_key"],
                row["feed_id"],
                row["guid"],
                row["url"],
                row["title"],
                sqlite_time(row["published_at"]),
                row["published_day"].isoformat(),
                row["date_source"],
                sqlite_time(row["fetched_at"]),
                row["content_hash"],
                row["sentence_count"],
                row["run_id"],
            )
            for article_id, row in zip(ids, fresh, strict=True)
        ],
    )
    return {row["article_key"]: article_id for article_id, row in zip(ids, fresh, strict=True)}


def _insert_page_rows(conn: Connection, stored: Sequence[tuple[int, ArticleRecord]], pages_enabled: bool) -> None:
    """How the new articles' text was obtained (the feed) and whether their page is wanted."""
    if not stored:
        return
    now = now_utc()
    rows = []
    for article_id, article in stored:
        page_url = canonical_url(article.url) if article.url else None
        wanted = article.needs_page and page_url is not None
        rows.append(
            {
                "article_id": article_id,
                "body_source": "feed",
                "page_state": "pending" if wanted and pages_enabled else "skipped",
                "page_url": clean_text(page_url),
                "host": clean_text(host_key(page_url)) if wanted else None,
                "attempts": 0,
                "error": "disabled" if wanted and not pages_enabled else None,
                "updated_at": now,
            }
        )
    if conn.dialect.name == "sqlite":  # straight to the driver, as the articles (per-row processing costs)
        stamp = sqlite_time(now)
        conn.exec_driver_sql(
            "insert into article_pages (article_id, body_source, page_state, page_url, host, attempts, error,"
            " updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (r["article_id"], r["body_source"], r["page_state"], r["page_url"], r["host"], 0, r["error"], stamp)
                for r in rows
            ],
        )
        return
    for chunk in chunks(rows, 5000):
        conn.execute(article_pages.insert(), list(chunk))


def _insert_sentences(
    conn: Connection,
    stored: Sequence[tuple[int, ArticleRecord]],
    scorer_version: str,
    scored_at: datetime,
) -> int:
    """Sentences and actor mentions of newly stored articles, in batched inserts."""
    return insert_sentence_records(
        conn, [(article_id, r) for article_id, article in stored for r in article.sentences], scorer_version, scored_at
    )


def insert_sentence_records(
    conn: Connection,
    records: Sequence[tuple[int, SentenceRecord]],
    scorer_version: str,
    scored_at: datetime,
) -> int:
    """(article id, sentence) rows and their actor mentions; on SQLite the transaction must already
    hold the write lock (it has written before), as the ids are numbered here."""
    if not records:
        return 0
    if conn.dialect.name == "sqlite":
        _insert_sentences_sqlite(conn, records, scorer_version, scored_at)
        return len(records)
    rows = [
        {
            "article_id": article_id,
            "seq": r.seq,
            "text": clean_text(r.text),
            "score": r.score,
            "escalation": r.escalation,
            "deescalation": r.deescalation,
            "matches": matches_json(r.matches),
            "scorer_version": scorer_version,
            "scored_at": scored_at,
        }
        for article_id, r in records
    ]
    ids = []
    statement = sentences.insert().returning(sentences.c.sentence_id, sort_by_parameter_order=True)
    for chunk in chunks(rows, 2000):
        ids.extend(conn.execute(statement, list(chunk)).scalars().all())
    mentions = [
        {"sentence_id": sentence_id, "actor": actor}
        for sentence_id, (_, record) in zip(ids, records, strict=True)
        for actor in dict.fromkeys(record.actors)
    ]
    for chunk in chunks(mentions, 5000):
        conn.execute(sentence_actors.insert(), list(chunk))
    return len(rows)


def _insert_sentences_sqlite(
    conn: Connection,
    records: Sequence[tuple[int, SentenceRecord]],
    scorer_version: str,
    scored_at: datetime,
) -> None:
    """This transaction already wrote the articles, so it holds SQLite's single write lock:
    numbering the sentences here is safe and lets executemany insert them (RETURNING in
    parameter order would make SQLite insert row by row). Straight to the driver, in slices
    (SQLAlchemy's per-row parameter processing was most of the time; slices bound the memory)."""
    first = (conn.execute(sa.select(sa.func.max(sentences.c.sentence_id))).scalar() or 0) + 1
    stamp = sqlite_time(scored_at)
    for offset in range(0, len(records), _SQLITE_SLICE):
        piece = records[offset : offset + _SQLITE_SLICE]
        start = first + offset
        conn.exec_driver_sql(
            "insert into sentences (sentence_id, article_id, seq, text, score, escalation, deescalation,"
            " matches, scorer_version, scored_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    sentence_id,
                    article_id,
                    r.seq,
                    clean_text(r.text),
                    r.score,
                    r.escalation,
                    r.deescalation,
                    matches_json(r.matches),
                    scorer_version,
                    stamp,
                )
                for sentence_id, (article_id, r) in enumerate(piece, start)
            ],
        )
        tags = [
            (sentence_id, actor)
            for sentence_id, (_, r) in enumerate(piece, start)
            for actor in dict.fromkeys(r.actors)
        ]
        if tags:  # an empty parameter list would run the statement once without parameters
            conn.exec_driver_sql("insert into sentence_actors (sentence_id, actor) values (?, ?)", tags)
