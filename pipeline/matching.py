"""Whole-word, longest-first phrase matching over one Aho-Corasick automaton (lexicon and gazetteer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ahocorasick


def build_automaton(phrases: Iterable[tuple[str, Any]]) -> ahocorasick.Automaton:
    """Compile (phrase, payload) pairs once; a payload travels back with every match."""
    automaton = ahocorasick.Automaton()
    for phrase, payload in phrases:
        # Whether the phrase starts and ends with a word character: only then can a neighbouring
        # word character make a match part of a longer word.
        starts_word = bool(phrase) and _word_char(phrase[0])
        ends_word = bool(phrase) and _word_char(phrase[-1])
        automaton.add_word(phrase, (len(phrase), starts_word, ends_word, payload))
    automaton.make_automaton()
    return automaton


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def longest_matches(automaton: ahocorasick.Automaton, text: str) -> list[tuple[int, int, Any]]:
    """(start, end, payload) of whole-word matches, left to right, non-overlapping, longest first."""
    if not text or len(automaton) == 0:
        return []
    candidates: list[tuple[int, int, int, Any]] = []
    size = len(text)
    # Inlined word-boundary tests: this loop runs for every sentence of every article.
    # Most candidates that fail do so at their start ("no" in "now", "war" in "software"), so the
    # start is tested before the end is even computed.
    # Typed, so that the compiled build (setup.py) unpacks native ints and bools.
    found: tuple[int, tuple[int, bool, bool, Any]]
    for found in automaton.iter(text):
        end_index = found[0]
        length, starts_word, ends_word, payload = found[1]
        start = end_index - length + 1
        if starts_word and start and ((before := text[start - 1]).isalnum() or before == "_"):
            continue
        end = end_index + 1
        if ends_word and end < size and ((after := text[end]).isalnum() or after == "_"):
            continue
        candidates.append((start, -length, end, payload))
    if len(candidates) < 2:  # most sentences: nothing to order or to overlap
        return [(start, end, payload) for start, _, end, payload in candidates]
    candidates.sort()  # (start, -length) is unique per candidate: payloads are never compared
    chosen = []
    taken_until = 0
    for start, _, end, payload in candidates:
        if start >= taken_until:
            chosen.append((start, end, payload))
            taken_until = end
    return chosen
