"""Daily signals: the written-down formula, on both databases, recomputed idempotently."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from helpers import article, fetch_record

from pipeline.signals import SHRINKAGE_SENTENCES, compute_signals

DAY = date(2026, 11, 1)


def _signals(warehouse) -> dict[tuple[date, str], dict]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(warehouse.tables["daily_signals"])).mappings().all()
    return {(r["day"], r["actor"]): dict(r) for r in rows}


def test_formula_per_actor_and_all(warehouse):
    warehouse.store_feed_batch(
        fetch_record("https://a.example/rss"),
        [article("a1", DAY, [(0.8, ("IRN", "USA")), (-0.5, ("IRN",)), (0.1, ())])],
        "r",
        "v1",
    )
    warehouse.store_feed_batch(
        fetch_record("https://b.example/rss"), [article("b1", DAY, [(0.6, ("IRN",))])], "r", "v1"
    )
    report = compute_signals(warehouse, DAY, DAY)
    rows = _signals(warehouse)
    assert report.rows_written == len(rows) == 3  # IRN, USA, ALL

    irn = rows[(DAY, "IRN")]
    scores = [0.8, -0.5, 0.6]
    assert (irn["articles"], irn["sources"], irn["sentences"]) == (2, 2, 3)
    assert (irn["escalatory_sentences"], irn["deescalatory_sentences"]) == (2, 1)
    assert irn["escalation_index"] == pytest.approx(
        100 * sum(max(s, 0) for s in scores) / (3 + SHRINKAGE_SENTENCES)
    )
    assert irn["deescalation_index"] == pytest.approx(100 * 0.5 / (3 + SHRINKAGE_SENTENCES))
    assert irn["max_score"] == pytest.approx(0.8)

    everything = rows[(DAY, "ALL")]
    assert (everything["articles"], everything["sources"], everything["sentences"]) == (2, 2, 4)
    assert everything["escalation_index"] == pytest.approx(100 * 1.5 / (4 + SHRINKAGE_SENTENCES))
    assert rows[(DAY, "USA")]["sources"] == 1


def test_busier_day_with_same_mix_does_not_rise(warehouse):
    quiet, busy = DAY, DAY + timedelta(days=1)
    warehouse.store_feed_batch(
        fetch_record(), [article("q", quiet, [(0.5, ("IRN",)), (0.0, ("IRN",))] * 5)], "r", "v1"
    )
    warehouse.store_feed_batch(
        fetch_record(), [article("b", busy, [(0.5, ("IRN",)), (0.0, ("IRN",))] * 50)], "r", "v1"
    )
    compute_signals(warehouse, quiet, busy)
    rows = _signals(warehouse)
    # Same mix of language: the index barely moves (only the thin-day shrinkage differs), the count x10.
    assert rows[(busy, "IRN")]["escalation_index"] == pytest.approx(100 * 25 / 103)
    assert rows[(quiet, "IRN")]["escalation_index"] == pytest.approx(100 * 2.5 / 13)
    assert abs(rows[(busy, "IRN")]["escalation_index"] - rows[(quiet, "IRN")]["escalation_index"]) < 6
    assert rows[(busy, "IRN")]["sentences"] == 10 * rows[(quiet, "IRN")]["sentences"]


def test_recompute_is_idempotent_and_drops_vanished_rows(warehouse):
    warehouse.store_feed_batch(fetch_record(), [article("a1", DAY, [(0.7, ("IRN",))])], "r", "v1")
    compute_signals(warehouse, DAY, DAY)
    first = {
        k: {c: v for c, v in row.items() if c != "computed_at"} for k, row in _signals(warehouse).items()
    }
    compute_signals(warehouse, DAY, DAY)
    second = {
        k: {c: v for c, v in row.items() if c != "computed_at"} for k, row in _signals(warehouse).items()
    }
    assert first == second

    with warehouse.engine.begin() as conn:  # the mention is gone (e.g. a gazetteer fix + rescore)
        conn.execute(warehouse.tables["sentence_actors"].delete())
    compute_signals(warehouse, DAY, DAY)
    assert set(_signals(warehouse)) == {(DAY, "ALL")}


def test_range_outside_data_writes_nothing_and_bad_range_fails(warehouse):
    assert compute_signals(warehouse, DAY, DAY).rows_written == 0
    with pytest.raises(ValueError, match="after"):
        compute_signals(warehouse, DAY, DAY - timedelta(days=1))


def test_concurrent_recomputations_of_one_range_do_not_collide(warehouse):
    # Both delete the range and insert it: without serialising, the second insert hits the first's
    # rows (a unique-key error on PostgreSQL, "database is locked" on SQLite).
    from concurrent.futures import ThreadPoolExecutor

    day = date(2026, 10, 1)
    batch = [
        article(f"c{i}", day + timedelta(days=i % 5), [(0.6, ("IRN", "USA")), (-0.4, ("QAT",))])
        for i in range(40)
    ]
    warehouse.store_feed_batch(fetch_record(), batch, "r", "v")
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda _: compute_signals(warehouse, day, day + timedelta(days=4)), range(24))
        )
    assert {r.rows_written for r in results} == {20}  # 5 days x (IRN, USA, QAT, ALL)
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from daily_signals")).scalar_one() == 20


def _measures(warehouse) -> dict[tuple[date, str], dict]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(sa.select(warehouse.tables["daily_measures"])).mappings().all()
    return {(r["day"], r["actor"]): dict(r) for r in rows}


def _item(key: str, day: date, sentences: list[tuple[str, float, list[dict], tuple[str, ...]]]):
    """An article whose sentences are (text, score, matches, actors)."""
    import json
    from dataclasses import replace

    from pipeline.articles import SentenceRecord

    base = article(key, day, [])
    records = tuple(
        SentenceRecord(
            seq=i, text=text, score=score, escalation=max(score, 0.0), deescalation=max(-score, 0.0),
            matches=json.dumps(matches), actors=actors,
        )
        for i, (text, score, matches, actors) in enumerate(sentences)
    )
    return replace(base, sentences=records)


ATTACK = [{"term": "air strike", "category": "armed_attack", "effective_weight": 1.0, "modifiers": []}]
CONDEMN = [{"term": "condemn", "category": "hostile_rhetoric", "effective_weight": 0.45, "modifiers": []}]
QUAKE = [{"term": "killed", "category": "casualties", "effective_weight": 0.3, "modifiers": ["disaster:earthquake"]}]


def test_ranking_measures_count_wire_copies_once_and_weigh_material_acts(warehouse):
    strike = "Air strikes hit the capital, officials say"
    warehouse.store_feed_batch(
        fetch_record("https://a.example/rss"),
        [
            _item("a1", DAY, [(strike, 0.8, ATTACK, ("IRN",)), ("Leaders condemn the move", 0.4, CONDEMN, ("IRN",))]),
            _item("a2", DAY, [("Dozens killed in the earthquake", 0.3, QUAKE, ("IRN",)), ("Calm day", 0.0, [], ("IRN",))]),
        ],
        "r",
        "v1",
    )
    warehouse.store_feed_batch(  # a wire copy of the same text, spaced and cased differently, a second outlet
        fetch_record("https://b.example/rss"),
        [_item("b1", DAY, [("Air strikes  hit the CAPITAL, officials say", 0.7, ATTACK, ("IRN", "USA"))])],
        "r",
        "v1",
    )
    warehouse.store_feed_batch(  # a third outlet active that day, about someone else
        fetch_record("https://c.example/rss"), [_item("c1", DAY, [("Markets rise", 0.0, [], ("GBR",))])], "r", "v1"
    )
    compute_signals(warehouse, DAY, DAY)
    measures = _measures(warehouse)
    irn = measures[(DAY, "IRN")]
    assert irn["escalatory_texts"] == 3  # the strike (two copies), the condemnation, the earthquake
    assert irn["escalatory_outlets"] == 2
    assert irn["material_mass"] == pytest.approx(0.8)  # the strongest copy once
    assert irn["verbal_mass"] == pytest.approx(0.4)  # hostile_rhetoric is verbal in the lexicon
    assert irn["context_texts"] == 1  # the earthquake: counted, in neither mass
    assert irn["active_outlets"] == 3
    usa = measures[(DAY, "USA")]
    assert (usa["escalatory_texts"], usa["escalatory_outlets"], usa["material_mass"]) == (1, 1, pytest.approx(0.7))
    assert (DAY, "GBR") not in measures  # no escalatory sentence: no row (read as zeros)
    rows = warehouse.signal_rows(DAY, DAY)
    assert rows["GBR"][DAY]["material_mass"] == 0 and rows["IRN"][DAY]["escalatory_texts"] == 3


def test_a_publishers_feeds_are_one_outlet(warehouse):
    # Two stories of one publisher's world and regional feeds, and a wire copy on another publisher's.
    for url, key, text in [
        ("https://feeds.pub-a.example/world/rss.xml", "a1", "Air strikes hit the capital, officials say"),
        ("https://feeds.pub-a.example/mideast/rss.xml", "a2", "Missiles strike a port city overnight"),
        ("https://www.pub-b.example/rss", "b1", "Air strikes hit the capital, officials say"),
    ]:
        warehouse.store_feed_batch(fetch_record(url), [_item(key, DAY, [(text, 0.8, ATTACK, ("IRN", "USA"))])], "r", "v1")
    compute_signals(warehouse, DAY, DAY)
    irn = _measures(warehouse)[(DAY, "IRN")]
    assert (irn["escalatory_texts"], irn["escalatory_outlets"], irn["active_outlets"]) == (2, 2, 2)
    assert json.loads(irn["pair_masses"]) == {"USA": [pytest.approx(1.6), 2]}


def test_a_publishers_feeds_are_one_source(warehouse):
    # daily_signals.sources (the index path's min_sources gate) counts outlets, as daily_measures do:
    # a publisher's world and regional feeds (one also carrying the other's article) are one source.
    world, mideast = "https://feeds.pub-a.example/world/rss.xml", "https://feeds.pub-a.example/mideast/rss.xml"
    warehouse.store_feed_batch(fetch_record(world), [article("a1", DAY, [(0.8, ("IRN",))])], "r", "v1")
    warehouse.store_feed_batch(
        fetch_record(mideast), [article("a1", DAY, [(0.8, ("IRN",))]), article("a2", DAY, [(0.6, ("IRN",))])], "r", "v1"
    )
    compute_signals(warehouse, DAY, DAY)
    rows = _signals(warehouse)
    assert (rows[(DAY, "IRN")]["articles"], rows[(DAY, "IRN")]["sources"]) == (2, 1)
    assert rows[(DAY, "ALL")]["sources"] == 1
    warehouse.store_feed_batch(
        fetch_record("https://www.pub-b.example/rss"), [article("b1", DAY, [(0.5, ("IRN",))])], "r", "v1"
    )
    compute_signals(warehouse, DAY, DAY)
    rows = _signals(warehouse)
    assert (rows[(DAY, "IRN")]["articles"], rows[(DAY, "IRN")]["sources"]) == (3, 2)
    with warehouse.engine.connect() as conn:  # the store writes each feed's outlet with its row
        outlets = dict(conn.execute(sa.text("select url, outlet from feeds")).all())
    assert outlets == {world: "feeds.pub-a.example", mideast: "feeds.pub-a.example", "https://www.pub-b.example/rss": "pub-b.example"}


def test_ranking_measures_are_recomputed_with_the_signals(warehouse):
    warehouse.store_feed_batch(
        fetch_record(), [_item("a1", DAY, [("Troops shell the border town", 0.9, ATTACK, ("IRN",))])], "r", "v1"
    )
    compute_signals(warehouse, DAY, DAY)
    first = _measures(warehouse)
    compute_signals(warehouse, DAY, DAY)
    assert _measures(warehouse) == first
    with warehouse.engine.begin() as conn:
        conn.execute(sa.delete(warehouse.tables["sentence_actors"]))
    compute_signals(warehouse, DAY, DAY)
    assert set(_measures(warehouse)) == {(DAY, "ALL")}  # the actor's row went with its sentences


COUP = [{"term": "coup", "category": "power_seizure", "effective_weight": 0.9, "modifiers": []}]
CRASH_COUP = [  # "coup" read next to a crash: the scorer marks the match as a disaster context
    {"term": "coup", "category": "power_seizure", "effective_weight": 0.9, "modifiers": ["disaster:crash"]}
]


def test_act_scores_keep_each_material_kind_at_its_best_text_outside_disaster_context(warehouse):
    warehouse.store_feed_batch(
        fetch_record("https://a.example/rss"),
        [
            _item("a1", DAY, [("Soldiers seize power in a coup", 0.7, COUP, ("BFA",))]),
            _item("a2", DAY, [("Army stages coup, president detained", 0.9, COUP + ATTACK, ("BFA",))]),
            _item("a3", DAY, [("Leaders condemn the coup", 0.4, CONDEMN, ("BFA",))]),
            _item("a4", DAY, [("Coup of a plane crash kills ten", 0.6, CRASH_COUP, ("NPL",))]),
        ],
        "r",
        "v1",
    )
    compute_signals(warehouse, DAY, DAY)
    rows = warehouse.signal_rows(DAY, DAY)
    # material kinds only (hostile_rhetoric is verbal), each at the best text that carried it
    assert rows["BFA"][DAY]["act_scores"] == {"power_seizure": pytest.approx(0.9), "armed_attack": pytest.approx(0.9)}
    assert rows["NPL"][DAY]["act_scores"] == {}  # read in a disaster context: no act of anyone
    assert rows["ALL"][DAY]["act_scores"]["power_seizure"] == pytest.approx(0.9)
    from pipeline.detector import day_row

    assert day_row(DAY, rows["BFA"][DAY]).act_score("power_seizure") == pytest.approx(0.9)


def test_pair_masses_sum_material_texts_naming_both_outside_context_once_per_text(warehouse):
    warehouse.store_feed_batch(
        fetch_record("https://a.example/rss"),
        [
            _item("p1", DAY, [("Troops of Aland shell Borland towns", 0.8, ATTACK, ("ALA", "BOR"))]),
            _item("p2", DAY, [("Aland condemns Borland", 0.5, CONDEMN, ("ALA", "BOR"))]),  # rhetoric: no front
            _item("p3", DAY, [("Quake kills dozens in Aland and Borland", 0.6, QUAKE, ("ALA", "BOR"))]),
            _item("p4", DAY, [("Aland air strike hits Coland", 0.6, ATTACK, ("ALA", "COL"))]),
        ],
        "r",
        "v1",
    )
    warehouse.store_feed_batch(  # a wire copy of p1 in a second outlet: one text, two outlets
        fetch_record("https://b.example/rss"),
        [_item("q1", DAY, [("Troops of Aland shell  Borland towns", 0.7, ATTACK, ("ALA", "BOR"))])],
        "r",
        "v1",
    )
    compute_signals(warehouse, DAY, DAY)
    rows = warehouse.signal_rows(DAY, DAY)
    assert rows["ALA"][DAY]["pair_masses"] == {"BOR": [pytest.approx(0.8), 2], "COL": [pytest.approx(0.6), 1]}
    assert rows["BOR"][DAY]["pair_masses"] == {"ALA": [pytest.approx(0.8), 2]}
    assert rows["COL"][DAY]["pair_masses"] == {"ALA": [pytest.approx(0.6), 1]}
    assert rows["ALL"][DAY]["pair_masses"] == {}  # the corpus is nobody's partner
    from pipeline.detector import day_row

    assert day_row(DAY, rows["ALA"][DAY]).pairs == (("BOR", pytest.approx(0.8), 2), ("COL", pytest.approx(0.6), 1))


def _coup_with(modifier: str) -> list[dict]:
    return [{"term": "coup", "category": "power_seizure", "effective_weight": 0.5, "modifiers": ["order:2", modifier]}]


def test_act_scores_count_only_acts_a_text_asserts(warehouse):
    # The same coup term, reported second-hand, to come, demanded or recalled from the past, is no act
    # of the day; a later term of a sentence (order) still is one, and a copy that asserts it counts.
    warehouse.store_feed_batch(
        fetch_record("https://a.example/rss"),
        [
            _item("a1", DAY, [("A coup is reportedly under way", 0.6, _coup_with("hedge:reportedly"), ("MLI",))]),
            _item("a2", DAY, [("Generals will stage a coup", 0.6, _coup_with("future:will"), ("MLI",))]),
            _item("a3", DAY, [("Protesters demand a coup", 0.6, _coup_with("appeal:demand"), ("NER",))]),
            _item("a4", DAY, [("Ten years ago, a coup", 0.6, _coup_with("retrospective:years ago"), ("NER",))]),
            _item("a5", DAY, [("Unrest, then a coup", 0.7, _coup_with("order:2"), ("TCD",))]),
        ],
        "r",
        "v1",
    )
    compute_signals(warehouse, DAY, DAY)
    rows = warehouse.signal_rows(DAY, DAY)
    assert rows["MLI"][DAY]["act_scores"] == {} and rows["NER"][DAY]["act_scores"] == {}
    assert rows["MLI"][DAY]["material_mass"] == pytest.approx(1.2)  # both still count as material texts
    assert rows["TCD"][DAY]["act_scores"] == {"power_seizure": pytest.approx(0.7)}
