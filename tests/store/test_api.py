"""The analyst's Python API (pipeline.api): the analyst data set as DataFrames, equal on SQLite and
PostgreSQL, filtered as the CLI filters, and a read that never creates a warehouse."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import date, timedelta

import analyst_data
import pandas as pd
import pytest
import sqlalchemy as sa

from pipeline import api
from pipeline.store import Warehouse, WarehouseError

END = analyst_data.START + timedelta(days=analyst_data.DAYS - 1)


@pytest.fixture(scope="module")
def both(tmp_path_factory, pg_url):
    """The data set loaded once into a SQLite file and once into a fresh PostgreSQL schema."""
    path = tmp_path_factory.mktemp("api") / "w.db"
    sqlite = Warehouse.from_url(f"sqlite:///{path}")
    schema = f"esc_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    postgres = Warehouse.from_url(pg_url, schema=schema)
    for warehouse in (sqlite, postgres):
        warehouse.init_schema()
        analyst_data.load(warehouse)
    yield {"sqlite": sqlite, "postgresql": postgres, "sqlite_url": f"sqlite:///{path}"}
    sqlite.dispose()
    postgres.dispose()
    with admin.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    admin.dispose()


def _same(frame: pd.DataFrame, other: pd.DataFrame, drop: tuple[str, ...] = ()) -> None:
    left, right = frame.drop(columns=list(drop)), other.drop(columns=list(drop))
    pd.testing.assert_frame_equal(left, right, check_exact=False, rtol=1e-9, check_dtype=False)


CALLS = {
    "signals": lambda db: api.signals(db),
    "signals_filtered": lambda db: api.signals(db, since="2026-10-01", until=END, actors="irn,QAT"),
    "sentences": lambda db: api.sentences(db, actors=["IRN"], min_score=0.5),
    "alerts": lambda db: api.alerts(db),
    "incidents": lambda db: api.incidents(db),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_frames_are_equal_on_sqlite_and_postgresql(both, name):
    sqlite, postgres = CALLS[name](both["sqlite"]), CALLS[name](both["postgresql"])
    assert len(sqlite) > 0
    # ids are assigned by each database's own sequence; the data set loads in the same order
    _same(sqlite, postgres)


def test_signals_are_typed_and_filtered(both):
    frame = api.signals(both["sqlite"], since="2026-10-01", actors=["irn", "QAT"])
    assert set(frame["actor"]) == {"IRN", "QAT"}
    assert frame["day"].min() >= pd.Timestamp("2026-10-01")
    assert pd.api.types.is_datetime64_any_dtype(frame["day"])
    spike = frame[(frame["actor"] == "IRN")].set_index("day")["escalation_index"]
    # the data set's IRN spike is the largest IRN index of the range
    assert spike.idxmax() == pd.Timestamp(analyst_data.SPIKE_DAY)
    everything = api.signals(both["sqlite"])
    assert everything["day"].min() == pd.Timestamp(analyst_data.START)  # no bound: all the data
    assert everything["day"].max() == pd.Timestamp(END)
    assert "ALL" in set(everything["actor"])


def test_sentences_carry_terms_actors_and_outlet(both):
    frame = api.sentences(both["sqlite"], since=analyst_data.SPIKE_DAY, until=analyst_data.SPIKE_DAY, actors="IRN")
    assert len(frame) > 0
    assert all("IRN" in actors for actors in frame["actors"])
    assert all(isinstance(terms, list) and terms for terms in frame["terms"])
    assert set(frame["outlet"]) <= {title for title, _ in analyst_data.FEEDS.values()}
    assert str(frame["published_at"].dt.tz) == "UTC"
    strong = api.sentences(both["sqlite"], min_score=0.7, limit=3)
    assert len(strong) == 3 and (strong["score"] >= 0.7).all()
    calm = api.sentences(both["sqlite"], max_score=-0.4, actors="QAT")
    assert len(calm) > 0 and (calm["score"] <= -0.4).all()


def test_alerts_and_incidents_follow_the_filters(both):
    frame = api.alerts(both["sqlite"])
    assert len(frame) > 0
    spike = frame[(frame["actor"] == "IRN") & (frame["day"] == pd.Timestamp(analyst_data.SPIKE_DAY))]
    assert not spike.empty and (spike["kind"] == "escalation").all()
    assert all(isinstance(e, list) and e and "copies" in e[0] for e in spike["evidence"])
    assert set(api.alerts(both["sqlite"], actors="irn")["actor"]) == {"IRN"}
    kinds = api.alerts(both["sqlite"], kind="deescalation")
    assert set(kinds["kind"]) <= {"deescalation"}
    severe = api.alerts(both["sqlite"], severity="warning")
    assert set(severe["severity"]) <= {"warning", "critical"}
    assert api.alerts(both["sqlite"], until=analyst_data.START - timedelta(days=1)).empty
    incidents = api.incidents(both["sqlite"])
    assert len(incidents) > 0
    assert all(isinstance(actors, list) and actors for actors in incidents["actors"])
    irn = api.incidents(both["sqlite"], actors="IRN")
    assert len(irn) > 0 and all("IRN" in actors for actors in irn["actors"])
    assert api.incidents(both["sqlite"], until=analyst_data.START - timedelta(days=1)).empty
    with pytest.raises(ValueError, match="kind must be one of"):
        api.alerts(both["sqlite"], kind="up")


def test_a_url_is_opened_for_the_read_and_relative_days_count_from_today(both):
    frame = api.signals(both["sqlite_url"], actors="IRN")
    assert len(frame) == analyst_data.DAYS
    days_ago = (date.today() - analyst_data.START).days
    assert len(api.signals(both["sqlite_url"], since=-days_ago, actors="IRN")) == analyst_data.DAYS
    assert api.signals(both["sqlite_url"], since="-1", actors="IRN").empty  # the data is older
    with pytest.raises(ValueError, match="since must be a YYYY-MM-DD date"):
        api.signals(both["sqlite_url"], since="yesterday")
    with pytest.raises(ValueError, match="is after until"):
        api.signals(both["sqlite_url"], since=END, until=analyst_data.START)


def test_reading_never_creates_a_warehouse(tmp_path):
    missing = tmp_path / "typo" / "x.db"
    with pytest.raises(WarehouseError, match="no warehouse at"):
        api.alerts(f"sqlite:///{missing}")
    assert not missing.parent.exists()
    empty = tmp_path / "empty.db"
    Warehouse.from_url(f"sqlite:///{empty}").dispose()  # an existing file that was never migrated
    with pytest.raises(WarehouseError, match="no escalation schema"):
        api.signals(f"sqlite:///{empty}")


def test_pandas_stays_off_the_ingest_path():
    code = (
        "import sys, pipeline.ingest, pipeline.cli, pipeline.archive, pipeline.orchestration; "
        "print('pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
