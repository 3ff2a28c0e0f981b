"""1,000 article pages from 20 local hosts, each answering after 100 ms: fetch time against what the
per-host limits allow, and peak memory.

Not a test. A child process serves synthetic article pages (text generated here, no third-party
text) from 20 loopback addresses, 127.0.0.2 ... 127.0.0.21, one threaded HTTP server each; every
answer, robots.txt included (a 404), comes after --latency seconds. This process fetches them all
with `pipeline.pages.fetch_pages` and the default limits (2 requests in flight per host, 1 s between
request starts at a host, 16 in all); the loopback network is allowed through `allowed_networks`.

"Ideal" is what the per-host limits allow: for each host, the schedule of its requests (its robots.txt
and its pages) where every start is one delay after the previous one and waits for a free slot, each
request taking exactly --latency; the slowest host's schedule is the ideal total.

With --extract, every page is also extracted (`pipeline.extract.extract_page`) in a thread as it
arrives (as the page step, pipeline/fulltext.py, does), and the extraction of the same pages alone is timed afterwards;
the target is total <= 1.3 x (ideal + extraction alone).

    .venv/bin/python bench/bench_pages.py [--pages 1000] [--hosts 20] [--latency 0.1] [--extract]
"""

from __future__ import annotations

import argparse
import multiprocessing
import queue
import random
import resource
import threading
import time
from collections import Counter
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipeline.pages import PageResult, PageSettings, fetch_pages, host_key

WORDS = (
    "ministers envoys talks border ceasefire troops convoy council statement officials villages "
    "negotiators drones harbour province sanctions observers delegation patrols capital agreement "
    "spokesman shelling refugees mediators parliament corridor monitors garrison summit coastline"
).split()
VERBS = "said reported confirmed denied warned announced rejected welcomed proposed postponed".split()


def article_html(host: int, page: int) -> bytes:
    """A synthetic news page: navigation, headline, 12 paragraphs, related links, footer."""
    rng = random.Random(host * 100_003 + page)

    def sentence() -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
        words.insert(2, rng.choice(VERBS))
        return " ".join(words).capitalize() + "."

    paragraphs = "".join(f"<p>{' '.join(sentence() for _ in range(4))}</p>\n" for _ in range(12))
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(12))
    related = "".join(f'<li><a href="/story/{rng.randint(0, 999)}">{sentence()}</a></li>' for _ in range(6))
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Story {host}-{page}</title>"
        f"<meta property='article:published_time' content='2026-11-{1 + page % 28:02d}T08:00:00Z'></head>"
        f"<body><header><nav><ul>{nav}</ul></nav></header><main><article><h1>Story {host}-{page}: "
        f"{sentence()}</h1>\n{paragraphs}</article><aside><h2>Related</h2><ul>{related}</ul></aside></main>"
        "<footer><p>Copyright 2026 Bench News. All rights reserved.</p></footer></body></html>"
    ).encode()


def serve(hosts: int, latency: float, ready: multiprocessing.connection.Connection, stop) -> None:
    """The child process: one threaded server per loopback address, until `stop` is set."""

    def handler_for(host_number: int) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                time.sleep(latency)
                if self.path == "/robots.txt":
                    status, body, kind = 404, b"no robots.txt", "text/plain"
                else:
                    status, body, kind = (
                        200,
                        article_html(host_number, int(self.path.rsplit("/", 1)[-1])),
                        "text/html",
                    )
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    servers = []
    for number in range(hosts):
        server = ThreadingHTTPServer((f"127.0.0.{2 + number}", 0), handler_for(number))
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    ready.send([server.server_address for server in servers])
    stop.wait()
    for server in servers:
        server.shutdown()
        server.server_close()


def ideal_schedule_s(requests: int, concurrency: int, delay_s: float, latency_s: float) -> float:
    """When the last of `requests` at one host ends, under its concurrency and start delay."""
    ends: list[float] = []
    start = -delay_s
    for i in range(requests):
        start = max(start + delay_s, ends[i - concurrency] if i >= concurrency else 0.0)
        ends.append(start + latency_s)
    return max(ends, default=0.0)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--extract", action="store_true", help="also extract every page (pipeline.extract)")
    args = parser.parse_args()
    extract_page = None
    if args.extract:
        from pipeline.extract import extract_page

    context = multiprocessing.get_context("spawn")
    ready_recv, ready_send = context.Pipe(duplex=False)
    stop = context.Event()
    child = context.Process(target=serve, args=(args.hosts, args.latency, ready_send, stop), daemon=True)
    child.start()
    try:
        addresses = ready_recv.recv()
        urls = [
            f"http://{addresses[i % args.hosts][0]}:{addresses[i % args.hosts][1]}/story/{i}"
            for i in range(args.pages)
        ]
        settings = replace(PageSettings(), allowed_networks=("127.0.0.0/8",))
        per_host = Counter(host_key(url) for url in urls)
        assert len(per_host) == args.hosts, "every address:port must be a host of its own"
        ideal = max(
            ideal_schedule_s(n + 1, settings.per_host_concurrency, settings.per_host_delay_s, args.latency)
            for n in per_host.values()
        )
        ideal_pages_only = max(
            ideal_schedule_s(n, settings.per_host_concurrency, settings.per_host_delay_s, args.latency)
            for n in per_host.values()
        )
        rss_before = peak_rss_mb()

        extracted: list[object] = []
        work: queue.Queue[PageResult | None] = queue.Queue()

        def extractor() -> None:
            while (result := work.get()) is not None:
                extracted.append(
                    extract_page(result.body, result.final_url, content_type=result.content_type)
                )

        worker = threading.Thread(target=extractor, daemon=True) if extract_page else None
        if worker:
            worker.start()
        started = time.perf_counter()
        results = fetch_pages(urls, settings, on_result=work.put if worker else None)
        fetched = time.perf_counter() - started
        if worker:
            work.put(None)
            worker.join()
        total = time.perf_counter() - started
    finally:
        stop.set()
        child.join(timeout=10)
        if child.is_alive():
            child.terminate()

    errors = Counter(result.error for result in results if not result.ok)
    ok = sum(result.ok for result in results)
    size = sum(len(result.body or b"") for result in results)
    print(
        f"{args.pages} pages, {args.hosts} hosts x {max(per_host.values())} pages, latency {args.latency:g}s"
    )
    print(
        f"limits: {settings.per_host_concurrency} per host, {settings.per_host_delay_s:g}s between starts, "
        f"{settings.concurrency} in all"
    )
    print(f"fetched: {ok} ok, errors {dict(errors) or 'none'}, {size / 1e6:.1f} MB of HTML")
    print(f"ideal (robots.txt + pages per host): {ideal:.2f}s  (pages only: {ideal_pages_only:.2f}s)")
    print(f"fetch wall time: {fetched:.2f}s = {fetched / ideal:.3f} x ideal")
    if extract_page is not None:
        ok_bodies = [result for result in results if result.ok]
        alone_start = time.perf_counter()
        for result in ok_bodies:
            extract_page(result.body, result.final_url, content_type=result.content_type)
        alone = time.perf_counter() - alone_start
        good = sum(page.ok for page in extracted)
        print(f"extraction alone: {alone:.2f}s for {len(ok_bodies)} pages ({good} with text while fetching)")
        print(
            f"fetch + extraction (extraction in a thread as pages arrive): {total:.2f}s = "
            f"{total / (ideal + alone):.3f} x (ideal + extraction alone); target <= 1.3"
        )
    print(f"peak RSS: {peak_rss_mb():.0f} MB (before fetching: {rss_before:.0f} MB); target <= 400 MB")


if __name__ == "__main__":
    main()
