"""Evidence once: the same text carried by several items (wire copies) is shown once, with how many
items carried it and in how many outlets, wherever sentences are shown as evidence: the run's top
sentences, the report's rows, an alert's evidence and the evidence_texts view (on both dialects)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time

from helpers import article, fetch_record

from pipeline.store import views

DAY = date(2026, 10, 13)
WIRE = "Rockets hit the base, officials said."


def _copy(key: str, text: str, score: float) -> object:
    base = article(key, DAY, [(score, ("IRN",))])
    sentence = base.sentences[0]._replace(
        text=text, matches=json.dumps([{"term": "rocket", "effective_weight": score}])
    )
    return replace(base, sentences=(sentence,))


def seed(warehouse) -> None:
    """WIRE in three items of two feeds (one copy spaced and cased differently), one other text."""
    warehouse.store_feed_batch(
        fetch_record("https://a.example/rss", feed_title="Wire A"),
        [_copy("a1", WIRE, 0.8), _copy("a2", WIRE, 0.8)],
        "r",
        "v1",
    )
    warehouse.store_feed_batch(
        fetch_record("https://b.example/rss", feed_title="Paper B"),
        [_copy("b1", "  rockets hit  the base, officials said.", 0.8), _copy("b2", "Tehran warned again.", 0.5)],
        "r",
        "v1",
    )


def test_top_and_range_sentences_show_each_text_once(warehouse):
    seed(warehouse)
    for rows in (
        warehouse.top_sentences(day=DAY, actor="IRN", limit=5),
        warehouse.range_sentences(DAY, DAY, "IRN", 5, escalatory=True),
    ):
        assert [(r["text"], r["copies"], r["outlets"]) for r in rows] == [
            (WIRE, 3, 2),
            ("Tehran warned again.", 1, 1),
        ]
    # the limit counts distinct texts, and copies are still counted for the ones kept
    assert [(r["copies"], r["outlets"]) for r in warehouse.top_sentences(day=DAY, limit=1)] == [(3, 2)]


def test_alert_evidence_is_distinct(warehouse):
    seed(warehouse)
    evidence = warehouse.top_sentences(day=DAY, actor="IRN", limit=5, scan=200)
    assert [(e["text"], e["copies"], e["outlets"], e["outlet"]) for e in evidence] == [
        (WIRE, 3, 2, "Wire A"),
        ("Tehran warned again.", 1, 1, "Paper B"),
    ]


def test_the_evidence_texts_view_groups_exact_copies(warehouse):
    seed(warehouse)
    result = views.run_select(
        warehouse.engine, "select text, copies, outlets, score, actors from evidence_texts order by text"
    )
    # the view compares texts as stored (so both dialects group alike): the respaced copy is its own row
    assert [tuple(r[:3]) for r in result.rows] == [
        ("  rockets hit  the base, officials said.", 1, 1),
        (WIRE, 2, 1),
        ("Tehran warned again.", 1, 1),
    ]
    assert {r[4] for r in result.rows} == {"IRN"}


def test_the_api_folds_copies_when_asked(warehouse):
    from pipeline import api

    seed(warehouse)
    every = api.sentences(warehouse, since=DAY, until=DAY)
    assert len(every) == 4 and "copies" not in every.columns
    once = api.sentences(warehouse, since=DAY, until=DAY, distinct=True)
    assert list(zip(once["text"], once["copies"], once["outlets"], strict=True)) == [
        (WIRE, 3, 2),
        ("Tehran warned again.", 1, 1),
    ]
    assert len(api.sentences(warehouse, distinct=True, limit=1)) == 1


def test_the_evidence_texts_view_counts_a_publishers_feeds_as_one_outlet(warehouse):
    # WIRE in a publisher's world and regional feeds (one outlet) and in another publisher's feed
    for url, key in [
        ("https://feeds.pub-a.example/world/rss.xml", "w1"),
        ("https://feeds.pub-a.example/mideast/rss.xml", "m1"),
        ("https://www.pub-b.example/rss", "b1"),
    ]:
        warehouse.store_feed_batch(fetch_record(url), [_copy(key, WIRE, 0.8)], "r", "v1")
    result = views.run_select(warehouse.engine, "select text, copies, outlets from evidence_texts")
    assert [tuple(r) for r in result.rows] == [(WIRE, 3, 2)]
    every = views.run_select(warehouse.engine, "select outlet from escalation_sentences order by outlet")
    assert [r[0] for r in every.rows] == ["feeds.pub-a.example", "feeds.pub-a.example", "pub-b.example"]
    # and the evidence read in Python (top sentences, the report's rows, the API) counts alike
    assert [(r["copies"], r["outlets"]) for r in warehouse.top_sentences(day=DAY, actor="IRN")] == [(3, 2)]
    assert [(r["copies"], r["outlets"]) for r in warehouse.range_sentences(DAY, DAY, "IRN", 5, escalatory=True)] == [
        (3, 2)
    ]
    from pipeline import api

    once = api.sentences(warehouse, since=DAY, until=DAY, distinct=True)
    assert list(zip(once["copies"], once["outlets"], strict=True)) == [(3, 2)]


def test_which_copy_stands_for_a_text_does_not_depend_on_the_order_feeds_were_stored(warehouse):
    """Feeds stored in another order (parallel feed tasks, a rerun after a stop) show the same
    evidence: among equal scores the earliest copy stands for a text, then the natural keys decide."""
    later = datetime.combine(DAY, time(18), tzinfo=UTC)
    warehouse.store_feed_batch(  # stored first, published last
        fetch_record("https://late.example/rss", feed_title="Late Paper"),
        [replace(_copy("z-late", WIRE, 0.8), published_at=later), _copy("m-other", "Tehran warned again.", 0.8)],
        "r",
        "v1",
    )
    warehouse.store_feed_batch(
        fetch_record("https://early.example/rss", feed_title="Early Wire"),
        [_copy("a-early", WIRE, 0.8), _copy("b-third", "Militias shelled the port.", 0.8)],
        "r",
        "v1",
    )
    rows = warehouse.top_sentences(day=DAY, actor="IRN", limit=5)
    assert [(r["text"], r["outlet"], r["copies"]) for r in rows] == [
        (WIRE, "Early Wire", 2),  # noon, key a-early: before b-third and m-other
        ("Militias shelled the port.", "Early Wire", 1),  # noon, key b-third
        ("Tehran warned again.", "Late Paper", 1),  # noon, key m-other
    ]
    ranged = warehouse.range_sentences(DAY, DAY, "IRN", 5, escalatory=True)
    assert [(r["text"], r["feed_title"]) for r in ranged] == [(r["text"], r["outlet"]) for r in rows]
