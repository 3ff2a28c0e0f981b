"""The `Warehouse` facade: one object per process or task, behind one engine, that every other
stage receives. Its parts live next to their SQL: feeds.py (feed rows, fetch log, the feed writer),
pages.py (article pages: pending ones, the page text write),
runs.py, sentences.py, signals.py, alerts.py, incidents.py (incidents, their pages and page deliveries),
analyst.py (the reads behind pipeline.api's DataFrames); views.py and migrate.py hold the analyst SQL and the
schema's evolution."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.store import migrate, views
from pipeline.store.alerts import AlertStore
from pipeline.store.analyst import AnalystStore
from pipeline.store.engine import WarehouseError, create_engine
from pipeline.store.feeds import FeedStore
from pipeline.store.incidents import IncidentStore
from pipeline.store.pages import PageStore
from pipeline.store.runs import RunStore
from pipeline.store.schema import metadata
from pipeline.store.sentences import SentenceStore
from pipeline.store.signals import SignalStore


class Warehouse(
    FeedStore, PageStore, RunStore, SentenceStore, SignalStore, AlertStore, IncidentStore, AnalystStore
):
    """The SQL warehouse behind one engine. No global state: create one per process or task."""

    tables: Mapping[str, sa.Table] = metadata.tables

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, schema: str | None = None, check: bool = True) -> Warehouse:
        """SQLite or PostgreSQL (`schema`: a PostgreSQL search_path); WarehouseError when unusable."""
        return cls(create_engine(url, schema=schema, check=check))

    @classmethod
    def open_existing(cls, url: str, *, schema: str | None = None) -> Warehouse:
        """An existing warehouse at the current schema, for commands that only read: nothing is
        created or migrated (a SQLite file that does not exist is an error, not a new warehouse)."""
        try:
            parsed = sa.make_url(url)
        except sa.exc.ArgumentError:
            raise WarehouseError(f"cannot parse warehouse URL {url!r} (ESCALATION_DB_URL)") from None
        database = parsed.database if parsed.get_backend_name() == "sqlite" else None
        if database and database != ":memory:" and not database.startswith("file:"):
            if not Path(database).expanduser().is_file():
                raise WarehouseError(f"no warehouse at {database} (ESCALATION_DB_URL): nothing to read")
        warehouse = cls(create_engine(url, schema=schema))
        current, head = warehouse.current_revision(), migrate.head_revision()
        if current != head:
            warehouse.dispose()
            raise WarehouseError(
                f"the warehouse is at schema revision {current or 'none'}, not {head}: run `escalation db upgrade`"
            )
        return warehouse

    def init_schema(self) -> None:
        """Bring the schema to the current migration (create it when empty) and make sure the views
        and the scoring thresholds are current."""
        migrate.ensure_schema(self.engine)

    def upgrade(self, revision: str = "head") -> migrate.UpgradeReport:
        return migrate.upgrade(self.engine, revision)

    def current_revision(self) -> str | None:
        return migrate.current_revision(self.engine)

    def dispose(self) -> None:
        self.engine.dispose()

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in metadata.tables.items()
            }

    # -- analyst SQL (sql/queries, exports) ----------------------------------------------------
    def run_query(
        self, name: str, params: Mapping[str, Any] | None = None, *, today: date | None = None
    ) -> views.QueryResult:
        return views.run_query(self.engine, name, params, today=today)

    def export_rows(self, what: str, since: date, until: date) -> views.QueryResult:
        return views.export_rows(self.engine, what, since, until)
