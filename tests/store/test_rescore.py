"""Re-scoring stored sentences after a lexicon change, on both databases."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from helpers import fetch_record

from pipeline.articles import ArticleRecord, SentenceRecord
from pipeline.rescore import rescore
from pipeline.score import Scorer, load_scorer

DAY = date(2026, 11, 1)


def _store_text(warehouse, text: str) -> None:
    from datetime import UTC, datetime

    record = ArticleRecord(
        "k1",
        None,
        "https://n.example/1",
        "t",
        datetime(2026, 11, 1, 9, tzinfo=UTC),
        "published",
        "h",
        (SentenceRecord(0, text, 0.0, 0.0, 0.0, "[]", ("IRN",)),),
    )
    warehouse.store_feed_batch(fetch_record(), [record], "r", "old-version")


def test_rescore_updates_scores_versions_and_signals(warehouse):
    _store_text(warehouse, "Militias attacked the base and killed two soldiers.")
    scorer = load_scorer()
    report = rescore(warehouse, scorer, batch_size=1)
    assert (report.sentences, report.changed_scores) == (1, 1)
    assert report.signal_rows == 2  # IRN and ALL on that day
    with warehouse.engine.connect() as conn:
        row = conn.execute(sa.select(warehouse.tables["sentences"])).mappings().one()
    assert row["scorer_version"] == scorer.version and row["score"] > 0.5
    assert {m["term"] for m in json.loads(row["matches"])} >= {"attack", "kill"}

    again = rescore(warehouse, scorer)
    assert again.changed_scores == 0


def test_new_lexicon_version_changes_stored_scores(warehouse):
    _store_text(warehouse, "The envoy praised the talks.")
    rescore(warehouse, load_scorer())
    custom = Scorer(
        {"version": "test-2", "categories": {"x": {"polarity": 1, "weight": 1.0, "terms": ["envoy"]}}}
    )
    report = rescore(warehouse, custom, since=DAY, until=DAY)
    assert report.changed_scores == 1 and report.scorer_version.startswith("lexicon-test-2")
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(warehouse.tables["sentences"].c.score)).scalar_one() > 0
