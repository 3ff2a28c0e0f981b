"""Fetch stage: feeds over http(s) (httpx) or from local files, with a size cap and conditional GET.

Every failure becomes a `FetchResult` with `ok=False` and a reason a person can act on; nothing here
raises for one bad feed, so one feed failing never stops the others.

Hostile servers are expected. Per feed and attempt:
- the body is streamed and cut off at `max_bytes` of DECODED bytes (gzip/deflate are decoded here,
  incrementally and bounded, so a gzip bomb never inflates past the cap in memory);
- every network operation has `timeout_s`, and the whole attempt (all redirect hops and the body) a
  deadline, so a server dripping one byte at a time cannot hold a feed forever;
- redirects are followed by hand: a redirect's body is never read, and every hop is checked (http or
  https only; no link-local or cloud-metadata address) before it is requested;
- the same address check runs again on the address each TCP connection actually uses, so a host name
  that resolves to a harmless address at check time and to 169.254.169.254 at connect time (DNS
  rebinding) is refused too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ipaddress
import math
import re
import socket
import time
import zlib
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

from pipeline import interrupts
from pipeline.clock import now_utc
from pipeline.config import FetchSettings

MAX_REDIRECTS = 5
MAX_RETRY_AFTER_S = 30.0  # a server asking for a longer wait is not retried within this run
RETRY_STATUSES = frozenset({429})  # besides every 5xx

# SSRF policy. Link-local ranges are where cloud metadata services answer (169.254.169.254 on AWS,
# GCP, Azure, OpenStack; 169.254.170.2 for ECS task credentials); a few providers use addresses
# outside them. None of these is ever a news feed, so they are refused unless
# `FetchSettings.allow_link_local` (ESCALATION_FETCH_ALLOW_LINK_LOCAL=1) says otherwise.
# Loopback (127.0.0.0/8, ::1) and private networks stay allowed ON PURPOSE: the tests and local or
# docker setups serve feeds from 127.0.0.1 or a private network, and the feed list is the operator's
# own. The accepted risk: a hostile redirect can make us GET a loopback/private URL; the answer is
# only kept if it parses as a feed, and is never sent back to whoever redirected us.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_ALLOW_HINT = "not fetched unless ESCALATION_FETCH_ALLOW_LINK_LOCAL=1"
# Reasons can carry server-chosen text (a reason phrase, a protocol error): no control characters
# (PostgreSQL refuses NUL in TEXT), bounded length.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class Validators:
    """HTTP cache validators kept per feed for conditional GET."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    source: str
    ok: bool
    fetched_at: datetime
    status: int | None = None
    body: bytes | None = None
    not_modified: bool = False
    validators: Validators = Validators()
    content_type: str | None = None
    final_url: str | None = None
    error: str | None = None
    elapsed_s: float = 0.0
    attempts: int = 0


class PermanentFetchError(Exception):
    """A failure that another attempt would only repeat (refused address, too large, bad encoding)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class BodyTooLarge(PermanentFetchError):
    def __init__(self, max_bytes: int):
        super().__init__(f"body larger than {max_bytes} bytes (ESCALATION_FETCH_MAX_BYTES)")


class TargetRefused(PermanentFetchError):
    """The address check refused a request (or a connection) before anything was sent."""


class SchemeRefused(TargetRefused):
    """A URL (or a redirect) to something other than http or https."""


class BadEncoding(PermanentFetchError):
    """A Content-Encoding we do not decode, or a compressed body that is corrupt."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status


# -- SSRF: which addresses we connect to ----------------------------------------------------------------
# An address policy maps one IP address (text, as resolved) to why a connection to it is refused, or
# None when it is allowed. Feeds use `address_refusal` (below); article pages, whose URLs come from
# untrusted feed content, use the stricter `public_address_refusal` (pipeline/pages.py).
AddressPolicy = Callable[[str], "str | None"]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _parse_ip(address: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone ("fe80::1%eth0")
    except ValueError:
        return None


def _ipv4_forms(ip: IPAddress) -> list[IPAddress]:
    """The address and the IPv4 target it is another spelling of (::ffff:169.254.169.254, or NAT64
    64:ff9b::a9fe:a9fe)."""
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if ip in _NAT64:
            candidates.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return candidates


def address_refusal(address: str, allow_link_local: bool = False) -> str | None:
    """The feeds' policy: why a connection to this IP address is refused, or None when it is allowed."""
    if allow_link_local:
        return None
    ip = _parse_ip(address)
    if ip is None:
        return None
    for candidate in _ipv4_forms(ip):
        if candidate in METADATA_ADDRESSES:
            return f"{address} is a cloud metadata address ({_ALLOW_HINT})"
        if candidate.is_link_local:
            return f"{address} is a link-local address ({_ALLOW_HINT})"
    return None


def _non_public_kind(ip: IPAddress) -> str | None:
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    for kind, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("unspecified", ip.is_unspecified),  # 0.0.0.0 reaches this machine on Linux
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("non-public", not ip.is_global),  # e.g. 100.64.0.0/10 (carrier-grade NAT)
    ):
        if flag:
            return kind
    return None


def public_address_refusal(address: str, exempt: Sequence[IPNetwork] = (), hint: str = "") -> str | None:
    """A stricter policy: only globally routable addresses, apart from the `exempt` networks.

    Refuses loopback, private, link-local (and cloud metadata), multicast, unspecified, reserved and
    other non-global addresses, also when written as IPv4-mapped, NAT64, 6to4 or Teredo IPv6.
    `hint` is appended to the reason (which setting would allow it).
    """
    ip = _parse_ip(address)
    if ip is None:
        return None
    candidates = _ipv4_forms(ip)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip.teredo is not None:
            candidates.extend(ip.teredo)
    for candidate in candidates:
        if any(candidate.version == net.version and candidate in net for net in exempt):
            continue
        kind = _non_public_kind(candidate)
        if kind is not None:
            return f"{address} is a {kind} address{hint}"
    return None


def feed_address_policy(allow_link_local: bool) -> AddressPolicy:
    return functools.partial(address_refusal, allow_link_local=allow_link_local)


def _ip_literal(host: str) -> bool:
    return _parse_ip(host) is not None


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses a host name stands for (an IP literal stands for itself); raises OSError."""
    if _ip_literal(host):
        return [host]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _first_refusal(host: str, addresses: Iterable[str], policy: AddressPolicy) -> str | None:
    for address in addresses:
        reason = policy(address)
        if reason is not None:
            return f"refused to fetch from {host}: {reason}" if address != host else f"refused: {reason}"
    return None


async def check_target(url: httpx.URL, policy: AddressPolicy) -> None:
    """Before each request and each redirect hop: http(s) only, and not a refused address.

    Raises SchemeRefused or TargetRefused (with the reason).

    This check also covers requests sent through a proxy (where the connect-time guard only sees the
    proxy); without a proxy, `_GuardedBackend` checks again on the address actually connected to.
    """
    if url.scheme not in ("http", "https"):
        raise SchemeRefused(
            f"redirected to an unsupported URL scheme {url.scheme!r} (only http and https are fetched)"
        )
    try:
        addresses = await _resolve(url.host, url.port or (443 if url.scheme == "https" else 80))
    except OSError:
        return  # the connection reports the DNS failure with its own clear reason
    reason = _first_refusal(url.host, addresses, policy)
    if reason is not None:
        raise TargetRefused(reason)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore network backend that resolves names itself and connects only to allowed addresses.

    Connecting to the vetted IP (rather than handing the name back to the resolver) closes the gap
    between check and use; TLS still verifies the certificate against the host name, which httpcore
    passes separately as the SNI / server_hostname.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend, policy: AddressPolicy):
        self._inner = inner
        self._policy = policy

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await _resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc) or type(exc).__name__) from exc
        reason = _first_refusal(host, addresses, self._policy)
        if reason is not None:
            raise TargetRefused(reason)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout=timeout, socket_options=socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def install_address_guard(client: httpx.AsyncClient, policy: AddressPolicy) -> None:
    """Make every TCP connection of `client` check `policy` on the address it actually connects to."""
    # httpx has no public hook for the connection's network backend; constraints.txt pins httpx and
    # httpcore, and this fails closed (no client at all) if their internals ever move.
    pool = getattr(getattr(client, "_transport", None), "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("cannot install the fetch address guard: httpx/httpcore internals changed")
    pool._network_backend = _GuardedBackend(pool._network_backend, policy)


# -- bodies -----------------------------------------------------------------------------------------------
class _BoundedDecoder:
    """Content-Encoding (identity, gzip, deflate) decoded chunk by chunk, never past `limit` bytes."""

    def __init__(self, content_encoding: str | None, limit: int):
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise BadEncoding(f"unsupported Content-Encoding {content_encoding!r}")
        self._coding = codings[0] if codings else None
        self._zlib: Any = None
        self._limit = limit
        self.size = 0

    def _decompressor(self, first: bytes) -> Any:
        if self._coding == "deflate":
            # "deflate" is meant to be zlib-wrapped, but many servers send a raw deflate stream.
            wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and (first[0] << 8 | first[1]) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return zlib.decompressobj(16 + zlib.MAX_WBITS)

    def _take(self, out: bytes) -> bytes:
        self.size += len(out)
        if self.size > self._limit:
            raise BodyTooLarge(self._limit)
        return out

    def feed(self, data: bytes) -> bytes:
        if self._coding is None:
            return self._take(data)
        parts = []
        try:
            while data:
                if self._zlib is None:
                    self._zlib = self._decompressor(data)
                # max_length bounds what one call may inflate: a bomb stops one byte past the cap.
                parts.append(self._take(self._zlib.decompress(data, self._limit - self.size + 1)))
                data = self._zlib.unconsumed_tail
                if not data and self._zlib.eof and self._zlib.unused_data[:2] == b"\x1f\x8b":
                    data, self._zlib = self._zlib.unused_data, None  # concatenated gzip members
        except zlib.error as exc:
            raise BadEncoding(f"corrupt {self._coding} body: {exc}") from None
        return b"".join(parts)

    def flush(self) -> bytes:
        if self._zlib is None:
            return b""
        try:
            return self._take(self._zlib.flush(self._limit - self.size + 1))
        except zlib.error as exc:
            raise BadEncoding(f"corrupt {self._coding} body: {exc}") from None


async def read_body(response: httpx.Response, max_bytes: int) -> bytes:
    """The decoded body of a streamed response; raises BodyTooLarge as soon as the cap is passed
    (on the wire or decoded), BadEncoding for an encoding we do not decode or a corrupt one."""
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(max_bytes)
    decoder = _BoundedDecoder(response.headers.get("Content-Encoding"), max_bytes)
    chunks, raw_size = [], 0
    async for chunk in response.aiter_raw():
        raw_size += len(chunk)
        if raw_size > max_bytes:  # also bounds a compressed stream that inflates to nothing
            raise BodyTooLarge(max_bytes)
        chunks.append(decoder.feed(chunk))
    chunks.append(decoder.flush())
    return b"".join(chunks)


# -- one attempt ----------------------------------------------------------------------------------------
def _local_path(source: str) -> Path | None:
    """The local path a source names, or None when it is a URL we fetch over the network."""
    parts = urlsplit(source)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    if parts.scheme in ("http", "https"):
        return None
    if len(parts.scheme) <= 1:  # no scheme, or a Windows drive letter
        return Path(source).expanduser()
    raise ValueError(f"unsupported scheme {parts.scheme!r} (use http, https, file or a local path)")


def _read_local(source: str, path: Path, settings: FetchSettings, started: float) -> FetchResult:
    fetched_at = now_utc()
    try:
        with path.open("rb") as handle:
            body = handle.read(settings.max_bytes + 1)
    except FileNotFoundError:
        return FetchResult(source, False, fetched_at, error=f"file not found: {path}", attempts=1)
    except IsADirectoryError:
        return FetchResult(
            source, False, fetched_at, error=f"is a directory, not a feed file: {path}", attempts=1
        )
    except OSError as exc:
        return FetchResult(
            source, False, fetched_at, error=f"cannot read {path}: {exc.strerror or exc}", attempts=1
        )
    if len(body) > settings.max_bytes:
        return FetchResult(
            source, False, fetched_at, error=f"body larger than {settings.max_bytes} bytes (ESCALATION_FETCH_MAX_BYTES)", attempts=1
        )
    return FetchResult(
        source,
        True,
        fetched_at,
        body=body,
        final_url=str(path),
        elapsed_s=time.monotonic() - started,
        attempts=1,
    )


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds the server asks us to wait (not capped here: the caller decides), or None."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None  # "nan" / "inf" mean nothing
    try:
        delay = (parsedate_to_datetime(value) - now_utc()).total_seconds()
    except (TypeError, ValueError):
        return None
    return max(delay, 0.0)


def _request_headers(validators: Validators | None, settings: FetchSettings) -> dict[str, str]:
    headers = {
        "User-Agent": settings.user_agent,
        "Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
        "Accept-Encoding": "gzip, deflate",  # exactly what _BoundedDecoder decodes
    }
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


async def _get(
    client: httpx.AsyncClient, source: str, validators: Validators | None, settings: FetchSettings
) -> tuple[httpx.Response, bytes]:
    """GET with redirects followed by hand: every hop checked, no redirect body ever read."""
    request = client.build_request("GET", source, headers=_request_headers(validators, settings))
    for _hop in range(MAX_REDIRECTS + 1):
        await check_target(request.url, feed_address_policy(settings.allow_link_local))
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            if response.next_request is not None:
                request = response.next_request
                continue
            status = response.status_code
            if status >= 500 or status in RETRY_STATUSES:
                raise _Retryable(
                    f"HTTP {status} {response.reason_phrase}",
                    retry_after_seconds(response.headers.get("Retry-After")),
                    status,
                )
            if status >= 300:  # 304, an error, or a redirect without a Location: the body is not needed
                return response, b""
            return response, await read_body(response, settings.max_bytes)
        finally:
            await response.aclose()
    raise PermanentFetchError(f"more than {MAX_REDIRECTS} redirects")


async def _attempt(
    client: httpx.AsyncClient, source: str, validators: Validators | None, settings: FetchSettings
) -> tuple[httpx.Response, bytes]:
    deadline = settings.attempt_deadline_s
    try:
        # timeout_s bounds each network operation; this bounds the whole attempt (a slow drip).
        async with asyncio.timeout(deadline):
            return await _get(client, source, validators, settings)
    except TimeoutError:
        raise _Retryable(f"timed out: no complete response within {deadline:g}s (server too slow)") from None
    except httpx.TimeoutException:
        raise _Retryable(f"timed out after {settings.timeout_s:g}s") from None
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise _Retryable(network_reason(exc)) from None


def network_reason(exc: Exception) -> str:
    # httpx wraps the OS error (often with an empty message) in two layers: use the innermost words.
    texts, cause, depth = [], exc, 0
    while cause is not None and depth < 8:
        if str(cause):
            texts.append(str(cause))
        cause, depth = cause.__cause__ or cause.__context__, depth + 1
    text = texts[-1] if texts else type(exc).__name__
    lower = " ".join(texts).lower()
    if "refused" in lower:
        return "connection refused"
    if "name or service not known" in lower or "nodename nor servname" in lower:
        return "host not found (DNS)"
    if "temporary failure in name resolution" in lower:
        return "DNS lookup failed (offline?)"
    if "reset by peer" in lower:
        return "connection reset by the server"
    if "without sending" in lower or "disconnected" in lower or "incomplete" in lower:
        return f"the server closed the connection early: {text}"[:300]
    return f"network error: {text}"[:300]


def _final_reason(exc: Exception) -> str:
    if isinstance(exc, PermanentFetchError):
        return exc.reason[:300]
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"redirected to an unsupported URL: {exc}"[:300]
    if isinstance(exc, httpx.InvalidURL):
        return f"invalid URL: {exc}"[:300]
    return f"HTTP error: {type(exc).__name__}: {exc}"[:300]


async def _fetch_http(
    client: httpx.AsyncClient, source: str, validators: Validators | None, settings: FetchSettings
) -> FetchResult:
    started = time.monotonic()
    attempts = 0
    reason, status = "unknown error", None
    while attempts <= settings.retries:
        attempts += 1
        fetched_at = now_utc()
        try:
            response, body = await _attempt(client, source, validators, settings)
        except (
            PermanentFetchError,
            httpx.HTTPError,
            httpx.InvalidURL,
        ) as exc:  # retrying would give the same answer
            return FetchResult(
                source,
                False,
                fetched_at,
                error=_final_reason(exc),
                elapsed_s=time.monotonic() - started,
                attempts=attempts,
            )
        except _Retryable as exc:
            reason, status = exc.reason, exc.status
            if exc.retry_after is not None and exc.retry_after > MAX_RETRY_AFTER_S:
                # "Come back in an hour": waiting that long would stall the run; the next run retries.
                reason = f"{reason} (Retry-After {exc.retry_after:.0f}s: not retried in this run)"
                break
            if attempts <= settings.retries:
                delay = (
                    exc.retry_after
                    if exc.retry_after is not None
                    else settings.backoff_s * 2 ** (attempts - 1)
                )
                await asyncio.sleep(delay)
            continue
        new_validators = Validators(
            response.headers.get("ETag") or (validators.etag if validators else None),
            response.headers.get("Last-Modified") or (validators.last_modified if validators else None),
        )
        common = {
            "status": response.status_code,
            "content_type": response.headers.get("Content-Type"),
            "final_url": str(response.url),
            "elapsed_s": time.monotonic() - started,
            "attempts": attempts,
        }
        if response.status_code == 304:
            return FetchResult(
                source, True, fetched_at, not_modified=True, validators=validators or Validators(), **common
            )
        if response.status_code >= 300:
            return FetchResult(
                source,
                False,
                fetched_at,
                error=f"HTTP {response.status_code} {response.reason_phrase}",
                **common,
            )
        return FetchResult(source, True, fetched_at, body=body, validators=new_validators, **common)
    plural = "s" if attempts > 1 else ""
    return FetchResult(
        source,
        False,
        now_utc(),
        status=status,
        error=f"{reason} after {attempts} attempt{plural}",
        elapsed_s=time.monotonic() - started,
        attempts=attempts,
    )


def _client(settings: FetchSettings) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout_s),
        follow_redirects=False,  # _get follows them, checking every hop
        limits=httpx.Limits(max_connections=max(settings.concurrency, 1)),
    )
    install_address_guard(client, feed_address_policy(settings.allow_link_local))
    return client


async def _fetch_async(
    client: httpx.AsyncClient, source: str, validators: Validators | None, settings: FetchSettings
) -> FetchResult:
    started = time.monotonic()
    try:
        path = _local_path(source)
    except ValueError as exc:
        return FetchResult(source, False, now_utc(), error=str(exc), attempts=0)
    if path is not None:
        return _read_local(source, path, settings, started)
    result = await _fetch_http(client, source, validators, settings)
    if result.error:
        result = dataclasses.replace(result, error=_CONTROL_CHARS.sub(" ", result.error)[:MAX_REASON_CHARS])
    return result


T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, except that a task stopped by SIGINT/SIGTERM (pipeline.interrupts raises the stop
    in whichever task runs) is not reported a second time, with a traceback, as "Task exception was
    never retrieved" when it is collected: the command reports the stop once. The loop is closed with
    the stop held: a stop in the middle of its close left it half closed, and its collection printed
    a ValueError traceback ("Invalid file descriptor: -1") after the command's own message."""

    async def guarded() -> T:
        loop = asyncio.get_running_loop()

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            if not isinstance(context.get("exception"), KeyboardInterrupt):
                loop.default_exception_handler(context)

        loop.set_exception_handler(handler)
        return await main

    runner = asyncio.Runner()
    try:
        return runner.run(guarded())
    finally:
        with interrupts.deferred():
            runner.close()


def fetch_one(source: str, validators: Validators | None, settings: FetchSettings) -> FetchResult:
    """Fetch one feed (synchronously); the unit of an Airflow mapped task."""

    async def main() -> FetchResult:
        async with _client(settings) as client:
            return await _fetch_async(client, source, validators, settings)

    return run_async(main())


def fetch_many(
    sources: Sequence[str],
    validators: Mapping[str, Validators],
    settings: FetchSettings,
    on_result: Callable[[FetchResult], None] | None = None,
) -> list[FetchResult]:
    """Fetch feeds concurrently (at most `settings.concurrency` at a time); results in input order."""

    async def main() -> list[FetchResult]:
        gate = asyncio.Semaphore(max(settings.concurrency, 1))
        async with _client(settings) as client:

            async def one(source: str) -> FetchResult:
                async with gate:
                    result = await _fetch_async(client, source, validators.get(source), settings)
                if on_result is not None:
                    on_result(result)
                return result

            return list(await asyncio.gather(*(one(s) for s in sources)))

    return run_async(main()) if sources else []
