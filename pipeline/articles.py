"""Text, score and actor stages applied to one parsed entry: the article as the warehouse stores it.

This module is also what a worker process runs for a big feed (`read_and_score_part`), so it stays
light: no SQLAlchemy, no HTTP client, only the stages it chains.
"""

from __future__ import annotations

import ctypes
import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from pipeline.actors import Gazetteer, load_gazetteer
from pipeline.parse import FeedPart, ParsedEntry, read_part
from pipeline.score import Scorer, encode_matches, load_scorer
from pipeline.text import article_sentences


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


def article_record(entry: ParsedEntry, scorer: Scorer, gazetteer: Gazetteer) -> ArticleRecord:
    """One entry cleaned, split, scored and tagged."""
    sentences = article_sentences(entry.title, entry.content_html or entry.summary_html)
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
    return ArticleRecord(
        article_key=entry.entry_id,
        guid=entry.guid,
        url=entry.link,
        title=entry.title,
        published_at=entry.published_at,
        date_source=entry.date_source,
        content_hash=hashlib.sha1("\n".join(sentences).encode("utf-8")).hexdigest(),
        sentences=tuple(records),
    )


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
