"""Article page extraction (pipeline.extract) and `escalation extract`: real trafilatura, real pages.

Every page here is written for these tests (the WordPress-style sample is samples/pages/); none is
taken from the shared benchmark data.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers import escalation

from pipeline.extract import (
    EMPTY_EXTRACTION,
    EMPTY_INPUT,
    EXTRACTOR,
    MAX_INPUT_BYTES,
    NOT_HTML,
    TOO_LARGE,
    UNDECODABLE,
    ExtractOptions,
    decode_html,
    extract_page,
    is_scored_language,
    language_code,
    load_boilerplate,
    parse_content_type,
    parse_timestamp,
)
from pipeline.text import split_sentences

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PAGE = REPO / "samples" / "pages" / "militia-attack-warning.html"
SAMPLE_URL = "https://gulf-ledger.example/news/militia-attack-warning"

BODY_SENTENCES = (
    "American intelligence agencies have picked up signs that armed groups backed by Iran are preparing",
    "described the warning signs as alarming and said the situation was escalating quickly",
    "through the Quds Force, the foreign operations arm of the Revolutionary Guard",
    "any further escalation would carry severe consequences",
    "Qatar, which has acted as a go-between",
)
# Every boilerplate block of the sample page: navigation, cookie banner, share block, related posts,
# newsletter box, comment form and its notes, tags, post navigation, sidebar, copyright footer.
SAMPLE_BOILERPLATE = (
    "Skip to content",
    "Daily news from the Gulf",
    "Economy",
    "We use cookies",
    "Cookie Policy",
    "Accept",
    "Share it",
    "Facebook",
    "WhatsApp",
    "Print",
    "Read more",
    "Pentagon orders a second carrier group",
    "Related",
    "Drone strike hits airfield near Erbil",
    "Ceasefire talks resume in Doha",
    "morning briefing",
    "newsletter",
    "Enter your email",
    "Leave a Reply",
    "will not be published",
    "Required fields are marked",
    "Save my name, email, and website",
    "Post Comment",
    "Tags",
    "Posted in",
    "Gulf summit ends without a joint statement",
    "Recent Posts",
    "All rights reserved",
    "may not be published, broadcast",
    "Privacy Policy",
    "Photo:",
)


def _page(body: str, *, lang: str = "en", head: str = "", title: str = "A test page") -> str:
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>{head}</head>'
        f'<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<main><article>{body}</article></main><footer>Site footer</footer></body></html>"
    )


PARAGRAPHS = (
    "<p>Border guards of the two neighbours exchanged fire overnight near the disputed crossing, "
    "officials on both sides said on Tuesday, the third such clash this month.</p>"
    "<p>The defence ministry said it had moved additional armoured units to the area and warned "
    "that any further incursion would be met with force.</p>"
    "<p>Diplomats from the region urged restraint and offered to host talks, while the United "
    "Nations called for an immediate and verifiable ceasefire along the frontier.</p>"
    "<p>Shares in the country's largest defence contractor rose sharply after the announcement, "
    "and the ministry said it would share intelligence with its allies.</p>"
)


# -- the WordPress-style sample page ---------------------------------------------------------------
def test_sample_page_keeps_the_body_and_drops_every_boilerplate_block():
    page = extract_page(SAMPLE_PAGE.read_bytes(), SAMPLE_URL, content_type="text/html; charset=UTF-8")
    assert page.ok, page.error
    for sentence in BODY_SENTENCES:
        assert sentence in page.text
    sentences = split_sentences(page.text)
    assert len(sentences) >= 12
    for boilerplate in SAMPLE_BOILERPLATE:
        assert boilerplate.lower() not in page.text.lower(), boilerplate
        assert not any(boilerplate.lower() in s.lower() for s in sentences), boilerplate
    assert page.title == "US intelligence warns Iran-aligned militias plan more attacks on American troops"
    assert not page.text.startswith("US intelligence warns")  # the headline is the title, not the body
    assert page.published == datetime(2026, 10, 13, 5, 30, tzinfo=UTC)
    assert page.author == "Ledger Staff"
    assert (page.language, page.encoding, page.extractor) == ("en", "utf-8", EXTRACTOR)
    assert page.extractor_version.endswith(f"+clean.{load_boilerplate().version}")


def test_sample_page_needs_the_cleaning_rules():
    """Without our rules trafilatura keeps some of the page's boilerplate: the test above means something."""
    raw = extract_page(
        SAMPLE_PAGE.read_bytes(),
        SAMPLE_URL,
        options=ExtractOptions(clean_boilerplate=False, drop_headline=False),
    )
    kept = [b for b in SAMPLE_BOILERPLATE if b.lower() in raw.text.lower()]
    assert {"Share it", "Read more", "All rights reserved"} <= set(kept)
    cleaned = extract_page(SAMPLE_PAGE.read_bytes(), SAMPLE_URL)
    assert {d.rule for d in cleaned.dropped} >= {"block:share", "block:related", "block:copyright"}


def test_boilerplate_blocks_inside_the_article_are_dropped_by_rule():
    """Page furniture printed inside the article container, with no telling class names."""
    body = (
        "<h1>Clashes at the border crossing</h1>"
        "<p>By Jane Example and John Sample</p>"
        + PARAGRAPHS
        + "<p>Photo: Soldiers near the crossing (Example Agency)</p>"
        "<p>Share this:</p><ul><li>Facebook</li><li>Twitter</li><li>Email</li></ul>"
        "<p>Sign up for our daily newsletter to get the top stories delivered to your inbox.</p>"
        "<p>This website uses cookies to improve your experience. Accept cookies to continue.</p>"
        "<p>Copyright 2026 Example Media. All rights reserved.</p>"
        "<p>Follow us on Twitter and Facebook for the latest updates.</p>"
        "<h3>Related posts</h3><p>Talks on the frontier stall again</p><p>Army chief visits the north</p>"
        "<h3>Leave a Reply</h3>"
        "<p>Your email address will not be published. Required fields are marked *</p>"
        "<p>Save my name, email, and website in this browser for the next time I comment.</p>"
    )
    page = extract_page(_page(body, title="Clashes at the border crossing"), "https://news.example/a")
    assert page.ok
    assert "exchanged fire overnight" in page.text
    assert "met with force" in page.text
    # Sentences that merely mention sharing stay.
    assert "Shares in the country's largest defence contractor" in page.text
    assert "share intelligence with its allies" in page.text
    for gone in (
        "Clashes at the border crossing",
        "Jane Example",
        "Photo:",
        "Share this",
        "Facebook",
        "newsletter",
        "cookies",
        "All rights reserved",
        "Follow us",
        "Related posts",
        "Talks on the frontier stall again",
        "Leave a Reply",
        "will not be published",
        "Save my name",
    ):
        assert gone not in page.text, gone
    rules = {d.rule for d in page.dropped}
    assert {"headline", "block:byline", "block:newsletter", "block:cookie", "block:copyright"} <= rules
    assert {"section:related", "section:comment_form"} <= rules


def test_a_related_heading_early_in_the_body_does_not_cut_the_article():
    body = "<h2>More</h2>" + PARAGRAPHS
    page = extract_page(_page(body), "https://news.example/b")
    assert "exchanged fire overnight" in page.text and "share intelligence" in page.text


def test_embedded_tweet_is_kept_as_a_quote():
    tweet = (
        '<div class="article-widget embed-tweet"><blockquote class="twitter-tweet"><p lang="en">'
        "We will respond to any attack on our forces at a time and place of our choosing.</p>"
        '— Defence Spokesperson (@example_mod) <a href="https://x.example/1">October 13, 2026</a>'
        "</blockquote></div>"
    )
    body = PARAGRAPHS[: len(PARAGRAPHS) // 2] + tweet + PARAGRAPHS[len(PARAGRAPHS) // 2 :]
    kept = extract_page(_page(body), "https://news.example/c")
    assert "respond to any attack on our forces" in kept.text
    pruned = extract_page(
        _page(body), "https://news.example/c", options=ExtractOptions(keep_embedded_posts=False)
    )
    assert "respond to any attack on our forces" not in pruned.text


# -- characters ------------------------------------------------------------------------------------
UMLAUT_BODY = (
    "<p>Die Delegation aus Zürich traf am Montag ein — später als geplant — und sprach mit den "
    "Behörden über die Lage an der Grenze, die sich nach Angaben der Regierung weiter verschärft.</p>"
    "<p>Ein Sprecher sagte, man werde die Gespräche in der nächsten Woche fortsetzen und hoffe auf "
    "eine Einigung über die Rückkehr der Beobachter.</p>"
)


def test_utf8_page_declared_as_latin1_decodes_as_utf8():
    html = _page(UMLAUT_BODY, lang="de").replace('<meta charset="utf-8">', '<meta charset="iso-8859-1">')
    page = extract_page(
        html.encode("utf-8"), "https://news.example/d", content_type="text/html; charset=ISO-8859-1"
    )
    assert page.ok and page.encoding == "utf-8"
    assert "Zürich" in page.text and "— später" in page.text and "Ã" not in page.text


def test_latin1_page_declared_in_meta_decodes_as_windows_1252():
    html = _page(UMLAUT_BODY.replace("—", "-"), lang="de").replace('charset="utf-8"', 'charset="iso-8859-1"')
    page = extract_page(html.encode("iso-8859-1"), "https://news.example/e")
    assert page.ok and page.encoding == "cp1252"
    assert "Zürich" in page.text and "Behörden" in page.text


def test_undeclared_windows_1252_page_and_header_charset():
    html = _page("<p>“Quoted words” from the minister’s office, said to be final.</p>" + PARAGRAPHS)
    data = html.replace('<meta charset="utf-8">', "").encode("cp1252")
    page = extract_page(data, "https://news.example/f")
    assert page.ok and "“Quoted words” from the minister’s office" in page.text
    assert decode_html(data, "windows-1252") == (data.decode("cp1252"), "cp1252")
    # Declared UTF-8 but not UTF-8: the declaration is dropped, not the page.
    mislabelled = extract_page(data, "https://news.example/f", content_type="text/html; charset=utf-8")
    assert mislabelled.ok and "“Quoted words” from the minister’s office" in mislabelled.text


def test_byte_order_marks_win():
    html = _page(UMLAUT_BODY, lang="de")
    for codec, data in (
        ("utf-8", b"\xef\xbb\xbf" + html.encode("utf-8")),
        ("utf-16-le", b"\xff\xfe" + html.encode("utf-16-le")),
        ("utf-16-be", b"\xfe\xff" + html.encode("utf-16-be")),
    ):
        page = extract_page(data, "https://news.example/g", content_type="text/html; charset=iso-8859-1")
        assert page.ok and page.encoding == codec and "Zürich" in page.text, codec


def test_str_input_is_taken_as_is():
    page = extract_page(_page(UMLAUT_BODY, lang="de"))
    assert page.ok and page.encoding is None and "Zürich" in page.text and page.url is None


# -- language ----------------------------------------------------------------------------------------
FRENCH_BODY = (
    "<p>Les gardes-frontières des deux pays voisins ont échangé des tirs pendant la nuit près du poste "
    "contesté, ont indiqué mardi des responsables des deux camps.</p>"
    "<p>Le ministère de la Défense a annoncé l'envoi de renforts dans la région et a averti que toute "
    "nouvelle incursion serait repoussée par la force.</p>"
    "<p>Des diplomates ont appelé à la retenue et proposé d'accueillir des pourparlers, tandis que les "
    "Nations unies réclamaient un cessez-le-feu immédiat.</p>"
)


def test_french_page_with_a_wrong_english_declaration_is_detected_as_french():
    page = extract_page(_page(FRENCH_BODY, lang="en-US"), "https://news.example/fr")
    assert page.ok and (page.language, page.language_source) == ("fr", "detected")
    assert not is_scored_language(page.language)


def test_declared_language_is_kept_when_the_text_is_too_short_to_tell():
    page = extract_page(_page("<p>Kurze Meldung: Grenze bleibt geschlossen.</p>", lang="de-AT"))
    assert (page.language, page.language_source) == ("de", "declared")


def test_english_page_is_scored_and_language_codes_normalise():
    page = extract_page(_page(PARAGRAPHS, lang=""), "https://news.example/en")
    assert (page.language, page.language_source) == ("en", "detected")
    assert is_scored_language("en") and is_scored_language(None) and not is_scored_language("de")
    assert [language_code(t) for t in ("en-US", "pt_BR", "zh-Hans-CN", "FR", "english", "", None, "x")] == [
        "en",
        "pt",
        "zh",
        "fr",
        None,
        None,
        None,
        None,
    ]


# -- what is not an article ------------------------------------------------------------------------
def test_pdf_and_images_are_not_html():
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
    assert extract_page(pdf, "https://news.example/report.pdf").error == NOT_HTML
    assert extract_page(pdf, content_type="application/pdf").error == NOT_HTML
    assert extract_page(b"\x89PNG\r\n\x1a\n" + bytes(64)).error == NOT_HTML
    # A server calling HTML a PDF is believed: the type decides before the bytes.
    assert extract_page(_page(PARAGRAPHS).encode(), content_type="application/pdf").error == NOT_HTML
    assert extract_page(_page(PARAGRAPHS).encode(), content_type="application/octet-stream").ok
    plain = extract_page(b"Just a line of plain text, no markup at all.", content_type="text/plain")
    assert (plain.error, plain.text) == (NOT_HTML, "")


def test_empty_and_garbage_input_give_a_clear_error():
    assert extract_page(b"").error == EMPTY_INPUT
    assert extract_page(b"  \n\t ").error == EMPTY_INPUT
    assert extract_page("").error == EMPTY_INPUT
    assert extract_page(bytes(range(256)) * 64).error == UNDECODABLE
    assert extract_page("<html>\x00\x01\x02\x03\x04\x05\x06\x07" * 50).error == UNDECODABLE
    nothing = extract_page(_page("<nav><a href='/'>Home</a></nav>"))
    assert (nothing.error, nothing.text) == (EMPTY_EXTRACTION, "")
    assert extract_page(None).error == NOT_HTML  # type: ignore[arg-type]
    assert extract_page(b" " * (MAX_INPUT_BYTES + 1)).error == TOO_LARGE


@pytest.mark.parametrize(
    "data",
    [
        b"<html><body><p>unterminated <b>bold <i>and <div>",
        b"<html>" + b"<div>" * 5000 + b"deep" + b"</div>" * 5000 + b"</html>",
        b"<html><body><p " + b"a" * 100_000 + b"=1>x</p></body></html>",
        b'<?xml version="1.0" encoding="iso-8859-1"?><html><body><p>caf\xe9 au lait et tartines</p></body></html>',
        b"<html><head><script>" + b"var x = '</p>';" * 1000 + b"</script></head><body></body></html>",
        "<html><body><p>\ud800 lone surrogate</p></body></html>".encode("utf-8", "surrogatepass"),
    ],
)
def test_hostile_pages_never_raise(data):
    page = extract_page(data, "https://news.example/h", content_type="text/html")
    assert page.error is None or page.text == ""


# -- metadata helpers --------------------------------------------------------------------------------
def test_parse_timestamp_gives_utc():
    assert parse_timestamp("2026-10-13T08:30:00+03:00") == datetime(2026, 10, 13, 5, 30, tzinfo=UTC)
    assert parse_timestamp("2026-10-13T08:30:00Z") == datetime(2026, 10, 13, 8, 30, tzinfo=UTC)
    assert parse_timestamp("2026-10-13 08:30:00") == datetime(2026, 10, 13, 8, 30, tzinfo=UTC)
    assert parse_timestamp("2026-10-13") == datetime(2026, 10, 13, tzinfo=UTC)
    for bad in ("", None, "yesterday", "13/10/2026", "0001-01-01", "2026-13-45"):
        assert parse_timestamp(bad) is None, bad


def test_published_from_json_ld_when_no_meta():
    head = '<script type="application/ld+json">[{"@type": "NewsArticle", "datePublished": "2026-10-02T23:15:00-04:00"}]</script>'
    page = extract_page(_page(PARAGRAPHS, head=head))
    assert page.published == datetime(2026, 10, 3, 3, 15, tzinfo=UTC)


def test_parse_content_type():
    assert parse_content_type('text/html; charset="ISO-8859-1"') == ("text/html", "ISO-8859-1")
    assert parse_content_type("Application/XHTML+XML") == ("application/xhtml+xml", None)
    assert parse_content_type(None) == (None, None)


def test_boilerplate_rules_load_and_can_be_ablated():
    rules = load_boilerplate()
    assert rules.version and "block:share" in rules.groups and "section:comment_form" in rules.groups
    assert rules.block_rule("Leave a Reply") == "block:comment_form"
    assert rules.block_rule("The ministry said it would share intelligence with its allies.") is None
    assert "block:share" not in rules.without("block:share").groups


def test_to_dict_is_json_ready():
    record = extract_page(SAMPLE_PAGE.read_bytes(), SAMPLE_URL).to_dict()
    assert json.loads(json.dumps(record))["published"] == "2026-10-13T05:30:00+00:00"
    assert set(record) >= {"title", "text", "published", "language", "error", "extractor_version"}


# -- the command ---------------------------------------------------------------------------------------
def test_extract_command_jsonl_keeps_order_and_reports_each_failure(httpserver, tmp_path):
    httpserver.expect_request("/news/warning").respond_with_data(
        SAMPLE_PAGE.read_bytes(), content_type="text/html; charset=utf-8"
    )
    httpserver.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.4\n%%EOF\n", content_type="application/pdf"
    )
    httpserver.expect_request("/gone").respond_with_data("not here", status=404)
    local = tmp_path / "french.html"
    local.write_text(_page(FRENCH_BODY, lang="fr"), encoding="utf-8")
    sources = [
        httpserver.url_for("/news/warning"),
        str(local),
        httpserver.url_for("/report.pdf"),
        httpserver.url_for("/gone"),
        str(tmp_path / "missing.html"),
    ]
    result = escalation("extract", "--jsonl", *sources, timeout=120)
    assert result.returncode == 1, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == sources
    for record in records:
        assert {"source", "title", "text", "published", "language", "error"} <= set(record)
    warning, french, pdf, gone, missing = records
    assert (
        warning["error"] is None
        and "Quds Force" in warning["text"]
        and "Leave a Reply" not in warning["text"]
    )
    assert warning["published"] == "2026-10-13T05:30:00+00:00" and warning["language"] == "en"
    assert warning["url"] == sources[0] and warning["status"] == 200
    assert french["error"] is None and french["language"] == "fr" and french["published"] is None
    assert (pdf["error"], pdf["text"]) == (NOT_HTML, "")
    assert gone["error"].startswith("HTTP 404") and gone["text"] == ""
    assert missing["error"].startswith("file not found") and missing["text"] == ""


def test_extract_command_for_a_person_exits_0_when_all_extracted(httpserver):
    httpserver.expect_request("/news/warning").respond_with_data(
        SAMPLE_PAGE.read_bytes(), content_type="text/html"
    )
    result = escalation("extract", str(SAMPLE_PAGE), httpserver.url_for("/news/warning"), timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("US intelligence warns Iran-aligned militias plan more attacks") == 2
    assert "Quds Force" in result.stdout and "Share it" not in result.stdout
    assert "2026-10-13T05:30:00+00:00" in result.stdout


def test_extract_command_needs_a_source():
    result = escalation("extract", timeout=120)
    assert result.returncode == 2 and "SOURCE" in (result.stderr + result.stdout).upper()
