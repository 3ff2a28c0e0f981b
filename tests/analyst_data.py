"""One deterministic analyst data set, loaded the same way into SQLite and PostgreSQL.

45 days from 2026-09-01, three feeds (one hostile in tone, one calm, one failing at the end),
actors IRN, ISR, USA, QAT, HEZBOLLAH; IRN spikes on SPIKE_DAY, QAT's ceasefire talk rises late.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from helpers import article, fetch_record

from pipeline.alerts import detect
from pipeline.articles import ArticleRecord, SentenceRecord
from pipeline.channels import LogNotifier
from pipeline.config import DetectionParams
from pipeline.delivery import deliver
from pipeline.signals import compute_signals
from pipeline.store import Warehouse
from pipeline.store.schema import pipeline_runs

START = date(2026, 9, 1)
DAYS = 45
SPIKE_DAY = START + timedelta(days=40)
FEEDS = {
    "https://hostile.example/rss": ("Hostile Herald", 0.6),  # tone shift of its sentences
    "https://calm.example/rss": ("Calm Courier", -0.3),
    "https://flaky.example/rss": ("Flaky Feed", 0.0),
}
ACTORS = ("IRN", "ISR", "USA", "QAT", "HEZBOLLAH")


def _sentences(rng: random.Random, day: date, tone: float, n: int) -> list[tuple[float, tuple[str, ...]]]:
    out = []
    for _ in range(n):
        actors = tuple(sorted(rng.sample(ACTORS, rng.choice((1, 1, 2, 3)))))
        score = max(-1.0, min(1.0, round(rng.uniform(-0.5, 0.6) + tone, 3)))
        if day == SPIKE_DAY and "IRN" in actors:
            score = round(rng.uniform(0.7, 1.0), 3)
        if day >= START + timedelta(days=35) and actors == ("QAT",):
            score = round(-rng.uniform(0.4, 0.9), 3)
        out.append((score, actors))
    return out


def _with_text(record: ArticleRecord, rng: random.Random) -> ArticleRecord:
    terms = ("missile strike", "ceasefire", "talks", "sanctions", "red line", "mediation")
    sentences = tuple(
        SentenceRecord(
            seq=s.seq,
            text=f"{s.text} about {'/'.join(s.actors) or 'nobody'}",
            score=s.score,
            escalation=s.escalation,
            deescalation=s.deescalation,
            matches=json.dumps(
                [{"term": rng.choice(terms), "weight": 0.8}, {"term": rng.choice(terms), "weight": 0.4}]
            ),
            actors=s.actors,
        )
        for s in record.sentences
    )
    return ArticleRecord(**{**record.__dict__, "sentences": sentences})


def load(warehouse: Warehouse) -> None:
    rng = random.Random(2026)
    for offset in range(DAYS):
        day = START + timedelta(days=offset)
        for feed_no, (url, (title, tone)) in enumerate(FEEDS.items()):
            fetched_at = datetime.combine(day, time(6, feed_no), tzinfo=UTC)
            failing = url.startswith("https://flaky") and offset >= DAYS - 3
            if failing:
                warehouse.record_fetch(
                    fetch_record(
                        url, ok=False, fetched_at=fetched_at, status=503, error="HTTP 503", feed_title=title
                    ),
                    f"run-{offset}",
                )
                continue
            count = 3 if day == SPIKE_DAY else 2
            batch = [
                _with_text(article(f"{feed_no}-{offset}-{i}", day, _sentences(rng, day, tone, 4)), rng)
                for i in range(count)
            ]
            warehouse.store_feed_batch(
                fetch_record(
                    url, fetched_at=fetched_at, entries_seen=count, elapsed_s=0.5 + feed_no, feed_title=title
                ),
                batch,
                f"run-{offset}",
                "test-1",
            )
    with warehouse.engine.begin() as conn:
        for offset in range(DAYS):
            started = datetime.combine(START + timedelta(days=offset), time(6), tzinfo=UTC)
            conn.execute(
                pipeline_runs.insert().values(
                    run_id=f"run-{offset}",
                    trigger="airflow" if offset % 2 else "cli",
                    started_at=started,
                    finished_at=started + timedelta(seconds=90 + offset),
                    status="partial" if offset >= DAYS - 3 else "success",
                    feeds_ok=2 if offset >= DAYS - 3 else 3,
                    feeds_failed=1 if offset >= DAYS - 3 else 0,
                    new_articles=6,
                    new_sentences=24,
                    details=None,
                )
            )
    compute_signals(warehouse, START, START + timedelta(days=DAYS - 1))
    params = DetectionParams(min_articles=2, min_sources=2, spread_floor=4.0, count_spread_floor=2.0)
    report = detect(warehouse, START, START + timedelta(days=DAYS - 1), params, mode="backtest")
    deliver(warehouse, [a.alert_id for a in report.alerts if a.alert_id], [LogNotifier()])


def table_rows(warehouse: Warehouse, name: str) -> int:
    with warehouse.engine.connect() as conn:
        return conn.execute(sa.text(f"select count(*) from {name}")).scalar_one()
