"""Feed normalisation: stable ids, canonical links, UTC dates, bozo feeds, junk documents."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.parse import canonical_url, parse_feed

FETCHED = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def rss(items: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Test &amp; Wire</title><link>https://wire.example/</link>
{items}</channel></rss>""".encode()


def test_rss_entry_normalised():
    feed = parse_feed(
        rss("""<item><title>  Strikes   &amp; talks </title>
        <link>https://Wire.Example:443/a?id=7&amp;utm_source=rss&amp;fbclid=zz#top</link>
        <guid isPermaLink="false">abc-1</guid><pubDate>Sun, 01 Nov 2026 08:30:00 +0200</pubDate>
        <description>&lt;p&gt;Body&lt;/p&gt;</description></item>"""),
        "https://wire.example/rss",
        FETCHED,
    )
    assert feed.error is None and feed.title == "Test & Wire"
    (entry,) = feed.entries
    assert entry.title == "Strikes & talks"
    assert entry.link == "https://wire.example/a?id=7"
    assert entry.entry_id == "https://wire.example/rss#abc-1"  # bare guids are namespaced by feed
    assert entry.published_at == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert entry.date_source == "published"


def test_id_falls_back_to_link_then_hash():
    feed = parse_feed(
        rss("""<item><title>A</title><link>https://wire.example/a?utm_medium=x</link></item>
               <item><title>B</title><description>only text</description></item>
               <item><title>C</title><guid>https://wire.example/c?utm_campaign=q</guid></item>"""),
        "src",
        FETCHED,
    )
    ids = [e.entry_id for e in feed.entries]
    assert ids[0] == "https://wire.example/a"
    assert ids[1].startswith("sha1:")
    assert ids[2] == "https://wire.example/c"


def test_duplicates_within_a_feed_are_dropped():
    item = "<item><title>Same</title><guid>g1</guid></item>"
    feed = parse_feed(rss(item * 3), "src", FETCHED)
    assert len(feed.entries) == 1 and feed.duplicates_dropped == 2


def test_untrusted_dates_fall_back_to_fetch_time():
    feed = parse_feed(
        rss("""<item><title>future</title><guid>1</guid><pubDate>Tue, 01 Jan 2030 00:00:00 GMT</pubDate></item>
               <item><title>epoch</title><guid>2</guid><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>
               <item><title>none</title><guid>3</guid></item>"""),
        "src",
        FETCHED,
    )
    assert [e.published_at for e in feed.entries] == [FETCHED] * 3
    assert [e.date_source for e in feed.entries] == ["fetched"] * 3
    assert feed.dates_fixed == 2


def test_atom_and_rdf():
    atom = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>
      <entry><title>E</title><id>urn:x:1</id><link href="https://a.example/e"/>
      <updated>2026-11-01T10:00:00Z</updated><content type="html">&lt;p&gt;long content&lt;/p&gt;</content></entry></feed>"""
    rdf = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <channel rdf:about="https://r.example/"><title>R</title><link>https://r.example/</link></channel>
      <item rdf:about="https://r.example/1"><title>I</title><link>https://r.example/1</link>
      <dc:date>2026-11-01T09:00:00Z</dc:date></item></rdf:RDF>"""
    a = parse_feed(atom, "a", FETCHED).entries[0]
    assert a.date_source == "updated" and "long content" in a.content_html
    r = parse_feed(rdf, "r", FETCHED).entries[0]
    assert r.link == "https://r.example/1" and r.published_at == datetime(2026, 11, 1, 9, tzinfo=UTC)


def test_bozo_feed_with_entries_is_kept_with_reason():
    feed = parse_feed(
        rss("<item><title>Broken &nbsp; entity</title><guid>1</guid></item><item>"), "src", FETCHED
    )
    assert feed.error is None
    assert feed.entries and feed.bozo_reason


def test_html_page_and_empty_body_are_errors():
    html = parse_feed(
        b"<html><head><title>Hi</title></head><body><p>Not a feed</p></body></html>", "src", FETCHED
    )
    assert html.error and html.error.startswith("not a feed") and not html.entries
    assert parse_feed(b"", "src", FETCHED).error == "empty body"
    assert parse_feed(b"\x00\x01garbage", "src", FETCHED).error


def test_canonical_url():
    assert (
        canonical_url("HTTP://News.Example:80/a/b?x=1&utm_source=a&gclid=9&y=2#frag")
        == "http://news.example/a/b?x=1&y=2"
    )
    assert canonical_url("https://n.example:8443/p?") == "https://n.example:8443/p"
