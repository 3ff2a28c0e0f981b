"""The page step end to end through ingest: teaser-only feed items whose links are served by real local
HTTP servers, into real SQLite and PostgreSQL (pipeline.fulltext, Warehouse.replace_article_text).

Every page and feed item here is written for these tests; the WordPress-style page is the project's
own sample (samples/pages/militia-attack-warning.html).
"""

from __future__ import annotations

import gzip
import socket
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer
from werkzeug import Response

import pipeline.store.pages
from pipeline.articles import is_teaser
from pipeline.config import FetchSettings, PageSettings, Settings
from pipeline.fulltext import MAX_PAGE_ATTEMPTS
from pipeline.ingest import build_context, run_cycle
from pipeline.text import html_to_text, strip_boilerplate

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PAGE = REPO / "samples" / "pages" / "militia-attack-warning.html"
SAMPLE_TITLE = "US intelligence warns Iran-aligned militias plan more attacks on American troops"
SAMPLE_TEASER = "Officials say armed groups backed by Iran are preparing more strikes on US troops."
# Sentences deep in the sample page's body, and boilerplate of the seed's kind around it.
KEY_SENTENCES = (
    "One official based in the region described the warning signs as alarming and said the situation"
    " was escalating quickly.",
    "Iran arms and funds allied factions in several countries through the Quds Force, the foreign"
    " operations arm of the Revolutionary Guard, but it does not always control what they do.",
)
BOILERPLATE = ("Leave a Reply", "We use cookies", "Share it", "Related", "All rights reserved", "Read more")
PUBLISHED = datetime(2026, 10, 13, 5, 30, tzinfo=UTC)
DAY = date(2026, 10, 13)

PAGES = PageSettings(
    allowed_networks=("127.0.0.0/8",),  # the local servers; private and link-local stay refused
    per_host_delay_s=0.0,
    timeout_s=2.0,
    deadline_s=2.0,
    retries=2,
    backoff_s=0.01,
    max_bytes=1024 * 1024,
)


def english_page(title: str, paragraphs: list[str], *, lang: str = "en", charset: str = "utf-8") -> str:
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="{charset}"><title>{escape(title)}</title></head>'
        f'<body><nav><a href="/">Home</a> <a href="/world">World</a></nav><article><h1>{escape(title)}</h1>'
        f"{body}</article><footer>Copyright 2026 The Test Courier</footer></body></html>"
    )


TALKS = [
    "Negotiators from both governments met for a third day on Wednesday to discuss the border crossings.",
    "A spokesman said the two delegations had agreed on a timetable for reopening the main road to trucks.",
    "Aid groups welcomed the step but warned that food stocks in the northern towns were running low.",
    "The next round of talks is expected to take place in Geneva before the end of the month.",
]
FRENCH = [
    "Les négociateurs des deux gouvernements se sont réunis mercredi pour la troisième journée consécutive.",
    "Un porte-parole a déclaré que les délégations avaient convenu d'un calendrier pour rouvrir la route.",
    "Les organisations humanitaires ont salué cette étape mais ont averti que les stocks étaient faibles.",
    "Le prochain cycle de discussions devrait avoir lieu à Genève avant la fin du mois prochain.",
]
ZURICH = [
    "Mediators in Zürich said the ceasefire talks would resume on Thursday after a pause of two days.",
    "One diplomat described the mood as “cautiously hopeful” and said both sides had softened their terms.",
    "A joint statement is expected once the remaining questions about the prisoner exchange are settled.",
]


def feed_xml(items: list[tuple[str, str, str]], *, guid_prefix: str | None = None) -> bytes:
    """RSS 2.0 with (title, link, teaser) items, all published on DAY."""
    out = ['<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Test Courier</title>']
    for n, (title, link, teaser) in enumerate(items):
        guid = f"<guid isPermaLink=\"false\">{guid_prefix}-{n}</guid>" if guid_prefix else ""
        out.append(
            f"<item><title>{escape(title)}</title><link>{escape(link)}</link>{guid}"
            f"<pubDate>{format_datetime(PUBLISHED)}</pubDate><description>{escape(teaser)}</description></item>"
        )
    out.append("</channel></rss>")
    return "\n".join(out).encode()


@pytest.fixture
def servers():
    """Threaded local HTTP servers (a slow page must not hold the others up); one per host."""
    started: list[HTTPServer] = []

    def start(robots: str | None = None) -> HTTPServer:
        server = HTTPServer(host="127.0.0.1", threaded=True)
        server.start()
        if robots is None:
            server.expect_request("/robots.txt").respond_with_data("none", status=404)
        else:
            server.expect_request("/robots.txt").respond_with_data(robots, content_type="text/plain")
        started.append(server)
        return server

    yield start
    for server in started:
        server.clear()
        server.stop()


def context(warehouse_url: str, warehouse, **pages):
    settings = Settings(
        db_url=warehouse_url,
        fetch=FetchSettings(retries=0, backoff_s=0.01, timeout_s=5),
        pages=replace(PAGES, **pages),
    )
    return replace(build_context(settings, init_schema=False), warehouse=warehouse)


def serve_feed(server: HTTPServer, path: str, items, **kw) -> str:
    server.expect_request(path).respond_with_data(feed_xml(items, **kw), content_type="application/rss+xml")
    return server.url_for(path)


def page_rows(warehouse) -> dict[str, dict]:
    """article title -> its article_pages row with the article's sentence count."""
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select a.title, a.sentence_count, p.* from article_pages p join articles a using (article_id)"
            )
        ).mappings()
        return {row["title"]: dict(row) for row in rows}


def sentences_of(warehouse, title: str) -> list[tuple]:
    with warehouse.engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                sa.text(
                    "select s.seq, s.text, s.score, s.scorer_version from sentences s join articles a"
                    " using (article_id) where a.title = :title order by s.seq"
                ),
                {"title": title},
            )
        ]


def requested(server: HTTPServer) -> list[str]:
    return [request.path for request, _response in server.log]


# -- the rule ---------------------------------------------------------------------------------------------
def test_teaser_rule():
    def body(html: str) -> str:
        return strip_boilerplate(html_to_text(html))

    assert is_teaser("Talks resume", body("<p>Negotiators met again on Wednesday.</p>"))
    assert is_teaser("Talks resume", body(""))  # no body at all
    # a WordPress excerpt and its feed footer are still one paragraph of teaser
    excerpt = " ".join(["word"] * 55) + " [&#8230;]"
    assert is_teaser("T", body(f"<p>{excerpt}</p><p>The post T appeared first on Test Courier.</p>"))
    assert not is_teaser("Talks resume", body("".join(f"<p>{p}</p>" for p in TALKS[:2])))  # two paragraphs
    assert not is_teaser("T", body("<p>" + " ".join(["word"] * 90) + "</p>"))  # one long paragraph


# -- the whole story through ingest ------------------------------------------------------------------------
def test_teasers_get_their_pages_and_failures_keep_the_teaser(warehouse_url, warehouse, servers):
    site = servers(robots="User-agent: *\nDisallow: /private/\n")
    slow = servers()
    site.expect_request("/news/militia").respond_with_data(
        SAMPLE_PAGE.read_bytes(), content_type="text/html; charset=UTF-8"
    )
    site.expect_request("/private/story").respond_with_data(english_page("Hidden", TALKS), content_type="text/html")
    site.expect_request("/go/private").respond_with_data("", status=302, headers={"Location": "http://10.0.0.1/x"})
    site.expect_request("/go/link-local").respond_with_data(
        "", status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    site.expect_request("/bomb").respond_with_data(
        gzip.compress(b"<html><body><p>" + b"a" * (8 * 1024 * 1024)),
        content_type="text/html",
        headers={"Content-Encoding": "gzip"},
    )
    site.expect_request("/gone").respond_with_data("not here", status=404)
    site.expect_oneshot_request("/flaky").respond_with_data("overloaded", status=500)
    site.expect_request("/flaky").respond_with_data(english_page("Talks", TALKS), content_type="text/html")
    site.expect_request("/report.pdf").respond_with_data(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", content_type="application/pdf")
    # declared Latin-1, really UTF-8 (the common mislabelling)
    site.expect_request("/charset").respond_with_data(
        english_page("Zürich", ZURICH, charset="iso-8859-1").encode("utf-8"),
        content_type="text/html; charset=iso-8859-1",
    )
    site.expect_request("/fr/article").respond_with_data(
        english_page("Les discussions reprennent", FRENCH, lang="fr"), content_type="text/html; charset=utf-8"
    )

    def too_slow(_request):
        time.sleep(3)  # past the page deadline of 2 s
        return Response(english_page("Late", TALKS), content_type="text/html")

    slow.expect_request("/late").respond_with_handler(too_slow)

    items = [
        (SAMPLE_TITLE, site.url_for("/news/militia"), SAMPLE_TEASER),
        ("Robots say no", site.url_for("/private/story"), "A page the site does not want crawled."),
        ("Redirect to a private address", site.url_for("/go/private"), "It redirects inward."),
        ("Redirect to link-local", site.url_for("/go/link-local"), "It redirects to the metadata service."),
        ("A gzip bomb", site.url_for("/bomb"), "Eight megabytes of one letter."),
        ("Gone", site.url_for("/gone"), "This story was taken down."),
        ("Flaky server", site.url_for("/flaky"), "The server fails once."),
        ("A PDF", site.url_for("/report.pdf"), "A report in PDF."),
        ("Wrong charset", site.url_for("/charset"), "Mediators meet again."),
        ("In French", site.url_for("/fr/article"), "Talks resume, in French."),
        ("Too slow", slow.url_for("/late"), "This page takes too long."),
    ]
    ctx = context(warehouse_url, warehouse)
    report = run_cycle([serve_feed(site, "/feed.xml", items)], ctx, trigger="test", notify=False)

    rows = page_rows(warehouse)
    states = {title: (row["page_state"], row["error"]) for title, row in rows.items()}
    assert states == {
        SAMPLE_TITLE: ("done", None),
        "Robots say no": ("failed", "robots.txt disallows"),
        "Redirect to a private address": ("failed", "refused address"),
        "Redirect to link-local": ("failed", "refused address"),
        "A gzip bomb": ("failed", "too large"),
        "Gone": ("failed", "http 404"),
        "Flaky server": ("done", None),
        "A PDF": ("failed", "not HTML: application/pdf"),
        "Wrong charset": ("done", None),
        "In French": ("skipped", "not scored: language fr"),
        "Too slow": ("pending", "timeout"),  # transient: the next run tries again
    }
    assert report.pages.done == 3 and report.pages.retry == 1 and report.pages.not_scored == 1

    # The seed-like page: its key sentences are stored and scored, its boilerplate is not.
    seed = rows[SAMPLE_TITLE]
    assert (seed["body_source"], seed["http_status"], seed["language"], seed["extractor"]) == (
        "page",
        200,
        "en",
        "trafilatura",
    )
    assert seed["final_url"] == site.url_for("/news/militia") and seed["fetched_at"] is not None
    assert seed["extractor_version"].startswith(tuple("0123456789")) and "+clean." in seed["extractor_version"]
    stored = sentences_of(warehouse, SAMPLE_TITLE)
    texts = [text for _seq, text, _score, _version in stored]
    assert [seq for seq, *_ in stored] == list(range(len(stored))) and len(stored) == seed["sentence_count"] >= 12
    assert texts[0] == SAMPLE_TITLE and SAMPLE_TEASER not in texts  # the page's text replaced the teaser's
    for sentence in KEY_SENTENCES:
        assert sentence in texts
    for boilerplate in BOILERPLATE:
        assert not any(boilerplate.lower() in text.lower() for text in texts), boilerplate
    escalating = next(score for _seq, text, score, _v in stored if text == KEY_SENTENCES[0])
    assert escalating > 0.2
    assert {version for *_, version in stored} == {ctx.scorer.version}
    with warehouse.engine.connect() as conn:  # its actors were tagged too
        actors = set(
            conn.execute(
                sa.text(
                    "select x.actor from sentence_actors x join sentences s using (sentence_id)"
                    " join articles a using (article_id) where a.title = :t"
                ),
                {"t": SAMPLE_TITLE},
            ).scalars()
        )
    assert {"IRN", "USA"} <= actors

    # Failures keep the feed's teaser (title + teaser sentence) and say why.
    for title in ("Robots say no", "Gone", "A PDF", "A gzip bomb", "Too slow", "In French"):
        assert rows[title]["body_source"] == "feed" and rows[title]["sentence_count"] == 2, title
    assert rows["Gone"]["http_status"] == 404
    assert rows["In French"]["language"] == "fr"  # stored with its language, not scored
    assert "/private/story" not in requested(site)  # robots.txt obeyed: never fetched
    assert requested(site).count("/robots.txt") == 1  # once per run and host
    assert any("Zürich" in text for _s, text, _sc, _v in sentences_of(warehouse, "Wrong charset"))
    assert any("“cautiously hopeful”" in text for _s, text, _sc, _v in sentences_of(warehouse, "Wrong charset"))

    # The page texts' day was recomputed: its signal counts the page's sentences.
    assert report.days == (DAY,)
    with warehouse.engine.connect() as conn:
        day_sentences = conn.execute(
            sa.text("select sentences from daily_signals where day = :d and actor = 'ALL'"), {"d": DAY}
        ).scalar_one()
        total = conn.execute(sa.text("select count(*) from sentences")).scalar_one()
    assert day_sentences == total


def test_transient_failures_stay_pending_until_the_attempts_run_out(warehouse_url, warehouse, servers):
    site = servers()
    with socket.socket() as probe:  # a port nobody listens on: "connection failed"
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/story"
    ctx = context(warehouse_url, warehouse)
    feed = serve_feed(site, "/feed.xml", [("Unreachable", dead, "The site is down.")])
    for attempt in range(1, MAX_PAGE_ATTEMPTS + 1):
        run_cycle([feed], ctx, trigger="test", notify=False)
        row = page_rows(warehouse)["Unreachable"]
        assert row["attempts"] == attempt
        assert row["error"].startswith("connection failed")
        assert row["page_state"] == ("failed" if attempt == MAX_PAGE_ATTEMPTS else "pending")
    run_cycle([feed], ctx, trigger="test", notify=False)
    assert page_rows(warehouse)["Unreachable"]["attempts"] == MAX_PAGE_ATTEMPTS  # not tried again


def test_two_feeds_carrying_the_same_link_fetch_it_once(warehouse_url, warehouse, servers):
    site = servers()
    site.expect_request("/news/talks").respond_with_data(english_page("Talks", TALKS), content_type="text/html")
    link = site.url_for("/news/talks")
    first = serve_feed(site, "/a.xml", [("Border talks", link, "Talks went on.")], guid_prefix="a")
    # another feed, its own guid, the same article behind a tracking parameter
    second = serve_feed(site, "/b.xml", [("Border talks", link + "?utm_source=rss", "Talks.")], guid_prefix="b")
    run_cycle([first, second], context(warehouse_url, warehouse), trigger="test", notify=False)
    assert requested(site).count("/news/talks") == 1
    with warehouse.engine.connect() as conn:
        states = conn.execute(sa.text("select page_state, body_source, page_url from article_pages")).all()
    assert [tuple(s) for s in states] == [("done", "page", link)] * 2  # two articles, one fetch


def test_an_interrupted_page_step_leaves_no_half_article_and_the_next_run_completes_it(
    warehouse_url, warehouse, servers, monkeypatch
):
    site = servers()
    site.expect_request("/one").respond_with_data(english_page("One", TALKS), content_type="text/html")
    site.expect_request("/two").respond_with_data(english_page("Two", ZURICH), content_type="text/html")
    feed = serve_feed(
        site, "/feed.xml", [("Story one", site.url_for("/one"), "First."), ("Story two", site.url_for("/two"), "Second.")]
    )
    ctx = context(warehouse_url, warehouse, per_host_concurrency=1)
    real = pipeline.store.pages.insert_sentence_records
    calls: list[int] = []

    def crash_on_the_second_article(conn, records, *args):
        calls.append(len(records))
        if len(calls) == 2:  # the old sentences are already deleted in this transaction
            raise RuntimeError("worker killed mid-write")
        return real(conn, records, *args)

    monkeypatch.setattr(pipeline.store.pages, "insert_sentence_records", crash_on_the_second_article)
    with pytest.raises(RuntimeError, match="mid-write"):
        run_cycle([feed], ctx, trigger="test", notify=False)
    rows = page_rows(warehouse)
    finished = [t for t, r in rows.items() if r["page_state"] == "done"]
    unfinished = [t for t, r in rows.items() if r["page_state"] == "pending"]
    assert len(finished) == 1 and len(unfinished) == 1
    # the interrupted article is whole: its teaser's two sentences, nothing deleted, nothing added
    left = unfinished[0]
    assert rows[left]["sentence_count"] == 2 and len(sentences_of(warehouse, left)) == 2
    assert rows[left]["body_source"] == "feed" and rows[left]["attempts"] == 0

    monkeypatch.setattr(pipeline.store.pages, "insert_sentence_records", real)
    report = run_cycle([feed], ctx, trigger="test", notify=False)  # no new article: only the page
    assert report.new_articles == 0 and report.pages.done == 1 and report.days == (DAY,)
    rows = page_rows(warehouse)
    assert all(row["page_state"] == "done" for row in rows.values())
    assert len(sentences_of(warehouse, left)) == rows[left]["sentence_count"] > 2


def test_article_fetch_off_makes_no_request(warehouse_url, warehouse, servers):
    site = servers()
    site.expect_request("/one").respond_with_data(english_page("One", TALKS), content_type="text/html")
    feed = serve_feed(site, "/feed.xml", [("Story one", site.url_for("/one"), "First.")])
    report = run_cycle([feed], context(warehouse_url, warehouse, enabled=False), trigger="test", notify=False)
    assert requested(site) == ["/feed.xml"]  # not even robots.txt
    row = page_rows(warehouse)["Story one"]
    assert (row["page_state"], row["error"], row["body_source"]) == ("skipped", "disabled", "feed")
    assert report.pages.pending == 0 and row["sentence_count"] == 2


def test_a_real_feed_body_is_not_fetched(warehouse_url, warehouse, servers):
    site = servers()
    body = "".join(f"<p>{escape(p)}</p>" for p in TALKS)
    feed = serve_feed(site, "/feed.xml", [("Full story", site.url_for("/full"), body)])
    run_cycle([feed], context(warehouse_url, warehouse), trigger="test", notify=False)
    assert requested(site) == ["/feed.xml"]
    row = page_rows(warehouse)["Full story"]
    assert (row["page_state"], row["body_source"], row["error"]) == ("skipped", "feed", None)


def test_escalation_ingest_runs_the_page_step(servers, tmp_path):
    """The command as a user runs it (a subprocess): a local feed file with a teaser, its page served."""
    import os
    import subprocess
    import sys

    site = servers()
    site.expect_request("/one").respond_with_data(english_page("One", TALKS), content_type="text/html")
    feed = tmp_path / "feed.xml"
    feed.write_bytes(feed_xml([("Story one", site.url_for("/one"), "First.")]))
    db = tmp_path / "warehouse.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCALATION_")}
    env.update(
        ESCALATION_DB_URL=f"sqlite:///{db}",
        ESCALATION_ARTICLE_ALLOWED_NETWORKS="127.0.0.0/8",
        ESCALATION_ARTICLE_HOST_DELAY_S="0",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "ingest", str(feed)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "pages: 1 read, 0 failed" in result.stdout
    assert requested(site) == ["/robots.txt", "/one"]
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.text("select page_state, body_source from article_pages")).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("done", "page")
