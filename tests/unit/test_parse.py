"""Feed normalisation: stable ids, canonical links, UTC dates, bozo feeds, junk documents."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime

import pytest

from pipeline.parse import MAX_ENTRY_HTML_CHARS, MAX_KEY_CHARS, MAX_TITLE_CHARS, canonical_url, parse_feed

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


# -- hostile documents ---------------------------------------------------------------------------------
def test_body_that_is_a_file_name_is_not_opened(tmp_path):
    """feedparser.parse(bytes) would open a local file of that name; we hand it a file object."""
    local = tmp_path / "feed.xml"
    local.write_bytes(rss("<item><title>CANARY-LOCAL</title><guid>1</guid></item>"))
    feed = parse_feed(str(local).encode(), "src", FETCHED)
    assert feed.error and not feed.entries
    assert "CANARY-LOCAL" not in repr(feed)


def _with_dtd(subset: str, title: str, encoding: str = "UTF-8") -> str:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE rss [{subset}]><rss version="2.0"><channel>'
        f"<title>t</title><item><title>{title}</title><guid>1</guid><description>{title}</description>"
        "</item></channel></rss>"
    )


@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
def test_entities_are_never_expanded(codec):
    """Even a small, legal expansion is not performed: entity declarations are removed first."""
    doc = _with_dtd('<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">', "x &b; y", codec.upper())
    feed = parse_feed(doc.encode(codec), "src", FETCHED)
    (entry,) = feed.entries
    assert "lol" not in entry.title + entry.summary_html
    assert "DTD entity declarations removed" in feed.bozo_reason


def test_billion_laughs_is_neither_slow_nor_big():
    lols = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)).replace("&l0;", "lol")
    doc = _with_dtd(lols, "&l9;").encode()
    tracemalloc.start()
    started = time.monotonic()
    try:
        feed = parse_feed(doc, "src", FETCHED)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert feed.entries and "lollol" not in feed.entries[0].summary_html
    # Without the removal expat expands until its amplification limit (~21 MB, ~0.5 s here); with it, ~0.1 MB.
    assert peak < 4 * 1024 * 1024 and time.monotonic() - started < 1


def test_external_entities_are_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-XXE")
    doc = _with_dtd(f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">', "leak &xxe;")
    feed = parse_feed(doc.encode(), "src", FETCHED)
    assert feed.entries and "CANARY-XXE" not in repr(feed)


def test_unremovable_entity_declaration_is_refused():
    doc = _with_dtd('<!ENTITY a "never closed>', "x")
    feed = parse_feed(doc.encode(), "src", FETCHED)
    assert feed.error == "not a feed: malformed DTD entity declarations refused" and not feed.entries


def test_oversized_entry_is_cut_and_noted():
    body = "<p>" + "word " * 100_000 + "</p><b>" * 50_000
    feed = parse_feed(
        rss(f"<item><title>big</title><guid>1</guid><description><![CDATA[{body}]]></description></item>"),
        "src",
        FETCHED,
    )
    (entry,) = feed.entries
    assert len(entry.summary_html) <= MAX_ENTRY_HTML_CHARS
    assert feed.entries_truncated == 1 and "1 oversized entry cut" in feed.bozo_reason


def test_titles_keys_and_links_are_bounded():
    long_link = "https://wire.example/" + "a" * 5000
    feed = parse_feed(
        rss(
            f"<item><title>{'word ' * 1000}</title><guid>{'g' * 5000}</guid><link>{long_link}</link></item>"
            f"<item><title>no guid</title><link>https://wire.example/{'b' * 1500}</link></item>"
        ),
        "src",
        FETCHED,
    )
    first, second = feed.entries
    assert len(first.title) <= MAX_TITLE_CHARS + 1 and first.title.endswith("…")
    assert first.entry_id.startswith("sha1:") and len(first.guid) == MAX_KEY_CHARS
    assert first.link is None  # a 5 000-character link is not a link
    assert second.entry_id.startswith("sha1:") and second.link.endswith("b" * 100)


def test_control_characters_are_removed():
    feed = parse_feed(
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t\x00</title><item><title>a\x00b\x07c</title>'
        b"<guid>g\x00h</guid><link>https://x.example/a\x00b</link><description>d\x00e</description></item>"
        b"</channel></rss>",
        "src",
        FETCHED,
    )
    (entry,) = feed.entries
    assert (feed.title, entry.title, entry.guid, entry.link, entry.summary_html) == (
        "t",
        "abc",
        "gh",
        "https://x.example/ab",
        "de",
    )


def test_untitled_item_is_headed_by_its_first_sentence():
    feed = parse_feed(
        rss(
            "<item><guid>1</guid><description>&lt;p&gt;Iran warned Israel. Talks stalled.&lt;/p&gt;</description></item>"
        ),
        "src",
        FETCHED,
    )
    assert feed.entries[0].title == "Iran warned Israel."


def test_html_page_reason():
    feed = parse_feed(
        b"<!DOCTYPE html>\n<html lang='en'><head><title>Home</title></head></html>", "src", FETCHED
    )
    assert feed.error == "not a feed: an HTML page, not RSS/Atom/RDF"


@pytest.mark.parametrize(
    "body, bozo",
    [
        (rss("<item><title>Café “talks”</title><guid>1</guid></item>").decode().encode("utf-16"), True),
        (
            '<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>Café “talks”</title><guid>1</guid></item></channel></rss>".encode("utf-16"),
            False,
        ),
        (
            '<?xml version="1.0" encoding="UTF-16"?><rss version="2.0"><channel><title>t</title>'
            "<item><title>Café “talks”</title><guid>1</guid></item></channel></rss>".encode("utf-16-be"),
            False,
        ),
        (rss("<item><title>Café “talks”</title><guid>1</guid></item>").decode().encode("cp1252"), True),
    ],
    ids=["utf-16-bom-declared-utf-8", "utf-16-bom", "utf-16-be-no-bom", "windows-1252-declared-utf-8"],
)
def test_mislabelled_and_wide_encodings(body, bozo):
    feed = parse_feed(body, "src", FETCHED)
    assert feed.entries[0].title == "Café “talks”"
    assert bool(feed.bozo_reason) is bozo


def test_html_titles_become_plain_text_and_plain_titles_keep_their_angle_brackets():
    atom = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
    <title type="html">Wire &lt;i&gt;One&lt;/i&gt;</title>
    <entry><id>urn:1</id><title type="html">Strikes &lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;resume&lt;/b&gt; &amp;amp; more</title>
    <summary>Body.</summary></entry>
    <entry><id>urn:2</id><title type="text">Rates &lt;5% as talks resume</title><summary>Body.</summary></entry>
    <entry><id>urn:3</id><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Talks <b>end</b></div></title>
    <summary>Body.</summary></entry></feed>"""
    feed = parse_feed(atom, "https://wire.example/atom", FETCHED)
    assert feed.title == "Wire One"
    assert [e.title for e in feed.entries] == [
        "Strikes resume & more",
        "Rates <5% as talks resume",
        "Talks end",
    ]
