"""Article pages: the page behind each feed link, fetched politely and safely (issue 14).

`fetch_pages(urls, settings)` (`settings`: `pipeline.config.PageSettings`, the `pages` section of the one
config) returns one `PageResult` per URL, in input order; it never raises for a
bad page. Each URL is canonicalised (`pipeline.parse.canonical_url`: lower-case host, no fragment, no
default port, no tracking parameters) and each distinct canonical URL is requested once, however many
feeds carry it; the request goes to the canonical URL. The HTML bytes come back undecoded with the
header's charset; extracting the text is `pipeline.extract`'s job. Nothing on a page is executed or
followed except the redirect chain; no cookie is kept.

Politeness
- robots.txt is read once per origin (scheme, host, port) and run, before the first page there, and
  obeyed for the user agent's product token (RFC 9309 rules via protego: the most specific rule wins,
  `*` and `$` patterns). A 4xx other than 429 means no rules (everything allowed). A 5xx, a 429, a
  timeout, a refused connection, a refused address or a robots.txt over 512 KiB mean the site's rules
  are unknown: every page of that origin is refused for this run ("robots.txt unavailable"), as RFC
  9309 asks for an unreachable robots.txt and Google does on 5xx (when the host cannot be connected
  to at all, its pages say "connection failed: ..." instead). A later run asks again. A
  `Crawl-delay` raises the host's delay, up to `max_crawl_delay_s`. A `RobotsCache` passed in keeps
  the rules between calls of one run.
- A host is the lower-case host name plus its port when not the scheme's default (`host_key`), so
  127.0.0.1:8001 and 127.0.0.1:8002 are two hosts, and http/https on the default ports are one.
  Per host at most `per_host_concurrency` requests are in flight and two request starts are at least
  `per_host_delay_s` apart (robots.txt, every redirect hop and every retry included); at most
  `concurrency` requests are in flight in all. A Retry-After also holds back the host's other pages.
- Retries: 5xx and 429 are retried (`retries` times), waiting Retry-After when given (a longer wait
  than `max_retry_after_s` is not retried in this run), otherwise `backoff_s` doubling; a connection
  closed or reset mid-answer is retried the same way. Not retried: a refused connection, DNS failure,
  timeout (the deadline covers the whole page), 4xx.

Safety (the URLs come from untrusted feed content)
- http and https only, on the first URL and every redirect hop; at most `max_redirects` hops.
- Loopback, private, link-local, cloud-metadata, multicast, reserved and other non-global addresses
  are refused before every hop (`pipeline.fetch.check_target`) and again on the address each TCP
  connection uses (`pipeline.fetch.install_address_guard`, which also defeats DNS rebinding), unless
  `allow_private` (then the feeds' rule applies: only link-local and cloud-metadata addresses stay
  refused, unless `allow_link_local`) or the address is in `allowed_networks`.
- Only text/html and application/xhtml+xml bodies are read; the type is checked before the body.
- The body is cut off at `max_bytes` DECODED bytes while it is decoded (`pipeline.fetch.read_body`),
  so a gzip bomb is never inflated in memory; `timeout_s` bounds each network operation and
  `deadline_s` the page's total time (every hop, retry and retry wait; not the time the page waits
  for its turn at the host).

Error reasons (`PageResult.error`; `None` when the body is there; `detail` says more in words):
"disabled", "unsupported URL", "robots.txt disallows", "robots.txt unavailable", "refused address",
"http <status>" (e.g. "http 404"; a 5xx or 429 after its retries), "not HTML: <type>" (e.g.
"not HTML: application/pdf"), "too large", "bad content encoding", "timeout", "too many redirects",
"connection failed: <what>" (e.g. "connection failed: connection refused").

Per-host limits across parallel workers (Airflow mapped tasks, Celery workers): the limits above hold
within one `fetch_pages` call. `host_groups(urls, n)` partitions the URLs so that every host lands in
exactly one group (hosts kept whole, groups balanced by page count); one mapped page-fetch task per
group then keeps every host's concurrency and delay whatever the number of workers, because no two
tasks ever hold pages of the same host. Two things stay outside that guarantee: two DAG runs at once
(run the page step with max_active_runs=1) and a redirect to a host of another group.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import math
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from protego import Protego

from pipeline.clock import now_utc
from pipeline.config import PageSettings
from pipeline.fetch import (
    AddressPolicy,
    BadEncoding,
    BodyTooLarge,
    SchemeRefused,
    TargetRefused,
    check_target,
    feed_address_policy,
    install_address_guard,
    network_reason,
    public_address_refusal,
    read_body,
    retry_after_seconds,
    run_async,
)
from pipeline.parse import DEFAULT_PORTS, canonical_url, host_key

__all__ = ["PageResult", "PageSettings", "RobotsCache", "fetch_pages", "host_groups", "host_key"]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
ROBOTS_MAX_BYTES = 512 * 1024  # Google reads the first 500 KiB; a bigger one is "unavailable" here
_PRIVATE_HINT = " (not fetched unless ESCALATION_ARTICLE_ALLOW_PRIVATE=1)"

# The error vocabulary (see the module docstring).
DISABLED = "disabled"
UNSUPPORTED_URL = "unsupported URL"
ROBOTS_DISALLOWS = "robots.txt disallows"
ROBOTS_UNAVAILABLE = "robots.txt unavailable"
REFUSED_ADDRESS = "refused address"
NOT_HTML = "not HTML"
TOO_LARGE = "too large"
BAD_ENCODING = "bad content encoding"
TIMEOUT = "timeout"
TOO_MANY_REDIRECTS = "too many redirects"
CONNECTION_FAILED = "connection failed"


@dataclass(frozen=True)
class PageResult:
    requested_url: str
    canonical_url: str
    final_url: str | None  # after redirects; None when no request was sent
    status: int | None
    content_type: str | None
    charset: str | None  # from the Content-Type header, lower-case
    body: bytes | None  # the decoded (not yet text-decoded) HTML; None on any error
    fetched_at: datetime  # UTC: when the last request started (or the page was refused)
    elapsed_s: float  # from the first request to the result
    attempts: int  # requests at the failing or final URL: 1 + retries (0: none sent)
    error: str | None  # None, or one of the vocabulary above
    detail: str | None = None  # the reason in words (which address, which status, ...)

    @property
    def ok(self) -> bool:
        return self.error is None


# -- robots.txt -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RobotsRules:
    """What one origin's robots.txt says, as read once per run."""

    origin: str
    status: int | None  # of the robots.txt answer; None: none came
    parser: Protego | None = field(default=None, compare=False)  # None: no rules
    unavailable: str | None = None  # why it could not be read: everything refused
    failure: str | None = None  # the robots.txt request's own error, from the vocabulary

    def allows(self, url: str, user_agent: str) -> bool:
        if self.unavailable is not None:
            return False
        return self.parser is None or bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        delay = self.parser.crawl_delay(user_agent) if self.parser is not None else None
        return float(delay) if delay is not None and math.isfinite(float(delay)) else None


class RobotsCache:
    """robots.txt rules by origin, to share between `fetch_pages` calls of one run."""

    def __init__(self) -> None:
        self._rules: dict[str, RobotsRules] = {}

    def get(self, origin: str) -> RobotsRules | None:
        return self._rules.get(origin)

    def put(self, rules: RobotsRules) -> None:
        self._rules[rules.origin] = rules

    def __len__(self) -> int:
        return len(self._rules)


# -- hosts ------------------------------------------------------------------------------------------------


def host_groups(urls: Iterable[str], n_groups: int) -> list[list[str]]:
    """At most `n_groups` non-empty lists of `urls` such that every host is in exactly one of them.

    Hosts are kept whole and spread largest first onto the group with the fewest distinct pages
    (ties: the lower group number; hosts in name order), so the result depends only on the input.
    Within a group a host's URLs are together, in input order.
    """
    if n_groups < 1:
        raise ValueError(f"n_groups must be at least 1, not {n_groups}")
    by_host: dict[str, list[str]] = {}
    pages: dict[str, set[str]] = {}
    for url in urls:
        canonical = canonical_url(url)
        key = host_key(canonical)
        by_host.setdefault(key, []).append(url)
        pages.setdefault(key, set()).add(canonical)
    groups: list[list[str]] = [[] for _ in range(min(n_groups, len(by_host)))]
    loads = [0] * len(groups)
    for host in sorted(by_host, key=lambda host: (-len(pages[host]), host)):
        target = min(range(len(groups)), key=lambda g: (loads[g], g))
        groups[target].extend(by_host[host])
        loads[target] += len(pages[host])
    return groups


def _origin(url: httpx.URL) -> str:
    default = DEFAULT_PORTS.get(url.scheme)
    port = "" if url.port is None or url.port == default else f":{url.port}"
    host = url.raw_host.decode("ascii").lower()
    return f"{url.scheme}://{f'[{host}]' if ':' in host else host}{port}"


class _HostGate:
    """One host's limits: a few requests in flight, and a minimum time between request starts."""

    def __init__(self, concurrency: int, delay_s: float):
        self.slots = asyncio.Semaphore(concurrency)
        self.start_lock = asyncio.Lock()  # one request start at a time, so the gap is measured
        self.delay_s = delay_s
        self.last_start = -math.inf
        self.not_before = -math.inf  # a Retry-After holds the whole host back


# -- one run ------------------------------------------------------------------------------------------------
class _Failure(Exception):
    def __init__(
        self,
        error: str,
        detail: str | None = None,
        status: int | None = None,
        content_type: str | None = None,
    ):
        super().__init__(error)
        self.error = error
        self.detail = detail
        self.status = status
        self.content_type = content_type


class _Retry(Exception):
    def __init__(self, error: str, detail: str, status: int | None, retry_after: float | None):
        super().__init__(error)
        self.error = error
        self.detail = detail
        self.status = status
        self.retry_after = retry_after


@dataclass
class _Outcome:
    url: str
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    body: bytes | None = None
    error: str | None = None
    detail: str | None = None
    attempts: int = 0
    fetched_at: datetime | None = None
    first_request: float | None = None
    finished: float = 0.0


@dataclass(frozen=True)
class _Redirect:
    url: httpx.URL


@dataclass(frozen=True)
class _Answer:
    status: int
    url: str
    content_type: str | None
    body: bytes


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _charset(content_type: str | None) -> str | None:
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip("\"'").lower() or None
    return None


def _address_policy(settings: PageSettings) -> AddressPolicy:
    if settings.allow_private:
        return feed_address_policy(settings.allow_link_local)
    exempt = tuple(ipaddress.ip_network(n, strict=False) for n in settings.allowed_networks)
    return functools.partial(public_address_refusal, exempt=exempt, hint=_PRIVATE_HINT)


def _client(settings: PageSettings) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        timeout=httpx.Timeout(settings.timeout_s),
        follow_redirects=False,  # _Run follows them, checking every hop
        limits=httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        ),
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),  # keeps no cookie
    )
    install_address_guard(client, _address_policy(settings))
    return client


class _Run:
    """The state of one `fetch_pages` call: its client, limits and robots.txt rules."""

    def __init__(self, settings: PageSettings, client: httpx.AsyncClient, robots: RobotsCache):
        self.settings = settings
        self.client = client
        self.policy = _address_policy(settings)
        self.robots = robots
        self.global_slots = asyncio.Semaphore(settings.concurrency)
        self.gates: dict[str, _HostGate] = {}
        self.robots_locks: dict[str, asyncio.Lock] = {}

    def gate(self, key: str) -> _HostGate:
        if key not in self.gates:
            self.gates[key] = _HostGate(self.settings.per_host_concurrency, self.settings.per_host_delay_s)
        return self.gates[key]

    @asynccontextmanager
    async def slot(self, key: str) -> AsyncGenerator[None, None]:
        """A request's turn: a slot at its host, its start spaced from the host's last, a global slot.

        The global slot is taken last, so a request waiting for its host's delay holds none."""
        gate = self.gate(key)
        async with gate.slots:
            async with gate.start_lock:
                wait = max(gate.last_start + gate.delay_s, gate.not_before) - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                await self.global_slots.acquire()
                gate.last_start = time.monotonic()
            try:
                yield
            finally:
                self.global_slots.release()

    async def robots_for(self, url: httpx.URL) -> RobotsRules:
        origin = _origin(url)
        rules = self.robots.get(origin)
        if rules is None:
            lock = self.robots_locks.setdefault(origin, asyncio.Lock())
            async with lock:  # the other pages of the origin wait for the one robots.txt request
                rules = self.robots.get(origin)
                if rules is None:
                    rules = await self._read_robots(origin)
                    self.robots.put(rules)
        crawl_delay = rules.crawl_delay(self.settings.user_agent)
        if crawl_delay is not None:
            gate = self.gate(host_key(str(url)))
            gate.delay_s = max(gate.delay_s, min(crawl_delay, self.settings.max_crawl_delay_s))
        return rules

    async def _read_robots(self, origin: str) -> RobotsRules:
        outcome = await self.fetch(f"{origin}/robots.txt", robots=True)
        if outcome.error is None and outcome.body is not None:
            return RobotsRules(origin, outcome.status, Protego.parse(outcome.body.decode("utf-8", "replace")))
        if outcome.status is not None and 400 <= outcome.status < 500 and outcome.status != 429:
            return RobotsRules(origin, outcome.status)  # no robots.txt: no rules
        why = outcome.error if outcome.detail is None else f"{outcome.error} ({outcome.detail})"
        return RobotsRules(
            origin, outcome.status, unavailable=f"{origin}/robots.txt: {why}", failure=outcome.error
        )

    async def fetch(self, url: str, *, robots: bool = False) -> _Outcome:
        """Fetch one URL (a page, or with robots=True a robots.txt) through the checks and limits."""
        outcome = _Outcome(url)
        try:
            answer = await self._follow(url, outcome, robots)
        except _Failure as failure:
            outcome.error, outcome.detail = failure.error, failure.detail
            outcome.status, outcome.content_type = failure.status, failure.content_type
        else:
            outcome.status, outcome.final_url = answer.status, answer.url
            outcome.content_type, outcome.body = answer.content_type, answer.body
        outcome.finished = time.monotonic()
        return outcome

    async def _follow(self, url: str, outcome: _Outcome, robots: bool) -> _Answer:
        settings = self.settings
        budget = settings.deadline_s
        try:
            current = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise _Failure(UNSUPPORTED_URL, f"invalid URL: {exc}") from None
        hops = 0
        outcome.attempts = 1
        while True:
            if current.scheme not in ("http", "https"):
                raise _Failure(UNSUPPORTED_URL, f"{current.scheme!r} URL: only http and https are fetched")
            if not current.host:
                raise _Failure(UNSUPPORTED_URL, f"no host in {str(current)[:200]!r}")
            rules = None
            if not robots:
                # robots.txt first (its own request passes the same address checks): a host that
                # cannot be connected to then fails its other pages at once, without a DNS lookup
                # each (thousands of teasers of one unreachable site would take minutes).
                rules = await self.robots_for(current)
                if rules.failure is not None and rules.failure.startswith(CONNECTION_FAILED):
                    raise _Failure(rules.failure, rules.unavailable)
            try:
                await check_target(current, self.policy)
            except SchemeRefused:
                raise _Failure(
                    UNSUPPORTED_URL, f"{current.scheme!r} URL: only http and https are fetched"
                ) from None
            except TargetRefused as exc:
                raise _Failure(REFUSED_ADDRESS, exc.reason) from None
            if rules is not None:
                if rules.unavailable is not None:
                    raise _Failure(ROBOTS_UNAVAILABLE, rules.unavailable)
                if not rules.allows(str(current), settings.user_agent):
                    raise _Failure(ROBOTS_DISALLOWS, f"{rules.origin}/robots.txt disallows {current.path}")
            if budget <= 0:
                raise _Failure(TIMEOUT, f"no complete answer within the page's {settings.deadline_s:g}s")
            async with self.slot(host_key(str(current))):
                started = time.monotonic()
                if outcome.first_request is None:
                    outcome.first_request = started
                outcome.fetched_at = now_utc()
                outcome.final_url = str(current)
                try:
                    async with asyncio.timeout(budget):
                        step = await self._request(current, robots)
                except TimeoutError:
                    raise _Failure(
                        TIMEOUT, f"no complete answer within the page's {settings.deadline_s:g}s"
                    ) from None
                except _Retry as retry:
                    step = retry
                finally:
                    budget -= time.monotonic() - started
            if isinstance(step, _Answer):
                return step
            if isinstance(step, _Redirect):
                hops += 1
                if hops > settings.max_redirects:
                    raise _Failure(TOO_MANY_REDIRECTS, f"more than {settings.max_redirects} redirects")
                current, outcome.attempts = step.url, 1
                continue
            budget = await self._wait_to_retry(step, current, outcome, budget)

    async def _wait_to_retry(self, retry: _Retry, url: httpx.URL, outcome: _Outcome, budget: float) -> float:
        """Sleep before the next attempt at `url`, or raise the failure; returns the budget left."""
        settings = self.settings
        tries = f"{outcome.attempts} attempt{'s' if outcome.attempts > 1 else ''}"
        if outcome.attempts > settings.retries:
            raise _Failure(retry.error, f"{retry.detail} after {tries}", retry.status)
        if retry.retry_after is not None and retry.retry_after > settings.max_retry_after_s:
            raise _Failure(
                retry.error,
                f"{retry.detail}; Retry-After {retry.retry_after:.0f}s: not retried in this run",
                retry.status,
            )
        wait = (
            retry.retry_after
            if retry.retry_after is not None
            else settings.backoff_s * 2 ** (outcome.attempts - 1)
        )
        if wait >= budget:
            raise _Failure(
                retry.error, f"{retry.detail}; a retry in {wait:g}s would pass the deadline", retry.status
            )
        if retry.retry_after is not None:
            gate = self.gate(host_key(str(url)))
            gate.not_before = max(gate.not_before, time.monotonic() + retry.retry_after)
        await asyncio.sleep(wait)
        outcome.attempts += 1
        return budget - wait

    async def _request(self, url: httpx.URL, robots: bool) -> _Answer | _Redirect:
        """One GET; raises _Retry (5xx, 429, a broken connection) or _Failure."""
        settings = self.settings
        headers = {
            "User-Agent": settings.user_agent,
            "Accept": "text/plain, */*;q=0.1" if robots else "text/html, application/xhtml+xml;q=0.9",
            "Accept-Encoding": "gzip, deflate",  # exactly what read_body decodes
        }
        try:
            response = await self.client.send(
                self.client.build_request("GET", url, headers=headers), stream=True, follow_redirects=False
            )
            try:
                return await self._answer(response, robots)
            finally:
                await response.aclose()
        except BodyTooLarge:
            limit = ROBOTS_MAX_BYTES if robots else settings.max_bytes
            raise _Failure(TOO_LARGE, f"body larger than {limit} bytes") from None
        except BadEncoding as exc:
            raise _Failure(BAD_ENCODING, exc.reason) from None
        except TargetRefused as exc:  # the connect-time check (e.g. DNS rebinding)
            raise _Failure(REFUSED_ADDRESS, exc.reason) from None
        except httpx.TimeoutException:
            raise _Failure(TIMEOUT, f"no answer within {settings.timeout_s:g}s") from None
        except httpx.ConnectError as exc:
            raise _Failure(f"{CONNECTION_FAILED}: {network_reason(exc)}") from None
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError) as exc:
            reason = network_reason(exc)
            raise _Retry(f"{CONNECTION_FAILED}: {reason}", reason, None, None) from None
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise _Failure(UNSUPPORTED_URL, str(exc)[:300]) from None
        except httpx.HTTPError as exc:
            raise _Failure(f"{CONNECTION_FAILED}: {type(exc).__name__}", str(exc)[:300]) from None

    async def _answer(self, response: httpx.Response, robots: bool) -> _Answer | _Redirect:
        if response.next_request is not None:
            return _Redirect(response.next_request.url)
        status = response.status_code
        if status >= 500 or status == 429:
            raise _Retry(
                f"http {status}",
                f"HTTP {status} {response.reason_phrase}".strip(),
                status,
                retry_after_seconds(response.headers.get("Retry-After")),
            )
        if not 200 <= status < 300:
            raise _Failure(f"http {status}", f"HTTP {status} {response.reason_phrase}".strip(), status)
        content_type = response.headers.get("Content-Type")
        if not robots and _media_type(content_type) not in HTML_TYPES:
            media_type = _media_type(content_type) or "no Content-Type"
            raise _Failure(f"{NOT_HTML}: {media_type}", None, status, content_type)
        limit = ROBOTS_MAX_BYTES if robots else self.settings.max_bytes
        return _Answer(status, str(response.url), content_type, await read_body(response, limit))


# -- the API ------------------------------------------------------------------------------------------------
def _result(requested: str, canonical: str, outcome: _Outcome | None, error: str | None = None) -> PageResult:
    if outcome is None:
        return PageResult(
            requested, canonical, None, None, None, None, None, now_utc(), 0.0, 0, error
        )
    return PageResult(
        requested_url=requested,
        canonical_url=canonical,
        final_url=outcome.final_url,
        status=outcome.status,
        content_type=outcome.content_type,
        charset=_charset(outcome.content_type),
        body=outcome.body if outcome.error is None else None,
        fetched_at=outcome.fetched_at or now_utc(),
        elapsed_s=outcome.finished - outcome.first_request if outcome.first_request is not None else 0.0,
        attempts=outcome.attempts if outcome.first_request is not None else 0,
        error=outcome.error,
        detail=outcome.detail,
    )


def fetch_pages(
    urls: Sequence[str],
    settings: PageSettings,
    *,
    robots_cache: RobotsCache | None = None,
    on_result: Callable[[PageResult], None] | None = None,
) -> list[PageResult]:
    """Fetch article pages; one PageResult per URL, in input order (see the module docstring).

    `on_result` is called with each result as soon as its page is done (a URL given twice: once per
    occurrence, at the same time)."""
    canonicals = [canonical_url(url) for url in urls]
    if not settings.enabled:
        results = [
            _result(url, canonical, None, DISABLED) for url, canonical in zip(urls, canonicals, strict=True)
        ]
        for result in results:
            if on_result is not None:
                on_result(result)
        return results
    requested_by: dict[str, list[int]] = {}
    for index, canonical in enumerate(canonicals):
        requested_by.setdefault(canonical, []).append(index)
    results: list[PageResult | None] = [None] * len(urls)

    async def main() -> None:
        async with _client(settings) as client:
            run = _Run(settings, client, robots_cache if robots_cache is not None else RobotsCache())

            async def one(canonical: str) -> None:
                outcome = await run.fetch(canonical)
                for index in requested_by[canonical]:
                    results[index] = _result(urls[index], canonical, outcome)
                    if on_result is not None:
                        on_result(results[index])

            await asyncio.gather(*(one(canonical) for canonical in requested_by))

    if urls:
        run_async(main())
    return [result for result in results if result is not None]
