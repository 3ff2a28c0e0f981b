"""Fast paths of the scorer and its JSON writer, each against the general code it stands for: the word
windows read around a term (`_near_words`) and the anchor test's word-by-word walk (`_Anchor.anchored`) cut
words out one at a time in a printable sentence and must give exactly what splitting the whole sentence
gives, on any text (random texts of spaces, punctuation, tabs, no-break spaces); a sentence's text is
written as json writes it."""

from __future__ import annotations

import json
import random

import pytest

from pipeline.score import _ANCHOR_STRIP, _WORD_PUNCTUATION, _Anchor, _json_text, _near_words, load_scorer


def _split_reference(lowered: str, start: int, end: int, width: int) -> tuple[list[str], list[str]]:
    left = lowered[:start].rsplit(None, width)
    left = left[1:] if len(left) > width else left
    return (
        [w.strip(_WORD_PUNCTUATION) for w in reversed(left)],
        [w.strip(_WORD_PUNCTUATION) for w in lowered[end:].split(None, width)[:width]],
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
    assert _near_words(text, start, end, width) == expected == _split_reference(text, start, end, width)


def test_near_words_matches_the_split_on_random_texts():
    rng = random.Random(7)
    alphabet = "ab c,.  '-\t\u00a0("
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        start = rng.randint(0, len(text))
        end = rng.randint(start, len(text))
        width = rng.randint(0, 6)
        assert _near_words(text, start, end, width) == _split_reference(text, start, end, width), (
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
    ]
    for _ in range(20_000):
        text = " ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 9)))
        if rng.random() < 0.2:
            text = text.replace(" ", "  ", 1)
        assert anchor.anchored(text) == _anchored_reference(anchor, text), text


def test_sentence_text_is_written_as_json_writes_it():
    # _json_text quotes printable ASCII without a quote or a backslash as it is; everything else goes to json
    rng = random.Random(3)
    alphabet = 'ab "\\\t\n\x00\x1f\x7f\u00e9\u2019\u2028/'
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert _json_text(text) == json.dumps(text, ensure_ascii=False), repr(text)
