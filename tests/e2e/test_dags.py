"""Airflow wiring: the DAG folder imports cleanly, the DAG shapes and the Asset wiring hold, and
escalation_ingest / escalation_signals / escalation_rescore run end to end with dag.test().

dag.test() runs every task in this process (Task SDK in-process supervisor), so the tests can
monkeypatch pipeline functions and task attributes (retry delays) and see the effect in the tasks.
"""

from __future__ import annotations

import copy
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa

from pipeline.orchestration import (
    day_ranges,
    interval_days,
    is_transient_failure,
    resolve_days,
)

pytestmark = [pytest.mark.airflow, pytest.mark.timeout(180)]  # dag.test() waits forever on a stuck task

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
FIXTURE_FEEDS = REPO / "samples" / "feeds"
DAG_IDS = {"escalation_ingest", "escalation_signals", "escalation_rescore"}
ASSET_NAME, ASSET_URI = "escalation_scored_sentences", "escalation://warehouse/sentences"
FETCH_POOL = "escalation_fetch"
SAMPLE_DAYS = [f"2026-10-{d:02d}" for d in range(1, 17)]  # the sample feeds' articles


# -- fixtures and helpers ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def airflow_db():
    """dag.test() needs a migrated metadata DB (a fresh one per session, see conftest).

    dag.test() ignores pools (it runs scheduled task instances itself, without the scheduler's
    pool-slot check), so the mapped ingest task runs even without `escalation_fetch`; we create the
    pool anyway, as a deployment must (`airflow pools set escalation_fetch 8 ...`).
    """
    from airflow.models.pool import Pool
    from airflow.utils import db

    db.resetdb()
    Pool.create_or_update_pool(FETCH_POOL, 8, "escalation feed fetches", include_deferred=False)


@pytest.fixture(scope="session")
def dagbag():
    """The DAG folder parsed the way the dag-processor and the task runner parse it: BundleDagBag
    puts the folder on sys.path, which the DAG files need for `import escalation_common`."""
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(dag_folder=str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """No stray warehouse, webhook or connection settings from the developer's shell."""
    import os

    keep = ("ESCALATION_TEST_", "ESCALATION_REQUIRE_")  # the test harness's own switches stay
    for name in list(os.environ):
        if name.startswith(keep):
            continue
        if name.startswith("ESCALATION_") or name.startswith("AIRFLOW_CONN_ESCALATION"):
            monkeypatch.delenv(name)


def _feeds_file(directory: Path, sources: list[Path | str]) -> Path:
    """A feed list; local files are copied next to it (never the repo's samples themselves)."""
    directory.mkdir(parents=True, exist_ok=True)
    feeds = directory / "feeds.yaml"
    lines = ["version: 1", "feeds:" if sources else "feeds: []"]
    for i, src in enumerate(sources):
        url = src
        if isinstance(src, Path):
            url = directory / src.name
            shutil.copy(src, url)
        lines += [f"  - name: feed {i}", f"    url: {url}"]
    feeds.write_text("\n".join(lines) + "\n")
    return feeds


def _copy_db(src: Path, dst: Path) -> str:
    """A consistent copy of a SQLite warehouse (WAL included), via SQLite's backup API."""
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)
    return f"sqlite:///{dst}"


def _query(db_url: str, sql: str, **params) -> list[tuple]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params)]
    finally:
        engine.dispose()


def _counts(db_url: str) -> dict[str, int]:
    tables = ("articles", "sentences", "sentence_actors", "article_sources", "daily_signals", "alerts")
    tables += ("pipeline_runs", "fetch_log", "feeds")
    return {t: _query(db_url, f"select count(*) from {t}")[0][0] for t in tables}


# Columns that legitimately differ between two runs (clock, run ids, surrogate keys of the log).
_VOLATILE = {
    "computed_at",
    "created_at",
    "updated_at",
    "sent_at",
    "scored_at",
    "first_seen_at",
    "fetched_at",
    "run_id",
    "last_fetched_at",
    "last_ok_at",
}


def _snapshot(db_url: str, table: str) -> list[tuple]:
    """Every row of a table minus volatile columns, sorted: equal snapshots = equal contents."""
    engine = sa.create_engine(db_url)
    try:
        meta = sa.MetaData()
        reflected = sa.Table(table, meta, autoload_with=engine)
        columns = [c for c in reflected.columns if c.name not in _VOLATILE]
        with engine.connect() as conn:
            rows = conn.execute(sa.select(*columns)).all()
    finally:
        engine.dispose()
    return sorted((tuple(r) for r in rows), key=repr)


# The stored corpus by natural keys. Surrogate ids, and which feed an article carried by several
# feeds is filed under (with that feed's guid), depend on the order the mapped tasks happened to
# commit in; every carrying feed is in article_sources either way.
_CORPUS = {
    "articles": "select article_key, url, title, published_at, published_day, content_hash from articles",
    "sentences": "select a.article_key, s.seq, s.text, s.score, s.matches, s.scorer_version"
    " from sentences s join articles a using (article_id)",
    "sentence_actors": "select a.article_key, s.seq, x.actor from sentence_actors x"
    " join sentences s using (sentence_id) join articles a using (article_id)",
    "article_sources": "select a.article_key, f.url from article_sources x"
    " join articles a using (article_id) join feeds f on f.feed_id = x.feed_id",
}


def _corpus(db_url: str) -> dict[str, list[tuple]]:
    return {name: sorted(_query(db_url, sql), key=repr) for name, sql in _CORPUS.items()}


def _asset_events(source_dag_id: str | None = None) -> list[dict]:
    """AssetEvent rows of the escalation asset in Airflow's metadata DB, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    query = (
        sa.select(AssetEvent)
        .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
        .where(AssetModel.name == ASSET_NAME, AssetModel.uri == ASSET_URI)
        .order_by(AssetEvent.id)
    )
    if source_dag_id is not None:
        query = query.where(AssetEvent.source_dag_id == source_dag_id)
    with create_session() as session:
        return [
            {
                "id": e.id,
                "extra": dict(e.extra or {}),
                "source_dag_id": e.source_dag_id,
                "source_task_id": e.source_task_id,
                "source_run_id": e.source_run_id,
            }
            for e in session.scalars(query)
        ]


def _ti_states(run) -> dict[str, str]:
    states: dict[str, str] = {}
    for ti in run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        states[key] = str(ti.state)
    return states


def _test(dag, **kwargs):
    """dag.test(), then every Param of the DAG and its tasks restored.

    In-process task runs merge run_conf INTO the Param objects the DAG and its tasks hold
    (airflow.sdk process_params resolves the conf onto shared Params), so without the restore the
    since/until of one test run leak into the next. Real task processes parse the DAG afresh, so
    production is unaffected. (copy.deepcopy(dag) is no way out: it loses mapped tasks' expand input.)
    """
    holders = [dag.params, *(task.params for task in dag.tasks)]
    params = {id(p): p for h in holders for p in (h.get_param(k) for k in h)}
    saved = {key: copy.deepcopy(p.value) for key, p in params.items()}
    try:
        return dag.test(**kwargs)
    finally:
        for key, value in saved.items():
            params[key].value = value


def _run(dag, **kwargs):
    from airflow.utils.state import DagRunState

    run = _test(dag, **kwargs)
    assert run.state == DagRunState.SUCCESS, _ti_states(run)
    return run


@pytest.fixture(scope="module")
def ingested(airflow_db, dagbag, tmp_path_factory):
    """One clean escalation_ingest run over the three sample feeds (a template warehouse)."""
    root = tmp_path_factory.mktemp("ingested")
    db_path = root / "warehouse.db"
    feeds = _feeds_file(root / "feeds", sorted(FIXTURE_FEEDS.glob("*.xml")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ESCALATION_DB_URL", f"sqlite:///{db_path}")
        mp.setenv("ESCALATION_FEEDS_FILE", str(feeds))
        before = {e["id"] for e in _asset_events()}
        run = _run(dagbag.dags["escalation_ingest"], logical_date=pendulum.datetime(2026, 11, 2, 6, tz="UTC"))
    events = [e for e in _asset_events("escalation_ingest") if e["id"] not in before]
    return {"db_path": db_path, "feeds": feeds, "run": run, "events": events, "states": _ti_states(run)}


@pytest.fixture
def warehouse_copy(ingested, tmp_path, monkeypatch):
    """A private copy of the ingested warehouse, wired into the tasks' environment."""
    db_url = _copy_db(ingested["db_path"], tmp_path / "warehouse.db")
    monkeypatch.setenv("ESCALATION_DB_URL", db_url)
    monkeypatch.setenv("ESCALATION_FEEDS_FILE", str(ingested["feeds"]))
    return db_url


# -- import and shape ----------------------------------------------------------------------------------
def test_dag_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == DAG_IDS  # escalation_daily was split into ingest + signals


def test_every_task_has_retries_timeout_and_failure_callback(dagbag):
    from escalation_common import on_task_failure

    for dag in dagbag.dags.values():
        assert dag.max_active_runs == 1, dag.dag_id
        assert dag.catchup is False, dag.dag_id
        assert dag.on_failure_callback is None, "DAG-level callbacks crash dag.test() in 3.3.2"
        for task in dag.tasks:
            where = f"{dag.dag_id}.{task.task_id}"
            assert task.retries == 2, where
            assert task.retry_exponential_backoff, where
            assert task.retry_delay == timedelta(minutes=2), where
            assert task.execution_timeout is not None, where
            assert timedelta(0) < task.execution_timeout <= timedelta(minutes=30), where
            callbacks = task.on_failure_callback
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert on_task_failure in callbacks, where


def test_ingest_dag_shape(dagbag):
    dag = dagbag.dags["escalation_ingest"]
    assert set(dag.task_ids) == {"list_feeds", "ingest_feed", "plan_pages", "fetch_pages", "finish_run"}
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"
    assert dag.timetable.expression == "0 6 * * *"
    ingest = dag.get_task("ingest_feed")
    assert ingest.max_active_tis_per_dag == 8
    assert ingest.pool == FETCH_POOL
    assert ingest.upstream_task_ids == {"list_feeds"}
    plan, pages = dag.get_task("plan_pages"), dag.get_task("fetch_pages")
    assert plan.upstream_task_ids == {"ingest_feed"} and plan.trigger_rule == "none_failed"
    assert pages.upstream_task_ids == {"plan_pages"}  # mapped over its host groups
    assert pages.max_active_tis_per_dag == 8 and pages.pool == FETCH_POOL and pages.retries == 2
    finish = dag.get_task("finish_run")
    assert finish.trigger_rule == "none_failed"  # an empty feed list still finishes the run
    assert finish.upstream_task_ids == {"ingest_feed", "fetch_pages"}
    assert [(a.name, a.uri) for a in finish.outlets] == [(ASSET_NAME, ASSET_URI)]


def test_signals_dag_is_scheduled_on_the_ingest_asset_or_time(dagbag):
    from airflow.sdk import Asset, AssetOrTimeSchedule, CronDataIntervalTimetable

    dag = dagbag.dags["escalation_signals"]
    assert set(dag.task_ids) == {"resolve_days", "compute_signals", "detect_alerts"}
    assert dag.get_task("compute_signals").upstream_task_ids == {"resolve_days"}
    assert dag.get_task("detect_alerts").upstream_task_ids == {"compute_signals"}
    assert dag.get_task("detect_alerts").trigger_rule == "none_failed"
    assert set(dag.params) == {"since", "until"}

    schedule = dag.timetable
    assert isinstance(schedule, AssetOrTimeSchedule)
    assert isinstance(schedule.timetable, CronDataIntervalTimetable)  # real intervals: backfillable
    assert schedule.timetable.expression == "30 6 * * *"
    # The asset the ingest DAG (and the rescore DAG) emit is the one the signals DAG listens to.
    scheduled_on = {(a.name, a.uri) for a in schedule.asset_condition.objects}
    assert scheduled_on == {(ASSET_NAME, ASSET_URI)}
    for producer, task_id in (
        ("escalation_ingest", "finish_run"),
        ("escalation_rescore", "publish_rescored_days"),
    ):
        outlets = dagbag.dags[producer].get_task(task_id).outlets
        assert len(outlets) == 1 and isinstance(outlets[0], Asset)
        assert {(outlets[0].name, outlets[0].uri)} == scheduled_on


def test_rescore_dag_shape(dagbag):
    dag = dagbag.dags["escalation_rescore"]
    assert set(dag.task_ids) == {"check_scorer_version", "rescore_batch", "publish_rescored_days"}
    assert dag.get_task("rescore_batch").max_active_tis_per_dag == 4
    assert dag.get_task("publish_rescored_days").trigger_rule == "none_failed"
    assert {"batch_size", "max_batches"} <= set(dag.params)
    assert type(dag.timetable).__name__ == "CronTriggerTimetable"


def test_asset_wiring_is_recorded_in_the_metadata_db(ingested):
    """After serialization (dag.test syncs the DAG folder) the scheduler sees producer and consumer."""
    from airflow.models.asset import AssetModel, DagScheduleAssetReference, TaskOutletAssetReference
    from airflow.utils.session import create_session

    with create_session() as session:
        asset = session.scalars(sa.select(AssetModel).where(AssetModel.name == ASSET_NAME)).one()
        consumers = session.scalars(
            sa.select(DagScheduleAssetReference.dag_id).where(DagScheduleAssetReference.asset_id == asset.id)
        ).all()
        producers = session.execute(
            sa.select(TaskOutletAssetReference.dag_id, TaskOutletAssetReference.task_id).where(
                TaskOutletAssetReference.asset_id == asset.id
            )
        ).all()
    assert asset.uri == ASSET_URI
    assert set(consumers) == {"escalation_signals"}
    assert set(producers) == {
        ("escalation_ingest", "finish_run"),
        ("escalation_rescore", "publish_rescored_days"),
    }


# -- escalation_ingest ---------------------------------------------------------------------------------
def test_ingest_end_to_end_emits_the_touched_days(ingested):
    from airflow.models.asset import AssetDagRunQueue
    from airflow.utils.session import create_session

    db_url = f"sqlite:///{ingested['db_path']}"
    counts = _counts(db_url)
    assert counts["articles"] > 0
    assert counts["sentences"] >= counts["articles"]
    assert counts["daily_signals"] == 0  # aggregation belongs to escalation_signals now
    assert _query(db_url, "select status, feeds_ok, feeds_failed from pipeline_runs") == [("success", 3, 0)]
    assert all(state == "success" for state in ingested["states"].values()), ingested["states"]
    assert sum(1 for key in ingested["states"] if key.startswith("ingest_feed[")) == 3

    assert len(ingested["events"]) == 1
    event = ingested["events"][0]
    stored_days = [
        str(d) for (d,) in _query(db_url, "select distinct published_day from articles order by 1")
    ]
    assert event["extra"]["days"] == stored_days == SAMPLE_DAYS
    assert event["extra"]["new_articles"] == counts["articles"]
    assert (event["source_dag_id"], event["source_task_id"]) == ("escalation_ingest", "finish_run")
    with create_session() as session:  # the event queued a run of the consumer for the scheduler
        queued = session.scalars(sa.select(AssetDagRunQueue.target_dag_id)).all()
    assert "escalation_signals" in queued


def test_second_ingest_stores_nothing_new_and_says_so(dagbag, warehouse_copy):
    before = _counts(warehouse_copy)
    _run(dagbag.dags["escalation_ingest"], logical_date=pendulum.datetime(2026, 11, 3, 6, tz="UTC"))
    after = _counts(warehouse_copy)
    for table in ("articles", "sentences", "sentence_actors", "article_sources"):
        assert after[table] == before[table], table
    assert after["pipeline_runs"] == 2
    latest = _asset_events("escalation_ingest")[-1]
    assert latest["extra"]["days"] == [] and latest["extra"]["new_articles"] == 0


def test_a_run_logs_no_xcom_error(dagbag, warehouse_copy, capfd):
    """finish_run reads the mapped feed and page results without the "[error] XCom not found" that
    iterating Airflow's lazy sequence logs at its end (dags/escalation_common.mapped_results)."""
    capfd.readouterr()
    run = _run(dagbag.dags["escalation_ingest"], logical_date=pendulum.datetime(2026, 11, 5, 6, tz="UTC"))
    out, err = capfd.readouterr()
    assert _ti_states(run)["finish_run"] == "success" and "ingest_feed[2]" in _ti_states(run)
    assert "Pushing xcom" in out + err  # the task logs are there to be read
    assert "XCom not found" not in out + err


def test_a_run_for_any_past_date_runs_its_tasks(dagbag, warehouse_copy):
    """`airflow dags test escalation_ingest 2026-10-16` ran nothing and said success while the DAG's
    start_date was later: Airflow does not run tasks before their start_date. The ingest and rescore
    DAGs fetch and score what is there now whatever the date, and signals backfills reach any
    archived day, so every DAG starts in 1990 (catchup=False: the scheduler still starts from now)."""
    run = _run(dagbag.dags["escalation_ingest"], logical_date=pendulum.datetime(2026, 10, 16, 6, tz="UTC"))
    states = _ti_states(run)
    assert states["list_feeds"] == "success" and states["finish_run"] == "success", states
    assert states["ingest_feed[0]"] == "success", states
    for dag_id in ("escalation_ingest", "escalation_signals", "escalation_rescore"):
        assert dagbag.dags[dag_id].start_date <= pendulum.datetime(1990, 1, 1, tz="UTC"), dag_id
        assert dagbag.dags[dag_id].catchup is False, dag_id


def test_ingest_with_empty_feed_list_still_finishes_and_emits(airflow_db, dagbag, tmp_path, monkeypatch):
    db_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("ESCALATION_DB_URL", db_url)
    monkeypatch.setenv("ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path, [])))
    run = _run(dagbag.dags["escalation_ingest"], logical_date=pendulum.datetime(2026, 11, 4, 6, tz="UTC"))
    states = _ti_states(run)
    # Mapping over [] skips ingest_feed; finish_run (none_failed) must still run and emit.
    assert states["ingest_feed"] == "skipped"
    assert states["finish_run"] == "success"
    assert _query(db_url, "select status, feeds_ok from pipeline_runs") == [("success", 0)]
    latest = _asset_events("escalation_ingest")[-1]
    assert latest["source_run_id"] == run.run_id and latest["extra"]["days"] == []


def test_warehouse_from_an_airflow_connection(airflow_db, dagbag, tmp_path, monkeypatch):
    """An escalation_warehouse connection (here from an AIRFLOW_CONN_ env var) wins over ESCALATION_DB_URL."""
    env_db, conn_db = tmp_path / "env.db", tmp_path / "from_connection.db"
    monkeypatch.setenv("ESCALATION_DB_URL", f"sqlite:///{env_db}")
    monkeypatch.setenv(
        "ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path, sorted(FIXTURE_FEEDS.glob("*.xml"))[:1]))
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_ESCALATION_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(conn_db)})
    )
    _run(dagbag.dags["escalation_ingest"], logical_date=pendulum.datetime(2026, 11, 5, 6, tz="UTC"))
    assert _counts(f"sqlite:///{conn_db}")["articles"] > 0
    assert not env_db.exists()


def _no_retry_delay(monkeypatch, task) -> None:
    # dag.test() waits out retry_delay between tries; the test does not need to wait 2 minutes.
    monkeypatch.setattr(task, "retry_delay", timedelta(0))
    monkeypatch.setattr(task, "retry_exponential_backoff", False)


def test_transient_feed_failure_is_retried_and_equals_a_clean_run(
    airflow_db, dagbag, tmp_path, monkeypatch, httpserver
):
    """The feed server answers 500 once, then 200: the mapped task fails, Airflow retries it, and the
    warehouse ends up exactly as after one clean run (no duplicate articles)."""
    body = (FIXTURE_FEEDS / "levant_dispatch.xml").read_bytes()
    httpserver.expect_oneshot_request("/levant.xml").respond_with_data("overloaded", status=500)
    httpserver.expect_request("/levant.xml").respond_with_data(body, content_type="application/xml")
    url = httpserver.url_for("/levant.xml")
    sources = [url, FIXTURE_FEEDS / "meridian_wire.xml"]
    dag = dagbag.dags["escalation_ingest"]
    _no_retry_delay(monkeypatch, dag.get_task("ingest_feed"))
    monkeypatch.setenv("ESCALATION_FETCH_RETRIES", "0")  # no in-process retry: Airflow's retry must do it

    monkeypatch.setenv("ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path / "feeds", sources)))
    retried_db = f"sqlite:///{tmp_path / 'retried.db'}"
    monkeypatch.setenv("ESCALATION_DB_URL", retried_db)
    run = _run(dag, logical_date=pendulum.datetime(2026, 11, 6, 6, tz="UTC"))
    tries = {(ti.map_index, ti.try_number) for ti in run.get_task_instances() if ti.task_id == "ingest_feed"}
    assert tries == {(0, 2), (1, 1)}  # the HTTP feed needed a second try, the file feed did not

    clean_db = f"sqlite:///{tmp_path / 'clean.db'}"  # the server now always answers 200
    monkeypatch.setenv("ESCALATION_DB_URL", clean_db)
    _run(dag, logical_date=pendulum.datetime(2026, 11, 7, 6, tz="UTC"))

    assert _corpus(retried_db) == _corpus(clean_db)
    assert _query(retried_db, "select url from feeds order by 1") == _query(
        clean_db, "select url from feeds order by 1"
    )
    assert (
        _query(retried_db, "select count(*), count(distinct article_key) from articles")[0]
        == (_counts(clean_db)["articles"],) * 2
    )
    # The failed attempt stays visible in the fetch log (one extra row), the run counts are clean.
    failed = _query(retried_db, "select error from fetch_log where ok = 0")
    assert len(failed) == 1 and "500" in failed[0][0]
    assert _query(retried_db, "select status, feeds_ok, feeds_failed from pipeline_runs") == [
        ("success", 2, 0)
    ]


def test_retry_after_a_committed_write_adds_no_duplicates(dagbag, ingested, tmp_path, monkeypatch):
    """The hardest retry: the feed's batch committed, then the task died (worker lost, timeout)."""
    import pipeline.ingest

    real = pipeline.ingest.ingest_source
    crashed: list[str] = []

    def ingest_then_crash(source, ctx, run_id):
        outcome = real(source, ctx, run_id)
        if not crashed and source.endswith("gulf_ledger.xml"):
            crashed.append(source)
            raise RuntimeError("worker lost after the commit")
        return outcome

    monkeypatch.setattr(pipeline.ingest, "ingest_source", ingest_then_crash)
    dag = dagbag.dags["escalation_ingest"]
    _no_retry_delay(monkeypatch, dag.get_task("ingest_feed"))
    db_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("ESCALATION_DB_URL", db_url)
    monkeypatch.setenv("ESCALATION_FEEDS_FILE", str(ingested["feeds"]))
    _run(dag, logical_date=pendulum.datetime(2026, 11, 8, 6, tz="UTC"))

    assert crashed
    clean = f"sqlite:///{ingested['db_path']}"
    assert _corpus(db_url) == _corpus(clean)
    assert _query(db_url, "select url from feeds order by 1") == _query(
        clean, "select url from feeds order by 1"
    )
    # The retry saw the committed articles as known, yet the event still lists their days, and the
    # run and the event still count them.
    event = _asset_events("escalation_ingest")[-1]
    assert event["extra"]["days"] == SAMPLE_DAYS
    counts = _counts(db_url)
    assert event["extra"]["new_articles"] == counts["articles"]
    assert _query(db_url, "select new_articles, new_sentences from pipeline_runs") == [
        (counts["articles"], counts["sentences"])
    ]


def test_a_task_that_fails_for_good_calls_back_and_closes_the_run(
    airflow_db, dagbag, tmp_path, monkeypatch, httpserver
):
    from airflow.utils.state import DagRunState

    import pipeline.ingest

    def broken(source, ctx, run_id):
        raise RuntimeError("warehouse exploded")

    monkeypatch.setattr(pipeline.ingest, "ingest_source", broken)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    monkeypatch.setenv("ESCALATION_WEBHOOK_URL", httpserver.url_for("/hook"))
    db_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
    monkeypatch.setenv("ESCALATION_DB_URL", db_url)
    monkeypatch.setenv(
        "ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path, [FIXTURE_FEEDS / "gulf_ledger.xml"]))
    )
    dag = dagbag.dags["escalation_ingest"]
    monkeypatch.setattr(dag.get_task("ingest_feed"), "retries", 0)

    run = _test(dag, logical_date=pendulum.datetime(2026, 11, 9, 6, tz="UTC"))
    assert run.state == DagRunState.FAILED
    states = _ti_states(run)
    assert states["ingest_feed[0]"] == "failed" and states["finish_run"] == "upstream_failed"
    posted = [json.loads(req.get_data()) for req, _ in httpserver.log]
    assert [p["type"] for p in posted] == ["pipeline_failure"]
    assert "escalation_ingest.ingest_feed" in posted[0]["text"]
    assert _query(db_url, "select status from pipeline_runs") == [("failed",)]
    assert all(e["source_run_id"] != run.run_id for e in _asset_events())  # no event from a failed run


def _page(title: str) -> str:
    paragraphs = [
        f"{title}: negotiators met for a third day on Wednesday to discuss the border crossings.",
        "A spokesman said the delegations had agreed on a timetable for reopening the main road.",
        "Aid groups welcomed the step but warned that food stocks in the northern towns were low.",
    ]
    return (
        f"<!doctype html><html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        + "".join(f"<p>{p}</p>" for p in paragraphs)
        + "</article></body></html>"
    )


def test_page_tasks_one_per_host_group_and_a_transient_page_is_retried(
    airflow_db, dagbag, tmp_path, monkeypatch
):
    """Teasers on three hosts: plan_pages puts every host in exactly one mapped fetch_pages task (so
    per-host limits hold across parallel tasks); a page answering 500 once makes its task fail and
    Airflow's retry completes it; the page texts' day reaches the asset event."""
    from email.utils import format_datetime

    from pytest_httpserver import HTTPServer

    from pipeline.pages import host_key

    hosts = [HTTPServer(host="127.0.0.1", threaded=True) for _ in range(3)]
    try:
        items = []
        for h, server in enumerate(hosts):
            server.start()
            server.expect_request("/robots.txt").respond_with_data("none", status=404)
            for p in range(2):
                if (h, p) == (1, 0):
                    server.expect_oneshot_request(f"/story{p}").respond_with_data("busy", status=500)
                server.expect_request(f"/story{p}").respond_with_data(_page(f"Story {h}-{p}"), content_type="text/html")
                items.append((f"Story {h}-{p}", server.url_for(f"/story{p}")))
        when = format_datetime(datetime(2026, 10, 20, 8, tzinfo=UTC))
        feed = tmp_path / "teasers.xml"
        feed.write_text(
            "<?xml version='1.0'?><rss version='2.0'><channel><title>Teasers</title>"
            + "".join(
                f"<item><title>{t}</title><link>{u}</link><pubDate>{when}</pubDate>"
                f"<description>Talks went on.</description></item>"
                for t, u in items
            )
            + "</channel></rss>"
        )
        db_url = f"sqlite:///{tmp_path / 'warehouse.db'}"
        monkeypatch.setenv("ESCALATION_DB_URL", db_url)
        monkeypatch.setenv("ESCALATION_FEEDS_FILE", str(_feeds_file(tmp_path / "feeds", [feed])))
        monkeypatch.setenv("ESCALATION_ARTICLE_ALLOWED_NETWORKS", "127.0.0.0/8")
        monkeypatch.setenv("ESCALATION_ARTICLE_HOST_DELAY_S", "0")
        monkeypatch.setenv("ESCALATION_ARTICLE_RETRIES", "0")  # Airflow's retry must do it
        dag = dagbag.dags["escalation_ingest"]
        _no_retry_delay(monkeypatch, dag.get_task("fetch_pages"))
        before = {e["id"] for e in _asset_events()}

        run = _run(dag, logical_date=pendulum.datetime(2026, 11, 10, 6, tz="UTC"))

        tries = sorted(
            (ti.map_index, ti.try_number) for ti in run.get_task_instances() if ti.task_id == "fetch_pages"
        )
        assert len(tries) == 3 and sorted(t for _, t in tries) == [1, 1, 2]  # one task retried
        event = next(e for e in _asset_events("escalation_ingest") if e["id"] not in before)
        groups = event["extra"]["page_tasks"]
        every_host = sorted(h for group in groups for h in group)
        assert every_host == sorted(host_key(server.url_for("/")) for server in hosts)  # each exactly once
        assert event["extra"]["pages"] == {"done": 6} and event["extra"]["days"] == ["2026-10-20"]
        assert _query(db_url, "select page_state, body_source, count(*) from article_pages group by 1, 2") == [
            ("done", "page", 6)
        ]
        for server in hosts:  # robots.txt once per host and task try, each page read (the 500 once more)
            paths = [request.path for request, _ in server.log]
            assert sorted(set(paths)) == ["/robots.txt", "/story0", "/story1"]
    finally:
        for server in hosts:
            server.clear()
            if server.is_running():
                server.stop()


# -- escalation_signals --------------------------------------------------------------------------------
def test_signals_for_a_manual_range(dagbag, warehouse_copy):
    run = _run(
        dagbag.dags["escalation_signals"],
        logical_date=None,
        run_conf={"since": "2026-10-01", "until": "2026-10-16"},
    )
    assert run.data_interval_start is None
    days = [str(d) for (d,) in _query(warehouse_copy, "select distinct day from daily_signals order by 1")]
    assert days == SAMPLE_DAYS
    assert _query(warehouse_copy, "select count(*) from daily_signals where actor = 'ALL'")[0][0] == 16
    alerts = _query(warehouse_copy, "select day, actor, kind, mode from alerts")
    assert alerts, "the sample story escalates in mid-October"
    assert {mode for *_, mode in alerts} == {"live"}
    assert all("2026-10-01" <= str(day) <= "2026-10-16" for day, *_ in alerts)
    # The detection step maintains incidents: every alert but the pseudo-actor ALL's is in one.
    incidents = _query(warehouse_copy, "select incident_id, mode, kind, alerts from incidents")
    assert incidents and {mode for _, mode, *_ in incidents} == {"live"}
    linked = _query(
        warehouse_copy,
        "select count(*) from alerts where actor != 'ALL' and alert_id not in (select alert_id from incident_alerts)",
    )
    assert linked == [(0,)]
    assert sum(count for *_, count in incidents) == _query(
        warehouse_copy, "select count(*) from alerts where actor != 'ALL'"
    )[0][0]


def test_an_incident_that_opens_pages_the_webhook_once(dagbag, warehouse_copy, monkeypatch, httpserver):
    """The detect step of a scheduled run pages a real channel: one POST for the incident that opens
    in the interval, with its id and actors; a repeat run of the interval pages nobody again."""
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    monkeypatch.setenv("ESCALATION_WEBHOOK_URL", httpserver.url_for("/hook"))
    dag = dagbag.dags["escalation_signals"]
    # History first, without an alert (the sample story escalates on 2026-10-13): nothing to page.
    _run(dag, logical_date=None, run_conf={"since": "2026-10-01", "until": "2026-10-11"})
    assert httpserver.log == []

    scheduled = pendulum.datetime(2026, 10, 13, 6, 30, tz="UTC")  # [10-12 06:30, 10-13 06:30)
    _run(dag, logical_date=scheduled)
    posted = [request.get_json() for request, _ in httpserver.log]
    opened = _query(
        warehouse_copy,
        "select incident_id, actors, opened from incidents where mode = 'live' and first_paged = '2026-10-13'",
    )
    assert len(opened) == 1, opened  # the barrage on 2026-10-13 opens one paging incident
    incident_id, actors, since = opened[0]
    assert [(p["type"], p["reason"], p["incident"]) for p in posted] == [
        ("escalation_incident", "open", incident_id)
    ]
    assert posted[0]["actors"] == actors.split(",") != []
    assert posted[0]["since"] == str(since) == "2026-10-13"
    assert posted[0]["why"].startswith(f"opened at {posted[0]['severity']}")
    assert _query(
        warehouse_copy,
        "select d.channel, d.status from page_deliveries d join incident_pages p using (page_id)"
        " where p.incident_id = :i order by 1",
        i=incident_id,
    ) == [("log", "sent"), ("webhook", "sent")]

    _run(dag, logical_date=scheduled)  # a clear/retry of the same interval
    assert len(httpserver.log) == 1  # delivered once per channel: nobody is paged twice
    httpserver.check_assertions()


def test_signals_rejects_a_malformed_range(dagbag, warehouse_copy):
    from airflow.sdk.definitions.param import ParamValidationError

    with pytest.raises(ParamValidationError):
        _test(dagbag.dags["escalation_signals"], logical_date=None, run_conf={"since": "16/10/2026"})


def test_asset_triggered_signals_run_uses_the_event_days(dagbag, ingested, warehouse_copy, monkeypatch):
    """A run that consumed the ingest's asset event (no data interval) recomputes the event's days.

    dag.test() cannot be told about asset events, so the run it creates gets the recorded AssetEvent
    attached as a scheduler would (DagRun.consumed_asset_events); the tasks then read it through
    context["triggering_asset_events"] from the Execution API like in production.
    """
    import airflow.models.dagrun as dagrun_module
    from airflow.models.asset import AssetEvent
    from airflow.utils.types import DagRunType

    event_id = ingested["events"][0]["id"]
    original = dagrun_module.get_or_create_dagrun

    def with_consumed_event(**kwargs):
        run = original(**kwargs)
        session = kwargs["session"]
        run.run_type = DagRunType.ASSET_TRIGGERED
        run.consumed_asset_events.append(session.get(AssetEvent, event_id))
        session.commit()
        return run

    monkeypatch.setattr(dagrun_module, "get_or_create_dagrun", with_consumed_event)
    run = _run(dagbag.dags["escalation_signals"], logical_date=None)
    assert run.data_interval_start is None and run.logical_date is None
    days = [str(d) for (d,) in _query(warehouse_copy, "select distinct day from daily_signals order by 1")]
    assert days == ingested["events"][0]["extra"]["days"] == SAMPLE_DAYS


BACKFILL_DATES = [pendulum.datetime(2026, 10, d, 6, 30, tz="UTC") for d in (14, 15, 16)]


def test_signals_recomputation_is_idempotent_over_past_intervals(dagbag, warehouse_copy):
    """Backfill-style: three past logical dates, twice each; the second pass changes nothing."""
    dag = dagbag.dags["escalation_signals"]
    # History first, so the detector has a baseline for mid-October.
    _run(dag, logical_date=None, run_conf={"since": "2026-10-01", "until": "2026-10-12"})
    tables = ("daily_signals", "alerts", "alert_deliveries", "incidents", "incident_alerts", "incident_pages")
    passes = []
    for _ in range(2):
        for logical_date in BACKFILL_DATES:
            run = _run(dag, logical_date=logical_date)
            # [06:30 day-1, 06:30 day): the interval overlaps two UTC days, both are recomputed.
            assert run.data_interval_end == logical_date
        passes.append({t: _snapshot(warehouse_copy, t) for t in tables})
    assert passes[0] == passes[1]
    assert passes[0]["daily_signals"] and passes[0]["alerts"] and passes[0]["incidents"]
    assert _query(warehouse_copy, "select count(*) from daily_signals")[0][0] == len(
        _query(warehouse_copy, "select distinct day, actor from daily_signals")
    )
    assert _query(warehouse_copy, "select count(*) from alerts")[0][0] == len(
        _query(warehouse_copy, "select distinct day, actor, kind from alerts")
    )
    days = {str(d) for (d,) in _query(warehouse_copy, "select distinct day from daily_signals")}
    assert days == set(SAMPLE_DAYS)


def test_backfill_creates_one_run_per_interval(dagbag, warehouse_copy):
    """Airflow's own backfill (what `airflow backfill create` calls) over the serialized signals DAG.

    It only creates the runs (QUEUED); executing them is the scheduler's job, which no test runs.
    """
    from airflow.models.backfill import BackfillDagRun, _create_backfill
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunType

    _run(
        dagbag.dags["escalation_signals"],
        logical_date=None,
        run_conf={"since": "2026-10-01", "until": "2026-10-01"},
    )
    start = datetime(2026, 10, 20, 6, 30, tzinfo=UTC)
    backfill = _create_backfill(
        dag_id="escalation_signals",
        from_date=start,
        to_date=start + timedelta(days=2),
        max_active_runs=2,
        reverse=False,
        dag_run_conf=None,
        triggering_user_name=None,
    )
    with create_session() as session:
        runs = session.scalars(
            sa.select(DagRun).where(DagRun.backfill_id == backfill.id).order_by(DagRun.logical_date)
        ).all()
        intervals = [(r.data_interval_start, r.data_interval_end, r.run_type, str(r.state)) for r in runs]
        links = session.scalars(
            sa.select(BackfillDagRun).where(BackfillDagRun.backfill_id == backfill.id)
        ).all()
        assert all(link.exception_reason is None for link in links)
    expected = [start + timedelta(days=i) for i in range(3)]
    assert [(s, e) for s, e, *_ in intervals] == [(d, d + timedelta(days=1)) for d in expected]
    assert {(t, state) for *_, t, state in intervals} == {(DagRunType.BACKFILL_JOB, "queued")}


# -- escalation_rescore --------------------------------------------------------------------------------
def test_rescore_updates_old_versions_in_bounded_batches_and_emits_days(dagbag, warehouse_copy):
    from pipeline.score import load_scorer

    current = load_scorer().version
    engine = sa.create_engine(warehouse_copy)
    with engine.begin() as conn:
        conn.execute(sa.text("update sentences set scorer_version = 'lexicon-0+scorer-0', score = 0"))
        conn.execute(
            sa.text("update sentences set scorer_version = :v where sentence_id % 3 = 0"), {"v": current}
        )
    engine.dispose()
    stale = _query(warehouse_copy, "select count(*) from sentences where scorer_version != :v", v=current)[0][
        0
    ]
    stale_days = [
        str(d)
        for (d,) in _query(
            warehouse_copy,
            "select distinct a.published_day from sentences s join articles a using (article_id)"
            " where s.scorer_version != :v order by 1",
            v=current,
        )
    ]
    dag = dagbag.dags["escalation_rescore"]
    before = {e["id"] for e in _asset_events()}
    run = _run(dag, logical_date=None, run_conf={"batch_size": 100})

    states = _ti_states(run)
    batches = [k for k in states if k.startswith("rescore_batch[")]
    assert len(batches) == -(-stale // 100)  # ceil: at most 100 sentences per task
    assert states["publish_rescored_days"] == "success"
    assert _query(warehouse_copy, "select distinct scorer_version from sentences") == [(current,)]
    assert _query(warehouse_copy, "select count(*) from sentences where score != 0")[0][0] > 0
    events = [e for e in _asset_events("escalation_rescore") if e["id"] not in before]
    assert len(events) == 1 and events[0]["extra"]["days"] == stale_days

    # Nothing stale any more: no batch, the publish task is skipped, no event, the run succeeds.
    run = _run(dag, logical_date=None)
    states = _ti_states(run)
    assert states["rescore_batch"] == "skipped" and states["publish_rescored_days"] == "skipped"
    assert [e for e in _asset_events("escalation_rescore") if e["id"] not in before] == events


# -- pipeline.orchestration (the Airflow-free logic the DAGs call) ------------------------------------
def test_resolve_days_precedence():
    start = datetime(2026, 10, 13, 6, 30, tzinfo=UTC)
    end = start + timedelta(days=1)
    extras = [{"days": ["2026-10-02", "2026-10-01"]}, {"days": ["2026-10-02"]}, {}]
    both = {"event_extras": extras, "interval_start": start, "interval_end": end}
    assert resolve_days(since="2026-10-01", until="2026-10-03", **both).days == (
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
    )
    assert resolve_days(since="2026-10-05", **both).days == ("2026-10-05",)
    assert resolve_days(**both) == resolve_days(event_extras=extras)
    assert resolve_days(**both).days == ("2026-10-01", "2026-10-02")
    assert resolve_days(interval_start=start, interval_end=end).days == ("2026-10-13", "2026-10-14")
    assert resolve_days(event_extras=[{"days": []}]).source == "asset_events"
    assert resolve_days().days == ()
    with pytest.raises(ValueError):
        resolve_days(since="2026-10-05", until="2026-10-01")
    with pytest.raises(ValueError):
        resolve_days(since="1026-01-01", until="2026-01-01")


def test_interval_days_and_ranges():
    midnight = datetime(2026, 10, 1, tzinfo=UTC)
    assert interval_days(midnight, midnight + timedelta(days=1)) == ["2026-10-01"]  # end exclusive
    assert interval_days(midnight, midnight) == []
    assert interval_days(None, None) == []
    assert day_ranges(["2026-10-03", "2026-10-01", "2026-10-02", "2026-12-01"]) == [
        (datetime(2026, 10, 1).date(), datetime(2026, 10, 3).date()),
        (datetime(2026, 12, 1).date(), datetime(2026, 12, 1).date()),
    ]


@pytest.mark.parametrize(
    ("outcome", "transient"),
    [
        ({"ok": True}, False),
        ({"ok": False, "status": 503, "error": "HTTP 503 after 1 attempt"}, True),
        ({"ok": False, "status": 429, "error": "HTTP 429"}, True),
        ({"ok": False, "status": 404, "error": "HTTP 404 Not Found"}, False),
        ({"ok": False, "status": None, "error": "connection refused after 3 attempts"}, True),
        ({"ok": False, "status": None, "error": "timed out after 20s after 3 attempts"}, True),
        (
            {"ok": False, "status": 503, "error": "HTTP 503 (Retry-After 3600s: not retried in this run)"},
            False,
        ),
        ({"ok": False, "status": 200, "error": "not a feed", "bozo_reason": "syntax error"}, False),
        ({"ok": False, "status": None, "error": "refused address 169.254.169.254"}, False),
        ({"ok": False, "status": None, "error": "file not found: /x.xml"}, False),
    ],
)
def test_transient_feed_failures(outcome, transient):
    assert is_transient_failure(outcome) is transient


def test_rescore_batches_are_bounded_and_retry_safe(warehouse):
    """plan_rescore_batches/rescore_batch on both databases (the warehouse fixture: SQLite and PG)."""
    from datetime import date

    from helpers import article, fetch_record

    from pipeline.rescore import plan_rescore_batches, rescore_batch, stale_sentence_count
    from pipeline.score import load_scorer

    scorer = load_scorer()
    days = [date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 5)]
    records = [article(f"k{i}", day, [(0.0, ()), (0.0, ())]) for i, day in enumerate(days)]
    warehouse.store_feed_batch(fetch_record(), records, "r1", "lexicon-old+scorer-0")
    assert stale_sentence_count(warehouse, scorer.version) == 6

    plan = plan_rescore_batches(warehouse, scorer.version, batch_size=4, max_batches=5)
    assert [b["sentences"] for b in plan] == [4, 2]
    assert plan_rescore_batches(warehouse, scorer.version, batch_size=2, max_batches=2) == [
        {"first_id": b["first_id"], "last_id": b["last_id"], "sentences": 2}
        for b in plan_rescore_batches(warehouse, scorer.version, batch_size=2, max_batches=3)[:2]
    ]  # the cap leaves the rest for the next run

    first = rescore_batch(warehouse, scorer, plan[0]["first_id"], plan[0]["last_id"], limit=4).days
    assert first == ["2026-10-01", "2026-10-02"]
    assert rescore_batch(warehouse, scorer, plan[0]["first_id"], plan[0]["last_id"]).days == []  # a retry
    assert stale_sentence_count(warehouse, scorer.version) == 2
    assert rescore_batch(warehouse, scorer, plan[1]["first_id"], plan[1]["last_id"]).days == ["2026-10-05"]
    assert stale_sentence_count(warehouse, scorer.version) == 0
    assert plan_rescore_batches(warehouse, scorer.version, batch_size=4, max_batches=5) == []
