"""The warehouse connection: engine factory (SQLite and PostgreSQL), transactions retried on
concurrent-writer errors, advisory locks, the aware-UTC column type and NUL scrubbing.

Nothing outside `pipeline.store` holds an engine or a connection; this is where they are made.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

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

from pipeline import interrupts

log = logging.getLogger(__name__)
CHUNK = 500
TRANSIENT_ATTEMPTS = 6
# PostgreSQL: serialization failure, deadlock detected. SQLite: a writer that waited out busy_timeout.
_TRANSIENT_PG_CODES = {"40001", "40P01"}
T = TypeVar("T")


class WarehouseError(RuntimeError):
    """The warehouse cannot be used (bad URL, unreachable database); the message says why."""


class ConcurrentWriteError(RuntimeError):
    """A concurrent writer's deadlock, serialization failure or lock timeout ended a transaction
    that cannot simply run again (its input was consumed); nothing of it was written."""


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


# Where the URL came from, for error messages (the CLI's --db option or the setting).
URL_SOURCE = "--db or ESCALATION_DB_URL"
CREATE_HINT = "`escalation run` (or `escalation db upgrade`) creates it"


class MissingWarehouseError(WarehouseError):
    """A warehouse opened without `create` does not exist or has no current schema."""


def parse_url(url: str) -> sa.URL:
    """The URL as SQLAlchemy reads it; a bare postgresql:// (or postgres://) means psycopg 3, the
    driver we install (SQLAlchemy would otherwise look for psycopg2)."""
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        raise WarehouseError(f"cannot parse warehouse URL {url!r} ({URL_SOURCE})") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def shown_url(url: str | sa.URL) -> str:
    """The URL with its password masked, as every message shows it."""
    try:
        parsed = url if isinstance(url, sa.URL) else sa.make_url(url)
    except ArgumentError:
        return "<unparsable URL>"
    return parsed.render_as_string(hide_password=True)


def create_engine(url: str, *, schema: str | None = None, check: bool = True, create: bool = True) -> Engine:
    """An engine for a sqlite:// or postgresql+psycopg:// URL; with `check`, one round trip proves it
    works. Without `create`, a SQLite file (or its directory) that does not exist is a
    MissingWarehouseError instead of being made. Every failure is a WarehouseError whose one line
    names the URL without its password."""
    parsed = parse_url(url)
    shown = shown_url(url)  # as the user wrote it
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            path = Path(database).expanduser()
            if not create:
                if not path.parent.is_dir():
                    raise MissingWarehouseError(
                        f"no warehouse at {shown}: the directory {path.parent} does not exist; {CREATE_HINT}"
                    )
                if not path.is_file():
                    raise MissingWarehouseError(f"no warehouse at {shown}: no such file; {CREATE_HINT}")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise WarehouseError(f"cannot create the directory of {shown}: {exc.strerror}") from None
        kwargs["connect_args"] = {"timeout": 30}
    elif parsed.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        if schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
    else:
        raise WarehouseError(
            f"unsupported warehouse {shown} ({URL_SOURCE}): use sqlite:// or postgresql+psycopg://"
        )
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise WarehouseError(f"cannot use warehouse URL {shown} ({URL_SOURCE}): {exc}") from None
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _on_sqlite_connect)
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
                f"cannot connect to warehouse {shown} ({URL_SOURCE}): {reason}"
            ) from None
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
    cursor.execute("PRAGMA busy_timeout=30000")  # wait for a concurrent writer instead of failing
    cursor.close()


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


def run_transaction(
    engine: Engine, work: Callable[[Connection], T], what: str, *, retry_on_conflict: bool = False
) -> T:
    """Run `work(conn)` in one transaction, again from the start when a concurrent writer caused a
    deadlock, a serialization failure or a lock timeout (rolled back: nothing half-written)."""
    for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            interrupts.reraise_if_stopping(exc)  # a stop is never retried as a concurrent writer
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


def advisory_lock(conn: Connection, key: int) -> None:
    """On PostgreSQL, one holder of `key` at a time until the transaction ends (SQLite's single
    writer already serialises)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("select pg_advisory_xact_lock(:key)"), {"key": key})


def insert_for(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it the same way)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise WarehouseError(f"unsupported database {conn.dialect.name!r}: use SQLite or PostgreSQL")
    return insert(table)


# -- values -----------------------------------------------------------------------------------------
def clean_text(value: str | None) -> str | None:
    """PostgreSQL text cannot hold NUL; both dialects drop it so they store the same string."""
    return value.replace("\x00", "") if value and "\x00" in value else value


def matches_json(text: str) -> str:
    """Stored matches JSON without NUL (PostgreSQL's jsonb refuses \\u0000); rare, so checked last."""
    if "\\u0000" not in text:
        return text
    return json.dumps(_without_nul(json.loads(text)), ensure_ascii=False)


def _without_nul(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [_without_nul(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_nul(v) for k, v in value.items()}
    return value


def sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime stores (UTC, microseconds), for driver-level inserts."""
    if value.tzinfo is None:  # as UTCDateTime refuses it
        raise ValueError(f"naive datetime {value!r}: the warehouse stores aware UTC times only")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
