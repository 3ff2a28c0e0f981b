"""The store's feed writer and its scoring-thresholds table, on a real SQLite file and the real
PostgreSQL (the `warehouse` fixture runs every test on both)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from helpers import article, fetch_record

from pipeline import score
from pipeline.store import FetchRecord
from pipeline.store import schema as store_schema
from pipeline.store.views import run_select

DAY = date(2026, 11, 1)


def _rows(warehouse, table: str) -> int:
    return warehouse.counts()[table]


def test_feed_writer_commits_batches_and_the_fetch_in_one_transaction(warehouse):
    first = [article("k2", DAY, [(0.5, ("IRN",))]), article("k1", DAY, [(0.1, ())])]
    second = [article("k3", DAY, [(0.3, ("USA", "IRN"))]), article("k1", DAY, [(0.9, ())])]  # k1 again
    final = fetch_record(entries_seen=4, feed_title="Feed")
    with warehouse.feed_writer(fetch_record(), "run", "v1") as writer:
        writer.add(first)
        writer.add([])
        writer.add(second)
        assert writer.existing_article_keys(["k1", "k3", "k9"]) == {"k1", "k3"}  # its own, uncommitted
        assert warehouse.existing_article_keys(["k1"]) == set()  # not visible outside before commit
        result = writer.finish(final, ["k1", "k2", "k3", "k4"])
    assert (result.new_articles, result.new_sentences, result.existing_articles, result.days) == (
        3,
        3,
        1,
        (DAY,),
    )
    counts = warehouse.counts()
    assert (counts["articles"], counts["sentences"], counts["sentence_actors"], counts["fetch_log"]) == (
        3,
        3,
        3,
        1,
    )
    assert counts["article_sources"] == 3
    with warehouse.engine.connect() as conn:
        title = conn.execute(sa.select(store_schema.feeds.c.title)).scalar_one()
        first_k1 = conn.execute(
            sa.select(store_schema.sentences.c.score)
            .join(store_schema.articles)
            .where(store_schema.articles.c.article_key == "k1")
        ).scalar_one()
    assert title == "Feed" and first_k1 == pytest.approx(0.1)  # the first occurrence of a key wins


def test_feed_writer_writes_nothing_when_the_block_raises(warehouse):
    with pytest.raises(RuntimeError, match="worker died"):
        with warehouse.feed_writer(fetch_record(), "run", "v1") as writer:
            writer.add([article("k1", DAY, [(0.5, ("IRN",))])])
            raise RuntimeError("worker died")
    assert all(n == 0 for name, n in warehouse.counts().items() if name != "scoring_thresholds")


def test_feed_writer_left_without_finish_writes_nothing(warehouse):
    with pytest.raises(RuntimeError, match="without finish"):
        with warehouse.feed_writer(fetch_record(), "run", "v1") as writer:
            writer.add([article("k1", DAY, [(0.5, ())])])
    assert _rows(warehouse, "articles") == _rows(warehouse, "feeds") == 0
    with pytest.raises(RuntimeError, match="already finished"):
        with warehouse.feed_writer(fetch_record(), "run", "v1") as writer:
            writer.finish(fetch_record(), [])
            writer.add([article("k1", DAY, [(0.5, ())])])
    assert _rows(warehouse, "feeds") == 0


def test_store_feed_batch_equals_a_feed_writer(warehouse, tmp_path):
    batch = [article("k1", DAY, [(0.5, ("IRN",))]), article("k2", DAY, [(0.2, ())])]
    with warehouse.feed_writer(fetch_record("https://a.example/rss"), "r", "v1") as writer:
        writer.add(batch)
        streamed = writer.finish(fetch_record("https://a.example/rss"), ["k1", "k2"])
    once = warehouse.store_feed_batch(
        fetch_record("https://b.example/rss"), batch, "r", "v1", seen_keys=["k1", "k2"]
    )
    assert (streamed.new_articles, once.new_articles, once.existing_articles) == (2, 0, 2)
    assert _rows(warehouse, "article_sources") == 4  # both feeds carried both articles


def test_scoring_thresholds_follow_the_scorer(warehouse):
    with warehouse.engine.connect() as conn:
        stored = dict(conn.execute(sa.select(store_schema.scoring_thresholds)).all())
    assert stored == {"escalatory": score.ESCALATORY_THRESHOLD, "deescalatory": score.DEESCALATORY_THRESHOLD}


def _escalatory_view_ids(warehouse) -> tuple[list[float], list[int]]:
    sentences = run_select(warehouse.engine, "select score from escalation_sentences order by score").rows
    dyads = run_select(warehouse.engine, "select escalatory_sentences from dyad_daily order by actor_a").rows
    return [round(s, 4) for (s,) in sentences], [int(n) for (n,) in dyads]


def test_views_use_the_stored_threshold_on_both_dialects(warehouse, monkeypatch):
    threshold = score.ESCALATORY_THRESHOLD
    warehouse.store_feed_batch(
        fetch_record(),
        [
            article(
                "k1",
                DAY,
                [
                    (threshold, ("IRN", "USA")),
                    (threshold - 0.01, ("IRN", "USA")),
                    (0.6, ("IRN", "USA")),
                    (-0.5, ()),
                ],
            )
        ],
        "r",
        "v1",
    )
    assert _escalatory_view_ids(warehouse) == ([threshold, 0.6], [2])  # the threshold itself is escalatory
    # A scorer with another threshold: init_schema rewrites the table and the views follow.
    monkeypatch.setattr(store_schema, "ESCALATORY_THRESHOLD", 0.5)
    warehouse.init_schema()
    assert _escalatory_view_ids(warehouse) == ([0.6], [1])
    monkeypatch.undo()
    warehouse.init_schema()
    assert _escalatory_view_ids(warehouse)[1] == [2]


def test_fetch_record_is_the_store_type():
    assert FetchRecord("u", fetch_record().fetched_at, True).entries_seen == 0
