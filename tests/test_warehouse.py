"""Warehouse storage on a real SQLite file and the real PostgreSQL: idempotent, atomic, clear errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import article, fetch_record

from pipeline.store import Warehouse, WarehouseError
from pipeline.store import feeds as store_feeds
from pipeline.store.schema import ddl

REPO = Path(__file__).resolve().parent.parent
DAY = date(2026, 11, 1)


def test_same_batch_twice_changes_nothing(warehouse):
    batch = [article("a1", DAY, [(0.8, ("IRN", "USA")), (-0.4, ("QAT",))]), article("a2", DAY, [(0.0, ())])]
    first = warehouse.store_feed_batch(fetch_record(), batch, "run-1", "v1")
    counts = warehouse.counts()
    second = warehouse.store_feed_batch(fetch_record(), batch, "run-2", "v1")
    assert (first.new_articles, first.new_sentences) == (2, 3)
    assert (second.new_articles, second.new_sentences, second.existing_articles) == (0, 0, 2)
    after = warehouse.counts()
    assert after.pop("fetch_log") == counts.pop("fetch_log") + 1  # the log records every fetch
    assert after == counts
    assert counts["sentence_actors"] == 3


def test_crash_half_way_leaves_no_partial_article(warehouse, monkeypatch):
    original = store_feeds._insert_sentences

    def failing(conn, stored, *args, **kwargs):
        assert len(stored) == 2  # both articles are already inserted in this transaction
        original(conn, stored[:1], *args, **kwargs)  # the first article gets its sentences
        raise RuntimeError("disk full")

    monkeypatch.setattr(store_feeds, "_insert_sentences", failing)
    batch = [article("a1", DAY, [(0.5, ())]), article("a2", DAY, [(0.5, ())])]
    with pytest.raises(RuntimeError, match="disk full"):
        warehouse.store_feed_batch(fetch_record(), batch, "run", "v1")
    counts = warehouse.counts()
    assert counts["articles"] == counts["sentences"] == counts["feeds"] == counts["fetch_log"] == 0


def test_failed_fetch_keeps_cached_validators(warehouse):
    url = "https://feeds.example/rss"
    warehouse.store_feed_batch(
        fetch_record(url, etag='"v1"', last_modified="Mon, 02 Nov 2026"), [], "r1", "v1"
    )
    warehouse.record_fetch(fetch_record(url, ok=False, error="HTTP 500"), "r2")
    assert warehouse.validators_for(url) == ('"v1"', "Mon, 02 Nov 2026")
    assert warehouse.validators_for("https://unknown.example/") == (None, None)
    with warehouse.engine.connect() as conn:
        feed = conn.execute(sa.select(warehouse.tables["feeds"])).mappings().one()
    assert feed["last_error"] == "HTTP 500" and feed["last_success_at"] is not None


def test_article_seen_in_two_feeds_counts_both_sources(warehouse):
    shared = article("shared", DAY, [(0.5, ("IRN",))])
    warehouse.store_feed_batch(fetch_record("https://a.example/rss"), [shared], "r", "v1")
    result = warehouse.store_feed_batch(
        fetch_record("https://b.example/rss"), [], "r", "v1", seen_keys=["shared"]
    )
    assert result.new_articles == 0
    counts = warehouse.counts()
    assert counts["articles"] == 1 and counts["article_sources"] == 2


def test_times_come_back_as_aware_utc(warehouse):
    warehouse.store_feed_batch(fetch_record(), [article("a1", DAY, [(0.1, ())])], "r", "v1")
    with warehouse.engine.connect() as conn:
        row = conn.execute(sa.select(warehouse.tables["articles"])).mappings().one()
    assert row["published_at"] == datetime(2026, 11, 1, 12, tzinfo=UTC)
    assert row["published_day"] == DAY


def test_hostile_strings_are_stored_verbatim(warehouse):
    nasty = 'Robert\'); DROP TABLE articles;-- \u202eevil\u202c "quoted" \U0001f4a5'
    record = article("k'1", DAY, [(0.1, ())])
    record = record.__class__(**{**record.__dict__, "title": nasty})
    warehouse.store_feed_batch(fetch_record("https://x.example/?q=' or 1=1"), [record], "r", "v1")
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(warehouse.tables["articles"].c.title)).scalar_one() == nasty
    assert warehouse.existing_article_keys(["k'1", "other"]) == {"k'1"}


def test_runs_keyed_by_id_are_idempotent(warehouse):
    run_id = warehouse.start_run("airflow", {"feeds": 2}, run_id="airflow:daily:r1")
    assert warehouse.start_run("airflow", {"feeds": 2}, run_id=run_id) == run_id
    warehouse.store_feed_batch(fetch_record(), [article("a", DAY, [(0.9, ()), (0.1, ())])], run_id, "v1")
    # New articles and sentences are counted from what the run stored, not taken from the caller
    # (a retried task's outcome misses what its first try committed).
    warehouse.finish_run(run_id, "success", {"feeds_ok": 2, "new_articles": 5, "ignored": 9})
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(warehouse.tables["pipeline_runs"])).mappings().all()
    assert len(rows) == 1 and rows[0]["status"] == "success" and rows[0]["feeds_ok"] == 2
    assert (rows[0]["new_articles"], rows[0]["new_sentences"]) == (1, 2)


def test_top_sentences_for_an_actor_day(warehouse):
    warehouse.store_feed_batch(
        fetch_record(),
        [article("a", DAY, [(0.9, ("IRN",)), (0.3, ("IRN",)), (0.95, ("USA",)), (-0.5, ("IRN",))])],
        "r",
        "v1",
    )
    top = warehouse.top_sentences(day=DAY, actor="IRN", limit=5)
    assert [t["score"] for t in top] == [0.9, 0.3]
    assert top[0]["url"] == "https://news.example/a" and top[0]["feed"] == "https://feeds.example/rss"
    assert [t["score"] for t in warehouse.top_sentences(day=DAY, actor="IRN", descending=False)] == [-0.5]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url at all", "cannot parse warehouse URL"),
        ("mysql://root@localhost/x", "unsupported warehouse"),
        ("postgresql+nosuchdriver://u@h/db", "cannot use warehouse URL"),
        ("postgresql+psycopg://postgres:s3cret@127.0.0.1:1/nowhere", "cannot connect"),
    ],
)
def test_bad_urls_give_one_clear_error(url, message):
    with pytest.raises(WarehouseError, match=message) as info:
        Warehouse.from_url(url)
    assert "s3cret" not in str(info.value)
    assert "ESCALATION_DB_URL" in str(info.value)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_committed_ddl_matches_the_model(dialect):
    assert (REPO / "sql" / f"schema_{dialect}.sql").read_text() == ddl(dialect)


def test_a_known_article_gaining_a_source_reports_its_day(warehouse):
    # Feed B carries an article feed A stored on an earlier run: no new article, but the day's
    # source count changed, so the day must be recomputed.
    first = warehouse.store_feed_batch(
        fetch_record("https://a.example/rss"), [article("shared", DAY, [(0.5, ())])], "r1", "v"
    )
    assert first.days == (DAY,)
    second = warehouse.store_feed_batch(
        fetch_record("https://b.example/rss"), [], "r2", "v", seen_keys=["shared"]
    )
    assert (second.new_articles, second.days) == (0, (DAY,))
    third = warehouse.store_feed_batch(
        fetch_record("https://b.example/rss"), [], "r3", "v", seen_keys=["shared"]
    )
    assert third.days == ()  # nothing changed the second time
