"""Ingest of one big local feed: the whole pipeline vs `feedparser.parse` alone on the same file.

Not a test. Generates an RSS file of N items (default 20,000, four sentences each, actors and
escalation terms in them), then in separate child processes (so each peak RSS is its own):
  1. feedparser.parse(bytes of the file);
  2. pipeline.ingest.ingest_source(file) into an empty SQLite warehouse: fetch (streamed, capped),
     parse, clean, split, score, tag actors, store;
and prints wall time, the ratio (target <= 1.5x), peak RSS (target <= 400 MB) and, with
--profile, where the pipeline's time goes (cProfile, by stage module).

    .venv/bin/python bench/bench_ingest.py [--items 20000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import resource
import subprocess
import sys
import tempfile
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


def child_pipeline(path: Path, db: Path, profile: bool) -> dict:
    from pipeline.config import load_settings
    from pipeline.ingest import build_context, ingest_source

    settings = load_settings().with_overrides(db_url=f"sqlite:///{db}", fetch_max_bytes=512 * 1024 * 1024)
    ctx = build_context(settings)  # schema and knowledge files loaded before the clock starts
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    outcome = ingest_source(str(path), ctx, "bench")
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "outcome": outcome.to_dict()}
    if profiler:
        stats = pstats.Stats(profiler)
        by_module: dict[str, float] = defaultdict(float)
        for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            by_module[_module_of(filename)] += tottime
        result["profile"] = sorted(by_module.items(), key=lambda kv: -kv[1])[:12]
    return result


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
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        if kind == "feedparser":
            result = child_feedparser(Path(rest[0]))
        else:
            result = child_pipeline(Path(rest[0]), Path(rest[1]), rest[2] == "1")
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        feed = Path(tmp) / "big.xml"
        write_feed(feed, args.items)
        size_mb = feed.stat().st_size / 1e6
        alone = run_child("feedparser", str(feed))
        pipeline = run_child("pipeline", str(feed), str(Path(tmp) / "w.db"), "1" if args.profile else "0")
    outcome = pipeline["outcome"]
    print(f"feed: {args.items:,} items, {size_mb:.1f} MB")
    print(f"feedparser.parse alone : {alone['seconds']:6.2f} s, peak RSS {alone['peak_rss_mb']:.0f} MB")
    print(
        f"pipeline ingest_source : {pipeline['seconds']:6.2f} s, peak RSS {pipeline['peak_rss_mb']:.0f} MB "
        f"({outcome['new_articles']:,} articles, {outcome['new_sentences']:,} sentences stored)"
    )
    print(f"ratio                  : {pipeline['seconds'] / alone['seconds']:.2f}x (target <= 1.5x)")
    for module, seconds in pipeline.get("profile", []):
        print(f"    {seconds:7.2f} s  {module}")


if __name__ == "__main__":
    main()
