"""Archive replay: news items from a JSON-lines file (optionally gzipped) into the warehouse.

One item a line, shaped like ``{"outlet", "title", "description", "link", "date_published"}``
(``description`` is the RSS teaser, HTML allowed; ``date_published`` ISO 8601, a time without an
offset is UTC). Each outlet becomes one feed with the synthetic URL ``archive:<outlet slug>``;
links are never fetched. Items become `ParsedEntry` records as a parsed feed's entries do (the same
stable id: the canonical link, else a hash of the text), then the same text, score and actor stages
(`articles.article_record`), and are stored with the warehouse's feed writer.

Streamed: the file is read line by line and each outlet's new items are stored in batches of
``batch_size``, so memory holds at most one batch per outlet. Idempotent: a batch whose items are
all stored already writes nothing (no feed update, no fetch-log row), so a second import of the
same file changes nothing.

Bad lines (not JSON, not an object, no title, no usable date) are skipped and counted; the report
keeps the first few line numbers with their reason, so one broken line does not cost the others.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from pipeline.actors import Gazetteer
from pipeline.articles import ArticleRecord, article_record
from pipeline.clock import now_utc
from pipeline.parse import EARLIEST_TRUSTED, MAX_LINK_CHARS, MAX_TITLE_CHARS, ParsedEntry, canonical_url
from pipeline.score import Scorer
from pipeline.store import FetchRecord, StoreResult, Warehouse

ARCHIVE_SCHEME = "archive:"
DEFAULT_BATCH_SIZE = 500
MAX_REPORTED_BAD_LINES = 10
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")
_WHITESPACE = re.compile(r"\s+")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ArchiveError(ValueError):
    """The archive file as a whole cannot be read (missing, not gzip, not UTF-8); one line."""


class BadLine(ValueError):
    """One line of the archive is not a usable item."""


@dataclass(frozen=True)
class ArchiveItem:
    outlet: str
    title: str
    description: str
    link: str | None
    published_at: datetime


@dataclass(frozen=True)
class ImportProgress:
    lines: int  # lines read so far
    items: int  # good items so far
    new_articles: int
    batches_stored: int


@dataclass
class ImportReport:
    lines: int = 0
    items: int = 0
    new_articles: int = 0
    new_sentences: int = 0
    known_articles: int = 0  # items whose article the warehouse already held
    bad_lines: int = 0
    bad_examples: list[tuple[int, str]] = field(default_factory=list)  # (line number, reason)
    batches_stored: int = 0
    outlets: dict[str, int] = field(default_factory=dict)  # outlet -> good items
    first_day: str | None = None
    last_day: str | None = None


def feed_url_for(outlet: str) -> str:
    """The synthetic feed URL of an outlet: ``archive:the-guardian``."""
    slug = _SLUG_JUNK.sub("-", outlet.casefold()).strip("-")
    return ARCHIVE_SCHEME + (slug or "unknown")


def _one_line(value: Any) -> str:
    return _WHITESPACE.sub(" ", _CONTROL_CHARS.sub("", str(value or ""))).strip()


def _published(raw: Any) -> datetime:
    if not isinstance(raw, str) or not raw.strip():
        raise BadLine("no date_published")
    try:
        when = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadLine(f"date_published is not ISO 8601: {raw[:40]!r}") from None
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if when < EARLIEST_TRUSTED:
        raise BadLine(f"date_published before {EARLIEST_TRUSTED.year}: {raw[:40]!r}")
    return when


def parse_item(line: str) -> ArchiveItem:
    """One archive line as an item; raises BadLine with the reason."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise BadLine("not a JSON object")
    title = _one_line(html.unescape(str(data.get("title") or "")))
    if not title:
        raise BadLine("no title")
    if len(title) > MAX_TITLE_CHARS:
        title = title[:MAX_TITLE_CHARS].rstrip() + "…"
    link = _one_line(data.get("link")) or None
    if link and (not link.lower().startswith(("http://", "https://")) or len(link) > MAX_LINK_CHARS):
        link = None
    return ArchiveItem(
        outlet=_one_line(data.get("outlet")) or "unknown",
        title=title,
        description=_CONTROL_CHARS.sub("", str(data.get("description") or "")),
        link=canonical_url(link) if link else None,
        published_at=_published(data.get("date_published")),
    )


def archive_entry(item: ArchiveItem) -> ParsedEntry:
    """The entry a feed parse would have produced for this item (stable id: link, else text hash)."""
    if item.link:
        entry_id = item.link
    else:
        text = f"{feed_url_for(item.outlet)}\n{item.title}\n{item.published_at.isoformat()}"
        entry_id = "sha1:" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()
    return ParsedEntry(
        entry_id=entry_id,
        guid=None,
        title=item.title,
        link=item.link,
        published_at=item.published_at,
        date_source="published",
        summary_html=item.description,
        content_html="",
    )


def _open_text(path: Path) -> IO[str]:
    if not path.is_file():
        raise ArchiveError(f"archive not found: {path}")
    with path.open("rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    raw = gzip.open(path, "rb") if gzipped else path.open("rb")
    return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")


def iter_lines(path: Path) -> Iterator[str]:
    """The file's lines, read lazily (gzip by its magic bytes, not its name)."""
    handle = _open_text(path)
    try:
        read = 0
        try:
            for line in handle:
                read += 1
                yield line
        except (UnicodeDecodeError, gzip.BadGzipFile, EOFError, OSError) as exc:
            raise ArchiveError(f"{path}: unreadable after line {read}: {type(exc).__name__}: {exc}") from None
    finally:
        handle.close()


def store_archive_batch(
    warehouse: Warehouse,
    outlet: str,
    entries: Sequence[ParsedEntry],
    records: Sequence[ArticleRecord],
    fetched_at: datetime,
    run_id: str | None,
    scorer_version: str,
) -> StoreResult:
    """The one call into the warehouse's writer: an outlet's batch as one 'fetch' of its feed."""
    fetch = FetchRecord(
        feed_url=feed_url_for(outlet),
        fetched_at=fetched_at,
        ok=True,
        entries_seen=len(entries),
        feed_title=outlet,
    )
    # An archive replay fetches no link, now or later: its teasers' page rows are stored 'skipped', never
    # 'pending' for the next ingest's page step (which would fetch tens of thousands of old links).
    return warehouse.store_feed_batch(
        fetch, records, run_id, scorer_version, seen_keys=[e.entry_id for e in entries], pages_enabled=False
    )


def import_lines(
    lines: Iterable[str],
    warehouse: Warehouse,
    scorer: Scorer,
    gazetteer: Gazetteer,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    run_id: str | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
    now: Callable[[], datetime] = now_utc,
) -> ImportReport:
    """Import archive lines (see the module docstring); `lines` is consumed lazily."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, not {batch_size}")
    report = ImportReport()
    pending: dict[str, dict[str, ParsedEntry]] = {}  # outlet -> entry id -> entry, in file order

    def flush(outlet: str) -> None:
        batch = list(pending.pop(outlet, {}).values())
        if not batch:
            return
        known = warehouse.existing_article_keys(e.entry_id for e in batch)
        report.known_articles += len(known)
        fresh = [e for e in batch if e.entry_id not in known]
        if not fresh:
            return  # all stored already: nothing to write (a re-import changes nothing)
        records = [article_record(e, scorer, gazetteer) for e in fresh]
        stored = store_archive_batch(warehouse, outlet, batch, records, now(), run_id, scorer.version)
        report.new_articles += stored.new_articles
        report.new_sentences += stored.new_sentences
        report.known_articles += stored.existing_articles
        report.batches_stored += 1

    def progress() -> None:
        if on_progress is not None:
            on_progress(ImportProgress(report.lines, report.items, report.new_articles, report.batches_stored))

    for number, line in enumerate(lines, start=1):
        report.lines = number
        if not line.strip():
            continue
        try:
            item = parse_item(line)
        except BadLine as exc:
            report.bad_lines += 1
            if len(report.bad_examples) < MAX_REPORTED_BAD_LINES:
                report.bad_examples.append((number, str(exc)))
            continue
        report.items += 1
        report.outlets[item.outlet] = report.outlets.get(item.outlet, 0) + 1
        day = item.published_at.date().isoformat()
        report.first_day = min(report.first_day or day, day)
        report.last_day = max(report.last_day or day, day)
        entry = archive_entry(item)
        # The first occurrence of an id in the outlet's batch wins, as in a parsed feed.
        pending.setdefault(item.outlet, {}).setdefault(entry.entry_id, entry)
        if len(pending[item.outlet]) >= batch_size:
            flush(item.outlet)
            progress()
    for outlet in sorted(pending):
        flush(outlet)
    progress()
    return report


def import_archive(
    path: Path,
    warehouse: Warehouse,
    scorer: Scorer,
    gazetteer: Gazetteer,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    run_id: str | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
) -> ImportReport:
    """Import a JSON-lines archive file (.jsonl or gzipped); raises ArchiveError if it cannot be read."""
    return import_lines(
        iter_lines(Path(path)),
        warehouse,
        scorer,
        gazetteer,
        batch_size=batch_size,
        run_id=run_id,
        on_progress=on_progress,
    )
