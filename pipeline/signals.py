"""Signals stage: daily time series per actor (and for all articles, actor 'ALL').

For a UTC day d and an actor a, over the sentences of articles published on d that mention a:
    sentences                = n
    escalatory_sentences     = #{score >= ESCALATORY_THRESHOLD}
    deescalatory_sentences   = #{score <= DEESCALATORY_THRESHOLD}
    escalation_index         = 100 * sum(max(score, 0)) / (n + 3)
    deescalation_index       = 100 * sum(max(-score, 0)) / (n + 3)
    articles, sources        = distinct articles, distinct feeds that carried them
    max_score                = max(score)
The index is a mean intensity, not a count: a busier news day with the same mix of language does
not rise. The "+ 3" shrinks thin days toward 0, so one angry sentence is not a 100-point day.
The aggregation runs in SQL (GROUP BY, in pipeline/store/signals.py), identically on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pipeline.store import Warehouse

SHRINKAGE_SENTENCES = 3  # the "+ 3": pseudo-sentences of score 0 added to every day


@dataclass(frozen=True)
class SignalsReport:
    since: date
    until: date
    rows_written: int


def compute_signals(warehouse: Warehouse, since: date, until: date) -> SignalsReport:
    """Recompute every signal row of [since, until]: delete the range and insert it anew, atomically."""
    if since > until:
        raise ValueError(f"since {since} is after until {until}")
    written = warehouse.recompute_daily_signals(since, until, shrinkage=SHRINKAGE_SENTENCES)
    return SignalsReport(since, until, written)
