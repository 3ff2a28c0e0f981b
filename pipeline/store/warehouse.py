"""The `Warehouse` facade: one object per process or task, behind one engine, that every other
stage receives. Its parts live next to their SQL: feeds.py (feed rows, fetch log, the feed writer),
pages.py (article pages: pending ones, the page text write),
runs.py, sentences.py, signals.py, alerts.py, incidents.py (incidents, their pages and page deliveries),
analyst.py (the reads behind pipeline.api's DataFrames); views.py and migrate.py hold the analyst SQL and the
schema's evolution."""

from __future__ import annotations

import gc
import traceback
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.store import migrate, views
from pipeline.store.alerts import AlertStore
from pipeline.store.analyst import AnalystStore
from pipeline.store.engine import CREATE_HINT, MissingWarehouseError, create_engine, shown_url
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
    def from_url(
        cls, url: str, *, schema: str | None = None, check: bool = True, create: bool = True
    ) -> Warehouse:
        """SQLite or PostgreSQL (`schema`: a PostgreSQL search_path); WarehouseError when unusable.
        Without `create`, a SQLite file that does not exist is an error instead of being made."""
        return cls(create_engine(url, schema=schema, check=check, create=create))

    @classmethod
    def open_existing(cls, url: str, *, schema: str | None = None) -> Warehouse:
        """A warehouse that exists and is at the current schema, for the commands that read or
        recompute what is stored: nothing is created or migrated (a missing SQLite file or
        directory, an empty or older database is a MissingWarehouseError naming the URL, password
        masked, and the command that sets it up)."""
        engine = create_engine(url, schema=schema, create=False)
        problem = migrate.schema_problem(engine)
        if problem is not None:
            engine.dispose()
            hint = "" if "escalation db upgrade" in problem else f"; {CREATE_HINT}"
            raise MissingWarehouseError(f"warehouse {shown_url(url)} cannot be read: {problem}{hint}")
        return cls(engine)

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

    def drop_connections(self, interrupt: BaseException) -> None:
        """After a KeyboardInterrupt: a connection cut mid-statement (or mid-rollback) may be back
        in the pool with its transaction open (PostgreSQL: a command still ACTIVE), or still held
        by the interrupted frames that the exception's traceback keeps alive (SQLite: the write lock
        held). Clear those frames' locals so their connections are returned (and rolled back), then
        start a new pool: the run can still be marked interrupted on a clean connection."""
        traceback.clear_frames(interrupt.__traceback__)
        gc.collect()
        self.engine.dispose()

    @property
    def shown_url(self) -> str:
        """The warehouse URL with its password masked, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    def data_range(self) -> tuple[date, date] | None:
        """The first and last published day of the stored articles (None when there are none)."""
        day = metadata.tables["articles"].c.published_day
        with self.engine.connect() as conn:
            first, last = conn.execute(sa.select(sa.func.min(day), sa.func.max(day))).one()
        if first is None:
            return None
        # SQLite gives the aggregate of a date column as text
        return tuple(d if isinstance(d, date) else date.fromisoformat(str(d)) for d in (first, last))  # type: ignore[return-value]

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
