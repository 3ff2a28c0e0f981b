"""Fast paths of the scorer and its JSON writer, each against the general code it stands for: the word
windows read around a term (`_near_words`) and the anchor test's word-by-word walk (`_Anchor.anchored`) cut
words out one at a time in a printable sentence and must give exactly what splitting the whole sentence
gives, on any text (random texts of spaces, punctuation, tabs, no-break spaces); the senses' quick test
(`_plain_window`) says "no sense applies" only where the windows' words say so; a sentence's text is
written as json writes it."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Iterator

import pytest

from pipeline.score import (
    _ANCHOR_STRIP,
    _WORD_PUNCTUATION,
    _Anchor,
    _json_text,
    _near_words,
    _only_spaces,
    _plain_window,
    load_scorer,
)


def _split_reference(
    lowered: str, start: int, end: int, width: int, strip: str = _WORD_PUNCTUATION
) -> tuple[list[str], list[str]]:
    left = lowered[:start].rsplit(None, width)
    left = left[1:] if len(left) > width else left
    return (
        [w.strip(strip) for w in reversed(left)],
        [w.strip(strip) for w in lowered[end:].split(None, width)[:width]],
    )


def _anchored_reference(anchor: _Anchor, lowered: str) -> bool:
    """The anchor test as it read before the word-by-word walk: every word cleaned first."""
    cleaned = [token.strip(_ANCHOR_STRIP) for token in lowered.split()]
    cleaned = [token[:-2] if token.endswith("'s") else token for token in cleaned]
    if not anchor.words.isdisjoint(cleaned):
        return True
    if any("-" in token and not anchor.words.isdisjoint(token.split("-")) for token in cleaned):
        return True
    return any(
        " ".join(cleaned[first : first + size]) in anchor.phrases
        for first, token in enumerate(cleaned)
        for size in anchor.openers.get(token, ())
    )


@pytest.mark.parametrize(
    ("text", "start", "end", "width", "expected"),
    [
        ("troops were sent to the border", 7, 11, 2, (["troops"], ["sent", "to"])),
        ("the anti-war rally, on sunday", 9, 12, 3, (["anti-", "the"], ["rally", "on", "sunday"])),
        ("  double  spaces here  ", 10, 16, 4, (["double"], ["here"])),
        ("iran's drones", 0, 4, 2, ([], ["s", "drones"])),
        ("tab\tseparated words", 4, 13, 1, (["tab"], ["words"])),
    ],
)
def test_near_words_cuts_the_words_a_split_would(text, start, end, width, expected):
    assert _near_words(text, start, end, width, _only_spaces(text)) == expected == _split_reference(text, start, end, width)


def _random_windows(seed: int, alphabet: str) -> Iterator[tuple[str, int, int, int]]:
    """20,000 (text, start, end, width): a random text of `alphabet`, a term's span in it and a window width."""
    rng = random.Random(seed)
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        start = rng.randint(0, len(text))
        yield text, start, rng.randint(start, len(text)), rng.randint(0, 6)


def test_near_words_matches_the_split_on_random_texts():
    for text, start, end, width in _random_windows(7, "ab c,.  '-\t\u00a0(\x1f\x07\u200b\u2028"):
        assert _near_words(text, start, end, width, _only_spaces(text)) == _split_reference(text, start, end, width), (
            text,
            start,
            end,
        )


def test_anchor_walk_matches_cleaning_every_word_first():
    anchor = load_scorer().anchor
    assert anchor is not None
    rng = random.Random(11)
    vocabulary = [
        *sorted(anchor.words)[:40],
        *sorted(anchor.phrases)[:20],
        "state-backed",
        "pro-",
        "(iran)",
        "minister's",
        "bidding",
        "war",
        "epic",
        "the",
        "'",
        '"',
        "-",
        "",
        "\t",
        "\u00a0",
        "\x1c",
        "\x07",
        "\u3000",
    ]
    for _ in range(20_000):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 9)))
        if rng.random() < 0.2:
            text = text.replace(" ", "  ", 1)
        assert anchor.anchored(text, _only_spaces(text)) == _anchored_reference(anchor, text), text


def test_only_spaces_tells_every_other_whitespace_character():
    # the fast paths cut words at " " only: any other character str.split() splits on must send a text the
    # long way, in ASCII and beyond; characters that are unprintable but no whitespace may take either way
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if char.isspace() and char != " ":
            assert not _only_spaces(f"a{char}b"), hex(code)
    assert _only_spaces("troops  fire, at  dawn") and _only_spaces("été à l'école")


def _no_sense_word_near(lowered: str, start: int, end: int, width: int, words: frozenset[str]) -> bool:
    """The quick test as it read before: the windows split, none of `words` in them, no "'" or "-" in them."""
    left, right = _split_reference(lowered, start, end, width)
    joined = "".join(left + right)
    return words.isdisjoint(left) and words.isdisjoint(right) and "'" not in joined and "-" not in joined


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("fire at the hospital", False),  # a sense word next to the term
        ("fire broke out at dawn", True),
        ("the hospital on the hill, then fire", False),  # the fifth word to the left: in the window
        ("the hospital stood far away, on the hill above the town: fire", True),  # the tenth: out of it
        ("the hospital's fire", False),  # "'s" is read by _context_word: the long way
        ("fire-hit hospital", False),  # a "-" in the window: the long way
    ],
)
def test_plain_window_says_no_sense_applies_only_without_a_sense_word(text, plain):
    start = text.rindex("fire")
    assert _plain_window(text, start, start + 4, 5, frozenset({"hospital", "building"})) is plain


def test_plain_window_agrees_with_the_split_windows_on_random_texts():
    # Where the split windows hold a sense word (or a "'" or "-" that may hide one), the quick test must not
    # answer "plain"; where they hold none, it may send a term the long way only for a "'" or "-" that
    # stripping took off a word.
    words = frozenset({"ab", "b", "a-b"})
    for text, start, end, width in _random_windows(5, "ab c,.  '-("):
        reference = _no_sense_word_near(text, start, end, width, words)
        quick = _plain_window(text, start, end, width, words)
        if quick:
            assert reference, (text, start, end, width)
        elif reference:  # only for a "'" or "-" that stripping took off a word of the windows
            left, right = _split_reference(text, start, end, width, strip="")
            assert any("'" in word or "-" in word for word in left + right), (text, start, end, width)


def test_sentence_text_is_written_as_json_writes_it():
    # _json_text quotes printable ASCII without a quote or a backslash as it is; everything else goes to json
    rng = random.Random(3)
    alphabet = 'ab "\\\t\n\x00\x1f\x7f\u00e9\u2019\u2028/'
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _json_text(text) == json.dumps(text, ensure_ascii=False), repr(text)
