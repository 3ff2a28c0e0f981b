"""escalation_ingest on CeleryExecutor: 200 local feeds that each answer after 1 s, 1/2/4 workers.

Not a test. For each worker count, `deploy/celery-local` starts a fresh stack (its own PostgreSQL
metadata and warehouse databases, its own Redis database; DAGs paused at creation), the bench
unpauses escalation_ingest through the REST API (the scheduler then creates the latest interval's
run), waits for the run, reads the task instance records from the metadata DB, and stops and purges
the stack. Feeds are served by a threaded HTTP server on 127.0.0.1 (2 items each, --latency s).

Figures per configuration:
- run wall time: the dag run's start to end (list_feeds, the mapped ingest_feed tasks, finish_run);
- mapped phase: first ingest_feed start to last ingest_feed end, and the speed-up against 1 worker;
- task time per feed: median ingest_feed duration as recorded (fetch + parse/score/store + the
  task runner's own start-up inside the worker);
- idle slot time per mapped task: (mapped phase x usable slots - sum of ingest_feed durations) / feeds,
  the time a task slot waited for the scheduler and Celery to hand it the next task (usable slots =
  min(workers x concurrency, the DAG's max_active_tis_per_dag 8, the escalation_fetch pool 8)).

    .venv/bin/python bench/bench_celery.py [--feeds 200] [--latency 1.0] [--workers 1 2 4]
        [--concurrency 2] [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import slow_feeds  # bench/ is on the path when a bench script runs
import sqlalchemy as sa

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "deploy" / "celery-local"
DAG_CAP = 8  # escalation_ingest's max_active_tis_per_dag and the escalation_fetch pool's slots


def feed_body(number: int) -> bytes:
    start = datetime(2026, 11, 20, tzinfo=UTC)
    entries = "".join(
        f"<item><guid>https://celery-bench{number}.example/{i}</guid><title>Report {number}-{i}</title>"
        f"<link>https://celery-bench{number}.example/{i}</link>"
        f"<pubDate>{format_datetime(start + timedelta(hours=number % 48 + i))}</pubDate>"
        "<description>Border guards exchanged fire overnight. Envoys met to calm the dispute.</description></item>"
        for i in range(2)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Celery bench {number}</title>'
        f"<link>https://celery-bench{number}.example/</link><description>b</description>{entries}</channel></rss>"
    ).encode()


def serve(latency: float) -> ThreadingHTTPServer:
    return slow_feeds.serve(latency, feed_body)


def query(url: str, sql: str, **params) -> list[tuple]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def api_token(base: str, password: str) -> str:
    request = urllib.request.Request(
        f"{base}/auth/token",
        data=json.dumps({"username": "admin", "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.load(resp)["access_token"]


def unpause(base: str, token: str, dag_id: str) -> None:
    request = urllib.request.Request(
        f"{base}/api/v2/dags/{dag_id}",
        data=json.dumps({"is_paused": False}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="PATCH",
    )
    with urllib.request.urlopen(request, timeout=60) as resp:
        assert resp.status == 200


def wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(2)
    return value


def one_configuration(workers: int, args: argparse.Namespace, feeds_file: Path, root: Path) -> dict:
    state_dir = root / f"stack-{workers}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "ESCALATION_"))}
    # Feeds only: the items' links lead nowhere, and the page step is measured by bench_pages.py.
    env |= {"ESCALATION_FEEDS_FILE": str(feeds_file), "ESCALATION_WORKERS": "1", "ESCALATION_ARTICLE_FETCH": "0"}
    started = time.monotonic()
    start = subprocess.run(
        [sys.executable, str(SCRIPT), "start", "--state-dir", str(state_dir), "--postgres", args.postgres,
         "--workers", str(workers), "--concurrency", str(args.concurrency), "--no-flower", "--timeout", "900",
         "--airflow-config", "core__dags_are_paused_at_creation=true", "--wait-dag", "escalation_ingest"],
        env=env, capture_output=True, text=True,
    )
    if start.returncode != 0:
        raise SystemExit(f"bench: start failed: {start.stderr.strip()}")
    up_s = time.monotonic() - started
    try:
        state = json.loads((state_dir / "state.json").read_text())
        cfg = state["config"]
        metadata = cfg["metadata_url"]
        base = f"http://127.0.0.1:{cfg['api_port']}"
        password = json.loads((state_dir / "auth" / "passwords.json").read_text())["admin"]
        unpause(base, api_token(base, password), "escalation_ingest")
        done = wait(
            lambda: query(metadata, "select run_id, state, start_date, end_date from dag_run"
                                    " where dag_id = 'escalation_ingest' and state in ('success', 'failed')"),
            args.timeout, "the escalation_ingest run",
        )[0]
        run_id, run_state, run_start, run_end = done
        tis = query(
            metadata,
            "select start_date, end_date, state, hostname from task_instance where dag_id = 'escalation_ingest'"
            " and run_id = :r and task_id = 'ingest_feed'",
            r=run_id,
        )
        articles = query(cfg["warehouse_url"], "select count(*) from articles")[0][0]
    finally:
        subprocess.run([sys.executable, str(SCRIPT), "stop", "--state-dir", str(state_dir), "--purge", "-q"],
                       capture_output=True, text=True, timeout=600)
    durations = [(end - start).total_seconds() for start, end, _, _ in tis]
    phase = (max(t[1] for t in tis) - min(t[0] for t in tis)).total_seconds()
    slots = min(workers * args.concurrency, DAG_CAP)
    return {
        "workers": workers,
        "concurrency": args.concurrency,
        "usable_slots": slots,
        "feeds": len(tis),
        "ok": sum(1 for t in tis if t[2] == "success"),
        "run_state": run_state,
        "articles": articles,
        "hosts": sorted({t[3] for t in tis}),
        "stack_up_s": round(up_s, 1),
        "run_wall_s": round((run_end - run_start).total_seconds(), 1),
        "mapped_phase_s": round(phase, 1),
        "median_task_s": round(statistics.median(durations), 2),
        "idle_slot_s_per_task": round((phase * slots - sum(durations)) / len(tis), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per worker")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for one run")
    args = parser.parse_args()

    server = serve(args.latency)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-celery-") as tmp:
        root = Path(tmp)
        feeds_file = root / "feeds.yaml"
        feeds_file.write_text(
            "version: 1\nfeeds:\n"
            + "".join(f"  - {{name: f{i}, url: 'http://127.0.0.1:{server.server_port}/{i}'}}\n" for i in range(args.feeds))
        )
        for workers in args.workers:
            result = one_configuration(workers, args, feeds_file, root)
            results.append(result)
            print(json.dumps(result), flush=True)
    server.shutdown()
    base = next((r for r in results if r["workers"] == 1), results[0])
    print(f"\n{args.feeds} feeds, {args.latency:.1f} s each, {os.cpu_count()} cores, concurrency {args.concurrency}/worker")
    print("workers  slots  run wall s  mapped phase s  speed-up  median task s  idle slot s/task  ok")
    for r in results:
        print(
            f"{r['workers']:>7}  {r['usable_slots']:>5}  {r['run_wall_s']:>10.1f}  {r['mapped_phase_s']:>14.1f}"
            f"  {base['mapped_phase_s'] / r['mapped_phase_s']:>7.2f}x  {r['median_task_s']:>13.2f}"
            f"  {r['idle_slot_s_per_task']:>16.2f}  {r['ok']}/{r['feeds']}"
        )


if __name__ == "__main__":
    main()
