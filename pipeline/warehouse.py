"""Warehouse stage: the one schema definition (SQLAlchemy Core) and every write the pipeline makes.

Works on SQLite (embedded default) and PostgreSQL (`postgresql+psycopg://`). Writes are keyed on
natural keys and are upserts, so running anything twice changes nothing; one feed batch is one
transaction, so a crash half-way leaves no article without its sentences.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)

from pipeline.articles import ArticleRecord, SentenceRecord

ALL_ACTORS = "ALL"
_CHUNK = 500
_SQLITE_SLICE = 20_000  # rows per driver-level executemany


class WarehouseError(RuntimeError):
    """The warehouse cannot be used (bad URL, unreachable database); the message says why."""


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes in and out, on SQLite (which stores naive text) as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the warehouse stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("feed_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_fetched_at", UTCDateTime),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
)

fetch_log = sa.Table(
    "fetch_log",
    metadata,
    sa.Column("fetch_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.feed_id"), nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("not_modified", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text),
    sa.Column("bozo_reason", sa.Text),
    sa.Column("entries_seen", sa.Integer, nullable=False, default=0),
    sa.Column("new_articles", sa.Integer, nullable=False, default=0),
    sa.Column("elapsed_s", sa.Float),
    sa.Index("ix_fetch_log_feed_time", "feed_id", "fetched_at"),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("article_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_key", sa.Text, nullable=False, unique=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.feed_id"), nullable=False),
    sa.Column("guid", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("published_day", sa.Date, nullable=False),
    sa.Column("date_source", sa.String(16), nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("sentence_count", sa.Integer, nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Index("ix_articles_day", "published_day"),
    sa.Index("ix_articles_feed_day", "feed_id", "published_day"),
)

# Every feed that carried an article (the article row keeps the first): corroboration across sources.
article_sources = sa.Table(
    "article_sources",
    metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.article_id"), primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.feed_id"), primary_key=True),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
)

sentences = sa.Table(
    "sentences",
    metadata,
    sa.Column("sentence_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.article_id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("escalation", sa.Float, nullable=False),
    sa.Column("deescalation", sa.Float, nullable=False),
    sa.Column("matches", sa.Text, nullable=False),  # JSON list of Match.to_dict()
    sa.Column("scorer_version", sa.Text, nullable=False),
    sa.Column("scored_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("article_id", "seq", name="uq_sentences_article_seq"),
)

sentence_actors = sa.Table(
    "sentence_actors",
    metadata,
    sa.Column("sentence_id", sa.Integer, sa.ForeignKey("sentences.sentence_id"), primary_key=True),
    sa.Column("actor", sa.String(32), primary_key=True),
    sa.Index("ix_sentence_actors_actor_sentence", "actor", "sentence_id"),
)

daily_signals = sa.Table(
    "daily_signals",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("actor", sa.String(32), primary_key=True),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("sources", sa.Integer, nullable=False),
    sa.Column("sentences", sa.Integer, nullable=False),
    sa.Column("escalatory_sentences", sa.Integer, nullable=False),
    sa.Column("deescalatory_sentences", sa.Integer, nullable=False),
    sa.Column("escalation_index", sa.Float, nullable=False),
    sa.Column("deescalation_index", sa.Float, nullable=False),
    sa.Column("max_score", sa.Float, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
    sa.Index("ix_daily_signals_actor_day", "actor", "day"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("actor", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # escalation | deescalation
    sa.Column("severity", sa.String(16), nullable=False),  # watch | warning | critical
    sa.Column("measure", sa.String(32), nullable=False),  # the daily_signals column that spiked
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("baseline", sa.Float, nullable=False),
    sa.Column("spread", sa.Float, nullable=False),
    sa.Column("surprise", sa.Float, nullable=False),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("sources", sa.Integer, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON list of top sentences
    sa.Column("mode", sa.String(16), nullable=False),  # live | backtest
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("day", "actor", "kind", name="uq_alerts_day_actor_kind"),
    sa.Index("ix_alerts_actor_day", "actor", "day"),
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.alert_id"), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | sending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("trigger", sa.String(32), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("status", sa.String(16), nullable=False),  # running | success | partial | failed
    sa.Column("feeds_ok", sa.Integer, nullable=False, default=0),
    sa.Column("feeds_failed", sa.Integer, nullable=False, default=0),
    sa.Column("new_articles", sa.Integer, nullable=False, default=0),
    sa.Column("new_sentences", sa.Integer, nullable=False, default=0),
    sa.Column("details", sa.Text),
)


@dataclass(frozen=True)
class FetchRecord:
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
    # Published days whose signals this batch changed: new articles, and known articles that gained
    # this feed as a source (their day's source count changed).
    days: tuple[date, ...] = ()


log = logging.getLogger(__name__)
TRANSIENT_ATTEMPTS = 6
# PostgreSQL: serialization failure, deadlock detected. SQLite: a writer that waited out busy_timeout.
_TRANSIENT_PG_CODES = {"40001", "40P01"}


def is_transient(exc: BaseException, *, conflicts: bool = False) -> bool:
    """A concurrent writer got in the way: the whole transaction can simply run again. With
    `conflicts`, a unique-key clash counts too (for check-then-insert work that a concurrent writer
    can overtake: on the next try the check sees the other's row)."""
    if not isinstance(exc, DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _TRANSIENT_PG_CODES or (conflicts and code == "23505"):
        return True
    if conflicts and isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(exc.orig):
        return True  # SQLite's wording
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def run_transaction(engine: Engine, work: Any, what: str, *, retry_on_conflict: bool = False) -> Any:
    """Run `work(conn)` in one transaction, again from the start when a concurrent writer caused a
    deadlock, a serialization failure or a lock timeout (rolled back: nothing half-written)."""
    for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            if attempt == TRANSIENT_ATTEMPTS or not is_transient(exc, conflicts=retry_on_conflict):
                raise
            delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
            log.warning(
                "%s: concurrent writer (%s); retry %d in %.2f s",
                what,
                type(exc.orig).__name__,
                attempt,
                delay,
            )
            time.sleep(delay)
    raise AssertionError("unreachable")


def clean_text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; both dialects drop it so they store the same string."""
    return value.replace("\x00", "") if value and "\x00" in value else value


def _sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (UTC, microseconds), for driver-level inserts."""
    if value.tzinfo is None:  # as UTCDateTime refuses it
        raise ValueError(f"naive datetime {value!r}: the warehouse stores aware UTC times only")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _matches_json(text: str) -> str:
    # NUL is dropped inside the JSON too (PostgreSQL's jsonb refuses \\u0000); rare, so checked last.
    if "\\u0000" not in text:
        return text
    return json.dumps(_without_nul(json.loads(text)), ensure_ascii=False)


def advisory_lock(conn: Connection, key: int) -> None:
    """On PostgreSQL, one holder of `key` at a time until the transaction ends (SQLite's single
    writer already serialises)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": key})


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    return value


def now_utc() -> datetime:
    return datetime.now(UTC)


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def insert_for(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it the same way)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise WarehouseError(f"unsupported database {conn.dialect.name!r}: use SQLite or PostgreSQL")
    return insert(table)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=30000")  # wait for a concurrent writer instead of failing
    cursor.close()


def ddl(dialect_name: str) -> str:
    """CREATE statements of the whole schema for one dialect (the committed sql/schema_*.sql)."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}[dialect_name]
    parts = [f"-- Generated from pipeline/warehouse.py by warehouse.ddl({dialect_name!r}); do not edit.\n"]
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    return "\n".join(parts)


class Warehouse:
    """The SQL warehouse behind one engine. No global state: create one per process or task."""

    tables: Mapping[str, sa.Table] = metadata.tables

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, schema: str | None = None, check: bool = True) -> Warehouse:
        try:
            parsed = sa.make_url(url)
        except ArgumentError:
            raise WarehouseError(f"cannot parse warehouse URL {url!r} (ESCALATION_DB_URL)") from None
        shown = parsed.render_as_string(hide_password=True)
        kwargs: dict[str, Any] = {}
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database
            if database and database != ":memory:" and not database.startswith("file:"):
                try:
                    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise WarehouseError(f"cannot create the directory of {shown}: {exc.strerror}") from None
            kwargs["connect_args"] = {"timeout": 30}
        elif parsed.get_backend_name() == "postgresql":
            kwargs["pool_pre_ping"] = True
            if schema:
                kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        else:
            raise WarehouseError(
                f"unsupported warehouse {shown} (ESCALATION_DB_URL): use sqlite:// or postgresql+psycopg://"
            )
        try:
            engine = sa.create_engine(parsed, **kwargs)
        except (NoSuchModuleError, ArgumentError, ImportError) as exc:
            raise WarehouseError(f"cannot use warehouse URL {shown} (ESCALATION_DB_URL): {exc}") from None
        if engine.dialect.name == "sqlite":
            sa.event.listen(engine, "connect", _on_sqlite_connect)
        warehouse = cls(engine)
        if check:
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text("select 1"))
            except SQLAlchemyError as exc:
                engine.dispose()
                reason = (
                    str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
                )
                raise WarehouseError(
                    f"cannot connect to warehouse {shown} (ESCALATION_DB_URL): {reason}"
                ) from None
        return warehouse

    def init_schema(self) -> None:
        """Bring the schema to the current migration (create it when empty) and make sure the views exist."""
        from pipeline.migrate import ensure_schema

        ensure_schema(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- feeds and fetches -----------------------------------------------------------------------
    def validators_for(self, feed_url: str) -> tuple[str | None, str | None]:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(feeds.c.etag, feeds.c.last_modified).where(feeds.c.url == feed_url)
            ).first()
        return (row.etag, row.last_modified) if row else (None, None)

    def _upsert_feed(self, conn: Connection, fetch: FetchRecord) -> int:
        values: dict[str, Any] = {
            "url": fetch.feed_url,
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
        self, conn: Connection, feed_id: int, fetch: FetchRecord, run_id: str | None, new_articles: int
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

    def record_fetch(self, fetch: FetchRecord, run_id: str | None) -> None:
        """A fetch that brought no articles (a failure, a 304): the feed row and the fetch log only."""

        def work(conn: Connection) -> None:
            self._log_fetch(conn, self._upsert_feed(conn, fetch), fetch, run_id, 0)

        run_transaction(self.engine, work, f"record fetch of {fetch.feed_url}")

    # -- articles --------------------------------------------------------------------------------
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
        wanted = list(dict.fromkeys(keys))
        found: set[str] = set()
        with self.engine.connect() as conn:
            for chunk in _chunks(wanted):
                found.update(
                    conn.execute(
                        sa.select(articles.c.article_key).where(articles.c.article_key.in_(chunk))
                    ).scalars()
                )
        return found

    def store_feed_batch(
        self,
        fetch: FetchRecord,
        batch: Sequence[ArticleRecord],
        run_id: str | None,
        scorer_version: str,
        *,
        seen_keys: Iterable[str] = (),
    ) -> StoreResult:
        """Store one feed's new articles with their sentences and actors, in ONE transaction.

        `seen_keys` are the keys of every entry the feed carried (new or known), so that an article
        carried by several feeds counts every one of them as a source.
        """

        def work(conn: Connection) -> StoreResult:
            writer = FeedWriter(self, conn, fetch, run_id, scorer_version)
            writer.add(batch)
            return writer.finish(fetch, seen_keys)

        return run_transaction(self.engine, work, f"store batch of {fetch.feed_url}")

    def store_feed_stream(
        self,
        fetch: FetchRecord,
        batches: Iterable[Sequence[ArticleRecord]],
        run_id: str | None,
        scorer_version: str,
        finish: Callable[[], tuple[FetchRecord, Sequence[ArticleRecord], Iterable[str]]],
    ) -> StoreResult:
        """store_feed_batch for a feed whose articles arrive in batches (a big feed's parts, from
        worker processes): each batch is written as it comes, in the same ONE transaction, then
        `finish()` gives the final fetch record, any last articles and every key the feed carried.
        Not retried: the batches are consumed once. A concurrent writer's deadlock or lock timeout
        raises, and nothing is written; the caller then stores the whole feed with store_feed_batch."""
        with self.engine.begin() as conn:
            writer = FeedWriter(self, conn, fetch, run_id, scorer_version)
            for batch in batches:
                writer.add(batch)
            final_fetch, last, seen_keys = finish()
            writer.add(last)
            return writer.finish(final_fetch, seen_keys)

    def _insert_articles_sqlite(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        """store_feed_batch's article insert on SQLite: {key: id} of the rows it created. The feed
        upsert before it took SQLite's single write lock, so a key found absent here stays absent
        until commit: the ids can be numbered here and one executemany inserts the rows (SQLAlchemy's
        per-row parameter processing was most of the time)."""
        present: set[str] = set()
        for chunk in _chunks([row["article_key"] for row in rows]):
            present.update(
                conn.execute(
                    sa.select(articles.c.article_key).where(articles.c.article_key.in_(chunk))
                ).scalars()
            )
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
                    _sqlite_time(row["published_at"]),
                    row["published_day"].isoformat(),
                    row["date_source"],
                    _sqlite_time(row["fetched_at"]),
                    row["content_hash"],
                    row["sentence_count"],
                    row["run_id"],
                )
                for article_id, row in zip(ids, fresh, strict=True)
            ],
        )
        return {row["article_key"]: article_id for article_id, row in zip(ids, fresh, strict=True)}

    def _insert_sentences_for(
        self,
        conn: Connection,
        stored: Sequence[tuple[int, ArticleRecord]],
        scorer_version: str,
        scored_at: datetime,
    ) -> int:
        """Sentences and actor mentions of newly stored articles, in batched inserts."""
        records = [(article_id, r) for article_id, article in stored for r in article.sentences]
        if not records:
            return 0
        if conn.dialect.name == "sqlite":
            self._insert_sentences_sqlite(conn, records, scorer_version, scored_at)
            return len(records)
        rows = [
            {
                "article_id": article_id,
                "seq": r.seq,
                "text": clean_text(r.text),
                "score": r.score,
                "escalation": r.escalation,
                "deescalation": r.deescalation,
                "matches": _matches_json(r.matches),
                "scorer_version": scorer_version,
                "scored_at": scored_at,
            }
            for article_id, r in records
        ]
        ids = []
        statement = sentences.insert().returning(sentences.c.sentence_id, sort_by_parameter_order=True)
        for chunk in _chunks(rows, 2000):
            ids.extend(conn.execute(statement, list(chunk)).scalars().all())
        mentions = [
            {"sentence_id": sentence_id, "actor": actor}
            for sentence_id, (_, record) in zip(ids, records, strict=True)
            for actor in dict.fromkeys(record.actors)
        ]
        for chunk in _chunks(mentions, 5000):
            conn.execute(sentence_actors.insert(), list(chunk))
        return len(rows)

    def _insert_sentences_sqlite(
        self,
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
        stamp = _sqlite_time(scored_at)
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
                        _matches_json(r.matches),
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

    # -- runs --------------------------------------------------------------------------------------
    def start_run(
        self, trigger: str, details: Mapping[str, Any] | None = None, *, run_id: str | None = None
    ) -> str:
        """Open a pipeline run; with an explicit run_id (an Airflow run) a retry reuses the same row."""
        run_id = run_id or f"{trigger}:{now_utc():%Y%m%dT%H%M%SZ}:{uuid.uuid4().hex[:8]}"
        with self.engine.begin() as conn:
            stmt = insert_for(conn, pipeline_runs).values(
                run_id=run_id,
                trigger=trigger,
                started_at=now_utc(),
                status="running",
                feeds_ok=0,
                feeds_failed=0,
                new_articles=0,
                new_sentences=0,
                details=json.dumps(dict(details or {}), default=str),
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[pipeline_runs.c.run_id], set_={"status": "running"}
                )
            )
        return run_id

    def run_totals(self, run_id: str) -> tuple[int, int]:
        """(articles, sentences) that a pipeline run stored, from the warehouse itself: right even
        when a retried task found its first try's articles already stored."""
        query = sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(articles.c.sentence_count), 0)).where(
            articles.c.run_id == run_id
        )
        with self.engine.connect() as conn:
            stored, sentence_total = conn.execute(query).one()
        return int(stored), int(sentence_total)

    def finish_run(self, run_id: str, status: str, counts: Mapping[str, Any]) -> None:
        """Close a run: its feed counts as given; its new articles and sentences as stored."""
        values = {k: int(v) for k, v in counts.items() if k in {"feeds_ok", "feeds_failed"}}
        values["new_articles"], values["new_sentences"] = self.run_totals(run_id)
        with self.engine.begin() as conn:
            conn.execute(
                pipeline_runs.update()
                .where(pipeline_runs.c.run_id == run_id)
                .values(status=status, finished_at=now_utc(), **values)
            )

    # -- reads for the CLI, signals and alerts ---------------------------------------------------
    def top_sentences(
        self,
        *,
        run_id: str | None = None,
        day: date | None = None,
        actor: str | None = None,
        limit: int = 5,
        descending: bool = True,
    ) -> list[dict[str, Any]]:
        """Most escalatory (or, with descending=False, most de-escalatory) sentences with their article."""
        s, a, f = sentences, articles, feeds
        query = (
            sa.select(
                s.c.text, s.c.score, s.c.matches, a.c.title, a.c.url, a.c.published_at, f.c.url.label("feed")
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
            query = query.where(s.c.score > 0).order_by(s.c.score.desc(), s.c.sentence_id)
        else:
            query = query.where(s.c.score < 0).order_by(s.c.score.asc(), s.c.sentence_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(limit)).mappings().all()
        return [
            {
                "text": r["text"],
                "score": round(r["score"], 4),
                "matches": json.loads(r["matches"]),
                "title": r["title"],
                "url": r["url"],
                "published_at": r["published_at"].isoformat(),
                "feed": r["feed"],
            }
            for r in rows
        ]

    def iter_sentences(
        self, since: date | None, until: date | None, batch_size: int = 1000
    ) -> Iterator[list[dict[str, Any]]]:
        """Stored sentences (id, text, score) in id order, in batches, for re-scoring."""
        last_id = 0
        while True:
            query = (
                sa.select(sentences.c.sentence_id, sentences.c.text, sentences.c.score)
                .join(articles, articles.c.article_id == sentences.c.article_id)
                .where(sentences.c.sentence_id > last_id)
                .order_by(sentences.c.sentence_id)
                .limit(batch_size)
            )
            if since is not None:
                query = query.where(articles.c.published_day >= since)
            if until is not None:
                query = query.where(articles.c.published_day <= until)
            with self.engine.connect() as conn:
                rows = [dict(r) for r in conn.execute(query).mappings()]
            if not rows:
                return
            yield rows
            last_id = rows[-1]["sentence_id"]

    def update_sentence_scores(self, rows: Sequence[Mapping[str, Any]], scorer_version: str) -> int:
        """Write new scores for (sentence_id, score, escalation, deescalation, matches) rows; matches
        is the JSON text, as `score.encode_matches` writes it (what an ingest stores)."""
        if not rows:
            return 0
        scored_at = now_utc()
        stmt = (
            sentences.update()
            .where(sentences.c.sentence_id == sa.bindparam("b_id"))
            .values(
                score=sa.bindparam("b_score"),
                escalation=sa.bindparam("b_escalation"),
                deescalation=sa.bindparam("b_deescalation"),
                matches=sa.bindparam("b_matches"),
                scorer_version=scorer_version,
                scored_at=scored_at,
            )
        )
        params = [
            {
                "b_id": r["sentence_id"],
                "b_score": r["score"],
                "b_escalation": r["escalation"],
                "b_deescalation": r["deescalation"],
                "b_matches": _matches_json(r["matches"]),
            }
            for r in rows
        ]
        with self.engine.begin() as conn:
            conn.execute(stmt, params)
        return len(params)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in metadata.tables.items()
            }


class FeedWriter:
    """One feed's articles written in the caller's transaction: `add` batch by batch (each in key
    order: two ingests of overlapping feeds then wait for each other on the same key instead of
    deadlocking), then `finish` once. A key already stored (earlier, by another feed of this run,
    by a concurrent ingest, or by an earlier batch) is skipped: the first occurrence wins."""

    def __init__(
        self,
        warehouse: Warehouse,
        conn: Connection,
        fetch: FetchRecord,
        run_id: str | None,
        scorer_version: str,
    ):
        self._warehouse = warehouse
        self._conn = conn
        self._fetch = fetch
        self._run_id = run_id
        self._scorer_version = scorer_version
        self._scored_at = now_utc()
        self._feed_id = warehouse._upsert_feed(conn, fetch)
        self._created: dict[str, int] = {}
        self._offered: set[str] = set()
        self._added = 0
        self._new_sentences = 0
        self._days: set[date] = set()

    def add(self, batch: Sequence[ArticleRecord]) -> None:
        if not batch:
            return
        conn, warehouse = self._conn, self._warehouse
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
        # One batched insert; a key stored meanwhile is skipped by the conflict clause and returns
        # no row, so only the articles this writer created get sentences.
        if conn.dialect.name == "sqlite":
            created = warehouse._insert_articles_sqlite(conn, rows)
        else:
            created = {}
            statement = (
                insert_for(conn, articles)
                .on_conflict_do_nothing(index_elements=[articles.c.article_key])
                .returning(articles.c.article_key, articles.c.article_id)
            )
            for chunk in _chunks(rows):
                created.update(conn.execute(statement, list(chunk)).all())
        self._new_sentences += warehouse._insert_sentences_for(
            conn,
            [(created[a.article_key], a) for a in ordered if a.article_key in created],
            self._scorer_version,
            self._scored_at,
        )
        self._created.update(created)
        self._days.update(row["published_day"] for row in rows if row["article_key"] in created)
        self._offered.update(row["article_key"] for row in rows)
        self._added += len(batch)

    def finish(self, fetch: FetchRecord, seen_keys: Iterable[str]) -> StoreResult:
        conn, created = self._conn, self._created
        if fetch is not self._fetch:  # the final record (entries seen, feed title) of a streamed feed
            self._warehouse._upsert_feed(conn, fetch)
        # Every article this feed carried gets the feed as a source: the created ones' ids are
        # known, the others (known before, or stored meanwhile by a concurrent writer) are looked up.
        source_ids = set(created.values())
        for chunk in _chunks(sorted((set(seen_keys) | self._offered) - created.keys())):
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
        for chunk in _chunks(sorted(linked - set(created.values()))):
            days.update(
                conn.execute(
                    sa.select(articles.c.published_day).where(articles.c.article_id.in_(chunk)).distinct()
                ).scalars()
            )
        self._warehouse._log_fetch(conn, self._feed_id, fetch, self._run_id, len(created))
        return StoreResult(len(created), self._new_sentences, self._added - len(created), tuple(sorted(days)))
