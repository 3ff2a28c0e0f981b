"""Fetch stage: feeds over http(s) (httpx) or from local files, with a size cap and conditional GET.

Every failure becomes a `FetchResult` with `ok=False` and a reason a person can act on; nothing here
raises for one bad feed, so one feed failing never stops the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx

from pipeline.config import Settings

MAX_REDIRECTS = 5
MAX_RETRY_AFTER_S = 30.0


@dataclass(frozen=True)
class FetchSettings:
    timeout_s: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    retries: int = 2
    backoff_s: float = 1.0
    concurrency: int = 16
    user_agent: str = "escalation-signals/0.1"

    @classmethod
    def from_settings(cls, settings: Settings) -> FetchSettings:
        return cls(
            timeout_s=settings.fetch_timeout_s,
            max_bytes=settings.fetch_max_bytes,
            retries=settings.fetch_retries,
            backoff_s=settings.fetch_backoff_s,
            concurrency=settings.fetch_concurrency,
            user_agent=settings.user_agent,
        )


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


class _TooLarge(Exception):
    pass


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status


def _now() -> datetime:
    return datetime.now(UTC)


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
    fetched_at = _now()
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
            source, False, fetched_at, error=f"body larger than {settings.max_bytes} bytes", attempts=1
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


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        pass
    try:
        delay = (parsedate_to_datetime(value) - _now()).total_seconds()
    except (TypeError, ValueError):
        return None
    return min(max(delay, 0.0), MAX_RETRY_AFTER_S)


def _request_headers(validators: Validators | None, settings: FetchSettings) -> dict[str, str]:
    headers = {
        "User-Agent": settings.user_agent,
        "Accept": "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
    }
    if validators and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers


async def _attempt(
    client: httpx.AsyncClient, source: str, validators: Validators | None, settings: FetchSettings
) -> tuple[httpx.Response, bytes]:
    """One GET, streamed so an oversized body is cut off at the cap instead of filling memory."""
    try:
        async with client.stream("GET", source, headers=_request_headers(validators, settings)) as response:
            if response.status_code >= 500:
                raise _Retryable(
                    f"HTTP {response.status_code} {response.reason_phrase}",
                    _retry_after(response.headers.get("Retry-After")),
                    response.status_code,
                )
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > settings.max_bytes:
                raise _TooLarge()
            chunks, size = [], 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > settings.max_bytes:
                    raise _TooLarge()
                chunks.append(chunk)
            return response, b"".join(chunks)
    except httpx.TimeoutException:
        raise _Retryable(f"timed out after {settings.timeout_s:g}s") from None
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
        raise _Retryable(_network_reason(exc)) from None


def _network_reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    if "name or service not known" in text.lower() or "nodename nor servname" in text.lower():
        return "host not found (DNS)"
    if "temporary failure in name resolution" in text.lower():
        return "DNS lookup failed (offline?)"
    return f"network error: {text}"[:300]


def _final_reason(exc: Exception, settings: FetchSettings) -> str:
    if isinstance(exc, _TooLarge):
        return f"body larger than {settings.max_bytes} bytes"
    if isinstance(exc, httpx.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"redirected to an unsupported URL: {exc}"[:300]
    return f"HTTP error: {type(exc).__name__}: {exc}"[:300]


async def _fetch_http(
    client: httpx.AsyncClient, source: str, validators: Validators | None, settings: FetchSettings
) -> FetchResult:
    started = time.monotonic()
    attempts = 0
    reason, status = "unknown error", None
    while attempts <= settings.retries:
        attempts += 1
        fetched_at = _now()
        try:
            response, body = await _attempt(client, source, validators, settings)
        except (_TooLarge, httpx.HTTPError) as exc:  # final: retrying would give the same answer
            return FetchResult(
                source,
                False,
                fetched_at,
                error=_final_reason(exc, settings),
                elapsed_s=time.monotonic() - started,
                attempts=attempts,
            )
        except _Retryable as exc:
            reason, status = exc.reason, exc.status
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
        if response.status_code >= 400:
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
        _now(),
        status=status,
        error=f"{reason} after {attempts} attempt{plural}",
        elapsed_s=time.monotonic() - started,
        attempts=attempts,
    )


def _client(settings: FetchSettings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout_s),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        limits=httpx.Limits(max_connections=max(settings.concurrency, 1)),
    )


async def _fetch_async(
    client: httpx.AsyncClient, source: str, validators: Validators | None, settings: FetchSettings
) -> FetchResult:
    started = time.monotonic()
    try:
        path = _local_path(source)
    except ValueError as exc:
        return FetchResult(source, False, _now(), error=str(exc), attempts=0)
    if path is not None:
        return _read_local(source, path, settings, started)
    return await _fetch_http(client, source, validators, settings)


def fetch_one(source: str, validators: Validators | None, settings: FetchSettings) -> FetchResult:
    """Fetch one feed (synchronously); the unit of an Airflow mapped task."""

    async def main() -> FetchResult:
        async with _client(settings) as client:
            return await _fetch_async(client, source, validators, settings)

    return asyncio.run(main())


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

    return asyncio.run(main()) if sources else []
