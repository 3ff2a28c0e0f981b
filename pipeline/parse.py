"""Parse stage: feedparser output normalised into `ParsedEntry` records with stable ids and UTC dates.

feedparser is given bytes only (it sniffs the encoding itself) and never fetches anything.
A "bozo" feed that still yields entries is ingested and its reason kept; a document with no
entries that is not well-formed is an error for that feed.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import feedparser

# Query parameters that only track the reader; two links that differ only in these are the same article.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "cmpid",
        "cmp",
        "ref",
        "ref_src",
        "ref_url",
        "igshid",
        "spm",
        "smid",
        "sr_share",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "xtor",
        "_ga",
        "yclid",
        "s_cid",
        "icid",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
EARLIEST_TRUSTED = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_TOLERANCE = timedelta(days=1)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ParsedEntry:
    entry_id: str
    guid: str | None
    title: str
    link: str | None
    published_at: datetime
    date_source: str  # "published" | "updated" | "fetched"
    summary_html: str
    content_html: str


@dataclass(frozen=True)
class ParsedFeed:
    source: str
    title: str | None
    entries: tuple[ParsedEntry, ...]
    bozo_reason: str | None = None
    error: str | None = None
    duplicates_dropped: int = 0
    dates_fixed: int = 0


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no default port, no tracking parameters."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() not in TRACKING_PARAMS and not key.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, host, parts.path or ("/" if host else ""), urlencode(query), ""))


def _clean_title(raw: str | None) -> str:
    return _WHITESPACE.sub(" ", html.unescape(raw or "")).strip()


def _is_http(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _stable_id(
    entry: feedparser.FeedParserDict, source: str, link: str | None, title: str, summary: str
) -> tuple[str, str | None]:
    guid = (entry.get("id") or "").strip() or None
    if guid:
        if _is_http(guid):
            return canonical_url(guid), guid
        # A bare guid like "1234" is only unique within its own feed.
        return f"{source}#{guid}", guid
    if link:
        return link, None
    digest = hashlib.sha1(f"{title}\n{summary}".encode()).hexdigest()
    return f"sha1:{digest}", None


def _entry_time(entry: feedparser.FeedParserDict, fetched_at: datetime) -> tuple[datetime, str, bool]:
    """(time, which field it came from, whether an untrusted date was replaced by the fetch time)."""
    for key, label in (("published_parsed", "published"), ("updated_parsed", "updated")):
        parsed = entry.get(key)
        if not parsed:
            continue
        try:
            when = datetime.fromtimestamp(calendar.timegm(parsed), UTC)
        except (OverflowError, ValueError, TypeError):
            return fetched_at, "fetched", True
        if when < EARLIEST_TRUSTED or when > fetched_at + FUTURE_TOLERANCE:
            return fetched_at, "fetched", True
        return when, label, False
    return fetched_at, "fetched", False


def _longest_content(entry: feedparser.FeedParserDict) -> str:
    values = [c.get("value") or "" for c in entry.get("content") or []]
    return max(values, key=len, default="")


def parse_feed(body: bytes, source: str, fetched_at: datetime) -> ParsedFeed:
    """Normalise a feed document. Never raises on bad input: problems go into `error`/`bozo_reason`."""
    if not body or not body.strip():
        return ParsedFeed(source, None, (), error="empty body")
    try:
        parsed = feedparser.parse(body, sanitize_html=True, resolve_relative_uris=False)
    except Exception as exc:  # feedparser is robust, but a parser crash must stay this feed's problem
        return ParsedFeed(source, None, (), error=f"not a feed: {type(exc).__name__}: {exc}"[:300])
    bozo_reason = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo_reason = f"{type(exc).__name__}: {exc}"[:300] if exc else "malformed feed"
    feed_title = _clean_title(parsed.feed.get("title")) or None
    if not parsed.entries:
        version = parsed.get("version") or ""
        if bozo_reason:
            return ParsedFeed(
                source, feed_title, (), bozo_reason=bozo_reason, error=f"not a feed: {bozo_reason}"
            )
        if not version:
            return ParsedFeed(source, feed_title, (), error="not a feed: no RSS, Atom or RDF document found")
        return ParsedFeed(source, feed_title, ())

    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    duplicates = dates_fixed = 0
    for entry in parsed.entries:
        title = _clean_title(entry.get("title"))
        raw_link = (entry.get("link") or "").strip()
        link = canonical_url(raw_link) if _is_http(raw_link) else None
        summary = entry.get("summary") or ""
        content = _longest_content(entry)
        entry_id, guid = _stable_id(entry, source, link, title, summary or content)
        if entry_id in seen:
            duplicates += 1
            continue
        seen.add(entry_id)
        published_at, date_source, fixed = _entry_time(entry, fetched_at)
        dates_fixed += fixed
        if not title and not summary and not content:
            continue  # nothing to read: an empty item is not an article
        entries.append(
            ParsedEntry(
                entry_id=entry_id,
                guid=guid,
                title=title,
                link=link,
                published_at=published_at,
                date_source=date_source,
                summary_html=summary,
                content_html=content,
            )
        )
    return ParsedFeed(
        source=source,
        title=feed_title,
        entries=tuple(entries),
        bozo_reason=bozo_reason,
        duplicates_dropped=duplicates,
        dates_fixed=dates_fixed,
    )
