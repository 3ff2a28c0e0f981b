"""Re-score stored sentences with the current lexicon, in bounded batches, then recompute signals.

Run after a lexicon or gazetteer change (`escalation rescore`); sentences already scored by the
current scorer version are rewritten with identical values, so a re-run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from pipeline.score import Scorer, encode_matches
from pipeline.signals import compute_signals
from pipeline.warehouse import Warehouse, articles


@dataclass(frozen=True)
class RescoreReport:
    sentences: int
    changed_scores: int
    signal_rows: int
    scorer_version: str


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


def rescore(
    warehouse: Warehouse,
    scorer: Scorer,
    since: date | None = None,
    until: date | None = None,
    *,
    batch_size: int = 2000,
    on_batch: Callable[[int], None] | None = None,
) -> RescoreReport:
    total = changed = 0
    for batch in warehouse.iter_sentences(since, until, batch_size):
        rows = []
        for row in batch:
            update = score_update(scorer, row["sentence_id"], row["text"])
            rows.append(update)
            changed += abs(update["score"] - row["score"]) > 1e-9
        warehouse.update_sentence_scores(rows, scorer.version)
        total += len(rows)
        if on_batch is not None:
            on_batch(len(rows))
    signal_rows = 0
    bounds = _day_bounds(warehouse, since, until)
    if bounds is not None:
        signal_rows = compute_signals(warehouse, *bounds).rows_written
    return RescoreReport(total, changed, signal_rows, scorer.version)


def _day_bounds(warehouse: Warehouse, since: date | None, until: date | None) -> tuple[date, date] | None:
    query = sa.select(sa.func.min(articles.c.published_day), sa.func.max(articles.c.published_day))
    if since is not None:
        query = query.where(articles.c.published_day >= since)
    if until is not None:
        query = query.where(articles.c.published_day <= until)
    with warehouse.engine.connect() as conn:
        first, last = conn.execute(query).one()
    return None if first is None else (first, last)
