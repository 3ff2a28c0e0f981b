"""Time every analyst view and named query on a year of synthetic data, on SQLite and PostgreSQL.

Not a test. Generates ~1M sentences over 365 days for 200 actors (20 feeds, ~100k articles), loads
them through the schema of `escalation db upgrade`, computes daily signals with the pipeline's own
stage, then times each view as an analyst uses it (filtered on an actor, a day or a week; the small
views whole) and each named query with its defaults, best of 3 runs. Target: < 1 s each.

    .venv/bin/python bench/bench_warehouse.py --sqlite /tmp/bench.db \
        --postgresql postgresql+psycopg://postgres@127.0.0.1:5432/test [--sentences 1000000]

The PostgreSQL run uses (and drops first) the schema `escalation_bench`.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from pipeline.signals import compute_signals
from pipeline.store import Warehouse, views

END = date(2026, 10, 31)
DAYS = 365
START = END - timedelta(days=DAYS - 1)
FEEDS = 20
ACTORS = [f"A{i:03d}" for i in range(200)]
TERMS = ["missile strike", "ceasefire", "talks", "sanctions", "red line", "troops massing", "drone attack"]
PG_SCHEMA = "escalation_bench"

# How an analyst touches each view: a filter on an actor, a day or a week, or the whole small view.
VIEW_USES = {
    "actor_daily_context": "select * from actor_daily_context where actor = 'A007' and day between :week_start and :end",
    "escalation_sentences": "select * from escalation_sentences where day = :end order by score desc limit 200",
    "alert_evidence": "select * from alert_evidence where day between :month_start and :end",
    "dyad_daily": "select * from dyad_daily where day between :week_start and :end "
    "order by escalatory_sentences desc limit 50",
    "feed_health": "select * from feed_health",
    "pipeline_run_summary": "select * from pipeline_run_summary order by started_at desc limit 30",
}
QUERY_PARAMS = {
    "top_escalating_actors": {},
    "spike_drivers": {"actor": "A007"},
    "deescalation_trend": {"actor": "A007"},
    "sources_disagreeing": {},
}


def generate(sentences: int, seed: int = 7) -> dict[str, list[tuple]]:
    rng = random.Random(seed)
    weights = [1 / (rank + 1) for rank in range(len(ACTORS))]  # a few actors get most coverage
    stamp = datetime(2026, 11, 1, tzinfo=UTC)
    rows: dict[str, list[tuple]] = {k: [] for k in ("feeds", "articles", "sentences", "sentence_actors")}
    rows["feeds"] = [
        (f, f"https://feed{f}.example/rss", f"Feed {f}", stamp, stamp, stamp, 200)
        for f in range(1, FEEDS + 1)
    ]
    per_article = 10
    sentence_id = 0
    for article_id in range(1, sentences // per_article + 1):
        day = START + timedelta(days=rng.randrange(DAYS))
        published = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)
        feed = rng.randrange(1, FEEDS + 1)
        rows["articles"].append(
            (
                article_id,
                f"k{article_id}",
                feed,
                f"https://feed{feed}.example/{article_id}",
                f"Article {article_id}",
                published,
                day,
                "published",
                published,
                f"h{article_id}",
                per_article,
            )
        )
        for seq in range(per_article):
            sentence_id += 1
            score = max(-1.0, min(1.0, rng.gauss(0.05, 0.35)))
            matches = json.dumps([{"term": rng.choice(TERMS), "weight": 0.8}] if abs(score) >= 0.2 else [])
            rows["sentences"].append(
                (
                    sentence_id,
                    article_id,
                    seq,
                    f"Sentence {seq} of article {article_id}.",
                    score,
                    max(score, 0.0),
                    max(-score, 0.0),
                    matches,
                    "bench-1",
                    stamp,
                )
            )
            for actor in set(rng.choices(ACTORS, weights, k=rng.choice((0, 1, 1, 2, 3)))):
                rows["sentence_actors"].append((sentence_id, actor))
    return rows


COLUMNS = {
    "feeds": (
        "feed_id",
        "url",
        "title",
        "first_seen_at",
        "last_fetched_at",
        "last_success_at",
        "last_status",
    ),
    "articles": (
        "article_id",
        "article_key",
        "feed_id",
        "url",
        "title",
        "published_at",
        "published_day",
        "date_source",
        "fetched_at",
        "content_hash",
        "sentence_count",
    ),
    "sentences": (
        "sentence_id",
        "article_id",
        "seq",
        "text",
        "score",
        "escalation",
        "deescalation",
        "matches",
        "scorer_version",
        "scored_at",
    ),
    "sentence_actors": ("sentence_id", "actor"),
}


def load(warehouse: Warehouse, rows: dict[str, list[tuple]]) -> None:
    engine = warehouse.engine
    for table in ("feeds", "articles", "sentences", "sentence_actors"):
        columns = COLUMNS[table]
        if engine.dialect.name == "postgresql":
            raw = engine.raw_connection()
            try:
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy,
                ):
                    for row in rows[table]:
                        copy.write_row(row)
                raw.commit()
            finally:
                raw.close()
        else:
            tbl = warehouse.tables[table]
            with engine.begin() as conn:
                for start in range(0, len(rows[table]), 50_000):
                    chunk = rows[table][start : start + 50_000]
                    conn.execute(tbl.insert(), [dict(zip(columns, row, strict=True)) for row in chunk])
    with engine.begin() as conn:
        stamp = datetime(2026, 11, 1, tzinfo=UTC)
        for offset in range(DAYS):
            started = datetime.combine(START + timedelta(days=offset), datetime.min.time(), tzinfo=UTC)
            conn.execute(
                warehouse.tables["pipeline_runs"]
                .insert()
                .values(
                    run_id=f"run-{offset}",
                    trigger="airflow",
                    started_at=started,
                    finished_at=started + timedelta(seconds=120),
                    status="success",
                    feeds_ok=FEEDS,
                    feeds_failed=0,
                    new_articles=270,
                    new_sentences=2700,
                )
            )
            conn.execute(
                warehouse.tables["fetch_log"].insert(),
                [
                    {
                        "feed_id": f,
                        "fetched_at": started,
                        "ok": True,
                        "status": 200,
                        "not_modified": False,
                        "entries_seen": 14,
                        "new_articles": 14,
                        "elapsed_s": 0.4,
                    }
                    for f in range(1, FEEDS + 1)
                ],
            )
        alerts = warehouse.tables["alerts"]
        conn.execute(
            alerts.insert(),
            [
                {
                    "alert_id": i + 1,
                    "day": START + timedelta(days=(i * 7) % DAYS),
                    "actor": ACTORS[i % 200],
                    "kind": "escalation" if i % 3 else "deescalation",
                    "severity": "watch",
                    "measure": "escalation_index",
                    "value": 40.0,
                    "baseline": 5.0,
                    "spread": 8.0,
                    "surprise": 4.4,
                    "articles": 5,
                    "sources": 3,
                    "evidence": "[]",
                    "mode": "live",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(500)
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for table in ("feeds", "articles", "sentences", "alerts"):
                key = {
                    "feeds": "feed_id",
                    "articles": "article_id",
                    "sentences": "sentence_id",
                    "alerts": "alert_id",
                }[table]
                conn.exec_driver_sql(
                    f"select setval(pg_get_serial_sequence('{table}', '{key}'), (select max({key}) from {table}))"
                )
            conn.exec_driver_sql("analyze")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("analyze")


def best_of(engine: sa.Engine, run, repeats: int = 3) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        rows = run(engine)
        times.append(time.perf_counter() - started)
    return min(times), rows


def bench(url: str, label: str, rows: dict[str, list[tuple]]) -> dict[str, tuple[float, int]]:
    schema = None
    if url.startswith("postgresql"):
        admin = sa.create_engine(url)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"drop schema if exists {PG_SCHEMA} cascade")
            conn.exec_driver_sql(f"create schema {PG_SCHEMA}")
        admin.dispose()
        schema = PG_SCHEMA
    else:
        path = Path(sa.make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    warehouse = Warehouse.from_url(url, schema=schema)
    warehouse.init_schema()
    started = time.perf_counter()
    load(warehouse, rows)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    compute_signals(warehouse, START, END)
    signals = time.perf_counter() - started
    print(f"[{label}] load {loaded:.1f} s, compute_signals over {DAYS} days {signals:.1f} s", flush=True)
    bound = {"end": END, "week_start": END - timedelta(days=6), "month_start": END - timedelta(days=29)}
    results: dict[str, tuple[float, int]] = {}
    for view, sql in VIEW_USES.items():
        results[f"view {view}"] = best_of(
            warehouse.engine, lambda e, sql=sql: len(views.run_select(e, sql, bound).rows)
        )
    for name, params in QUERY_PARAMS.items():
        results[f"query {name}"] = best_of(
            warehouse.engine, lambda e, n=name, p=params: len(views.run_query(e, n, p, today=END).rows)
        )
    warehouse.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", default="/tmp/escalation_bench.db", help="SQLite file to (re)create")
    parser.add_argument("--postgresql", help="PostgreSQL URL (schema escalation_bench is recreated)")
    parser.add_argument("--sentences", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    rows = generate(args.sentences)
    print(
        f"generated {len(rows['sentences']):,} sentences, {len(rows['articles']):,} articles, "
        f"{len(rows['sentence_actors']):,} actor tags over {DAYS} days, {len(ACTORS)} actors "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    targets = {"sqlite": f"sqlite:///{args.sqlite}"}
    if args.postgresql:
        targets["postgresql"] = args.postgresql
    results = {label: bench(url, label, rows) for label, url in targets.items()}
    names = list(next(iter(results.values())))
    print(f"\n{'view / query':40}" + "".join(f"{label:>22}" for label in results))
    for name in names:
        cells = "".join(
            f"{results[label][name][0] * 1000:>14.0f} ms {results[label][name][1]:>5}r" for label in results
        )
        print(f"{name:40}{cells}")


if __name__ == "__main__":
    main()
