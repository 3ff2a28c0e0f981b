"""Interrupted runs: closed with what they knew, found by the next run with every day they changed
(new articles, and known articles that gained a feed), and marked completed once done."""

from __future__ import annotations

from datetime import date

from helpers import article, fetch_record

from pipeline.clock import now_utc
from pipeline.store.runs import INTERRUPTED, new_run_id


def test_interrupted_runs_are_found_with_their_days_until_completed(warehouse):
    first = warehouse.start_run("cli", {"feeds": 1}, run_id=new_run_id("cli"))
    warehouse.store_feed_batch(
        fetch_record("https://a.example/rss"), [article("k1", date(2026, 10, 3), [(0.5, ("IRN",))])], first, "v1"
    )
    warehouse.finish_run(first, "success", {"feeds_ok": 1})

    stopped = warehouse.start_run("cli", {"feeds": 2}, run_id=new_run_id("cli"))
    # A known article seen in another feed (its day's source count changes), and a new one.
    warehouse.store_feed_batch(
        fetch_record("https://b.example/rss", fetched_at=now_utc()),  # fetched while the run ran
        [article("k2", date(2026, 10, 5), [(0.2, ())])],
        stopped,
        "v1",
        seen_keys=["k1", "k2"],
    )
    pending = {"days": ["2026-10-09"], "notify": True}
    warehouse.finish_run(stopped, INTERRUPTED, {"feeds_ok": 1}, details={"pending": pending})
    ingest_only = warehouse.start_run("cli-ingest", {})
    warehouse.finish_run(ingest_only, INTERRUPTED, {})  # no pending work: not for a run to complete

    found = warehouse.runs_to_complete()
    assert [r.run_id for r in found] == [stopped]
    assert found[0].days == (date(2026, 10, 3), date(2026, 10, 5), date(2026, 10, 9))

    later = warehouse.start_run("cli", {})
    warehouse.mark_completed([stopped], by=later)
    assert warehouse.runs_to_complete() == []
    with warehouse.engine.connect() as conn:
        row = conn.execute(
            warehouse.tables["pipeline_runs"].select().where(warehouse.tables["pipeline_runs"].c.run_id == stopped)
        ).mappings().one()
    assert row["status"] == INTERRUPTED and row["new_articles"] == 1 and '"feeds": 2' in row["details"]
