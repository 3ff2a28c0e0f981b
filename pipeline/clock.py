"""Time and day helpers every stage shares: the one clock (aware UTC) and the one day parser."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def now_utc() -> datetime:
    """The current time, timezone-aware UTC (the warehouse stores nothing else)."""
    return datetime.now(UTC)


def today_utc() -> date:
    return now_utc().date()


def parse_day(value: str | date, name: str = "day") -> date:
    """A YYYY-MM-DD day; ValueError naming `name` for anything else (other ISO spellings included)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not _DAY_RE.match(text):
        raise ValueError(f"{name} must be a YYYY-MM-DD date, not {value!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name} is not a valid date: {value!r}") from None
