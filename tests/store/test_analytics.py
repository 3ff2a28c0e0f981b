"""Views and named queries: the same data set in SQLite and PostgreSQL gives the same answers, and
the answers are the ones the data set was built to contain."""

from __future__ import annotations

import math
import re
import uuid
from datetime import date, timedelta

import analyst_data
import pytest
import sqlalchemy as sa

from pipeline import analytics
from pipeline.store import Warehouse, views

# Columns stamped with the wall clock at load time: they differ between the two loads by design.
WALL_CLOCK = {"computed_at", "created_at", "updated_at", "scored_at", "last_sent_at", "first_seen_at"}
TODAY = analyst_data.START + timedelta(days=analyst_data.DAYS - 1)


@pytest.fixture(scope="module")
def both(tmp_path_factory, pg_url):
    """The data set loaded once into a SQLite file and once into a fresh PostgreSQL schema."""
    sqlite = Warehouse.from_url(f"sqlite:///{tmp_path_factory.mktemp('analytics') / 'w.db'}")
    schema = f"esc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    postgres = Warehouse.from_url(pg_url, schema=schema)
    for warehouse in (sqlite, postgres):
        warehouse.init_schema()
        analyst_data.load(warehouse)
    yield {"sqlite": sqlite, "postgresql": postgres}
    sqlite.dispose()
    postgres.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    admin.dispose()


def comparable(result: analytics.QueryResult, ordered: bool = False) -> list[tuple]:
    keep = [i for i, name in enumerate(result.columns) if name not in WALL_CLOCK]
    rows = []
    for row in result.rows:
        values = []
        for i in keep:
            value = analytics.plain(row[i])
            if isinstance(value, float):
                value = round(value, 6) + 0.0  # -0.0 == 0.0, and summation order noise goes away
            values.append(value)
        rows.append(tuple(values))
    return rows if ordered else sorted(rows, key=repr)


VIEWS = sorted(views.view_sql("sqlite"))


def test_every_view_exists_on_both_dialects():
    assert (
        VIEWS
        == sorted(views.view_sql("postgresql"))
        == [
            "_run_durations",  # building blocks: the only dialect-specific SQL
            "_sentence_lists",
            "_signal_day_numbers",
            "actor_daily_context",
            "alert_evidence",
            "dyad_daily",
            "escalation_sentences",
            "evidence_texts",
            "feed_health",
            "incident_overview",
            "pipeline_run_summary",
        ]
    )


@pytest.mark.parametrize("view", VIEWS)
def test_view_is_equal_on_sqlite_and_postgresql(both, view):
    results = {d: views.run_select(w.engine, f"select * from {view}") for d, w in both.items()}
    assert results["sqlite"].columns == results["postgresql"].columns
    assert results["sqlite"].rows, f"{view} is empty: the data set does not exercise it"
    assert comparable(results["sqlite"]) == comparable(results["postgresql"])


QUERY_PARAMS = {
    "top_escalating_actors": {"since": "-4", "until": "0", "baseline_since": "-32", "min_articles": "3"},
    "spike_drivers": {"actor": "IRN", "day": "-4", "limit": "10"},
    "deescalation_trend": {"actor": "QAT", "since": "-20", "until": "0"},
    "sources_disagreeing": {"since": "-10", "until": "0", "min_sentences": "2"},
    "data_range": {},
}


def test_every_named_query_is_exercised():
    assert sorted(views.named_queries()) == sorted(QUERY_PARAMS)


@pytest.mark.parametrize("name", sorted(QUERY_PARAMS))
def test_named_query_is_equal_on_sqlite_and_postgresql(both, name):
    results = {
        d: views.run_query(w.engine, name, QUERY_PARAMS[name], today=TODAY) for d, w in both.items()
    }
    assert results["sqlite"].rows
    assert results["sqlite"].columns == results["postgresql"].columns
    # ordered queries must agree on the order too
    assert comparable(results["sqlite"], ordered=True) == comparable(results["postgresql"], ordered=True)


def _dicts(result: analytics.QueryResult) -> list[dict]:
    return [dict(zip(result.columns, map(analytics.plain, row), strict=True)) for row in result.rows]


def test_rolling_context_counts_silent_days_as_zero(both):
    rows = _dicts(
        views.run_select(
            both["sqlite"].engine,
            "select * from actor_daily_context where actor = 'IRN' order by day",
        )
    )
    by_day = {r["day"]: r for r in rows}
    last = rows[-1]
    week = [by_day.get((TODAY - timedelta(days=i)).isoformat()) for i in range(7)]
    expected = sum(r["escalation_index"] for r in week if r) / 7
    assert math.isclose(last["escalation_index_7d"], expected, rel_tol=1e-9)
    first = rows[0]  # on the first day the 28-day mean is that day's value over 28
    assert math.isclose(first["escalation_index_28d"], first["escalation_index"] / 28, rel_tol=1e-9)


def test_queries_find_what_the_data_set_hides(both):
    engine = both["postgresql"].engine
    top = _dicts(
        views.run_query(
            engine, "top_escalating_actors", QUERY_PARAMS["top_escalating_actors"], today=TODAY
        )
    )
    assert top[0]["actor"] == "IRN" and top[0]["rise"] > 0

    drivers = _dicts(views.run_query(engine, "spike_drivers", QUERY_PARAMS["spike_drivers"], today=TODAY))
    assert len(drivers) == 10 and all("IRN" in d["actors"].split(",") for d in drivers)
    assert [d["score"] for d in drivers] == sorted((d["score"] for d in drivers), reverse=True)
    assert all(d["day"] == analyst_data.SPIKE_DAY.isoformat() and d["url"] for d in drivers)

    trend = _dicts(
        views.run_query(engine, "deescalation_trend", QUERY_PARAMS["deescalation_trend"], today=TODAY)
    )
    assert trend[-1]["deescalation_trend"] > 0  # ceasefire talk about QAT rose in the last ten days

    gaps = _dicts(
        views.run_query(engine, "sources_disagreeing", QUERY_PARAMS["sources_disagreeing"], today=TODAY)
    )
    assert gaps[0]["most_hostile_feed"] == "Hostile Herald" and gaps[0]["tone_gap"] > 0


def test_the_baseline_window_counts_from_since_with_absolute_dates(both):
    """A range far from today, with no baseline_since: the baseline is the 28 days before since,
    not a window relative to today (which would lie after the range and leave the baseline null)."""
    since, until = analyst_data.SPIKE_DAY - timedelta(days=2), analyst_data.SPIKE_DAY
    params = {"since": since.isoformat(), "until": until.isoformat(), "min_articles": "3"}
    far_future = TODAY + timedelta(days=400)
    for warehouse in both.values():
        top = _dicts(views.run_query(warehouse.engine, "top_escalating_actors", params, today=far_future))
        assert top and all(row["baseline_mean_index"] is not None for row in top)
        explicit = _dicts(
            views.run_query(
                warehouse.engine,
                "top_escalating_actors",
                {**params, "baseline_since": (since - timedelta(days=28)).isoformat()},
                today=far_future,
            )
        )
        assert explicit == top
    query = views.named_queries()["top_escalating_actors"]
    assert query.bind({"since": "2026-10-10"}, date(2027, 1, 1))["baseline_since"] == date(2026, 9, 12)


def test_a_relative_default_must_name_an_earlier_date_parameter(tmp_path):
    (tmp_path / "queries").mkdir()
    bad = tmp_path / "queries" / "bad.sql"
    bad.write_text("-- x\n-- param start: date = until-3\n-- param until: date = 0\nselect :start, :until\n")
    with pytest.raises(views.QueryError, match="counts from 'until', which is not an earlier date parameter"):
        views.parse_query_file(bad)


def test_feed_health_and_runs_show_the_failing_feed(both):
    engine = both["sqlite"].engine
    health = {r["url"]: r for r in _dicts(views.run_select(engine, "select * from feed_health"))}
    flaky = health["https://flaky.example/rss"]
    assert (flaky["failures_in_a_row"], flaky["fetches_failed"], flaky["last_status"]) == (3, 3, 503)
    assert health["https://calm.example/rss"]["failures_in_a_row"] == 0
    assert health["https://calm.example/rss"]["articles_per_active_day"] == pytest.approx((2 * 44 + 3) / 45)
    runs = _dicts(views.run_select(engine, "select * from pipeline_run_summary order by started_at"))
    assert runs[0]["duration_s"] == 90.0 and runs[-1]["feeds_failed"] == 1 and runs[-1]["feeds"] == 3


def test_alert_evidence_carries_the_spike_and_its_delivery(both):
    engine = both["postgresql"].engine
    alerts = _dicts(views.run_select(engine, "select * from alert_evidence where actor = 'IRN'"))
    spike = [a for a in alerts if a["day"] == analyst_data.SPIKE_DAY.isoformat()]
    assert spike and spike[0]["mode"] == "backtest" and spike[0]["channels_sent"] == 1
    assert "IRN" in spike[0]["evidence_json"]


def test_dyads_are_unordered_pairs(both):
    rows = _dicts(views.run_select(both["sqlite"].engine, "select * from dyad_daily"))
    assert rows and all(r["actor_a"] < r["actor_b"] for r in rows)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("nope", {}, "no query named 'nope'"),
        ("spike_drivers", {}, "parameter 'actor' (text) is required"),
        ("spike_drivers", {"actor": "IRN", "day": "yesterday"}, "'day': 'yesterday' is not a date"),
        ("spike_drivers", {"actor": "IRN", "colour": "red"}, "has no parameter colour"),
        ("top_escalating_actors", {"limit": "ten"}, "'limit': 'ten' is not a int"),
    ],
)
def test_bad_query_requests_are_refused_with_the_reason(tmp_path, name, params, message):
    warehouse = Warehouse.from_url(f"sqlite:///{tmp_path / 'w.db'}")
    warehouse.init_schema()
    with pytest.raises(views.QueryError, match=re.escape(message)):
        views.run_query(warehouse.engine, name, params)


def test_parameters_are_bound_not_pasted(both):
    hostile = "IRN' or '1'='1"
    result = views.run_query(
        both["sqlite"].engine, "spike_drivers", {"actor": hostile, "day": "-4"}, today=TODAY
    )
    assert result.rows == []


def test_query_files_declare_exactly_the_parameters_they_use(tmp_path):
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "bad.sql").write_text("-- says what\n-- param a: int = 1\nselect :a, :b\n")
    with pytest.raises(views.QueryError, match="differ"):
        views.named_queries(tmp_path)


def test_a_baseline_default_counts_from_the_window_it_belongs_to():
    query = views.named_queries()["top_escalating_actors"]
    today = date(2026, 12, 1)
    absolute = query.bind({"since": "2026-10-10", "until": "2026-10-16"}, today)
    assert absolute["baseline_since"] == date(2026, 9, 12)  # 28 days before since, not before today
    relative = query.bind({}, today)
    assert relative["since"] == date(2026, 11, 25) and relative["baseline_since"] == date(2026, 10, 28)
    given = query.bind({"since": "2026-10-10", "baseline_since": "2026-10-01"}, today)
    assert given["baseline_since"] == date(2026, 10, 1)
