"""Schema evolution: Alembic migrations (pipeline/store/migrations/) plus the analyst views of sql/views/.

`ensure_schema` is what every command calls: an empty database gets the model's tables, stamped
with the head revision; an older one is migrated; one at head returns at once. The views hold no
data, so they are dropped before migrating (SQLite copies tables to alter them) and recreated from
sql/views/ afterwards. A database created before migrations existed (no alembic_version table) is
recognised by its columns and stamped with the revision it matches before upgrading. The
`scoring_thresholds` rows follow the scorer's constants: rewritten whenever they differ.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from pipeline.interrupts import deferred
from pipeline.store import views
from pipeline.store.engine import advisory_lock
from pipeline.store.schema import metadata, thresholds_are_current, write_thresholds

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x6573_6361  # "esca": one schema change at a time across processes


@dataclass(frozen=True)
class UpgradeReport:
    before: str | None
    after: str
    views: tuple[str, ...]


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    return config


@functools.cache
def head_revision() -> str:
    return ScriptDirectory.from_config(_config(None)).get_current_head()  # type: ignore[arg-type]


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _legacy_revision(conn: Connection) -> str | None:
    """The revision a database without alembic_version matches, or None when it has no tables."""
    inspector = sa.inspect(conn)
    tables = set(inspector.get_table_names())
    if "articles" not in tables:
        return None
    columns = {c["name"] for c in inspector.get_columns("alerts")} if "alerts" in tables else set()
    return "0002" if "measure" in columns else "0001"


def upgrade(engine: Engine, revision: str = "head") -> UpgradeReport:
    """Migrate to `revision` (and recreate the views) in one transaction where the dialect allows.
    SIGINT/SIGTERM wait for its end (SQLite commits DDL as it runs: a cut would leave half a migration)."""
    with deferred(), engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by copying it; with foreign keys enforced, dropping the old copy
            # fails. The pragma only takes effect outside a transaction, so it is set first, and the
            # keys are checked before commit instead.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.commit()
        try:
            with conn.begin():
                report = _upgrade_in(conn, revision)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left {len(broken)} rows with broken foreign keys")
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.commit()
    return report


def _upgrade_in(conn: Connection, revision: str) -> UpgradeReport:
    advisory_lock(conn, _PG_LOCK_KEY)
    before = MigrationContext.configure(conn).get_current_revision()
    config = _config(conn)
    existing = views.view_sql(conn.dialect.name)
    views.drop_views(conn, existing)
    if before is None:
        legacy = _legacy_revision(conn)
        if legacy is None and revision == "head":
            # Empty database: the model is the schema at head (a test keeps the two equal).
            metadata.create_all(conn)
            command.stamp(config, "head")
        else:
            if legacy is not None:
                command.stamp(config, legacy)
            command.upgrade(config, revision)
    else:
        command.upgrade(config, revision)
    after = MigrationContext.configure(conn).get_current_revision()
    created: list[str] = []
    if after == head_revision():
        write_thresholds(conn)  # before the views that read them
        created = views.create_views(conn)
    return UpgradeReport(before, after or "", tuple(created))


def schema_problem(engine: Engine) -> str | None:
    """Why the warehouse cannot be read as it is (no schema, an older revision, stale views or
    thresholds), or None when it is current. Reads only: nothing is created or changed."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        head = head_revision()
        if current is None:
            if _legacy_revision(conn) is None:
                return "it has no escalation schema (an empty database)"
            return "its schema predates migrations; `escalation db upgrade` migrates it"
        if current != head:
            return f"its schema is at revision {current}, not {head}; `escalation db upgrade` migrates it"
        if not views.views_are_current(conn) or not thresholds_are_current(conn):
            return "its analyst views are out of date; `escalation db upgrade` recreates them"
    return None


def ensure_schema(engine: Engine) -> None:
    """Cheap when nothing is to do: one version read, one read of the views' definitions and one
    of the scoring thresholds."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        at_head = current == head_revision() and views.views_are_current(conn)
        if at_head and thresholds_are_current(conn):
            return
    if not at_head:
        upgrade(engine)
        return
    with engine.begin() as conn:  # the scorer's thresholds changed: the views read the new ones
        advisory_lock(conn, _PG_LOCK_KEY)
        write_thresholds(conn)
