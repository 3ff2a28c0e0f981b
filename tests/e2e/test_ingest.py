"""The whole cycle over real feeds served by a real local HTTP server, into SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.config import FetchSettings, Settings
from pipeline.ingest import build_context, ingest_source, run_cycle

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "feeds"


def _sample_feeds() -> list[Path]:
    files = sorted(SAMPLES.glob("*.xml"))
    assert len(files) >= 3, "the demo sample feeds are part of the repo"
    return files


def _table_counts(warehouse) -> dict[str, int]:
    with warehouse.engine.connect() as conn:
        return {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in warehouse.tables.items()
            if name not in ("fetch_log", "pipeline_runs")  # logs grow by design
        }


@pytest.fixture
def served_feeds(httpserver):
    urls = []
    for path in _sample_feeds():
        route = f"/feeds/{path.name}"
        httpserver.expect_request(route).respond_with_data(
            path.read_bytes(), content_type="application/rss+xml"
        )
        urls.append(httpserver.url_for(route))
    httpserver.expect_request("/feeds/broken.xml").respond_with_data(
        "<html><body>Not a feed</body></html>", content_type="text/html"
    )
    httpserver.expect_request("/feeds/down.xml").respond_with_data("oops", status=404)
    return urls


def _context(warehouse_url: str, warehouse):
    settings = Settings(db_url=warehouse_url, fetch=FetchSettings(retries=0, backoff_s=0.01, timeout_s=5))
    # Reuse the fixture's warehouse (on PostgreSQL it carries the per-test schema).
    return replace(build_context(settings, init_schema=False), warehouse=warehouse)


def test_cycle_stores_good_feeds_and_records_bad_ones(warehouse_url, warehouse, served_feeds, httpserver):
    ctx = _context(warehouse_url, warehouse)
    sources = [*served_feeds, httpserver.url_for("/feeds/broken.xml"), httpserver.url_for("/feeds/down.xml")]

    report = run_cycle(sources, ctx, trigger="test", notify=False)

    assert report.feeds_ok == len(served_feeds)
    assert report.feeds_failed == 2
    failed = {o.source: o.error for o in report.feeds if not o.ok}
    assert "404" in failed[httpserver.url_for("/feeds/down.xml")]
    assert failed[httpserver.url_for("/feeds/broken.xml")]
    assert report.new_articles > 50
    assert report.new_sentences > report.new_articles
    assert report.signal_rows > 0
    assert report.days and len(report.days) >= 10

    with warehouse.engine.connect() as conn:
        t = warehouse.tables
        logged = conn.execute(
            sa.select(sa.func.count()).select_from(t["fetch_log"]).where(~t["fetch_log"].c.ok)
        ).scalar_one()
        assert logged == 2
        run = conn.execute(sa.select(t["pipeline_runs"])).mappings().one()
        assert run["status"] == "partial"
        assert run["new_articles"] == report.new_articles
        # Every stored article has all its sentences, each with a score and the scorer version.
        orphans = conn.execute(
            sa.select(sa.func.count())
            .select_from(t["articles"])
            .where(~sa.exists().where(t["sentences"].c.article_id == t["articles"].c.article_id))
        ).scalar_one()
        assert orphans == 0
        versions = conn.execute(sa.select(t["sentences"].c.scorer_version).distinct()).scalars().all()
        assert versions == [ctx.scorer.version]


def test_same_feeds_twice_change_nothing(warehouse_url, warehouse, served_feeds):
    ctx = _context(warehouse_url, warehouse)
    first = run_cycle(served_feeds, ctx, trigger="test", notify=False)
    counts = _table_counts(warehouse)
    second = run_cycle(served_feeds, ctx, trigger="test", notify=False)
    assert first.new_articles > 0
    assert second.new_articles == 0
    assert second.new_sentences == 0
    assert _table_counts(warehouse) == counts


def test_article_carried_by_two_feeds_is_stored_once(warehouse_url, warehouse, served_feeds):
    ctx = _context(warehouse_url, warehouse)
    run_cycle(served_feeds, ctx, trigger="test", notify=False)
    with warehouse.engine.connect() as conn:
        t = warehouse.tables["articles"]
        dupes = conn.execute(
            sa.select(t.c.url, sa.func.count())
            .where(t.c.url.is_not(None))
            .group_by(t.c.url)
            .having(sa.func.count() > 1)
        ).all()
    assert dupes == []


def test_demo_story_raises_an_escalation_alert(warehouse_url, warehouse, served_feeds):
    ctx = _context(warehouse_url, warehouse)
    report = run_cycle(served_feeds, ctx, trigger="test", notify=False)
    escalations = [a for a in report.alerts if a["kind"] == "escalation"]
    assert escalations, "the sample story has a sharp escalation on its last days"
    assert {a["actor"] for a in escalations} & {"IRN", "USA", "IRQ", "IRGC"}
    evidence = escalations[0]["evidence"]
    assert evidence and evidence[0]["url"] and evidence[0]["score"] > 0


def test_ingest_source_local_file_and_conditional_get(warehouse_url, warehouse, httpserver):
    ctx = _context(warehouse_url, warehouse)
    path = _sample_feeds()[0]
    outcome = ingest_source(str(path), ctx, "run-local")
    assert outcome.ok and outcome.new_articles > 0

    body = path.read_bytes()
    httpserver.expect_request("/etag.xml", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    httpserver.expect_request("/etag.xml").respond_with_data(
        body, headers={"ETag": '"v1"'}, content_type="application/rss+xml"
    )
    url = httpserver.url_for("/etag.xml")
    first = ingest_source(url, ctx, "run-1")
    assert first.ok and not first.not_modified
    second = ingest_source(url, ctx, "run-2")
    assert second.ok and second.not_modified
    assert second.new_articles == 0


def test_a_stop_that_a_store_error_replaced_still_stops_the_run(warehouse_url, warehouse, served_feeds, monkeypatch):
    """Ctrl-C while a feed's transaction runs on PostgreSQL: the rollback can fail on the cut
    connection and its error replace the KeyboardInterrupt. That error is the stop, not the feed's
    failure: the run stops there (interrupted) instead of going on to signals and alerts without
    that feed. (The failing rollback is simulated: its timing cannot be produced on demand.)"""
    from pipeline.interrupts import is_stop, stop_on_signals

    ctx = _context(warehouse_url, warehouse)
    real_store, calls = warehouse.store_feed_batch, []

    def store_feed_batch(*args, **kwargs):
        calls.append(args[0].feed_url)
        if len(calls) == 2:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            finally:
                raise RuntimeError("can't rollback: the connection was cut mid-command")  # noqa: B012
        return real_store(*args, **kwargs)

    monkeypatch.setattr(warehouse, "store_feed_batch", store_feed_batch)
    with pytest.raises(RuntimeError) as stopped, stop_on_signals():
        try:
            run_cycle(served_feeds, ctx, trigger="test", notify=False)
        except RuntimeError as exc:
            assert is_stop(exc)
            raise
    assert len(calls) == 2 and "rollback" in str(stopped.value)  # the third feed was never stored
    with warehouse.engine.connect() as conn:
        t = warehouse.tables
        assert conn.execute(sa.select(t["pipeline_runs"].c.status)).scalars().all() == ["interrupted"]
        assert conn.execute(sa.select(sa.func.count()).select_from(t["daily_signals"])).scalar_one() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(t["alerts"])).scalar_one() == 0
        failures = conn.execute(sa.select(sa.func.count()).select_from(t["fetch_log"]).where(~t["fetch_log"].c.ok))
        assert failures.scalar_one() == 0  # the stop was not recorded as the feed's failure
