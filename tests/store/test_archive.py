"""Archive replay (pipeline.archive, `escalation import`) on real SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import escalation

from pipeline.actors import load_gazetteer
from pipeline.archive import (
    ArchiveError,
    BadLine,
    archive_entry,
    feed_url_for,
    import_archive,
    import_lines,
    parse_item,
)
from pipeline.score import load_scorer
from pipeline.store.schema import articles, feeds, metadata

OUTLETS = ("Northern Gazette", "Harbour Times", "Valley Wire")


def _item(n: int, outlet: str = "Northern Gazette", **changes) -> dict:
    item = {
        "outlet": outlet,
        "title": f"Troops from Russia shell a border post, day {n}",
        "description": f"<p>Officials in Ukraine said <b>artillery</b> fire hit the post number {n}.</p>",
        "link": f"https://news.example/{outlet.split()[0].lower()}/{n}?utm_source=rss",
        "date_published": f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:15:00+00:00",
    }
    item.update(changes)
    return item


def _lines(count: int) -> list[str]:
    return [json.dumps(_item(n, OUTLETS[n % len(OUTLETS)])) + "\n" for n in range(count)]


def _write(path: Path, lines: list[str]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:
        handle.writelines(lines)
    return path


def _counts(warehouse) -> dict[str, int]:
    with warehouse.engine.connect() as conn:
        counts = {
            name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for name, table in metadata.tables.items()
        }
        counts["feeds_state"] = hash(tuple(conn.execute(sa.select(feeds).order_by(feeds.c.feed_id)).all()))
    return counts


@pytest.fixture(scope="module")
def knowledge():
    return load_scorer(), load_gazetteer()


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_import_stores_one_feed_per_outlet_and_a_second_import_changes_nothing(
    warehouse, tmp_path, knowledge, suffix
):
    scorer, gazetteer = knowledge
    path = _write(tmp_path / f"archive{suffix}", _lines(30))
    first = import_archive(path, warehouse, scorer, gazetteer, batch_size=4)
    assert (first.items, first.new_articles, first.bad_lines) == (30, 30, 0)
    assert first.outlets == {name: 10 for name in OUTLETS}
    with warehouse.engine.connect() as conn:
        urls = set(conn.execute(sa.select(feeds.c.url)).scalars())
        titles = set(conn.execute(sa.select(feeds.c.title)).scalars())
        keys = set(conn.execute(sa.select(articles.c.article_key)).scalars())
        tagged = conn.execute(sa.text("select count(distinct actor) from sentence_actors")).scalar_one()
    assert urls == {feed_url_for(name) for name in OUTLETS} == {
        "archive:northern-gazette", "archive:harbour-times", "archive:valley-wire"}
    assert titles == set(OUTLETS)
    assert "https://news.example/northern/0" in keys  # canonical link: tracking parameter gone
    assert tagged >= 2  # the text, score and actor stages ran
    before = _counts(warehouse)
    assert before["sentences"] >= 60
    second = import_archive(path, warehouse, scorer, gazetteer, batch_size=7)
    assert (second.new_articles, second.new_sentences, second.known_articles) == (0, 0, 30)
    assert _counts(warehouse) == before


def test_an_import_leaves_no_article_link_for_a_later_ingest_to_fetch(warehouse, knowledge):
    # A replay's teasers would otherwise be 'pending' for the next `escalation run`'s page step, whatever
    # ESCALATION_ARTICLE_FETCH said: tens of thousands of old links fetched (the shared archive has 40,707).
    import_lines([json.dumps(_item(n)) for n in range(6)], warehouse, *knowledge)
    with warehouse.engine.connect() as conn:
        states = conn.execute(sa.text("select page_state, error from article_pages")).all()
    assert len(states) == 6
    assert {tuple(row) for row in states} == {("skipped", "disabled")}


def test_a_link_repeated_in_the_file_is_one_article(warehouse, knowledge):
    scorer, gazetteer = knowledge
    lines = [json.dumps(_item(1)), json.dumps(_item(1, title="A later headline for the same link")),
             json.dumps(_item(2, link=None)), json.dumps(_item(2, link=None))]
    report = import_lines(lines, warehouse, *knowledge, batch_size=100)
    assert report.new_articles == 2  # the link once, the link-less item once (same text, same key)


def test_bad_lines_are_counted_and_skipped_with_their_line_numbers(warehouse, knowledge):
    lines = [json.dumps(_item(0)), "{not json", json.dumps([1, 2]), json.dumps(_item(1, title="  ")),
             json.dumps(_item(2, date_published="yesterday")), "", json.dumps(_item(3, date_published=None)),
             json.dumps(_item(4))]
    report = import_lines(lines, warehouse, *knowledge)
    assert (report.items, report.new_articles, report.bad_lines) == (2, 2, 5)
    assert [n for n, _ in report.bad_examples] == [2, 3, 4, 5, 7]
    assert "not JSON" in report.bad_examples[0][1] and "ISO 8601" in report.bad_examples[3][1]


def test_parse_item_normalises_and_refuses():
    item = parse_item(json.dumps(_item(5, title="Ceasefire &amp; talks\n resume", date_published="2026-03-05T10:00:00")))
    assert item.title == "Ceasefire & talks resume"
    assert item.published_at.tzinfo is not None and item.published_at.hour == 10  # no offset: UTC
    entry = archive_entry(item)
    assert entry.entry_id == entry.link == "https://news.example/northern/5"
    assert entry.date_source == "published" and "<b>" in entry.summary_html
    no_link = archive_entry(parse_item(json.dumps(_item(5, link="javascript:alert(1)"))))
    assert no_link.link is None and no_link.entry_id.startswith("sha1:")
    with pytest.raises(BadLine, match="before 1990"):
        parse_item(json.dumps(_item(5, date_published="1970-01-01T00:00:00Z")))


def test_memory_is_bounded_by_batches(warehouse, knowledge):
    """The reader is consumed lazily: when a batch is stored, at most one batch per outlet waits."""
    scorer, gazetteer = knowledge
    yielded = 0
    in_flight: list[int] = []

    def lines():
        nonlocal yielded
        for line in _lines(60):
            yielded += 1
            yield line

    def on_progress(progress):
        in_flight.append(yielded - progress.new_articles)

    report = import_lines(lines(), warehouse, scorer, gazetteer, batch_size=5, on_progress=on_progress)
    assert report.new_articles == 60 and report.batches_stored == 12
    assert len(in_flight) == 12 + 1
    assert max(in_flight) <= 5 * len(OUTLETS)


def test_unreadable_files_are_one_clear_error(tmp_path, warehouse, knowledge):
    with pytest.raises(ArchiveError, match="not found"):
        import_archive(tmp_path / "missing.jsonl", warehouse, *knowledge)
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress("".join(_lines(3)).encode())[:-12])
    with pytest.raises(ArchiveError, match="unreadable"):
        import_archive(broken, warehouse, *knowledge)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps(_item(1)).encode() + b"\n\xff\xfe\n")
    with pytest.raises(ArchiveError, match="unreadable after line"):
        import_archive(latin, warehouse, *knowledge)


def test_cli_import_twice_and_bad_lines(tmp_path):
    db = tmp_path / "cli.db"
    path = _write(tmp_path / "a.jsonl.gz", [*_lines(6), "garbage\n"])
    first = escalation("import", str(path), timeout=120, db_url=f"sqlite:///{db}")
    assert first.returncode == 1, first.stderr
    assert "6 new articles" in first.stdout and "1 bad lines skipped" in first.stdout
    assert "line 7" in first.stderr
    second = escalation("import", str(path), timeout=120, db_url=f"sqlite:///{db}")
    assert "0 new articles" in second.stdout and "6 already stored" in second.stdout
    missing = escalation(
        "import", str(tmp_path / "nope.jsonl"), timeout=120, db_url=f"sqlite:///{tmp_path / 'never.db'}"
    )
    assert missing.returncode == 2 and "archive not found" in missing.stderr
    assert not (tmp_path / "never.db").exists()
