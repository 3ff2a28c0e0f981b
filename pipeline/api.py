"""The analyst's Python API: the warehouse as pandas DataFrames, for a notebook.

    from pipeline import api
    db = api.connect("sqlite:///data/demo.db")        # or None: ESCALATION_DB_URL
    api.signals(db, since="2026-10-01", actors=["IRN", "ISR"])
    api.sentences(db, actors="IRN", min_score=0.3)
    api.alerts(db, kind="escalation", severity="warning")
    api.incidents(db, mode="live")

Every function takes the CLI's filters: `since` / `until` (a date, "YYYY-MM-DD", or whole days from
today such as -7; None: no bound, all the data), `actors` (one code or several; case does not
matter), and where they apply `kind`, `mode`, `severity`. Reading never creates or migrates a
warehouse: a URL where there is none is an error. pandas is an optional dependency (the `analyst`
extra); nothing on the ingest path imports this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

try:
    import pandas as pd
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "pipeline.api needs pandas: pip install 'escalation-signals[analyst]' (or pip install pandas)"
    ) from exc

from pipeline.clock import parse_day, today_utc
from pipeline.config import load_settings
from pipeline.store import Warehouse
from pipeline.store.views import QueryResult

Day = date | str | int | None
Actors = str | Iterable[str] | None


def connect(url: str | None = None, *, schema: str | None = None) -> Warehouse:
    """The existing warehouse at `url` (default: ESCALATION_DB_URL, as the CLI reads it), for reading.
    A missing SQLite file or an un-migrated database raises WarehouseError; nothing is created."""
    return Warehouse.open_existing(url or load_settings().db_url, schema=schema)


def _read(db: Warehouse | str | None, read: Callable[[Warehouse], QueryResult]) -> QueryResult:
    """`read` on the given warehouse, or on one opened from a URL just for it (then closed)."""
    if isinstance(db, Warehouse):
        return read(db)
    warehouse = connect(db)
    try:
        return read(warehouse)
    finally:
        warehouse.dispose()


def _day(value: Day, name: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return today_utc() + timedelta(days=value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit() and len(value.strip()) < 7:
        return today_utc() + timedelta(days=int(value))
    return parse_day(value, name)


def _days(since: Day, until: Day) -> tuple[date | None, date | None]:
    first, last = _day(since, "since"), _day(until, "until")
    if first and last and first > last:
        raise ValueError(f"since {first} is after until {last}")
    return first, last


def _actors(actors: Actors) -> list[str] | None:
    if actors is None:
        return None
    codes = [actors] if isinstance(actors, str) else list(actors)
    return [code.strip().upper() for one in codes for code in one.split(",") if code.strip()]


def _frame(result: QueryResult, dates: Iterable[str] = (), times: Iterable[str] = ()) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(result.rows, columns=result.columns)
    for column in dates:  # datetime64 days: resample, plot and compare like any time series
        frame[column] = pd.to_datetime(frame[column])
    for column in times:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def signals(
    db: Warehouse | str | None = None, since: Day = None, until: Day = None, actors: Actors = None
) -> pd.DataFrame:
    """Daily signals: one row per day and actor (actor ALL: every sentence of the day) with
    escalation_index, deescalation_index, the (de-)escalatory sentence counts, articles, sources,
    sentences and max_score. Days without a row had no articles about the actor (no data, not 0)."""
    first, last = _days(since, until)
    return _frame(_read(db, lambda w: w.signal_table(first, last, _actors(actors))), dates=["day"])


def sentences(
    db: Warehouse | str | None = None,
    since: Day = None,
    until: Day = None,
    actors: Actors = None,
    *,
    min_score: float | None = None,
    max_score: float | None = None,
    limit: int | None = None,
    distinct: bool = False,
) -> pd.DataFrame:
    """Scored sentences, one row each: day (the article's published day), score and its
    escalation/deescalation parts, text, terms (the matched terms that counted), actors (a list),
    matches (every match with its modifiers), the article (title, url, published_at) and outlet.
    `actors`: sentences naming any of them; `min_score`/`max_score`: score bounds. `distinct`:
    each text once a day, as evidence is shown (wire copies folded), with `copies` (items that
    carried it) and `outlets` (distinct outlets: a publisher's two feeds count once)."""
    first, last = _days(since, until)
    result = _read(
        db,
        lambda w: w.sentence_table(
            first,
            last,
            _actors(actors),
            min_score=min_score,
            max_score=max_score,
            limit=limit,
            distinct=distinct,
        ),
    )
    return _frame(result, dates=["day"], times=["published_at"])


def alerts(
    db: Warehouse | str | None = None,
    since: Day = None,
    until: Day = None,
    actors: Actors = None,
    *,
    kind: str | None = None,
    mode: str | None = None,
    severity: str | None = None,
) -> pd.DataFrame:
    """Stored alerts, one row each: day, actor, kind (escalation | deescalation), severity, the
    measure that spiked with value, baseline, spread and surprise (how many spreads above the
    baseline), articles and sources, mode (live | backtest), counterparts, context_share and the
    distinct evidence (a list of dicts). `severity`: that severity or higher."""
    first, last = _days(since, until)
    result = _read(
        db, lambda w: w.alert_table(first, last, _actors(actors), kind=kind, mode=mode, severity=severity)
    )
    return _frame(result, dates=["day"])


def incidents(
    db: Warehouse | str | None = None,
    since: Day = None,
    until: Day = None,
    actors: Actors = None,
    *,
    kind: str | None = None,
    mode: str | None = None,
) -> pd.DataFrame:
    """Incidents active at some point of the days, one row each (the incident_overview view):
    actors (a list), kind, opened, last_alert, closed (NaT while open), peak severity and surprise,
    alerts, pages and their deliveries, and the distinct evidence (a list of dicts)."""
    first, last = _days(since, until)
    result = _read(db, lambda w: w.incident_table(first, last, _actors(actors), kind=kind, mode=mode))
    return _frame(result, dates=["opened", "last_alert", "closed", "first_paged", "last_page_day"])
