"""Text, score and actor stages applied to one parsed entry: the article as the warehouse stores it.

Also the one rule for "this feed item carries no real body, only a teaser" (`is_teaser`), decided at
ingest: such an article is stored with its teaser's sentences and marked for the page step
(pipeline.fulltext), which fetches its link and replaces the teaser's sentences with the page's.

This module is also what a worker process runs for a big feed (`read_and_score_part`), so it stays
light: no SQLAlchemy, no HTTP client, only the stages it chains.
"""

from __future__ import annotations

import ctypes
import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from pipeline.actors import Gazetteer, load_gazetteer
from pipeline.parse import FeedPart, ParsedEntry, read_part
from pipeline.score import Scorer, encode_matches, load_scorer
from pipeline.text import html_to_text, split_sentences, strip_boilerplate, text_sentences

# The teaser rule (`is_teaser`). Feeds that carry the article (content:encoded, Atom content) give it
# in several paragraphs; a teaser is one paragraph of a sentence or two (in the world-news sample
# the median teaser is 118 characters; WordPress excerpts stop at 55 words plus "[...]").
TEASER_MAX_WORDS = 80  # a one-paragraph body beyond the title shorter than this is a teaser
_WORD = re.compile(r"\w+")


class SentenceRecord(NamedTuple):
    """One scored, tagged sentence. A NamedTuple: a big feed's hundred thousand of them travel
    back from the worker processes, and tuples pickle several times faster than dataclasses."""

    seq: int
    text: str
    score: float
    escalation: float
    deescalation: float
    matches: str  # JSON list of Match.to_dict(), as score.encode_matches writes it
    actors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ArticleRecord:
    article_key: str
    guid: str | None
    url: str | None
    title: str
    published_at: datetime
    date_source: str
    content_hash: str
    sentences: tuple[SentenceRecord, ...]
    needs_page: bool = False  # a teaser with an http(s) link: the page step fetches it (is_teaser)


def is_teaser(title: str, body_text: str) -> bool:
    """Whether a feed item's body (cleaned text: `strip_boilerplate(html_to_text(html))`) is only a
    teaser: without the title and the feed's boilerplate ("Share it", "The post ... appeared first
    on ..."), at most one paragraph and fewer than TEASER_MAX_WORDS words. Several paragraphs are a
    body, however short (a feed that carries the article gives it in paragraphs); so is a long
    single paragraph."""
    blocks = [p for p in body_text.split("\n\n") if p.strip()]
    if len(blocks) > 2:  # two paragraphs beyond a repeated headline at most: a body (no segmenting)
        return False
    if len(_WORD.findall(body_text)) >= TEASER_MAX_WORDS + len(_WORD.findall(title)):
        return False
    headline = {s.casefold().rstrip(".!? ") for s in split_sentences(title)}
    paragraphs = []
    for paragraph in blocks:
        rest = [s for s in split_sentences(paragraph) if s.casefold().rstrip(".!? ") not in headline]
        if rest:
            paragraphs.append(" ".join(rest))
    words = sum(len(_WORD.findall(p)) for p in paragraphs)
    return len(paragraphs) <= 1 and words < TEASER_MAX_WORDS


def _has_web_link(link: str | None) -> bool:
    return bool(link) and link.split(":", 1)[0].lower() in ("http", "https")


def article_record(entry: ParsedEntry, scorer: Scorer, gazetteer: Gazetteer) -> ArticleRecord:
    """One entry cleaned, split, scored and tagged (and whether its page is wanted: `is_teaser`)."""
    body_text = strip_boilerplate(html_to_text(entry.content_html or entry.summary_html))
    records = scored_sentences(text_sentences(entry.title, body_text), scorer, gazetteer)
    return ArticleRecord(
        article_key=entry.entry_id,
        guid=entry.guid,
        url=entry.link,
        title=entry.title,
        published_at=entry.published_at,
        date_source=entry.date_source,
        content_hash=content_hash(records),
        sentences=records,
        needs_page=_has_web_link(entry.link) and is_teaser(entry.title, body_text),
    )


def content_hash(sentences: tuple[SentenceRecord, ...]) -> str:
    return hashlib.sha1("\n".join(r.text for r in sentences).encode("utf-8")).hexdigest()


def scored_sentences(sentences: list[str], scorer: Scorer, gazetteer: Gazetteer) -> tuple[SentenceRecord, ...]:
    """Sentences scored and tagged, numbered from 0 (a feed item's or an article page's)."""
    records = []
    for seq, text in enumerate(sentences):
        scored = scorer.score_sentence(text)
        records.append(
            SentenceRecord(
                seq,
                text,
                scored.score,
                scored.escalation,
                scored.deescalation,
                encode_matches(scored.matches),
                tuple(gazetteer.codes(text)),
            )
        )
    return tuple(records)


def read_and_score_part(
    body: bytes,
    source: str,
    fetched_at: datetime,
    skip_keys: frozenset[str],
    lexicon_file: Path,
    gazetteer_file: Path,
) -> tuple[FeedPart, list[ArticleRecord]]:
    """One part of a split feed, parsed, and the article of the first entry under each key that is
    not in `skip_keys` (keys the feed stored lately): what a worker process runs. An entry
    whose article was built comes back without its HTML. The knowledge files compile once per
    process (load_scorer and load_gazetteer cache them)."""
    _release_freed_memory()  # the previous part's result, sent by now
    part = read_part(body, source, fetched_at)
    scorer, gazetteer = load_scorer(lexicon_file), load_gazetteer(gazetteer_file)
    seen = set(skip_keys)
    records = []
    candidates = []
    for candidate in part.candidates:
        if candidate.entry_id not in seen and candidate.entry is not None:
            records.append(article_record(candidate.entry, scorer, gazetteer))
            # The article holds the text now: the entry goes back without its HTML (a big feed's
            # parts would otherwise all sit twice in the parent's memory).
            candidate = candidate._replace(entry=replace(candidate.entry, summary_html="", content_html=""))
        seen.add(candidate.entry_id)
        candidates.append(candidate)
    return replace(part, candidates=tuple(candidates)), records


def warm_up(lexicon_file: Path, gazetteer_file: Path) -> None:
    """A new worker process's first task: compile the knowledge files before the real work arrives."""
    load_scorer(lexicon_file)
    load_gazetteer(gazetteer_file)


def _release_freed_memory() -> None:
    """Give memory freed by Python back to the OS (glibc keeps freed heap pages otherwise), so a
    worker's resident size is that of the part in hand, not of the largest part it ever held."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass
