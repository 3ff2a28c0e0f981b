"""Whole-word, longest-first phrase matching over one Aho-Corasick automaton (lexicon and gazetteer)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ahocorasick


def build_automaton(phrases: Iterable[tuple[str, Any]]) -> ahocorasick.Automaton:
    """Compile (phrase, payload) pairs once; a payload travels back with every match."""
    automaton = ahocorasick.Automaton()
    for phrase, payload in phrases:
        automaton.add_word(phrase, (len(phrase), payload))
    automaton.make_automaton()
    return automaton


def longest_matches(automaton: ahocorasick.Automaton, text: str) -> list[tuple[int, int, Any]]:
    """(start, end, payload) of whole-word matches, left to right, non-overlapping, longest first."""
    if not text or len(automaton) == 0:
        return []
    candidates = []
    size = len(text)
    # Inlined word-boundary tests: this loop runs for every sentence of every article.
    for end_index, (length, payload) in automaton.iter(text):
        start, end = end_index - length + 1, end_index + 1
        if start > 0:
            before, first = text[start - 1], text[start]
            if (before.isalnum() or before == "_") and (first.isalnum() or first == "_"):
                continue
        if end < size:
            after, last = text[end], text[end_index]
            if (after.isalnum() or after == "_") and (last.isalnum() or last == "_"):
                continue
        candidates.append((start, -length, end, payload))
    candidates.sort()  # (start, -length) is unique per candidate: payloads are never compared
    chosen = []
    taken_until = 0
    for start, _, end, payload in candidates:
        if start >= taken_until:
            chosen.append((start, end, payload))
            taken_until = end
    return chosen
