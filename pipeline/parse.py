"""Parse stage: feedparser output normalised into `ParsedEntry` records with stable ids and UTC dates.

feedparser is given the bytes wrapped in a file object (it sniffs the encoding itself): given bare
bytes, feedparser.parse() first tries them as a local FILE NAME, so a server answering "/etc/passwd"
would have made it read that file. It never fetches anything.
feedparser's HTML sanitizer is off: no feed HTML is ever rendered as HTML here (the text stage turns
it into plain text and drops script/style content; the report and e-mails escape what they show),
and sanitizing was a fifth of the parse time.
A "bozo" feed that still yields entries is ingested and its reason kept; a document with no
entries that is not well-formed is an error for that feed.

Hostile documents: DTD entity declarations are removed before parsing (no billion laughs, no
quadratic blowup, no external entities, whatever the parser would do with them), and an entry's
text, title and ids are bounded, so one 10 MB item cannot flood the text and score stages or break
the warehouse's unique index on article keys.
"""

from __future__ import annotations

import calendar
import codecs
import hashlib
import html
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.parsers import expat

import feedparser

from pipeline import interrupts
from pipeline.text import html_to_text, split_sentences, strip_boilerplate

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
# C0 controls other than tab/newline/CR, and DEL: never text, and PostgreSQL refuses NUL in TEXT, so
# one NUL in a title would otherwise fail the whole feed's transaction there.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Bounds per entry. A long news article is well under 100 000 characters of HTML; a PostgreSQL btree
# (the unique index on articles.article_key) refuses keys over ~2 700 bytes.
MAX_ENTRY_HTML_CHARS = 200_000
MAX_TITLE_CHARS = 500
MAX_KEY_CHARS = 1_000
MAX_LINK_CHARS = 2_000

# An entity declaration, quoted values skipped whole (a ">" inside quotes does not end it).
_ENTITY_DECL = re.compile(r"""<!ENTITY\s(?:"[^"]*"|'[^']*'|[^>"'])*>""", re.IGNORECASE)
_ENTITY_DECL_BYTES = re.compile(_ENTITY_DECL.pattern.encode(), re.IGNORECASE)
_ENTITY_START = re.compile(r"<!ENTITY", re.IGNORECASE)
_ENTITY_START_BYTES = re.compile(rb"<!ENTITY", re.IGNORECASE)
_XML_DECL_ENCODING = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")
_HTML_PAGE = re.compile(rb"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)
# Encodings in which "<!ENTITY" is not plain ASCII bytes: (BOM or first bytes of "<?", codec, skip).
_WIDE_ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", 4),
    (codecs.BOM_UTF32_BE, "utf-32-be", 4),
    (codecs.BOM_UTF16_LE, "utf-16-le", 2),
    (codecs.BOM_UTF16_BE, "utf-16-be", 2),
    (b"<\x00\x00\x00", "utf-32-le", 0),
    (b"\x00\x00\x00<", "utf-32-be", 0),
    (b"<\x00?\x00", "utf-16-le", 0),
    (b"\x00<\x00?", "utf-16-be", 0),
)


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
    entries_truncated: int = 0


DEFAULT_PORTS = MappingProxyType({"http": 80, "https": 443})


def host_key(url: str) -> str:
    """The host that per-host limits count: lower-case host, plus the port unless it is the default."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return host if port is None or port == DEFAULT_PORTS.get(parts.scheme.lower()) else f"{host}:{port}"


def canonical_url(url: str) -> str:
    """Lower-case scheme and host, no fragment, no default port, no tracking parameters."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:  # urlsplit drops the brackets of an IPv6 literal
        host = f"[{host}]"
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


def _clean_title(raw: str | None, markup: bool = False) -> str:
    """A title as one line of plain text. `markup`: feedparser says it is HTML/XHTML, so tags go
    (and a script's text with them); a plain-text title keeps a literal "<" as written."""
    text = html_to_text(raw) if markup and raw and "<" in raw else html.unescape(raw or "")
    title = _WHITESPACE.sub(" ", _CONTROL_CHARS.sub("", text)).strip()
    if len(title) > MAX_TITLE_CHARS:
        cut = title.rfind(" ", 0, MAX_TITLE_CHARS)
        title = title[: cut if cut > MAX_TITLE_CHARS // 2 else MAX_TITLE_CHARS].rstrip() + "…"
    return title


def _is_markup(node: feedparser.FeedParserDict) -> bool:
    detail = node.get("title_detail") or {}
    return detail.get("type") in ("text/html", "application/xhtml+xml")


def _bounded_html(markup: str) -> tuple[str, bool]:
    """At most MAX_ENTRY_HTML_CHARS, not ending inside a tag; and whether it was cut."""
    if len(markup) <= MAX_ENTRY_HTML_CHARS:
        return markup, False
    cut = markup[:MAX_ENTRY_HTML_CHARS]
    open_tag = cut.rfind("<")
    if open_tag > cut.rfind(">"):
        cut = cut[:open_tag]
    return cut, True


def _fallback_title(body_html: str) -> str:
    """An untitled item is headed by its first sentence (the text stage keeps that sentence once)."""
    sentences = split_sentences(strip_boilerplate(html_to_text(body_html[:20_000])))
    return _clean_title(sentences[0]) if sentences else ""


def _without_entity_declarations(body: bytes) -> tuple[bytes | None, bool]:
    """The document without DTD entity declarations (None: some could not be removed), and whether
    there were any. Feeds have no use for them; they carry entity-expansion bombs and XXE."""
    wide = next(((codec, skip) for head, codec, skip in _WIDE_ENCODINGS if body.startswith(head)), None)
    if wide is None:  # ASCII-compatible (UTF-8, Latin-1, windows-125x...): work on the bytes
        if not _ENTITY_START_BYTES.search(body):
            return body, False
        cleaned = _ENTITY_DECL_BYTES.sub(b"", body)
        return (None if _ENTITY_START_BYTES.search(cleaned) else cleaned), True
    codec, skip = wide
    text = body[skip:].decode(codec, errors="replace")
    if not _ENTITY_START.search(text):
        return body, False
    cleaned_text = _ENTITY_DECL.sub("", text)
    if _ENTITY_START.search(cleaned_text):
        return None, True
    # Re-encoded as UTF-8, so the XML declaration must stop claiming UTF-16/32.
    return _XML_DECL_ENCODING.sub(r"\1\2utf-8\2", cleaned_text, count=1).encode("utf-8"), True


def _is_http(value: str) -> bool:
    return value.lower().startswith(("http://", "https://"))


def _bounded_key(key: str) -> str:
    # A monster guid or link would not fit the unique index: it is still one stable key, hashed.
    if len(key) <= MAX_KEY_CHARS:
        return key
    return "sha1:" + hashlib.sha1(key.encode("utf-8", "surrogatepass")).hexdigest()


def _stable_id(
    entry: feedparser.FeedParserDict, source: str, link: str | None, title: str, summary: str
) -> tuple[str, str | None]:
    guid = _CONTROL_CHARS.sub("", entry.get("id") or "").strip() or None
    if guid:
        stored_guid = guid[:MAX_KEY_CHARS]
        if _is_http(guid):
            return _bounded_key(canonical_url(guid)), stored_guid
        # A bare guid like "1234" is only unique within its own feed.
        return _bounded_key(f"{source}#{guid}"), stored_guid
    if link:
        return _bounded_key(link), None
    digest = hashlib.sha1(f"{title}\n{summary}".encode("utf-8", "surrogatepass")).hexdigest()
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


# Item elements and the parents whose items split_feed may separate: RSS 2.0 channel/item,
# RSS 1.0 rdf:RDF/item, Atom feed/entry (by local name; namespaces are kept as written).
_ITEM_PARENTS = {"item": ("channel", "RDF"), "entry": ("feed",)}


def split_feed(body: bytes, parts: int) -> list[bytes] | None:
    """The feed as up to `parts` smaller documents that feedparser reads exactly as it reads the
    whole: each is the head (up to the first item), a contiguous run of items, and the tail (after
    the last item). None when the document cannot be split safely (not well-formed, not ASCII-
    compatible, DTD entities) or has fewer than two items; the caller then parses it whole."""
    if (
        parts < 2
        or any(body.startswith(head) for head, _, _ in _WIDE_ENCODINGS)
        or _ENTITY_START_BYTES.search(body)
    ):
        return None
    spans = _item_spans(body)
    if spans is None or len(spans) < 2:
        return None
    head, tail = body[: spans[0][0]], body[spans[-1][1] :]
    size = -(-len(spans) // min(parts, len(spans)))
    starts = [spans[i][0] for i in range(0, len(spans), size)]
    ends = starts[1:] + [spans[-1][1]]
    return [head + body[start:end] + tail for start, end in zip(starts, ends, strict=True)]


def _item_spans(body: bytes) -> list[tuple[int, int]] | None:
    """Byte spans of the feed's items, from one pass of expat (no entities expanded, nothing
    fetched); None when expat finds the document malformed or in an encoding it does not know."""
    parser = expat.ParserCreate(namespace_separator=" ")
    stack: list[str] = []
    spans: list[tuple[int, int]] = []
    open_item: list[int] = []  # [start offset, depth] while inside an item

    def start_element(name: str, _attrs: object) -> None:
        local = name.rpartition(" ")[2]
        if not open_item and stack and stack[-1] in _ITEM_PARENTS.get(local, ()):
            open_item.extend((parser.CurrentByteIndex, len(stack)))
        stack.append(local)

    def end_element(_name: str) -> None:
        stack.pop()
        if open_item and len(stack) == open_item[1]:
            # CurrentByteIndex is the "<" of the end tag (or of an empty element's only tag).
            close = body.find(b">", parser.CurrentByteIndex)
            spans.append((open_item[0], close + 1))
            open_item.clear()

    parser.StartElementHandler = start_element
    parser.EndElementHandler = end_element
    try:
        parser.Parse(body, True)
    except (expat.ExpatError, ValueError):
        return None
    return spans


class _Candidate(NamedTuple):
    """One feed item normalised, before de-duplication (None: an empty item, not an article)."""

    entry_id: str
    entry: ParsedEntry | None
    truncated: bool
    date_fixed: bool


@dataclass(frozen=True)
class FeedPart:
    """A document (a whole feed, or one part of a split feed) read by feedparser: every item in
    document order, not yet de-duplicated. `assemble` makes the ParsedFeed."""

    title: str | None
    candidates: tuple[_Candidate, ...]
    notes: tuple[str, ...] = ()
    error: str | None = None


def parse_feed(body: bytes, source: str, fetched_at: datetime) -> ParsedFeed:
    """Normalise a feed document. Never raises on bad input: problems go into `error`/`bozo_reason`."""
    return assemble(source, [read_part(body, source, fetched_at)])


def read_part(body: bytes, source: str, fetched_at: datetime) -> FeedPart:
    """feedparser on one document and every item normalised (runs in a worker process for the
    parts of a big feed, so it takes and returns only picklable values). Never raises."""
    if not body or not body.strip():
        return FeedPart(None, (), error="empty body")
    notes: list[str] = []
    cleaned, had_entities = _without_entity_declarations(body)
    if cleaned is None:
        return FeedPart(None, (), error="not a feed: malformed DTD entity declarations refused")
    if had_entities:
        notes.append("DTD entity declarations removed (entities are never expanded)")
    try:
        parsed = feedparser.parse(io.BytesIO(cleaned), sanitize_html=False, resolve_relative_uris=False)
    except Exception as exc:  # feedparser is robust, but a parser crash must stay this feed's problem
        interrupts.reraise_if_stopping(exc)
        return FeedPart(None, (), error=f"not a feed: {type(exc).__name__}: {exc}"[:300])
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        notes.insert(0, f"{type(exc).__name__}: {exc}"[:300] if exc else "malformed feed")
    feed_title = _clean_title(parsed.feed.get("title"), _is_markup(parsed.feed)) or None
    if not parsed.entries:
        version = parsed.get("version") or ""
        if not version and _HTML_PAGE.search(body[:4096]):
            return FeedPart(feed_title, (), tuple(notes), "not a feed: an HTML page, not RSS/Atom/RDF")
        if parsed.get("bozo"):
            reason = "; ".join(notes)[:500]
            return FeedPart(feed_title, (), tuple(notes), f"not a feed: {reason}"[:300])
        if not version:
            return FeedPart(feed_title, (), (), "not a feed: no RSS, Atom or RDF document found")
        return FeedPart(feed_title, (), tuple(notes))
    return FeedPart(
        feed_title, tuple(_candidate(entry, source, fetched_at) for entry in parsed.entries), tuple(notes)
    )


def _candidate(entry: feedparser.FeedParserDict, source: str, fetched_at: datetime) -> _Candidate:
    title = _clean_title(entry.get("title"), _is_markup(entry))
    raw_link = _CONTROL_CHARS.sub("", entry.get("link") or "").strip()
    link = canonical_url(raw_link) if _is_http(raw_link) and len(raw_link) <= MAX_LINK_CHARS else None
    summary, cut_summary = _bounded_html(_CONTROL_CHARS.sub("", entry.get("summary") or ""))
    content, cut_content = _bounded_html(_CONTROL_CHARS.sub("", _longest_content(entry)))
    entry_id, guid = _stable_id(entry, source, link, title, summary or content)
    published_at, date_source, fixed = _entry_time(entry, fetched_at)
    if not title and not summary and not content:
        return _Candidate(entry_id, None, cut_summary or cut_content, fixed)  # nothing to read
    parsed = ParsedEntry(
        entry_id=entry_id,
        guid=guid,
        title=title or _fallback_title(content or summary),
        link=link,
        published_at=published_at,
        date_source=date_source,
        summary_html=summary,
        content_html=content,
    )
    return _Candidate(entry_id, parsed, cut_summary or cut_content, fixed)


def assemble(source: str, parts: Sequence[FeedPart]) -> ParsedFeed:
    """The ParsedFeed of a document read whole (one part) or in parts (in document order): the
    first occurrence of an entry id wins, wherever the duplicates are."""
    title = next((part.title for part in parts if part.title), None)
    failed = next((part for part in parts if part.error), None)
    if failed is not None:
        return ParsedFeed(
            source, title, (), bozo_reason="; ".join(failed.notes)[:500] or None, error=failed.error
        )
    notes = list(dict.fromkeys(note for part in parts for note in part.notes))
    entries: list[ParsedEntry] = []
    seen: set[str] = set()
    duplicates = dates_fixed = truncated = 0
    for candidate in (c for part in parts for c in part.candidates):
        truncated += candidate.truncated
        if candidate.entry_id in seen:
            duplicates += 1
            continue
        seen.add(candidate.entry_id)
        dates_fixed += candidate.date_fixed
        if candidate.entry is not None:
            entries.append(candidate.entry)
    if truncated:
        notes.append(
            f"{truncated} oversized entr{'y' if truncated == 1 else 'ies'} cut to {MAX_ENTRY_HTML_CHARS} characters"
        )
    return ParsedFeed(
        source=source,
        title=title,
        entries=tuple(entries),
        bozo_reason="; ".join(notes)[:500] or None,
        duplicates_dropped=duplicates,
        dates_fixed=dates_fixed,
        entries_truncated=truncated,
    )
