"""Cleaning, boilerplate removal and segmentation on our own news-style text."""

from __future__ import annotations

import sys

import pytest

from pipeline.text import (
    _HAS_LETTER,
    MAX_SENTENCE_CHARS,
    article_sentences,
    html_to_text,
    split_sentences,
    strip_boilerplate,
)

ARTICLE = """<p>Officials in Baghdad said on Tuesday that militias had fired rockets at a base near the airport.</p>
<p>The U.S. embassy urged calm. Witnesses said Gen. Smith arrived at 9 a.m. to inspect the damage.</p>
<script>var tracking = "Share it...";</script><style>p { color: red }</style>
<p>Share it...</p><p>Leave a Reply</p>
<p>Your email address will not be published. Required fields are marked *</p>
<p>The post Rockets hit base near Baghdad appeared first on Example Wire.</p>"""


def test_boilerplate_removed_news_kept():
    sentences = article_sentences("Rockets hit base near Baghdad", ARTICLE)
    assert sentences == [
        "Rockets hit base near Baghdad",
        "Officials in Baghdad said on Tuesday that militias had fired rockets at a base near the airport.",
        "The U.S. embassy urged calm.",
        "Witnesses said Gen. Smith arrived at 9 a.m. to inspect the damage.",
    ]


def test_real_sentences_mentioning_share_are_kept():
    text = "Iran and Iraq share a long border.\n\nShare this:\n\nSubscribe to our newsletter for free updates"
    assert strip_boilerplate(text) == "Iran and Iraq share a long border."


def test_html_entities_blocks_and_control_chars():
    assert (
        html_to_text("<div>Tom &amp; Jerry&#8217;s</div><div>next\u200b line\x07</div>")
        == "Tom & Jerry\u2019s\n\nnext line"
    )


def test_abbreviations_decimals_and_initials():
    text = 'Prices rose 2.5 percent. John F. Kennedy Airport was closed. "We will respond," the U.S. envoy said. Was it a drone?'
    assert split_sentences(text) == [
        "Prices rose 2.5 percent.",
        "John F. Kennedy Airport was closed.",
        '"We will respond," the U.S. envoy said.',
        "Was it a drone?",
    ]


def test_paragraph_breaks_always_split_and_noise_dropped():
    assert split_sentences("Headline without stop\n\nBody sentence here.\n\n***\n\n12345") == [
        "Headline without stop",
        "Body sentence here.",
    ]


def test_truncation_markers_removed():
    assert strip_boilerplate("Troops moved north [\u2026]") == "Troops moved north"


def test_monster_sentence_is_capped():
    pieces = split_sentences("word " * 5000)
    assert len(pieces) > 1
    assert all(len(p) <= MAX_SENTENCE_CHARS for p in pieces)


def test_duplicate_sentences_kept_once():
    assert article_sentences("Talks resume in Doha", "<p>Talks resume in Doha.</p><p>More later.</p>") == [
        "Talks resume in Doha",
        "More later.",
    ]


def test_sentence_end_characters_are_every_character_blingfire_ends_a_sentence_at():
    # split_sentences skips blingfire for a paragraph with none of these before its end; a
    # character missing from the list would leave two sentences joined.
    import blingfire

    from pipeline.text import SENTENCE_END_CHARS

    found = set()
    for point in [*range(0x21, 0xD800), *range(0xE000, 0x10000)]:
        char = chr(point)
        if char.isalnum():
            continue
        if "\n" in blingfire.text_to_sentences(f"Hello world{char} Another thing here"):
            found.add(char)
    assert found <= set(SENTENCE_END_CHARS)
    assert {".", "!", "?", "\u2026", "\u3002"} <= found


@pytest.mark.parametrize(
    "paragraph",
    [
        "Iran warns of serious consequences",
        "Iran warns of serious consequences.",
        'Officials said "no deal" (for now): talks; strikes – and more',
        "Hamas, Hezbollah and the IRGC \u00ab vow \u00bb to respond!",
        "A headline with a \u2026 in it",
        "Two sentences. Here",
    ],
)
def test_split_without_the_segmenter_matches_the_segmenter(paragraph):
    import blingfire

    expected = [s for s in blingfire.text_to_sentences(paragraph).split("\n") if s]
    assert split_sentences(paragraph) == expected


def test_every_whitespace_character_but_space_is_unprintable():
    # split_sentences keeps a printable paragraph without double, leading or trailing spaces as it
    # is instead of re-joining its words: that holds only while every character str.split() splits
    # on, except " ", is unprintable.
    import sys

    for point in range(sys.maxunicode + 1):
        char = chr(point)
        if char != " " and len(f"a{char}b".split()) == 2:
            assert not char.isprintable(), hex(point)


@pytest.mark.parametrize(
    "paragraph",
    [
        "Plain headline, one space each",
        " leading space",
        "trailing space ",
        "double  space inside",
        "tab\tinside",
        "no-break\u00a0space and ideographic\u3000space",
        "line\u2028separator and next\x85line",
        "\u00a0\u2003",
    ],
)
def test_spacing_is_normalised_as_split_and_join_do(paragraph):
    expected = " ".join(paragraph.split())
    assert split_sentences(paragraph) == ([expected] if expected else [])


def test_ascii_sentence_end_check_agrees_with_the_character_class():
    # An ASCII paragraph is checked with three substring searches; the regular expression decides
    # every other one. Both must answer alike, the last character excluded.
    from pipeline.text import _SENTENCE_END, SENTENCE_END_CHARS, _has_sentence_end

    assert {c for c in SENTENCE_END_CHARS if c.isascii()} == {".", "!", "?"}
    samples = [f"{a}x{b}" for a in ("", ".", "?", "!", ",", "a") for b in ("", ".", "?", "!", ";", "b")]
    samples += [f"Talks end{c} Troops stay" for c in map(chr, range(0x20, 0x7F))]
    samples += ["Pourparlers rompus\u2026 puis reprise", "Talks\u3002Troops", "U.S. troops", "Done."]
    for paragraph in samples:
        expected = _SENTENCE_END.search(paragraph, 0, len(paragraph) - 1) is not None
        assert _has_sentence_end(paragraph) is expected, paragraph


def test_the_segmenter_buffer_kept_between_calls_leaves_nothing_of_an_earlier_call():
    import threading

    import blingfire

    from pipeline.text import _text_to_sentences

    long_text = "The envoy arrived on Monday. " * 40 + "Talks began at noon."
    texts = [long_text, "Short one. Two.", "", "One.", "A\x00B. Next one here.", long_text, "x. y"]
    for text in texts:
        assert _text_to_sentences(text) == blingfire.text_to_sentences(text), text
    # The call releases the GIL: threads segmenting at once each get their own text back.
    failures: list[str] = []

    def segment(text: str) -> None:
        expected = blingfire.text_to_sentences(text)
        for _ in range(2000):
            if _text_to_sentences(text) != expected:
                failures.append(text)
                return

    threads = [threading.Thread(target=segment, args=(f"Side {n} said no. " * (20 + 30 * n),)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


def test_a_sentence_opening_with_a_letter_needs_no_letter_search():
    # split_sentences keeps a piece that starts with an isalpha() character without running _HAS_LETTER:
    # that shortcut holds only if every such character is one the expression finds
    missed = [code for code in range(sys.maxunicode + 1) if chr(code).isalpha() and not _HAS_LETTER.match(chr(code))]
    assert missed == []
