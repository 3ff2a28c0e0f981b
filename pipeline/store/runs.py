"""Pipeline-run bookkeeping: the `pipeline_runs` row of a CLI cycle or an Airflow run."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from pipeline.clock import now_utc
from pipeline.store.engine import insert_for
from pipeline.store.schema import articles, pipeline_runs


class RunStore:
    """Opening and closing pipeline runs (a part of `Warehouse`)."""

    engine: Engine

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

    def run_article_days(self, run_id: str) -> list[date]:
        """The published days of the articles a pipeline run stored, in order."""
        query = sa.select(articles.c.published_day).where(articles.c.run_id == run_id).distinct()
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())
