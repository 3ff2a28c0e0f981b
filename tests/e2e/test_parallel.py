"""A big feed split at item boundaries and parsed and scored in worker processes: the warehouse
ends up exactly as a parse in one process leaves it, and nothing is lost when workers fail."""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import psutil
import pytest
import sqlalchemy as sa

from pipeline.config import IngestSettings, Settings
from pipeline.ingest import FeedWorkers, build_context, ingest_source
from pipeline.parse import assemble, parse_feed, read_part, split_feed

FETCHED = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SOURCE = "https://wire.example/rss"
LINES = [
    "Iran-backed militias fired rockets at a base in Syria and vowed to increase their attacks.",
    "Qatar offered to mediate talks on a ceasefire between Israel and Hamas.",
    "Hezbollah warned of serious consequences if the strikes on southern Lebanon continue.",
    "Markets in Ankara closed higher as oil prices steadied.",
    "The Houthis claimed a drone attack on a commercial ship in the Red Sea.",
]


def _item(i: int) -> str:
    body = " ".join(LINES[(i + k) % len(LINES)] for k in range(3))
    day = 1 + i % 18
    guid = f"<guid>https://wire.example/story/{i % 37}</guid>" if i % 7 else ""  # repeats past 37
    date = f"<pubDate>Sun, {day:02d} Nov 2026 08:{i % 60:02d}:00 +0000</pubDate>" if i % 11 else ""
    if i % 13 == 5:
        return "<item></item>"  # nothing to read
    if i % 17 == 3:
        return (
            f"<item>{guid}<link>https://wire.example/l/{i}</link><title><![CDATA[Wire <b>{i}</b>]]></title>"
            f"<content:encoded><![CDATA[<p>{body}</p><script>x()</script>]]></content:encoded>{date}</item>"
        )
    return (
        f"<item>{guid}<link>https://wire.example/l/{i}?utm_source=rss</link><title>Story {i}: "
        f"{LINES[i % len(LINES)]}</title><description>&lt;p&gt;{body}&lt;/p&gt;</description>{date}</item>"
    )


def rss(count: int, first: int = 0) -> bytes:
    items = "\n".join(_item(i) for i in range(first, first + count))
    # A channel element between items and after them: kept by whichever part holds it.
    middle = "<ttl>60</ttl>"
    half = items.count("\n") // 2
    lines = items.split("\n")
    lines.insert(half, middle)
    return (
        "\ufeff<?xml version='1.0' encoding='utf-8'?>\n"
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>Wire &amp; Co</title><link>https://wire.example/</link>\n"
        + "\n".join(lines)
        + "\n<image><url>https://wire.example/i.png</url></image></channel></rss>\n"
    ).encode("utf-8")


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="html">Atom &lt;i&gt;Wire&lt;/i&gt;</title>
<entry><id>urn:a:1</id><title>One</title><updated>2026-11-01T10:00:00Z</updated><content type="html">&lt;p&gt;Iran warned Israel.&lt;/p&gt;</content></entry>
<entry><id>urn:a:2</id><title type="html">Two &lt;script&gt;x()&lt;/script&gt;&lt;b&gt;b&lt;/b&gt;</title><summary>Hamas agreed to talks.</summary></entry>
<entry><id>urn:a:1</id><title>One again</title><summary>A repeat of the first id.</summary></entry>
<entry/>
<entry><id>urn:a:3</id><title>Three</title><published>1970-01-01T00:00:00Z</published><summary>Old date.</summary></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://rdf.example/"><title>RDF Wire</title><link>https://rdf.example/</link></channel>
<item rdf:about="https://rdf.example/1"><title>First</title><link>https://rdf.example/1</link><dc:date>2026-11-02T09:00:00Z</dc:date><description>Russia mobilised troops.</description></item>
<item rdf:about="https://rdf.example/2"><title>Second</title><link>https://rdf.example/2</link><description>Qatar mediated.</description></item>
<item rdf:about="https://rdf.example/3"><title>Third</title><link>https://rdf.example/3</link><description>Calm.</description></item>
</rdf:RDF>"""


@pytest.mark.parametrize("document", [rss(120), ATOM, RDF], ids=["rss", "atom", "rdf"])
@pytest.mark.parametrize("parts", [2, 3, 16, 500])
def test_split_parts_read_exactly_as_the_whole(document, parts):
    pieces = split_feed(document, parts)
    assert pieces is not None and 2 <= len(pieces) <= parts
    whole = parse_feed(document, SOURCE, FETCHED)
    assert whole.entries and whole.duplicates_dropped > 0 or document is RDF
    assert assemble(SOURCE, [read_part(p, SOURCE, FETCHED) for p in pieces]) == whole


def test_every_item_lands_in_exactly_one_part():
    document = rss(50)
    pieces = split_feed(document, 4)
    assert pieces is not None
    counted = sum(len(read_part(p, SOURCE, FETCHED).candidates) for p in pieces)
    assert counted == len(read_part(document, SOURCE, FETCHED).candidates) == 50


@pytest.mark.parametrize(
    "document",
    [
        rss(20).replace(b"</channel>", b""),  # not well-formed
        rss(20).replace(
            b"<title>Wire &amp; Co</title>", b"<title>Wire &nbsp; Co</title>"
        ),  # undefined entity
        '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"><channel><item><title>a</title></item>'
        "<item><title>b</title></item></channel></rss>".encode("utf-16"),
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY e "x">]><rss version="2.0"><channel>'
        b"<item><title>&e;</title></item><item><title>b</title></item></channel></rss>",
        rss(1),  # one item: nothing to share out
    ],
    ids=["malformed", "undefined-entity", "utf-16", "dtd-entities", "one-item"],
)
def test_documents_that_cannot_be_split_safely_are_read_whole(document):
    assert split_feed(document, 4) is None


def _snapshot(warehouse) -> dict[str, list[tuple]]:
    """The warehouse by natural keys (ids and run times differ between two runs of the same feed)."""
    query = {
        # An undated item is dated by its fetch, which differs between the two runs.
        "articles": "select article_key, guid, url, title, date_source, content_hash, sentence_count,"
        " case when date_source = 'fetched' then null else published_at end from articles",
        "sentences": "select a.article_key, s.seq, s.text, s.score, s.escalation, s.deescalation, s.matches,"
        " s.scorer_version from sentences s join articles a on a.article_id = s.article_id",
        "actors": "select a.article_key, s.seq, t.actor from sentence_actors t"
        " join sentences s on s.sentence_id = t.sentence_id join articles a on a.article_id = s.article_id",
        "sources": "select a.article_key, f.url from article_sources x"
        " join articles a on a.article_id = x.article_id join feeds f on f.feed_id = x.feed_id",
        "feeds": "select url, title, last_status, last_error from feeds",
    }
    with warehouse.engine.connect() as conn:
        return {name: sorted(tuple(row) for row in conn.execute(sa.text(sql))) for name, sql in query.items()}


def _wipe(warehouse) -> None:
    with warehouse.engine.begin() as conn:
        for table in reversed(list(warehouse.tables.values())):
            conn.execute(table.delete())


def _ingest_twice(ctx, first_path, second_path) -> list[dict]:
    """A first fetch, then a re-fetch carrying known and new items; the outcome of each."""
    outcomes = []
    for path in (first_path, second_path):
        outcome = ingest_source(str(path), ctx, "test").to_dict()
        outcome.pop("elapsed_s")
        outcomes.append(outcome)
    return outcomes


def test_parallel_ingest_stores_exactly_what_a_single_process_stores(warehouse_url, warehouse, tmp_path):
    first, second = tmp_path / "feed.xml", tmp_path / "feed-later.xml"
    first.write_bytes(rss(150))
    second.write_bytes(rss(150, first=100))  # 50 items known from the first fetch, 100 new
    serial_settings = Settings(db_url=warehouse_url, ingest=IngestSettings(workers=1))
    serial = replace(build_context(serial_settings, init_schema=False), warehouse=warehouse)
    serial_outcomes = _ingest_twice(serial, first, second)
    expected = _snapshot(warehouse)
    _wipe(warehouse)

    parallel_settings = Settings(db_url=warehouse_url, ingest=IngestSettings(workers=2, parallel_min_bytes=0))
    parallel = replace(build_context(parallel_settings, init_schema=False), warehouse=warehouse)
    parallel_outcomes = _ingest_twice(parallel, first, second)

    # Same warehouse, same outcomes, whatever the sources (file paths differ only by name).
    assert _snapshot(warehouse) == expected
    assert parallel_outcomes == serial_outcomes
    assert serial_outcomes[0]["new_articles"] > 0 and serial_outcomes[1]["new_articles"] > 0


def _kill_a_worker_when_it_starts(stop: threading.Event) -> None:
    me = psutil.Process()
    while not stop.is_set():
        # Spawned workers are "python -c 'from multiprocessing.spawn import spawn_main ...'".
        workers = [p for p in me.children() if "spawn_main" in " ".join(p.cmdline())]
        if workers:
            time.sleep(0.3)  # started, and busy with its first part
            workers[0].kill()  # SIGKILL, as the OOM killer does
            return
        time.sleep(0.01)


def test_a_worker_killed_mid_feed_leaves_the_feed_to_this_process(warehouse_url, warehouse, tmp_path, caplog):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(3000))
    serial = replace(
        build_context(Settings(db_url=warehouse_url, ingest=IngestSettings(workers=1)), init_schema=False), warehouse=warehouse
    )
    serial_outcome = ingest_source(str(feed), serial, "test").to_dict()
    expected = _snapshot(warehouse)
    _wipe(warehouse)

    settings = Settings(db_url=warehouse_url, ingest=IngestSettings(workers=2, parallel_min_bytes=0))
    parallel = replace(build_context(settings, init_schema=False), warehouse=warehouse)
    stop = threading.Event()
    killer = threading.Thread(target=_kill_a_worker_when_it_starts, args=(stop,))
    killer.start()
    try:
        with caplog.at_level(logging.WARNING, logger="pipeline.ingest"):
            outcome = ingest_source(str(feed), parallel, "test").to_dict()
    finally:
        stop.set()
        killer.join()

    assert "WorkerDied" in caplog.text and "parsing it whole in this process" in caplog.text
    assert _snapshot(warehouse) == expected  # nothing half-written by the streamed attempt
    assert {k: v for k, v in outcome.items() if k != "elapsed_s"} == {
        k: v for k, v in serial_outcome.items() if k != "elapsed_s"
    }


def test_small_feeds_and_one_worker_start_no_processes():
    assert not FeedWorkers(Settings(ingest=IngestSettings(workers=2)), body_size=1000).active  # under 4 MiB
    assert not FeedWorkers(Settings(ingest=IngestSettings(workers=1, parallel_min_bytes=0)), body_size=10**9).active


def _ingest_in_a_daemon(db_url: str, path: str, results) -> None:
    ctx = build_context(Settings(db_url=db_url, ingest=IngestSettings(workers=2, parallel_min_bytes=0)))
    results.put(ingest_source(path, ctx, "daemon").to_dict())


def test_a_daemonic_process_ingests_without_children(tmp_path):
    # A daemonic process (a Celery prefork worker) may not start processes: the feed is still
    # ingested, in that process.
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(40))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(
        target=_ingest_in_a_daemon, args=(f"sqlite:///{tmp_path / 'w.db'}", str(feed), results), daemon=True
    )
    process.start()
    outcome = results.get(timeout=120)
    process.join(timeout=60)
    assert outcome["ok"] and outcome["new_articles"] > 0 and process.exitcode == 0


def test_a_refetch_does_not_score_what_the_feed_stored_lately(warehouse_url, warehouse, tmp_path):
    from pipeline.articles import read_and_score_part

    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(60))
    ctx = replace(
        build_context(Settings(db_url=warehouse_url, ingest=IngestSettings(workers=1)), init_schema=False), warehouse=warehouse
    )
    ingest_source(str(feed), ctx, "test")
    source = str(feed.resolve())
    recent = warehouse.recent_article_keys_of_feed(source, datetime(2026, 11, 1).date())
    stored = _snapshot(warehouse)["articles"]
    assert recent == {row[0] for row in stored} and len(recent) > 20
    assert len(warehouse.recent_article_keys_of_feed(source, datetime(2026, 11, 1).date(), limit=5)) == 5
    assert not warehouse.recent_article_keys_of_feed("https://other.example/rss", datetime(2026, 1, 1).date())

    part, records = read_and_score_part(
        feed.read_bytes(),
        source,
        FETCHED,
        frozenset(recent),
        ctx.settings.scoring.lexicon_file,
        ctx.settings.scoring.gazetteer_file,
    )
    assert len(part.candidates) == 60 and records == []  # everything known: nothing scored again


def _deadlock_the_writer(engine, source: str, key: str, ready: threading.Event, errors: list) -> None:
    """Hold `key` uncommitted, wait until the streamed writer has locked the feed's row, then ask for
    that row: once the writer reaches `key` the two wait for each other. This session waits first
    and with a long deadlock_timeout, so PostgreSQL's check runs in the writer's session and aborts
    the writer's transaction. Then roll back."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("set deadlock_timeout = '60s'"))
            other = conn.execute(
                sa.text(
                    "insert into feeds (url, outlet, first_seen_at)"
                    " values ('https://blocker.example/rss', 'blocker.example', :t) returning feed_id"
                ),
                {"t": FETCHED},
            ).scalar_one()
            conn.execute(
                sa.text(
                    "insert into articles (article_key, feed_id, title, published_at, published_day, date_source,"
                    " fetched_at, content_hash, sentence_count) values (:k, :f, 't', :t, :d, 'published', :t, 'h', 0)"
                ),
                {"k": key, "f": other, "t": FETCHED, "d": FETCHED.date()},
            )
            ready.set()
            with engine.connect() as probe:  # FOR UPDATE NOWAIT fails once the writer holds the row
                deadline = time.monotonic() + 300
                while True:
                    try:
                        probe.execute(
                            sa.text("select 1 from feeds where url = :u for update nowait"), {"u": source}
                        )
                    except sa.exc.OperationalError:
                        probe.rollback()
                        break
                    probe.rollback()
                    if time.monotonic() > deadline:
                        raise TimeoutError("the streamed writer never locked the feed row")
                    time.sleep(0.005)
            conn.execute(sa.text("update feeds set title = 'blocker' where url = :u"), {"u": source})
            conn.rollback()
    except Exception as exc:  # reported by the test
        errors.append(exc)
        ready.set()


@pytest.mark.postgres
def test_a_deadlock_in_the_streamed_write_leaves_the_feed_to_this_process(
    pg_url, pg_schema, tmp_path, caplog
):
    from pipeline.store import FetchRecord, Warehouse

    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(3000))
    source = str(feed)
    last_key = parse_feed(feed.read_bytes(), source, FETCHED).entries[-1].entry_id  # in the last part
    warehouse = Warehouse.from_url(pg_url, schema=pg_schema)
    warehouse.init_schema()
    known_feed = FetchRecord(source, FETCHED, True, status=200)  # the writer's upsert then locks its row

    warehouse.record_fetch(known_feed, "earlier")
    serial = replace(
        build_context(Settings(db_url=pg_url, ingest=IngestSettings(workers=1)), init_schema=False),
        warehouse=warehouse,
    )
    serial_outcome = ingest_source(source, serial, "test").to_dict()
    expected = _snapshot(warehouse)
    _wipe(warehouse)
    warehouse.init_schema()
    warehouse.record_fetch(known_feed, "earlier")

    settings = Settings(db_url=pg_url, ingest=IngestSettings(workers=2, parallel_min_bytes=0))
    parallel = replace(build_context(settings, init_schema=False), warehouse=warehouse)
    blocker_engine = sa.create_engine(pg_url, connect_args={"options": f"-csearch_path={pg_schema}"})
    ready, errors = threading.Event(), []
    blocker = threading.Thread(
        target=_deadlock_the_writer, args=(blocker_engine, source, last_key, ready, errors)
    )
    blocker.start()
    try:
        ready.wait(60)
        with caplog.at_level(logging.WARNING, logger="pipeline.ingest"):
            outcome = ingest_source(source, parallel, "test").to_dict()
    finally:
        blocker.join(120)
        blocker_engine.dispose()
        warehouse.dispose()
    assert errors == []
    assert "DeadlockDetected" in caplog.text and "storing it from this process" in caplog.text
    assert _snapshot(warehouse) == expected  # nothing of the streamed attempt was left behind
    assert {k: v for k, v in outcome.items() if k != "elapsed_s"} == {
        k: v for k, v in serial_outcome.items() if k != "elapsed_s"
    }


def test_a_feed_tells_its_progress_as_it_is_read(warehouse_url, warehouse, tmp_path):
    """A big feed read in parts reports its items part by part (the CLI's progress line), a small
    one before and after its parse."""
    from pipeline.cli import _feed_progress_line
    from pipeline.ingest import FeedProgress

    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(400))
    for workers, min_bytes in ((2, 0), (1, 4 * 1024 * 1024)):
        settings = Settings(
            db_url=warehouse_url, ingest=IngestSettings(workers=workers, parallel_min_bytes=min_bytes)
        )
        seen: list[FeedProgress] = []
        ctx = replace(
            build_context(settings, init_schema=False), warehouse=warehouse, on_feed_progress=seen.append
        )
        assert ingest_source(str(feed), ctx, f"progress-{workers}").ok
        assert seen and all(p.source == str(feed) and p.bytes == feed.stat().st_size for p in seen)
        items = [p.items for p in seen]
        assert items == sorted(items), workers
        if workers == 2:  # every item of the document, part by part
            assert items[-1] == 400 and len(seen) == seen[-1].parts > 1
            assert [p.parts_done for p in seen] == list(range(1, len(seen) + 1))
        else:
            parsed = parse_feed(feed.read_bytes(), str(feed), datetime.now(UTC))
            assert [(p.items, p.parts) for p in seen] == [
                (0, 0),
                (len(parsed.entries) + parsed.duplicates_dropped, 0),
            ]
        _wipe(warehouse)
    line = _feed_progress_line(FeedProgress("https://x.example/[big]/feed.xml", 25_100_000, 12000, 3, 16))
    assert line == "ingesting feed.xml (25.1 MB): 12,000 items, part 3 of 16"
    assert _feed_progress_line(FeedProgress("/tmp/[a].xml", 1_000, 0)) == r"ingesting \[a].xml (0.0 MB): 0 items"
