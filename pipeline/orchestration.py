"""Small Airflow-free helpers behind the DAGs in dags/ (the DAG files only wire tasks to these).

- which UTC days a run must (re)compute: from explicit params, from the days carried by asset
  events, or from a data interval (end exclusive);
- whether a failed feed is worth an orchestrator-level retry (5xx, 429, network errors);
- the scorer-version check and bounded re-scoring batches of the `escalation_rescore` DAG.

Nothing here imports Airflow, so all of it is unit-testable and usable from the CLI.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from pipeline.score import Scorer
from pipeline.warehouse import Warehouse, articles, sentences

log = logging.getLogger(__name__)

# One manual range run may recompute at most this many days (ten years): a typo such as
# since=1026-01-01 should fail fast instead of scanning a millennium.
MAX_RANGE_DAYS = 3660
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def pipeline_run_id(dag_id: str, airflow_run_id: str) -> str:
    """The warehouse pipeline_runs key of an Airflow run (a retried task reuses the same row)."""
    return f"airflow:{dag_id}:{airflow_run_id}"


# -- days -------------------------------------------------------------------------------------------
def parse_day(value: str, name: str = "day") -> date:
    text = str(value).strip()
    if not _DAY_RE.match(text):
        raise ValueError(f"{name} must be a YYYY-MM-DD date, not {value!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is not a valid date: {value!r}") from None


def days_between(since: date, until: date) -> list[str]:
    """Every day of [since, until] (both inclusive) as ISO strings."""
    if since > until:
        raise ValueError(f"since {since} is after until {until}")
    count = (until - since).days + 1
    if count > MAX_RANGE_DAYS:
        raise ValueError(f"range {since}..{until} has {count} days, more than {MAX_RANGE_DAYS}")
    return [(since + timedelta(days=i)).isoformat() for i in range(count)]


def normalize_days(days: Iterable[str | date]) -> list[str]:
    """Sorted, de-duplicated ISO days; rejects anything that is not a YYYY-MM-DD date."""
    return sorted({d.isoformat() if isinstance(d, date) else parse_day(d).isoformat() for d in days})


def outcome_days(outcomes: Iterable[Mapping[str, Any]] | None) -> list[str]:
    """The days touched by a list of FeedOutcome.to_dict() results (the mapped ingest tasks)."""
    return normalize_days(day for outcome in outcomes or () for day in outcome.get("days") or ())


def run_article_days(warehouse: Warehouse, run_id: str) -> list[str]:
    """The days of the articles a pipeline run stored, from the warehouse itself.

    Covers what the per-feed outcomes can miss: a feed task that committed its batch and then died
    is retried, and the retry sees those articles as already known (its outcome has no days).
    """
    query = sa.select(articles.c.published_day).where(articles.c.run_id == run_id).distinct()
    with warehouse.engine.connect() as conn:
        return normalize_days(conn.execute(query).scalars())


def interval_days(start: datetime | None, end: datetime | None) -> list[str]:
    """The UTC days a data interval [start, end) overlaps; [] without a real interval."""
    if start is None or end is None or end <= start:
        return []
    first = _utc(start).date()
    last = (_utc(end) - timedelta(microseconds=1)).date()
    return days_between(first, last)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: a data interval is always timezone-aware")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class DaySelection:
    days: tuple[str, ...]
    source: str  # params | asset_events | data_interval | none


def resolve_days(
    *,
    since: str | None = None,
    until: str | None = None,
    event_extras: Sequence[Mapping[str, Any]] | None = None,
    interval_start: datetime | None = None,
    interval_end: datetime | None = None,
) -> DaySelection:
    """Which days a signals run recomputes, by precedence.

    1. explicit params since/until (one of them alone means that single day);
    2. the union of the "days" lists of the triggering asset events (possibly empty: nothing new);
    3. the days overlapped by the data interval (end exclusive);
    4. nothing.
    """
    if since or until:
        first = parse_day(since or until, "since")  # type: ignore[arg-type]
        last = parse_day(until or since, "until")  # type: ignore[arg-type]
        return DaySelection(tuple(days_between(first, last)), "params")
    if event_extras:
        days = normalize_days(day for extra in event_extras for day in (extra or {}).get("days") or ())
        return DaySelection(tuple(days), "asset_events")
    days = interval_days(interval_start, interval_end)
    if days:
        return DaySelection(tuple(days), "data_interval")
    return DaySelection((), "none")


def day_ranges(days: Iterable[str | date]) -> list[tuple[date, date]]:
    """Contiguous [first, last] ranges covering the days, so a gap of months is not recomputed."""
    ordered = [date.fromisoformat(d) for d in normalize_days(days)]
    ranges: list[tuple[date, date]] = []
    for day in ordered:
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


# -- feed retries -----------------------------------------------------------------------------------
_TRANSIENT_REASONS = (
    "timed out",
    "connection refused",
    "connection reset",
    "network error",
    "dns lookup failed",
    "the server closed the connection",
)


def is_transient_failure(outcome: Mapping[str, Any]) -> bool:
    """A failed feed another attempt in a few minutes may fix: HTTP 5xx/429 or a network error.

    Parse errors, 4xx, refused addresses and oversized bodies are final (retrying repeats them);
    a server that asked for a long Retry-After is left to the next scheduled run.
    """
    if outcome.get("ok"):
        return False
    error = str(outcome.get("error") or "").lower()
    if "not retried in this run" in error or outcome.get("bozo_reason"):
        return False
    status = outcome.get("status")
    if status is not None:
        return int(status) >= 500 or int(status) == 429
    return any(reason in error for reason in _TRANSIENT_REASONS)


# -- re-scoring -------------------------------------------------------------------------------------
def stale_sentence_count(warehouse: Warehouse, current_version: str) -> int:
    """How many stored sentences were scored by another scorer version than the current one."""
    query = sa.select(sa.func.count()).where(sentences.c.scorer_version != current_version)
    with warehouse.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def plan_rescore_batches(
    warehouse: Warehouse, current_version: str, batch_size: int, max_batches: int
) -> list[dict[str, int]]:
    """Sentence-id ranges holding at most batch_size stale sentences each, at most max_batches of them.

    Sentences beyond max_batches * batch_size are left for the next run (the check runs daily).
    """
    if batch_size < 1 or max_batches < 1:
        raise ValueError("batch_size and max_batches must be at least 1")
    # Keyset pagination over the primary key: portable (no window functions or FLOOR needed on
    # SQLite) and each query reads one batch of ids.
    query = (
        sa.select(sentences.c.sentence_id)
        .where(sentences.c.scorer_version != current_version)
        .order_by(sentences.c.sentence_id)
        .limit(batch_size)
    )
    batches: list[dict[str, int]] = []
    last_id = 0
    with warehouse.engine.connect() as conn:
        while len(batches) < max_batches:
            ids = conn.execute(query.where(sentences.c.sentence_id > last_id)).scalars().all()
            if not ids:
                break
            batches.append({"first_id": int(ids[0]), "last_id": int(ids[-1]), "sentences": len(ids)})
            last_id = ids[-1]
    return batches


def rescore_batch(
    warehouse: Warehouse, scorer: Scorer, first_id: int, last_id: int, limit: int | None = None
) -> list[str]:
    """Re-score the stale sentences with first_id <= id <= last_id; return the days they belong to.

    Only sentences still carrying another version are touched, so a retried batch redoes nothing
    that already committed. Every re-scored day is returned (not only days whose scores changed):
    the lexicon changed, so their signals and alerts are recomputed.
    """
    query = (
        sa.select(sentences.c.sentence_id, sentences.c.text, articles.c.published_day)
        .join(articles, articles.c.article_id == sentences.c.article_id)
        .where(
            sentences.c.sentence_id.between(first_id, last_id),
            sentences.c.scorer_version != scorer.version,
        )
        .order_by(sentences.c.sentence_id)
    )
    if limit is not None:
        query = query.limit(limit)
    with warehouse.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    from pipeline.rescore import score_update

    updates = [score_update(scorer, row["sentence_id"], row["text"]) for row in rows]
    warehouse.update_sentence_scores(updates, scorer.version)
    log.info("re-scored %d sentences (ids %d..%d) with %s", len(updates), first_id, last_id, scorer.version)
    return normalize_days(row["published_day"] for row in rows)


def mark_run_failed(warehouse: Warehouse, run_id: str) -> None:
    """Close a pipeline run whose Airflow task failed for good (no-op when the run does not exist)."""
    warehouse.finish_run(run_id, "failed", {})
