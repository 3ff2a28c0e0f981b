"""Ingest of one big local feed: the whole pipeline vs `feedparser.parse` alone on the same file.

Not a test. Generates an RSS file of N items (default 20,000, four sentences each, actors and
escalation terms in them), then, --repeat times, alternating, in separate child processes:
  1. feedparser.parse(bytes of the file);
  2. pipeline.ingest.ingest_source(file) into an empty SQLite warehouse: fetch (streamed, capped),
     parse, clean, split, score, tag actors, store; a feed this big is split and parsed and scored
     in ESCALATION_WORKERS processes (default: one per core; --workers overrides).
Prints each run, the medians, the ratio of the medians (target <= 1.5x) and the peak RSS (target
<= 400 MB) of the pipeline's whole process tree (itself plus its workers, sampled every 20 ms).
--stages adds one run timed step by step; --profile adds a cProfile of a run with no worker
processes (a profile of the parallel run would only see the parent waiting), by module.

    .venv/bin/python bench/bench_ingest.py [--items 20000] [--repeat 3] [--workers N] [--stages] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

LINES = [
    "Iran-backed militias fired rockets at a base in Syria and vowed to increase their attacks.",
    "Qatar offered to mediate talks on a ceasefire between Israel and Hamas on Monday.",
    "The United States deployed a carrier group to the eastern Mediterranean, officials said.",
    "Hezbollah warned of serious consequences if the Israeli strikes on southern Lebanon continue.",
    "Markets in Ankara closed higher on Tuesday as oil prices steadied.",
    "Russia and Ukraine agreed to a prisoner exchange brokered by the United Arab Emirates.",
    "The Houthis claimed a drone attack on a commercial ship in the Red Sea.",
]


def write_feed(path: Path, items: int) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>')
        out.write(
            "<title>Bench Wire</title><link>https://bench.example/</link><description>b</description>\n"
        )
        for i in range(items):
            body = " ".join(LINES[(i + k) % len(LINES)] for k in range(4))
            when = format_datetime(start + timedelta(minutes=7 * i))
            out.write(
                f"<item><guid>https://bench.example/{i}</guid><title>Story {i}: {escape(LINES[i % len(LINES)])}</title>"
                f"<link>https://bench.example/{i}</link><pubDate>{when}</pubDate>"
                f"<description>&lt;p&gt;{escape(body)}&lt;/p&gt;</description></item>\n"
            )
        out.write("</channel></rss>\n")


def child_feedparser(path: Path) -> dict:
    import feedparser

    data = path.read_bytes()
    started = time.perf_counter()
    parsed = feedparser.parse(data)
    return {"seconds": time.perf_counter() - started, "entries": len(parsed.entries)}


class TreeMemory:
    """Peak resident memory of this process plus its children (the worker processes), sampled."""

    def __init__(self, every_s: float = 0.02):
        import psutil

        self._me = psutil.Process()
        self._every_s = every_s
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for process in [self._me, *self._me.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:  # a worker that just exited
                    pass
            self.peak_mb = max(self.peak_mb, total / 2**20)
            self._stop.wait(self._every_s)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _context(db: Path, workers: int | None):
    from pipeline.config import load_settings
    from pipeline.ingest import build_context

    settings = load_settings().with_overrides(
        db_url=f"sqlite:///{db}", fetch={"max_bytes": 512 * 1024 * 1024}
    )
    if workers is not None:
        settings = settings.with_overrides(ingest={"workers": workers})
    return build_context(settings)  # schema and knowledge files loaded before the clock starts


def child_pipeline(path: Path, db: Path, workers: int | None) -> dict:
    from pipeline.ingest import ingest_source

    ctx = _context(db, workers)
    with TreeMemory() as memory:
        started = time.perf_counter()
        outcome = ingest_source(str(path), ctx, "bench")
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "outcome": outcome.to_dict(),
        "tree_peak_rss_mb": memory.peak_mb,
        "workers": ctx.settings.ingest.worker_processes,
    }


def child_stages(path: Path, db: Path, workers: int | None) -> dict:
    """ingest_source's steps timed one by one: the fetch, the split alone (it is repeated inside
    the next step), then process_fetch (workers parse and score the parts while this process
    writes each part's articles as it arrives, one transaction), then a store of the same
    articles into a fresh warehouse on its own, for the share the overlap hides."""
    from pipeline import ingest
    from pipeline.fetch import Validators, fetch_one
    from pipeline.parse import parse_feed, split_feed

    ctx = _context(db, workers)
    stages: dict[str, float] = {}
    started = time.perf_counter()
    result = fetch_one(str(path), Validators(None, None), ctx.settings.fetch)
    stages["fetch"] = time.perf_counter() - started
    started = time.perf_counter()
    split_feed(result.body, ctx.settings.ingest.worker_processes * 8)
    stages["split (one expat pass)"] = time.perf_counter() - started
    started = time.perf_counter()
    ingest.process_fetch(result, ctx, "bench")
    stages["process_fetch: parts parsed and scored in workers, stored as they come"] = (
        time.perf_counter() - started
    )
    parsed = parse_feed(result.body, result.source, result.fetched_at)
    articles = [ingest.article_record(e, ctx.scorer, ctx.gazetteer) for e in parsed.entries]
    alone = _context(db.with_name("store-alone.db"), workers)
    started = time.perf_counter()
    alone.warehouse.store_feed_batch(
        ingest._fetch_record(result),
        articles,
        "bench",
        ctx.scorer.version,
        seen_keys=[a.article_key for a in articles],
    )
    stages["(for reference) the same articles stored on their own"] = time.perf_counter() - started
    return {"stages": stages}


def child_profile(path: Path, db: Path) -> dict:
    from pipeline.ingest import ingest_source

    ctx = _context(db, 1)
    profiler = cProfile.Profile()
    profiler.enable()
    ingest_source(str(path), ctx, "bench")
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_module: dict[str, float] = defaultdict(float)
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_module[_module_of(filename)] += tottime
    return {"profile": sorted(by_module.items(), key=lambda kv: -kv[1])[:12]}


def _module_of(filename: str) -> str:
    for marker in ("/pipeline/", "/site-packages/"):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return ("pipeline/" if marker == "/pipeline/" else "") + tail.split("/")[0].removesuffix(".py")
    return "python stdlib/builtins" if filename.startswith(("/usr", "<", "~")) else filename


def run_child(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="ESCALATION_WORKERS for the runs")
    parser.add_argument("--stages", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        workers = None if len(rest) < 3 or rest[2] == "-" else int(rest[2])
        if kind == "feedparser":
            result = child_feedparser(Path(rest[0]))
        elif kind == "pipeline":
            result = child_pipeline(Path(rest[0]), Path(rest[1]), workers)
        elif kind == "stages":
            result = child_stages(Path(rest[0]), Path(rest[1]), workers)
        else:
            result = child_profile(Path(rest[0]), Path(rest[1]))
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    workers = "-" if args.workers is None else str(args.workers)
    alone, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "big.xml"
        write_feed(feed, args.items)
        print(f"feed: {args.items:,} items, {feed.stat().st_size / 1e6:.1f} MB")
        for i in range(args.repeat):
            alone.append(run_child("feedparser", str(feed)))
            runs.append(run_child("pipeline", str(feed), str(Path(tmp) / f"w{i}.db"), workers))
            outcome = runs[-1]["outcome"]
            print(
                f"  run {i + 1}: feedparser {alone[-1]['seconds']:6.2f} s | pipeline {runs[-1]['seconds']:6.2f} s "
                f"({runs[-1]['workers']} worker processes, {outcome['new_articles']:,} articles, "
                f"{outcome['new_sentences']:,} sentences stored), peak RSS {runs[-1]['tree_peak_rss_mb']:.0f} MB "
                f"(parent alone {runs[-1]['peak_rss_mb']:.0f} MB)"
            )
        stages = run_child("stages", str(feed), str(Path(tmp) / "s.db"), workers) if args.stages else None
        profile = run_child("profile", str(feed), str(Path(tmp) / "p.db")) if args.profile else None
    parse_median = statistics.median(r["seconds"] for r in alone)
    pipeline_median = statistics.median(r["seconds"] for r in runs)
    print(f"feedparser.parse alone : {parse_median:6.2f} s median, peak RSS {alone[0]['peak_rss_mb']:.0f} MB")
    print(
        f"pipeline ingest_source : {pipeline_median:6.2f} s median, peak RSS of the process tree "
        f"{max(r['tree_peak_rss_mb'] for r in runs):.0f} MB (target <= 400 MB)"
    )
    print(f"ratio of the medians   : {pipeline_median / parse_median:.2f}x (target <= 1.5x)")
    if stages:
        print("stages (one run):")
        for name, seconds in stages["stages"].items():
            print(f"    {seconds:7.2f} s  {name}")
    if profile:
        print("profile of a run without worker processes (tottime by module):")
        for module, seconds in profile["profile"]:
            print(f"    {seconds:7.2f} s  {module}")


if __name__ == "__main__":
    main()
