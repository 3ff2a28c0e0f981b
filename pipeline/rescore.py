"""Re-scoring stored sentences with the current lexicon: one planner (sentence-id ranges of bounded
size) and one batch function, used by `escalation rescore` and the `escalation_rescore` DAG alike.

The CLI re-scores every sentence of a day range (`stale_only=False`: sentences already scored by
the current version are rewritten with identical values, so a re-run changes nothing) and then
recomputes the range's signals; the DAG re-scores only sentences of another scorer version, in
mapped tasks, and hands the days to the signals DAG.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.score import Scorer, encode_matches
from pipeline.signals import compute_signals
from pipeline.store import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RescoreReport:
    sentences: int
    changed_scores: int
    signal_rows: int
    scorer_version: str


@dataclass(frozen=True)
class BatchResult:
    sentences: int
    changed_scores: int
    days: list[str]  # ISO days of the re-scored sentences, sorted


def score_update(scorer: Scorer, sentence_id: int, text: str) -> dict[str, Any]:
    """The new score columns of one stored sentence (the row `Warehouse.update_sentence_scores` takes)."""
    scored = scorer.score_sentence(text)
    return {
        "sentence_id": sentence_id,
        "score": scored.score,
        "escalation": scored.escalation,
        "deescalation": scored.deescalation,
        "matches": encode_matches(scored.matches),  # the JSON text an ingest stores
    }


def stale_sentence_count(warehouse: Warehouse, current_version: str) -> int:
    """How many stored sentences were scored by another scorer version than the current one."""
    return warehouse.stale_sentence_count(current_version)


def plan_rescore_batches(
    warehouse: Warehouse,
    current_version: str,
    batch_size: int,
    max_batches: int | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    stale_only: bool = True,
) -> list[dict[str, int]]:
    """Sentence-id ranges holding at most batch_size sentences to re-score each, at most max_batches
    of them (None: all); the rest is left for the next run. `stale_only`: only sentences scored by
    another version than current_version; since/until: only articles published in that range."""
    if batch_size < 1 or (max_batches is not None and max_batches < 1):
        raise ValueError("batch_size and max_batches must be at least 1")
    ranges = warehouse.sentence_id_ranges(
        batch_size,
        max_batches,
        other_than_version=current_version if stale_only else None,
        since=since,
        until=until,
    )
    return [{"first_id": first, "last_id": last, "sentences": count} for first, last, count in ranges]


def rescore_batch(
    warehouse: Warehouse,
    scorer: Scorer,
    first_id: int,
    last_id: int,
    limit: int | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    stale_only: bool = True,
) -> BatchResult:
    """Re-score the sentences with first_id <= id <= last_id (filtered as in the plan).

    With stale_only, a retried batch redoes nothing that already committed. Every re-scored day is
    returned (not only days whose scores changed): the lexicon changed, so their signals and alerts
    are recomputed.
    """
    rows = warehouse.sentences_between(
        first_id,
        last_id,
        other_than_version=scorer.version if stale_only else None,
        since=since,
        until=until,
        limit=limit,
    )
    updates = [score_update(scorer, row["sentence_id"], row["text"]) for row in rows]
    warehouse.update_sentence_scores(updates, scorer.version)
    changed = sum(abs(u["score"] - row["score"]) > 1e-9 for u, row in zip(updates, rows, strict=True))
    log.info("re-scored %d sentences (ids %d..%d) with %s", len(updates), first_id, last_id, scorer.version)
    days = sorted({row["published_day"].isoformat() for row in rows})
    return BatchResult(len(updates), changed, days)


def rescore(
    warehouse: Warehouse,
    scorer: Scorer,
    since: date | None = None,
    until: date | None = None,
    *,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] | None = None,
) -> RescoreReport:
    """Re-score every stored sentence of [since, until] (open ends: all), then recompute the signals
    of the days the stored articles span within it."""
    total = changed = 0
    plan = plan_rescore_batches(
        warehouse, scorer.version, batch_size, since=since, until=until, stale_only=False
    )
    for batch in plan:
        done = rescore_batch(
            warehouse, scorer, batch["first_id"], batch["last_id"], since=since, until=until, stale_only=False
        )
        total += done.sentences
        changed += done.changed_scores
        if on_batch is not None:
            on_batch(done.sentences)
    signal_rows = 0
    bounds = warehouse.article_day_bounds(since, until)
    if bounds is not None:
        signal_rows = compute_signals(warehouse, *bounds).rows_written
    return RescoreReport(total, changed, signal_rows, scorer.version)
