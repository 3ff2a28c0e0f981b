"""Hostile feeds and network faults, against real local servers, through the real fetch/parse/ingest path.

Two servers: pytest-httpserver (werkzeug) for every fault expressible as an HTTP response, and
`RawFaultServer`, a threaded raw-socket server for what werkzeug cannot do (reset connections,
never answering, dripping bytes, endless bodies). Timeouts are small so the file runs in seconds.

Each protection has a test that fails without it; the docstrings say which protection.
"""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import threading
import time
import tracemalloc
import zlib
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug import Response

import pipeline.fetch as fetch_module
from pipeline.config import FetchSettings, Settings, load_settings
from pipeline.fetch import address_refusal, fetch_one
from pipeline.ingest import build_context, run_cycle

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "feeds"
FAST = FetchSettings(timeout_s=0.5, deadline_s=1.5, max_bytes=256_000, retries=0, backoff_s=0.01)
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def rss(items: str, title: str = "Fault Wire", encoding: str = "UTF-8", prolog: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>{prolog}<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://faults.example/</link>{items}</channel></rss>"
    )


def item(
    guid: str | None,
    title: str | None,
    body: str | None = None,
    link: str | None = None,
    date: datetime | str | None = None,
) -> str:
    parts = ["<item>"]
    if title is not None:
        parts.append(f"<title>{title}</title>")
    if guid is not None:
        parts.append(f"<guid>{guid}</guid>")
    if link is not None:
        parts.append(f"<link>{link}</link>")
    if date is not None:
        parts.append(
            f"<pubDate>{date if isinstance(date, str) else format_datetime(date, usegmt=True)}</pubDate>"
        )
    if body is not None:
        parts.append(f"<description>{body}</description>")
    parts.append("</item>")
    return "".join(parts)


GOOD_FEED = rss(
    item("good-1", "Iran warned of retaliation after the strike", "Tehran threatened to respond.")
    + item("good-2", "Talks on a ceasefire resume in Doha", "Mediators met both delegations.")
)


# -- the raw-socket fault server ----------------------------------------------------------------------
class RawFaultServer:
    """Threaded raw-socket HTTP server for faults werkzeug cannot produce; one thread per connection."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.sent: Counter[str] = Counter()
        self.requests: list[str] = []
        self.redirect_target = ""
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.stop.set()
        self.sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                path = data.split(b" ", 2)[1].decode()
                self.requests.append(path)
                getattr(self, "_" + path.strip("/").replace("-", "_"))(conn)
            except OSError:
                pass  # the client went away: that is what most of these faults provoke

    def _reset(self, conn: socket.socket) -> None:
        # SO_LINGER 0: close() sends a TCP RST instead of a FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _reset_mid_body(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 5000\r\n\r\n")
        conn.sendall(GOOD_FEED.encode()[:100])
        time.sleep(0.05)
        self._reset(conn)

    def _hang(self, conn: socket.socket) -> None:
        self.stop.wait(10)  # read the request, never answer

    def _drip(self, conn: socket.socket) -> None:
        # One byte every 50 ms: each read succeeds long before a per-read timeout would fire.
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 100000\r\n\r\n"
        )
        while not self.stop.wait(0.05):
            conn.sendall(b" ")
            self.sent["drip"] += 1

    def _endless(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nConnection: close\r\n\r\n")
        chunk = b"<" * 65536
        while not self.stop.is_set():
            conn.sendall(chunk)
            self.sent["endless"] += len(chunk)

    def _long_reason(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 404 " + b"A" * 20_000 + b"\r\nContent-Length: 0\r\n\r\n")

    def _huge_declared(self, conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")
        self.stop.wait(10)

    def _gzip_of_nothing(self, conn: socket.socket) -> None:
        # A valid gzip stream of empty deflate blocks, forever: it decodes to zero bytes.
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nConnection: close\r\n\r\n")
        compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        conn.sendall(compressor.compress(b"") + compressor.flush(zlib.Z_FULL_FLUSH))
        empty_blocks = b"\x00\x00\x00\xff\xff" * 10_000  # stored blocks of length 0
        while not self.stop.is_set():
            conn.sendall(empty_blocks)

    def _redirect_endless(self, conn: socket.socket) -> None:
        # A redirect whose body never ends: following it must not read that body.
        location = self.redirect_target.encode()
        conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nConnection: close\r\n\r\n")
        chunk = b"x" * 65536
        while not self.stop.is_set():
            conn.sendall(chunk)
            self.sent["redirect-endless"] += len(chunk)


@pytest.fixture(scope="module")
def raw_server():
    server = RawFaultServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """64 MiB of zeros as a ~65 KB gzip body."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    return b"".join([*(compressor.compress(block) for _ in range(64)), compressor.flush()])


# -- fetch: HTTP status, retries, Retry-After ------------------------------------------------------
def test_retry_after_is_honoured(httpserver):
    """Retry-After (1 s) is waited, not the 10 ms backoff."""
    httpserver.expect_ordered_request("/busy").respond_with_data(
        "busy", status=503, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request("/busy").respond_with_data(GOOD_FEED)
    started = time.monotonic()
    result = fetch_one(httpserver.url_for("/busy"), None, replace(FAST, retries=1))
    assert result.ok and result.attempts == 2
    assert time.monotonic() - started >= 0.95


def test_long_retry_after_gives_up_at_once(httpserver):
    """A server asking for an hour is not retried (nor waited for) within the run."""
    httpserver.expect_request("/later").respond_with_data("busy", status=503, headers={"Retry-After": "3600"})
    started = time.monotonic()
    result = fetch_one(httpserver.url_for("/later"), None, replace(FAST, retries=2))
    assert not result.ok and result.attempts == 1 and len(httpserver.log) == 1
    assert "503" in result.error and "Retry-After 3600s" in result.error
    assert time.monotonic() - started < 2


def test_429_is_retried(httpserver):
    httpserver.expect_ordered_request("/limited").respond_with_data(
        "", status=429, headers={"Retry-After": "0"}
    )
    httpserver.expect_ordered_request("/limited").respond_with_data(GOOD_FEED)
    result = fetch_one(httpserver.url_for("/limited"), None, replace(FAST, retries=1))
    assert result.ok and result.attempts == 2


def test_error_body_is_not_read(httpserver):
    """A 404 is final and its body is irrelevant: an endless one is not read."""
    httpserver.expect_request("/gone").respond_with_response(
        Response((b"x" * 65536 for _ in range(100_000)), status=404)
    )
    started = time.monotonic()
    result = fetch_one(httpserver.url_for("/gone"), None, FAST)
    assert not result.ok and "404" in result.error and time.monotonic() - started < 1


# -- fetch: connections that misbehave ---------------------------------------------------------------
def test_connection_reset(raw_server):
    result = fetch_one(raw_server.url("/reset"), None, FAST)
    assert not result.ok and ("reset" in result.error or "closed the connection" in result.error)
    mid = fetch_one(raw_server.url("/reset-mid-body"), None, FAST)
    assert not mid.ok and mid.body is None
    assert "reset" in mid.error or "closed the connection" in mid.error


def test_server_that_never_answers_times_out(raw_server):
    started = time.monotonic()
    result = fetch_one(raw_server.url("/hang"), None, FAST)
    assert not result.ok and "timed out after 0.5s" in result.error
    assert time.monotonic() - started < 1.5


@pytest.mark.timeout(20)
def test_slow_drip_hits_the_overall_deadline(raw_server):
    """Overall deadline: bytes every 50 ms never trip the 0.5 s read timeout, the 1.5 s deadline does."""
    started = time.monotonic()
    result = fetch_one(raw_server.url("/drip"), None, FAST)
    elapsed = time.monotonic() - started
    assert not result.ok and "no complete response within 1.5s" in result.error
    assert 1.4 <= elapsed < 3


def test_default_deadline_is_a_multiple_of_the_timeout():
    assert FetchSettings(timeout_s=20).attempt_deadline_s == 60
    assert FetchSettings(timeout_s=20, deadline_s=45).attempt_deadline_s == 45


# -- fetch: size caps ---------------------------------------------------------------------------------
def test_endless_body_is_cut_off_while_streaming(raw_server):
    """Streaming cap: an endless body stops at max_bytes, long before a deadline or memory runs out."""
    started = time.monotonic()
    result = fetch_one(raw_server.url("/endless"), None, replace(FAST, deadline_s=10))
    assert not result.ok and "larger than 256000 bytes" in result.error and result.body is None
    assert time.monotonic() - started < 2


def test_declared_oversize_is_refused_before_reading(raw_server):
    """Content-Length above the cap is refused at once (the server here would never send the body)."""
    started = time.monotonic()
    result = fetch_one(raw_server.url("/huge-declared"), None, replace(FAST, deadline_s=10))
    assert not result.ok and "larger than" in result.error
    assert time.monotonic() - started < 0.5


def test_gzip_bomb_is_capped_on_decoded_bytes_in_bounded_memory(httpserver, gzip_bomb):
    """Decoded-size cap: ~65 KB on the wire (under the cap), 64 MiB decoded; decoding stops at the cap,
    and memory stays near the cap (httpx's own decoder inflates a whole network chunk, ~64 MiB here)."""
    assert len(gzip_bomb) < FAST.max_bytes
    httpserver.expect_request("/bomb").respond_with_data(
        gzip_bomb, headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )
    tracemalloc.start()
    try:
        result = fetch_one(httpserver.url_for("/bomb"), None, FAST)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not result.ok and "larger than 256000 bytes" in result.error
    assert peak < 16 * 1024 * 1024


def test_compressed_stream_that_inflates_to_nothing_is_capped_on_the_wire(raw_server):
    """Raw-bytes cap: the decoded cap never fires on a stream that decodes to nothing."""
    started = time.monotonic()
    result = fetch_one(raw_server.url("/gzip-of-nothing"), None, replace(FAST, deadline_s=10))
    assert not result.ok and "larger than 256000 bytes" in result.error
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "encoding, encode",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda b: zlib.compress(b, wbits=-zlib.MAX_WBITS)),  # raw, as many servers send
        ("identity", lambda b: b),
    ],
)
def test_compressed_feeds_are_decoded(httpserver, encoding, encode):
    httpserver.expect_request("/z").respond_with_data(
        encode(GOOD_FEED.encode()), headers={"Content-Encoding": encoding}
    )
    result = fetch_one(httpserver.url_for("/z"), None, FAST)
    assert result.ok and result.body == GOOD_FEED.encode()


def test_two_gzip_members_and_bad_encodings(httpserver):
    body = GOOD_FEED.encode()
    httpserver.expect_request("/members").respond_with_data(
        gzip.compress(body[:50]) + gzip.compress(body[50:]), headers={"Content-Encoding": "gzip"}
    )
    httpserver.expect_request("/br").respond_with_data(b"\x0b\x02\x80", headers={"Content-Encoding": "br"})
    httpserver.expect_request("/corrupt").respond_with_data(
        b"\x1f\x8b\x08garbage", headers={"Content-Encoding": "gzip"}
    )
    assert fetch_one(httpserver.url_for("/members"), None, FAST).body == body
    br = fetch_one(httpserver.url_for("/br"), None, FAST)
    assert not br.ok and "unsupported Content-Encoding 'br'" in br.error
    corrupt = fetch_one(httpserver.url_for("/corrupt"), None, FAST)
    assert not corrupt.ok and "corrupt gzip body" in corrupt.error and corrupt.attempts == 1


# -- fetch: redirects ---------------------------------------------------------------------------------
def test_redirect_body_is_never_read(raw_server, httpserver):
    """Manual redirects: a 302 with an endless body is followed without reading that body."""
    httpserver.expect_request("/target").respond_with_data(GOOD_FEED)
    raw_server.redirect_target = httpserver.url_for("/target")
    started = time.monotonic()
    result = fetch_one(raw_server.url("/redirect-endless"), None, replace(FAST, deadline_s=10))
    assert result.ok and result.body == GOOD_FEED.encode()
    assert result.final_url == httpserver.url_for("/target")
    assert time.monotonic() - started < 1


def test_redirect_limits_and_schemes(httpserver):
    for hop in range(5):
        httpserver.expect_request(f"/hop{hop}").respond_with_data(
            "", status=302, headers={"Location": f"/hop{hop + 1}"}
        )
    httpserver.expect_request("/hop5").respond_with_data(GOOD_FEED)
    httpserver.expect_request("/loop").respond_with_data("", status=301, headers={"Location": "/loop"})
    httpserver.expect_request("/to-file").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"}
    )
    httpserver.expect_request("/to-ftp").respond_with_data(
        "", status=307, headers={"Location": "ftp://example.org/x"}
    )
    assert fetch_one(httpserver.url_for("/hop0"), None, FAST).ok  # five redirects are fine
    loop = fetch_one(httpserver.url_for("/loop"), None, FAST)
    assert not loop.ok and loop.error == "more than 5 redirects" and loop.attempts == 1
    for path, scheme in (("/to-file", "file"), ("/to-ftp", "ftp")):
        result = fetch_one(httpserver.url_for(path), None, FAST)
        assert not result.ok
        assert f"redirected to an unsupported URL scheme '{scheme}'" in result.error


# -- fetch: SSRF ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address, refused",
    [
        ("169.254.169.254", "cloud metadata"),
        ("169.254.170.2", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata"),  # NAT64 form of 169.254.169.254
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("127.0.0.1", None),  # loopback stays allowed (tests and local setups serve feeds there)
        ("::1", None),
        ("10.1.2.3", None),
        ("192.168.1.10", None),
        ("93.184.215.14", None),
    ],
)
def test_address_policy(address, refused):
    reason = address_refusal(address)
    assert (reason is None) if refused is None else (refused in reason)
    assert address_refusal(address, allow_link_local=True) is None


@pytest.mark.parametrize(
    "url",
    [
        METADATA_URL,
        "http://[fe80::1]/feed.xml",
        "http://[::ffff:169.254.169.254]/",
        "https://169.254.170.2/v2",
    ],
)
def test_metadata_and_link_local_urls_are_refused_without_a_request(url):
    started = time.monotonic()
    result = fetch_one(url, None, replace(FAST, retries=2))
    assert not result.ok and result.error.startswith("refused") and "ALLOW_LINK_LOCAL" in result.error
    assert result.attempts == 1 and time.monotonic() - started < 0.5


def test_redirect_to_metadata_is_refused(httpserver):
    """Every redirect hop is checked, not only the configured URL."""
    httpserver.expect_request("/innocent").respond_with_data(
        "", status=302, headers={"Location": METADATA_URL}
    )
    result = fetch_one(httpserver.url_for("/innocent"), None, FAST)
    assert not result.ok and "169.254.169.254 is a cloud metadata address" in result.error


def test_dns_rebinding_is_caught_at_connect(httpserver, monkeypatch):
    """Connect-time guard: the name passes the hop check (127.0.0.1), then resolves to the metadata
    address when the connection is made; the connection itself is refused."""
    httpserver.expect_request("/feed").respond_with_data(GOOD_FEED)
    real = fetch_module._resolve
    answers = iter([["127.0.0.1"], ["169.254.169.254"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers) if host == "rebind.test" else await real(host, port)

    monkeypatch.setattr(fetch_module, "_resolve", rebinding)
    result = fetch_one(f"http://rebind.test:{httpserver.port}/feed", None, FAST)
    assert not result.ok
    assert "refused to fetch from rebind.test: 169.254.169.254 is a cloud metadata address" in result.error
    assert len(httpserver.log) == 0


def test_guard_connects_to_the_address_it_checked(httpserver, monkeypatch):
    """The connection goes to the vetted IP, not to a second, unchecked lookup of the name."""
    httpserver.expect_request("/feed").respond_with_data(GOOD_FEED)
    real = fetch_module._resolve

    async def alias(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "alias.test" else await real(host, port)

    monkeypatch.setattr(fetch_module, "_resolve", alias)
    result = fetch_one(f"http://alias.test:{httpserver.port}/feed", None, FAST)
    assert result.ok and result.body == GOOD_FEED.encode()
    assert httpserver.log[0][0].headers["Host"] == f"alias.test:{httpserver.port}"


def _as_proxy(monkeypatch, httpserver) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{httpserver.port}")
    httpserver.expect_request("/latest/meta-data/iam/security-credentials/").respond_with_data(GOOD_FEED)


def test_metadata_through_a_proxy_is_refused_unless_allowed(httpserver, monkeypatch):
    """Hop check: behind an HTTP proxy the connect-time guard only sees the proxy, so the URL check is
    what refuses the metadata address; the setting lets it through (the 'proxy' here answers)."""
    _as_proxy(monkeypatch, httpserver)
    refused = fetch_one(METADATA_URL, None, FAST)
    assert not refused.ok and "cloud metadata address" in refused.error
    assert len(httpserver.log) == 0
    allowed = fetch_one(METADATA_URL, None, replace(FAST, allow_link_local=True))
    assert allowed.ok and allowed.body == GOOD_FEED.encode()


def _self_signed(tmp_path: Path, name: str) -> tuple[Path, Path]:
    pytest.importorskip("cryptography")
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("cert_name, ok", [("localhost", True), ("other.example", False)])
def test_https_through_the_guard_verifies_the_host_name(tmp_path, monkeypatch, cert_name, ok):
    """The guard connects to a vetted IP, yet TLS still checks the certificate against the host name
    (the certificate names only 'localhost', no IP; a certificate for another name is refused)."""
    import ssl

    from pytest_httpserver import HTTPServer

    cert, key = _self_signed(tmp_path, cert_name)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # httpx trusts this CA (trust_env)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.expect_request("/feed").respond_with_data(GOOD_FEED)
    server.start()
    try:
        result = fetch_one(f"https://localhost:{server.port}/feed", None, FAST)
    finally:
        server.clear()
        server.stop()
    assert result.ok is ok
    if ok:
        assert result.body == GOOD_FEED.encode()
    else:
        assert "certificate" in result.error.lower() or "hostname" in result.error.lower()


def test_allow_link_local_setting():
    assert load_settings({}).fetch.allow_link_local is False
    settings = load_settings({"ESCALATION_FETCH_ALLOW_LINK_LOCAL": "1"})
    assert settings.fetch.allow_link_local is True


def test_loopback_is_allowed(httpserver):
    httpserver.expect_request("/feed").respond_with_data(GOOD_FEED)
    for host in ("127.0.0.1", "localhost"):
        assert fetch_one(f"http://{host}:{httpserver.port}/feed", None, FAST).ok


def test_server_chosen_reason_phrase_is_bounded(raw_server):
    result = fetch_one(raw_server.url("/long-reason"), None, FAST)
    assert not result.ok and result.error.startswith("HTTP 404 AAAA") and len(result.error) == 300


# -- the whole run -----------------------------------------------------------------------------------
def _rows(warehouse, name: str) -> dict[tuple, str]:
    """Primary key -> a hash of the whole row."""
    table = warehouse.tables[name]
    keys = [c.name for c in table.primary_key.columns]
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(table)).mappings().all()
    return {
        tuple(row[k] for k in keys): hashlib.sha256(repr(tuple(row.values())).encode()).hexdigest()
        for row in rows
    }


def _all_stored_text(warehouse) -> str:
    parts = []
    with warehouse.engine.connect() as conn:
        for table in warehouse.tables.values():
            for row in conn.execute(sa.select(table)).all():
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def _fetch_log(warehouse, run_id: str) -> dict[str, dict]:
    t = warehouse.tables
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t["feeds"].c.url, t["fetch_log"])
            .join(t["feeds"], t["feeds"].c.feed_id == t["fetch_log"].c.feed_id)
            .where(t["fetch_log"].c.run_id == run_id)
        ).mappings()
        return {row["url"]: dict(row) for row in rows}


def _articles(warehouse, feed_url: str) -> list[dict]:
    t = warehouse.tables
    with warehouse.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(t["articles"])
                .join(t["article_sources"], t["article_sources"].c.article_id == t["articles"].c.article_id)
                .join(t["feeds"], t["feeds"].c.feed_id == t["article_sources"].c.feed_id)
                .where(t["feeds"].c.url == feed_url)
                .order_by(t["articles"].c.article_id)
            ).mappings()
        ]


class Phase:
    hostile = False


@pytest.mark.timeout(60)
def test_hostile_run(warehouse_url, warehouse, httpserver, raw_server, gzip_bomb, tmp_path):
    """One run_cycle over every fault plus good feeds: it completes, good feeds land, every fault is in
    fetch_log with a readable reason, salvageable items are stored sensibly, nothing stored changes."""
    now = datetime.now(UTC)
    phase = Phase()
    url = httpserver.url_for
    sample = (SAMPLES / "gulf_ledger.xml").read_bytes()
    # The same items (same keys) with new words: stored articles must not take them.
    channel, first_item, items = sample.partition(b"<item")
    hijacked = (
        channel
        + first_item
        + items.replace(b"<title>", b"<title>HIJACKED ").replace(b"<description>", b"<description>HIJACKED. ")
    )
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-XXE-7f3a")
    local_feed = tmp_path / "local-feed.xml"
    local_feed.write_text(
        rss(item("local-1", "CANARY-LOCAL-FILE-9b2c", "read from the fetching host's disk"))
    )
    passwd = Path("/etc/passwd").read_text().splitlines()[0] if Path("/etc/passwd").exists() else None

    def switch(before: bytes, after: Response):
        return lambda _request: after if phase.hostile else Response(before, headers={"ETag": '"v1"'})

    # Feeds that existed before the hostile run, and turn hostile.
    httpserver.expect_request("/victim-500").respond_with_handler(
        switch(GOOD_FEED.encode(), Response("down", status=500))
    )
    httpserver.expect_request("/victim-rewrite").respond_with_handler(
        switch(sample, Response(hijacked, content_type="application/rss+xml"))
    )
    # HTTP-level faults.
    httpserver.expect_request("/good.xml").respond_with_data(
        rss(item("fresh-1", "Hezbollah fired rockets at northern Israel", "The army said it would respond.")),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/404").respond_with_data("no", status=404)
    httpserver.expect_request("/500").respond_with_data("err", status=500)
    httpserver.expect_request("/503").respond_with_data("busy", status=503, headers={"Retry-After": "1"})
    httpserver.expect_request("/bomb").respond_with_data(gzip_bomb, headers={"Content-Encoding": "gzip"})
    httpserver.expect_request("/loop").respond_with_data("", status=302, headers={"Location": "/loop"})
    httpserver.expect_request("/to-file").respond_with_data(
        "", status=302, headers={"Location": f"file://{secret}"}
    )
    httpserver.expect_request("/to-ftp").respond_with_data(
        "", status=302, headers={"Location": "ftp://x.example/f"}
    )
    httpserver.expect_request("/to-metadata").respond_with_data(
        "", status=302, headers={"Location": METADATA_URL}
    )
    httpserver.expect_request("/png").respond_with_data(
        rss(item("png-1", "Served as an image", "Sanctions were extended.")), content_type="image/png"
    )
    httpserver.expect_request("/html").respond_with_data(
        "<!DOCTYPE html><html><head><title>Home</title></head><body>Welcome</body></html>",
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/empty").respond_with_data("", content_type="application/rss+xml")
    # Encodings.
    httpserver.expect_request("/utf16").respond_with_data(
        rss(
            item("u16", "Café talks in Geneva – “progress”", "Négociations reprises."), encoding="UTF-16"
        ).encode("utf-16"),
        content_type="application/xml",
    )
    httpserver.expect_request("/cp1252").respond_with_data(
        rss(item("cp", "Café meeting – “red lines”", "Résumé of the talks.")).encode("cp1252"),
        content_type="application/rss+xml; charset=utf-8",
    )
    # Entities.
    laughs = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(2, 10))
    httpserver.expect_request("/laughs").respond_with_data(
        rss(
            item("lol", "Laughs &lol9;", "Body &lol9; after"),
            prolog=f'<!DOCTYPE rss [<!ENTITY lol1 "lol">{laughs}]>',
        )
    )
    httpserver.expect_request("/xxe").respond_with_data(
        rss(
            item("xxe", "Secret &xxe; &pw;", "Leak: &xxe; &pw; &remote;"),
            prolog=(
                f'<!DOCTYPE rss SYSTEM "{url("/evil.dtd")}" [<!ENTITY xxe SYSTEM "file://{secret}">'
                f'<!ENTITY pw SYSTEM "file:///etc/passwd"><!ENTITY % ext SYSTEM "{url("/evil.dtd")}"> %ext;]>'
            ),
        )
    )
    httpserver.expect_request("/evil.dtd").respond_with_data(f'<!ENTITY remote SYSTEM "file://{secret}">')
    httpserver.expect_request("/path-body").respond_with_data(str(local_feed), content_type="text/plain")
    # Items.
    httpserver.expect_request("/dup-a").respond_with_data(
        rss(
            item("https://dup.example/story", "Shared wire story", "Both feeds carry this.") * 3
            + item("7", "Bare guid seven (feed A)", "Only unique within its feed.")
        )
    )
    httpserver.expect_request("/dup-b").respond_with_data(
        rss(
            item("https://dup.example/story?utm_source=b", "Shared wire story", "Both feeds carry this.")
            + item("7", "Bare guid seven (feed B)", "Another story.")
        )
    )
    # Incompressible, so PostgreSQL cannot squeeze it under the btree entry limit (~2 700 bytes).
    long_guid = "".join(hashlib.sha256(str(i).encode()).hexdigest() for i in range(80))
    httpserver.expect_request("/sparse").respond_with_data(
        rss(
            item(None, None, "&lt;p&gt;Untitled item: Iran warned the United States.&lt;/p&gt;")
            + item(None, "No link, no guid, no date", "Still readable.")
            + item(None, None, None)  # nothing at all: not an article
            + item(
                "nul", "Title with a \x00 NUL", "Body with a \x00 NUL", link="https://faults.example/\x00nul"
            )
            + item(long_guid, "A 5000-character guid", "Too long for a btree index entry.")
        )
    )
    httpserver.expect_request("/dates").respond_with_data(
        rss(
            item("future", "From the future", "Body.", date=now + timedelta(days=3650))
            + item("epoch", "From 1970", "Body.", date="Thu, 01 Jan 1970 00:00:00 GMT")
            + item("garbage-date", "Garbage date", "Body.", date="the day after tomorrow")
            + item("fine", "A real date", "Body.", date=now - timedelta(days=2))
        )
    )
    huge = "".join(f"<p>Militants vowed to escalate their attacks on town {i}.</p>" for i in range(163_000))
    assert 10_000_000 < len(huge) < 11_000_000
    httpserver.expect_request("/huge-item").respond_with_data(
        rss(item("huge", "One 10 MB item", f"<![CDATA[{huge}]]>"))
    )

    faults = {  # URL -> (ok, text expected in fetch_log.error or .bozo_reason)
        url("/404"): (False, "HTTP 404"),
        url("/500"): (False, "HTTP 500 INTERNAL SERVER ERROR after 2 attempts"),
        url("/503"): (False, "HTTP 503 SERVICE UNAVAILABLE after 2 attempts"),
        raw_server.url("/reset"): (False, "connection"),
        raw_server.url("/hang"): (False, "timed out after 0.5s"),
        raw_server.url("/drip"): (False, "no complete response within 1.5s"),
        raw_server.url("/endless"): (False, "body larger than"),
        url("/bomb"): (False, "body larger than"),
        url("/loop"): (False, "more than 5 redirects"),
        url("/to-file"): (False, "unsupported URL scheme 'file'"),
        url("/to-ftp"): (False, "unsupported URL scheme 'ftp'"),
        url("/to-metadata"): (False, "169.254.169.254 is a cloud metadata address"),
        METADATA_URL: (False, "169.254.169.254 is a cloud metadata address"),
        "http://[fe80::1]/feed.xml": (False, "fe80::1 is a link-local address"),
        url("/png"): (True, None),
        url("/html"): (False, "not a feed: an HTML page"),
        url("/empty"): (False, "empty body"),
        url("/utf16"): (True, None),
        url("/cp1252"): (True, "declared as utf-8, but parsed as windows-1252"),
        url("/laughs"): (True, "DTD entity declarations removed"),
        url("/xxe"): (True, "DTD entity declarations removed"),
        url("/path-body"): (False, "not a feed"),
        url("/dup-a"): (True, None),
        url("/dup-b"): (True, None),
        url("/sparse"): (True, None),
        url("/dates"): (True, None),
        url("/huge-item"): (True, "1 oversized entry cut to 200000 characters"),
        url("/good.xml"): (True, None),
        url("/victim-500"): (False, "HTTP 500"),
        url("/victim-rewrite"): (True, None),
    }

    settings = Settings(
        db_url=warehouse_url,
        fetch=FetchSettings(
            timeout_s=0.5,
            retries=1,
            backoff_s=0.01,
            max_bytes=11 * 1024 * 1024,  # the 10 MB item fits; the bomb inflates far past it
            concurrency=64,
        ),
    )
    ctx = replace(build_context(settings, init_schema=False), warehouse=warehouse)

    # Before: two healthy feeds.
    before = run_cycle([url("/victim-500"), url("/victim-rewrite")], ctx, trigger="test", notify=False)
    assert before.feeds_ok == 2 and before.new_articles > 50
    kept = {
        name: _rows(warehouse, name)
        for name in ("articles", "sentences", "sentence_actors", "article_sources")
    }
    signals_before = _rows(warehouse, "daily_signals")
    with warehouse.engine.connect() as conn:
        feeds_before = {r.url: r for r in conn.execute(sa.select(warehouse.tables["feeds"])).all()}

    # The hostile run.
    phase.hostile = True
    started = time.monotonic()
    report = run_cycle(list(faults), ctx, trigger="test", notify=False)
    assert time.monotonic() - started < 25
    assert report.status == "partial"
    outcomes = {o.source: o for o in report.feeds}
    log = _fetch_log(warehouse, report.run_id)
    assert set(log) == set(faults)
    for source, (ok, reason) in faults.items():
        row = log[source]
        assert outcomes[source].ok is ok and row["ok"] is ok, (source, row)
        if reason is not None:
            assert reason in (row["error"] or row["bozo_reason"] or ""), (
                source,
                row["error"],
                row["bozo_reason"],
            )
        if not ok:
            assert row["error"], source  # a failure always says why

    # The good feed and salvageable items landed.
    (fresh,) = _articles(warehouse, url("/good.xml"))
    assert fresh["title"] == "Hezbollah fired rockets at northern Israel"
    assert _articles(warehouse, url("/png"))[0]["title"] == "Served as an image"
    assert _articles(warehouse, url("/utf16"))[0]["title"] == "Café talks in Geneva – “progress”"
    assert _articles(warehouse, url("/cp1252"))[0]["title"] == "Café meeting – “red lines”"
    assert _articles(warehouse, url("/laughs"))[0]["title"] == "Laughs &lol9;"  # kept, never expanded

    # Duplicates: one article per key; a URL guid is shared across feeds, a bare guid is not.
    shared = [
        a for a in _articles(warehouse, url("/dup-a")) if a["article_key"] == "https://dup.example/story"
    ]
    assert len(shared) == 1
    assert [
        a["article_id"]
        for a in _articles(warehouse, url("/dup-b"))
        if a["article_key"] == shared[0]["article_key"]
    ] == [shared[0]["article_id"]]
    sevens = {
        a["title"]
        for a in _articles(warehouse, url("/dup-a")) + _articles(warehouse, url("/dup-b"))
        if a["guid"] == "7"
    }
    assert sevens == {"Bare guid seven (feed A)", "Bare guid seven (feed B)"}

    # Missing fields, and NUL characters that PostgreSQL would refuse.
    sparse = {a["title"]: a for a in _articles(warehouse, url("/sparse"))}
    assert sparse.pop("A 5000-character guid")["article_key"].startswith("sha1:")
    assert set(sparse) == {
        "Untitled item: Iran warned the United States.",
        "No link, no guid, no date",
        "Title with a NUL",
    }
    assert sparse["No link, no guid, no date"]["url"] is None
    assert sparse["No link, no guid, no date"]["article_key"].startswith("sha1:")
    assert sparse["Title with a NUL"]["url"] == "https://faults.example/nul"
    assert all(a["date_source"] == "fetched" for a in sparse.values())

    # Untrusted dates fall back to the fetch time; a plausible one is kept.
    dates = {a["title"]: a for a in _articles(warehouse, url("/dates"))}
    for title in ("From the future", "From 1970", "Garbage date"):
        assert dates[title]["date_source"] == "fetched"
        assert abs(dates[title]["published_at"] - now) < timedelta(minutes=5)
    assert dates["A real date"]["date_source"] == "published"

    # The 10 MB item is stored, cut to a bounded number of sentences.
    (huge_article,) = _articles(warehouse, url("/huge-item"))
    assert 100 < huge_article["sentence_count"] < 10_000

    # Nothing from the local disk, the XXE targets or the external DTD was read or stored.
    stored = _all_stored_text(warehouse)
    for canary in ("CANARY-XXE-7f3a", "CANARY-LOCAL-FILE-9b2c", "lollollol", "HIJACKED"):
        assert canary not in stored
    if passwd:
        assert passwd not in stored and "root:x:0:0" not in stored
    assert all(request.path != "/evil.dtd" for request, _ in httpserver.log)

    # Nothing already stored changed: every row that existed is identical.
    for name, rows in kept.items():
        after = _rows(warehouse, name)
        assert {k: after.get(k) for k in rows} == rows, name

    # Signals are recomputed for the run's day range only; every other day is untouched.
    def untouched(day) -> bool:
        return not report.days[0] <= day <= report.days[-1]

    signals_after = _rows(warehouse, "daily_signals")
    assert {k: v for k, v in signals_before.items() if untouched(k[0])} == {
        k: signals_after.get(k) for k in signals_before if untouched(k[0])
    }
    with warehouse.engine.connect() as conn:
        feeds_after = {r.url: r for r in conn.execute(sa.select(warehouse.tables["feeds"])).all()}
    for feed_url, old in feeds_before.items():
        new = feeds_after[feed_url]
        assert (new.etag, new.title, new.first_seen_at) == (old.etag, old.title, old.first_seen_at)
    victim = feeds_after[url("/victim-500")]
    assert victim.last_success_at == feeds_before[url("/victim-500")].last_success_at
    assert victim.last_error == "HTTP 500 INTERNAL SERVER ERROR after 2 attempts"
