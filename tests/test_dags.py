"""Airflow wiring: the DAG folder imports cleanly and the daily DAG runs end to end with dag.test()."""

from __future__ import annotations

import shutil
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.airflow

REPO = Path(__file__).resolve().parent.parent
FIXTURE_FEEDS = REPO / "samples" / "feeds"


@pytest.fixture(scope="session")
def airflow_db():
    """dag.test() needs a migrated metadata DB (a fresh one per session, see conftest)."""
    from airflow.utils import db

    db.resetdb()


@pytest.fixture(scope="session")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dag_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "escalation_daily" in dagbag.dags


def test_daily_dag_shape(dagbag):
    dag = dagbag.dags["escalation_daily"]
    assert set(dag.task_ids) == {"list_feeds", "ingest_feed", "compute_signals", "detect_alerts"}
    assert dag.get_task("ingest_feed").max_active_tis_per_dag == 8
    assert dag.get_task("compute_signals").trigger_rule == "none_failed"
    assert dag.get_task("detect_alerts").trigger_rule == "none_failed"
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    for task in dag.tasks:
        assert task.retries >= 1
        assert task.on_failure_callback


def _feeds_file(tmp_path: Path, sources: list[Path]) -> Path:
    feeds = tmp_path / "feeds.yaml"
    lines = ["version: 1", "feeds:" if sources else "feeds: []"]
    for i, src in enumerate(sources):
        copy = tmp_path / src.name
        shutil.copy(src, copy)
        lines += [f"  - name: local {i}", f"    url: {copy}"]
    feeds.write_text("\n".join(lines) + "\n")
    return feeds


def _counts(db_url: str) -> dict[str, int]:
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        counts = {
            table: conn.execute(sa.text(f"select count(*) from {table}")).scalar_one()
            for table in ("articles", "sentences", "daily_signals", "pipeline_runs", "fetch_log")
        }
    engine.dispose()
    return counts


def test_daily_dag_end_to_end(airflow_db, dagbag, tmp_path, monkeypatch):
    from airflow.utils.state import DagRunState

    feed_files = sorted(FIXTURE_FEEDS.glob("*.xml"))[:3]
    assert feed_files, "test fixtures feeds missing"
    db_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("ESCALATION_DB_URL", db_url)
    monkeypatch.setenv("ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path, feed_files)))
    monkeypatch.delenv("ESCALATION_WEBHOOK_URL", raising=False)

    dag = dagbag.dags["escalation_daily"]
    run = dag.test(logical_date=pendulum.datetime(2026, 11, 2, 6, tz="UTC"))
    assert run.state == DagRunState.SUCCESS
    first = _counts(db_url)
    assert first["articles"] > 0
    assert first["sentences"] >= first["articles"]
    assert first["daily_signals"] > 0
    assert first["pipeline_runs"] == 1

    # A second run over the same feeds stores nothing new (idempotent ingestion).
    run = dag.test(logical_date=pendulum.datetime(2026, 11, 3, 6, tz="UTC"))
    assert run.state == DagRunState.SUCCESS
    second = _counts(db_url)
    assert second["articles"] == first["articles"]
    assert second["sentences"] == first["sentences"]


def test_daily_dag_with_empty_feed_list_still_succeeds(airflow_db, dagbag, tmp_path, monkeypatch):
    from airflow.utils.state import DagRunState

    db_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("ESCALATION_DB_URL", db_url)
    monkeypatch.setenv("ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path, [])))
    dag = dagbag.dags["escalation_daily"]
    run = dag.test(logical_date=pendulum.datetime(2026, 11, 4, 6, tz="UTC"))
    assert run.state == DagRunState.SUCCESS
    tis = {ti.task_id: ti.state for ti in run.get_task_instances()}
    # The aggregation tasks must run (not be skipped) even when there is nothing to map over.
    assert tis["compute_signals"] == "success"
    assert tis["detect_alerts"] == "success"
    counts = _counts(db_url)
    assert counts["articles"] == 0
    assert counts["pipeline_runs"] == 1


def test_warehouse_from_an_airflow_connection(airflow_db, dagbag, tmp_path, monkeypatch):
    """An escalation_warehouse connection (here from an AIRFLOW_CONN_ env var) wins over ESCALATION_DB_URL."""
    import json

    from airflow.utils.state import DagRunState

    env_db, conn_db = tmp_path / "env.db", tmp_path / "from_connection.db"
    monkeypatch.setenv("ESCALATION_DB_URL", f"sqlite:///{env_db}")
    monkeypatch.setenv(
        "ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path, sorted(FIXTURE_FEEDS.glob("*.xml"))[:1]))
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ESCALATION_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(conn_db)})
    )
    run = dagbag.dags["escalation_daily"].test(logical_date=pendulum.datetime(2026, 11, 5, 6, tz="UTC"))
    assert run.state == DagRunState.SUCCESS
    assert _counts(f"sqlite:///{conn_db}")["articles"] > 0
    assert not env_db.exists()
