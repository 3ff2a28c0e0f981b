"""pipeline.matching: whole-word, longest-first, non-overlapping phrase matches, positions in characters."""

from __future__ import annotations

import random

from pipeline.matching import build_automaton, longest_matches


def _found(phrases: list[tuple[str, object]], text: str) -> list[tuple[str, object]]:
    return [
        (text[start:end], payload) for start, end, payload in longest_matches(build_automaton(phrases), text)
    ]


def test_only_whole_words_match():
    phrases = [("war", "war"), ("no", "no")]
    assert _found(phrases, "software now, no war; warfare") == [("no", "no"), ("war", "war")]
    assert _found(phrases, "war_time") == []  # "_" is a word character


def test_the_longest_phrase_at_a_position_wins_and_matches_do_not_overlap():
    phrases = [("world war", 1), ("war", 2), ("war crimes", 3), ("crimes", 4)]
    assert _found(phrases, "the second world war crimes") == [("world war", 1), ("crimes", 4)]
    assert _found(phrases, "war crimes tribunal") == [("war crimes", 3)]


def test_a_longer_phrase_that_is_not_a_whole_word_leaves_the_shorter_one():
    assert _found([("cease", 1), ("ceasefire", 2)], "cease fire") == [("cease", 1)]
    assert _found([("fire", 1), ("fired", 2)], "fireda fire") == [("fire", 1)]


def test_punctuation_edges_need_no_word_boundary():
    phrases = [("u.s.", "USA"), ("-led", "led"), ("cease-fire", "cf")]
    assert _found(phrases, "the u.s.-led cease-fire") == [
        ("u.s.", "USA"),
        ("-led", "led"),
        ("cease-fire", "cf"),
    ]


def test_positions_are_in_characters_whatever_the_script():
    automaton = build_automaton([("war", 1), ("ß", 2), ("😀 war", 3), ("اتفاق", 4)])
    text = "é war 😀 war ß اتفاق"
    matches = longest_matches(automaton, text)
    assert [(text[start:end], payload) for start, end, payload in matches] == [
        ("war", 1),
        ("😀 war", 3),
        ("ß", 2),
        ("اتفاق", 4),
    ]
    assert matches[0][:2] == (2, 5)


def test_matching_is_case_sensitive():
    # The scorer lower-cases a sentence once; the gazetteer matches aliases as written ("US", not "us").
    assert _found([("US", "USA")], "us and US") == [("US", "USA")]


def test_a_phrase_given_twice_keeps_its_last_payload_and_the_empty_phrase_matches_nothing():
    automaton = build_automaton([("strike", "first"), ("", "empty"), ("strike", "last")])
    assert len(automaton) == 1
    assert automaton.items() == [("strike", "last")]
    assert longest_matches(automaton, "a strike") == [(2, 8, "last")]


def test_no_phrases_or_no_text_find_nothing():
    assert longest_matches(build_automaton([]), "war") == []
    assert longest_matches(build_automaton([("war", 1)]), "") == []


def _brute_force(phrases: list[tuple[str, object]], text: str) -> list[tuple[int, int, object]]:
    """Whole-word occurrences found by trying every phrase at every position, then longest first, left to right."""
    def word(char: str) -> bool:
        return char.isalnum() or char == "_"

    payloads = dict(phrases)
    found = []
    for phrase in payloads:
        for start in range(len(text) - len(phrase) + 1):
            end = start + len(phrase)
            if text[start:end] != phrase:
                continue
            if word(phrase[0]) and start and word(text[start - 1]):
                continue
            if word(phrase[-1]) and end < len(text) and word(text[end]):
                continue
            found.append((start, start - end, end, payloads[phrase]))
    chosen, taken_until = [], 0
    for start, _, end, payload in sorted(found, key=lambda f: f[:3]):
        if start >= taken_until:
            chosen.append((start, end, payload))
            taken_until = end
    return chosen


def test_matches_equal_a_brute_force_search_on_random_phrases_and_texts():
    # phrases with every kind of edge (a word character or not at either end), so that every group of the
    # automaton's edge order is tested
    rng = random.Random(13)
    alphabet = "ab_ -.,"
    for _ in range(2_000):
        phrases = [
            ("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))), n) for n in range(rng.randint(1, 8))
        ]
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert longest_matches(build_automaton(phrases), text) == _brute_force(phrases, text), (phrases, text)
