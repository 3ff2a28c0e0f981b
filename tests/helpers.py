"""Builders shared by warehouse, signals and alert tests (records as the orchestrator makes them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time
from pathlib import Path

from pipeline.articles import ArticleRecord, SentenceRecord
from pipeline.store import FetchRecord

REPO = Path(__file__).resolve().parent.parent


def schema_url(url: str, schema: str | None) -> str:
    """The warehouse URL that selects a test's own PostgreSQL schema, as a user's URL would (the URL as it is
    without one)."""
    return f"{url}?options=-csearch_path%3D{schema}" if schema else url


def escalation(
    *args: str,
    db_url: str | None = None,
    stdin: str | None = None,
    env: dict | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """Run `escalation ARGS` as a new process from the checkout, with no ESCALATION_* setting of the
    test run leaking in (only db_url and env)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ESCALATION_")}
    full_env["PYTHONPATH"] = str(REPO)
    if db_url:
        full_env["ESCALATION_DB_URL"] = db_url
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=REPO,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def fetch_record(url: str = "https://feeds.example/rss", ok: bool = True, **changes) -> FetchRecord:
    values = {
        "feed_url": url,
        "fetched_at": datetime(2026, 11, 2, 12, tzinfo=UTC),
        "ok": ok,
        "status": 200 if ok else 500,
    }
    values.update(changes)
    return FetchRecord(**values)


def article(
    key: str, day: date, sentences: list[tuple[float, tuple[str, ...]]], url: str | None = None
) -> ArticleRecord:
    """An article published at noon UTC on `day`, with (score, actors) per sentence."""
    records = tuple(
        SentenceRecord(
            seq=i,
            text=f"sentence {i} of {key}",
            score=score,
            escalation=max(score, 0.0),
            deescalation=max(-score, 0.0),
            matches=json.dumps([{"term": "attack", "effective_weight": score}] if score else []),
            actors=actors,
        )
        for i, (score, actors) in enumerate(sentences)
    )
    return ArticleRecord(
        article_key=key,
        guid=None,
        url=url or f"https://news.example/{key}",
        title=f"title {key}",
        published_at=datetime.combine(day, time(12), tzinfo=UTC),
        date_source="published",
        content_hash=key,
        sentences=records,
    )


# Alert tests build series for a spread floor of 2 (the production defaults are wider, tuned in
# bench/bench_detectors.py): pinning the floors keeps these tests about mechanics, not tuning.
TEST_DETECTION = {
    "spread_floor": 2.0,
    "count_spread_floor": 2.0,
    "notify_min_severity": "watch",
    "ranking": "index",  # the mechanics tests build index series; tests/unit/test_ranking.py has the mass ranking
}


def params_with_test_floors(**overrides):
    from pipeline.config import DetectionParams

    return DetectionParams(**{**TEST_DETECTION, **overrides})


def detect_with_test_floors(warehouse, since, until, params=None, **kwargs):
    from pipeline.alerts import detect

    return detect(warehouse, since, until, params or params_with_test_floors(), **kwargs)
