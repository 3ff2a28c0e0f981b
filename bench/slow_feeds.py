"""A local HTTP server of generated feeds that answers each request after a fixed latency (for the
concurrency and CeleryExecutor benches). Loopback only; daemon threads, so a bench exits cleanly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(latency: float, feed_body: Callable[[int], bytes]) -> ThreadingHTTPServer:
    """Serve ``/…/<n>`` as ``feed_body(n)`` after ``latency`` seconds, on 127.0.0.1 (a free port)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            time.sleep(latency)
            body = feed_body(int(self.path.strip("/").split("/")[-1]))
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
