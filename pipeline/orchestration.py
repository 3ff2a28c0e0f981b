"""Small Airflow-free helpers behind the DAGs in dags/ (the DAG files only wire tasks to these).

- which UTC days a run must (re)compute: from explicit params, from the days carried by asset
  events, or from a data interval (end exclusive);
- whether a failed feed is worth an orchestrator-level retry (5xx, 429, network errors);
- closing a run whose task failed for good.

The re-scoring planner and batches of the `escalation_rescore` DAG are pipeline/rescore.py's.

Nothing here imports Airflow, so all of it is unit-testable and usable from the CLI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pipeline.clock import parse_day
from pipeline.store import Warehouse

# One manual range run may recompute at most this many days (ten years): a typo such as
# since=1026-01-01 should fail fast instead of scanning a millennium.
MAX_RANGE_DAYS = 3660


def pipeline_run_id(dag_id: str, airflow_run_id: str) -> str:
    """The warehouse pipeline_runs key of an Airflow run (a retried task reuses the same row)."""
    return f"airflow:{dag_id}:{airflow_run_id}"


# -- days -------------------------------------------------------------------------------------------
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
    is retried, and the retry sees those articles as already known (its outcome has no days); and
    the articles whose page text this run stored (a page task retried after some pages were done).
    """
    return normalize_days([*warehouse.run_article_days(run_id), *warehouse.run_page_days(run_id)])


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


# -- runs -------------------------------------------------------------------------------------------
def mark_run_failed(warehouse: Warehouse, run_id: str) -> None:
    """Close a pipeline run whose Airflow task failed for good (no-op when the run does not exist)."""
    warehouse.finish_run(run_id, "failed", {})
