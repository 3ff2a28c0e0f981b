"""Pipeline-run bookkeeping: the `pipeline_runs` row of a CLI cycle or an Airflow run.

A run stopped by SIGINT/SIGTERM is closed with status `interrupted`; when its work included signals
and detection, its details hold `pending` (what it was to do) until a later run completes it and
adds `completed_by` (`runs_to_complete`, `mark_completed`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.clock import now_utc
from pipeline.store.engine import insert_for
from pipeline.store.schema import article_pages, article_sources, articles, pipeline_runs

INTERRUPTED = "interrupted"


def new_run_id(trigger: str) -> str:
    """A fresh pipeline_runs key: the trigger, the UTC start second and a random suffix."""
    return f"{trigger}:{now_utc():%Y%m%dT%H%M%SZ}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunToComplete:
    """An interrupted run whose signals and detection a later run must do, and the days it changed."""

    run_id: str
    days: tuple[date, ...]


class RunStore:
    """Opening and closing pipeline runs (a part of `Warehouse`)."""

    engine: Engine

    def start_run(
        self, trigger: str, details: Mapping[str, Any] | None = None, *, run_id: str | None = None
    ) -> str:
        """Open a pipeline run; with an explicit run_id (an Airflow run) a retry reuses the same row."""
        run_id = run_id or new_run_id(trigger)
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

    def finish_run(
        self, run_id: str, status: str, counts: Mapping[str, Any], *, details: Mapping[str, Any] | None = None
    ) -> None:
        """Close a run: its feed counts as given; its new articles and sentences as stored; `details`
        merged into the row's details (a run that does not exist is left alone)."""
        values: dict[str, Any] = {k: int(v) for k, v in counts.items() if k in {"feeds_ok", "feeds_failed"}}
        values["new_articles"], values["new_sentences"] = self.run_totals(run_id)
        with self.engine.begin() as conn:
            if details:
                stored = conn.execute(
                    sa.select(pipeline_runs.c.details).where(pipeline_runs.c.run_id == run_id)
                ).scalar_one_or_none()
                values["details"] = json.dumps({**_details(stored), **details}, default=str)
            conn.execute(
                pipeline_runs.update()
                .where(pipeline_runs.c.run_id == run_id)
                .values(status=status, finished_at=now_utc(), **values)
            )

    def runs_to_complete(self) -> list[RunToComplete]:
        """The interrupted runs with pending signals and detection that no later run completed, each
        with every published day it may have changed: its pending days, its articles' and pages'
        days, and the days of every article that gained a feed while it ran (a known article seen
        in a new feed changes its day's source count)."""
        r = pipeline_runs.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(r.run_id, r.started_at, r.finished_at, r.details)
                .where(r.status == INTERRUPTED)
                .order_by(r.started_at)
            ).all()
            found = []
            for run_id, started_at, finished_at, raw in rows:
                details = _details(raw)
                pending = details.get("pending")
                if not isinstance(pending, dict) or details.get("completed_by"):
                    continue
                days = {date.fromisoformat(d) for d in pending.get("days", [])}
                days.update(_changed_days(conn, run_id, started_at, finished_at or now_utc()))
                found.append(RunToComplete(run_id, tuple(sorted(days))))
        return found

    def mark_completed(self, run_ids: Iterable[str], by: str) -> None:
        """Record that run `by` did the signals and detection these interrupted runs left."""
        with self.engine.begin() as conn:
            for run_id in run_ids:
                stored = conn.execute(
                    sa.select(pipeline_runs.c.details).where(pipeline_runs.c.run_id == run_id)
                ).scalar_one_or_none()
                conn.execute(
                    pipeline_runs.update()
                    .where(pipeline_runs.c.run_id == run_id)
                    .values(details=json.dumps({**_details(stored), "completed_by": by}, default=str))
                )

    def run_article_days(self, run_id: str) -> list[date]:
        """The published days of the articles a pipeline run stored, in order."""
        query = sa.select(articles.c.published_day).where(articles.c.run_id == run_id).distinct()
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())


def _details(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _changed_days(conn: Any, run_id: str, started_at: datetime, finished_at: datetime) -> set[date]:
    by_sources = (
        sa.select(articles.c.published_day)
        .join(article_sources, article_sources.c.article_id == articles.c.article_id)
        .where(article_sources.c.first_seen_at.between(started_at, finished_at))
    )
    by_run = sa.select(articles.c.published_day).where(articles.c.run_id == run_id)
    by_pages = (
        sa.select(articles.c.published_day)
        .join(article_pages, article_pages.c.article_id == articles.c.article_id)
        .where(article_pages.c.run_id == run_id, article_pages.c.body_source == "page")
    )
    return set(conn.execute(sa.union(by_sources, by_run, by_pages)).scalars())
