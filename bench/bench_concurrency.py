"""100 feeds served locally, each answering after 1 s: wall time of one ingest of all of them.

Not a test. A threaded local HTTP server (loopback) delays every response by --latency seconds and
serves a small RSS feed per path; `pipeline.ingest.ingest_sources` fetches them concurrently
(ESCALATION_FETCH_CONCURRENCY, default 16) and stores them in an empty SQLite warehouse.
Target: <= 10 s for 100 feeds at 1 s latency.

    .venv/bin/python bench/bench_concurrency.py [--feeds 100] [--latency 1.0] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import slow_feeds  # bench/ is on the path when a bench script runs

from pipeline.config import load_settings
from pipeline.ingest import build_context, ingest_sources


def feed_body(number: int, items: int = 20) -> bytes:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    entries = "".join(
        f"<item><guid>https://bench{number}.example/{i}</guid><title>Story {number}-{i}</title>"
        f"<link>https://bench{number}.example/{i}</link><pubDate>{format_datetime(start + timedelta(hours=i))}</pubDate>"
        "<description>Militias fired rockets at the base. Qatar offered to mediate talks.</description></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench {number}</title>'
        f"<link>https://bench{number}.example/</link><description>b</description>{entries}</channel></rss>"
    ).encode()


def serve(latency: float) -> ThreadingHTTPServer:
    return slow_feeds.serve(latency, feed_body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--concurrency", type=int, default=None, help="default: the setting (16)")
    args = parser.parse_args()
    server = serve(args.latency)
    port = server.server_address[1]
    sources = [f"http://127.0.0.1:{port}/feed/{n}" for n in range(args.feeds)]
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings().with_overrides(db_url=f"sqlite:///{Path(tmp) / 'w.db'}")
        if args.concurrency:
            settings = settings.with_overrides(fetch={"concurrency": args.concurrency})
        ctx = build_context(settings)
        started = time.perf_counter()
        outcomes = ingest_sources(sources, ctx, "bench")
        wall = time.perf_counter() - started
    server.shutdown()
    ok = sum(o.ok for o in outcomes)
    articles = sum(o.new_articles for o in outcomes)
    print(
        f"{args.feeds} feeds at {args.latency:.1f} s latency, concurrency {settings.fetch.concurrency}: "
        f"{wall:.2f} s wall ({ok} ok, {articles} articles stored); target <= 10 s"
    )


if __name__ == "__main__":
    main()
