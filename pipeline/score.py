"""Score stage: an explainable, lexicon-based escalation scorer.

The lexicon (data/lexicon.yaml, a reviewed data file with a version) holds weighted terms in
escalatory (+) and de-escalatory (-) categories plus modifier cues. Every term variant and every
cue is compiled into ONE Aho-Corasick automaton; scoring a sentence is one pass of it plus
arithmetic on positions, never a loop over terms.

Sentence score (see docs/scoring.md):
    effective_weight(match) = polarity * weight * product(factors of the modifiers in scope)
    net = sum(effective_weight);  score = tanh(net)  in [-1, 1]
A modifier cue applies to the terms that follow it within `window` words of the same clause.
Text score = tanh(sum(net of each sentence) / sqrt(number of sentences)): more agreeing evidence
raises it, but a long article is not more escalatory just for being long.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from pipeline.config import PACKAGE_DATA
from pipeline.matching import build_automaton, longest_matches

SCORER_CODE_VERSION = "4"
DEFAULT_LEXICON = PACKAGE_DATA / "lexicon.yaml"
ESCALATORY_THRESHOLD = 0.2
DEESCALATORY_THRESHOLD = -0.2

_CLAUSE_BREAK = re.compile(r"[,;:.!?()\"]|\b(?:but|however|while|whereas|although|though|yet)\b")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_ES_ENDINGS = ("s", "x", "z", "ch", "sh")
_VOWELS = set("aeiou")


class LexiconError(ValueError):
    """The lexicon file is malformed; the message says where."""


class Match(NamedTuple):
    """One matched term and what changed its weight. A NamedTuple, not a frozen dataclass: the
    scorer builds one per match, and frozen dataclasses are several times slower to construct."""

    term: str
    surface: str
    category: str
    polarity: int
    weight: float
    start: int
    end: int
    modifiers: tuple[str, ...]
    effective_weight: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "surface": self.surface,
            "category": self.category,
            "polarity": self.polarity,
            "weight": self.weight,
            "start": self.start,
            "end": self.end,
            "modifiers": list(self.modifiers),
            "effective_weight": round(self.effective_weight, 4),
        }


# json's own string encoder (C, ensure_ascii=False flavour): encode_matches() writes the same text as
# json.dumps([m.to_dict() for m in matches], ensure_ascii=False) without building the dicts. Numbers
# are ints and finite floats (the lexicon refuses others), which json also writes as repr() does.
_json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def encode_matches(matches: Iterable[Match]) -> str:
    """The JSON stored in sentences.matches: a list of Match.to_dict(), written directly (the
    dicts and the generic encoder were a third of the ingest's per-sentence cost)."""
    parts = [
        f'{{"term": {_json_string(m.term)}, "surface": {_json_string(m.surface)}, '
        f'"category": {_json_string(m.category)}, "polarity": {m.polarity!r}, '
        f'"weight": {m.weight!r}, "start": {m.start!r}, "end": {m.end!r}, '
        f'"modifiers": [{", ".join(map(_json_string, m.modifiers))}], '
        f'"effective_weight": {round(m.effective_weight, 4)!r}}}'
        for m in matches
    ]
    return f"[{', '.join(parts)}]"


class SentenceScore(NamedTuple):
    text: str
    score: float
    escalation: float
    deescalation: float
    matches: tuple[Match, ...] = ()

    @property
    def net(self) -> float:
        return self.escalation - self.deescalation

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(self.score, 4),
            "escalation": round(self.escalation, 4),
            "deescalation": round(self.deescalation, 4),
            "matches": [m.to_dict() for m in self.matches],
        }


@dataclass(frozen=True)
class TextScore:
    score: float
    sentences: tuple[SentenceScore, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 4), "sentences": [s.to_dict() for s in self.sentences]}


@dataclass(frozen=True)
class _Term:
    term: str
    category: str
    polarity: int
    weight: float


@dataclass(frozen=True)
class _Modifier:
    kind: str
    cue: str
    factor: float
    window: int
    applies_to: int = 0  # 0: every term; +1/-1: only escalatory / de-escalatory terms
    whole_sentence: bool = False  # reaches across clause boundaries (subordinate clauses do)


def inflections(word: str, irregular: dict[str, list[str]]) -> list[str]:
    """The base form plus regular -s/-ed/-ing forms (or the listed irregular ones), and the plural
    of the -ing noun ("killings", "bombings", "shootings")."""
    if word in irregular:
        forms = [word, *irregular[word]]
        return list(dict.fromkeys([*forms, *(f + "s" for f in forms if f.endswith("ing"))]))
    if word.endswith(_ES_ENDINGS):
        plural = word + "es"
    elif word.endswith("y") and len(word) > 2 and word[-2] not in _VOWELS:
        plural = word[:-1] + "ies"
    else:
        plural = word + "s"
    if word.endswith("e"):
        past = word + "d"
    elif word.endswith("y") and len(word) > 2 and word[-2] not in _VOWELS:
        past = word[:-1] + "ied"
    else:
        past = word + "ed"
    if word.endswith("ie"):
        gerund = word[:-2] + "ying"
    elif word.endswith("e") and not word.endswith(("ee", "ye", "oe")):
        gerund = word[:-1] + "ing"
    else:
        gerund = word + "ing"
    return list(dict.fromkeys([word, plural, past, gerund, gerund + "s"]))


def _expand(term: str, irregular: dict[str, list[str]]) -> list[str]:
    variants = [""]
    for word in term.split():
        forms = inflections(word[1:], irregular) if word.startswith("~") else [word]
        variants = [f"{prefix} {form}".strip() for prefix in variants for form in forms]
    return variants


def _parse_term(entry: object, default_weight: float, where: str) -> tuple[str, float]:
    text = str(entry).strip()
    weight = default_weight
    if "=" in text:
        text, _, raw = text.rpartition("=")
        try:
            weight = float(raw)
        except ValueError:
            raise LexiconError(f"{where}: bad weight {raw.strip()!r} in term {entry!r}") from None
        if not math.isfinite(weight):
            raise LexiconError(f"{where}: weight of term {entry!r} must be a finite number")
        text = text.strip()
    if not text:
        raise LexiconError(f"{where}: empty term")
    return text.lower(), weight


class Scorer:
    """A compiled lexicon. Build with :func:`load_scorer`; immutable and safe to share."""

    def __init__(self, lexicon: dict[str, Any], source: str = "<dict>"):
        try:
            lexicon_version = str(lexicon["version"])
            categories = lexicon["categories"]
            modifiers = lexicon.get("modifiers") or {}
            irregular = {
                k.lower(): [f.lower() for f in v] for k, v in (lexicon.get("irregular") or {}).items()
            }
        except (KeyError, TypeError, AttributeError) as exc:
            raise LexiconError(f"{source}: missing or malformed top-level key: {exc}") from None
        self.lexicon_version = lexicon_version
        self.version = f"lexicon-{lexicon_version}+scorer-{SCORER_CODE_VERSION}"
        self.categories: dict[str, dict[str, Any]] = {}
        entries: dict[str, tuple[_Term | None, tuple[_Modifier, ...]]] = {}
        for name, spec in categories.items():
            where = f"{source}: category {name}"
            try:
                polarity = int(spec["polarity"])
                default_weight = float(spec.get("weight", 1.0))
                terms = spec["terms"]
            except (KeyError, TypeError, ValueError) as exc:
                raise LexiconError(f"{where}: needs polarity, weight and terms ({exc})") from None
            if polarity not in (1, -1):
                raise LexiconError(f"{where}: polarity must be 1 or -1")
            if not math.isfinite(default_weight):
                raise LexiconError(f"{where}: weight must be a finite number")
            self.categories[name] = {
                "polarity": polarity,
                "weight": default_weight,
                "description": spec.get("description", ""),
            }
            for entry in terms:
                canonical, weight = _parse_term(entry, default_weight, where)
                info = _Term(canonical.replace("~", ""), name, polarity, weight)
                for variant in _expand(canonical, irregular):
                    existing = entries.get(variant)
                    if existing and existing[0] and existing[0].category != name:
                        raise LexiconError(
                            f"{where}: {variant!r} is already a term of category {existing[0].category}"
                        )
                    if not existing or not existing[0]:
                        entries[variant] = (info, ())
        for kind, spec in modifiers.items():
            try:
                factor, window = float(spec["factor"]), int(spec["window"])
                cues = spec["cues"]
                applies_to = {"all": 0, "escalatory": 1, "deescalatory": -1}[spec.get("applies_to", "all")]
                whole_sentence = {"clause": False, "sentence": True}[spec.get("scope", "clause")]
            except (KeyError, TypeError, ValueError) as exc:
                raise LexiconError(
                    f"{source}: modifier {kind} needs factor, window, cues and an optional "
                    f"applies_to of all|escalatory|deescalatory and scope of clause|sentence ({exc})"
                ) from None
            if not math.isfinite(factor):
                raise LexiconError(f"{source}: modifier {kind}: factor must be a finite number")
            for cue in cues:
                cue = str(cue).lower()
                term, known = entries.get(cue, (None, ()))
                entries[cue] = (
                    term,
                    (*known, _Modifier(kind, cue, factor, window, applies_to, whole_sentence)),
                )
        for phrase in lexicon.get("neutral") or []:
            entries[str(phrase).lower()] = (None, ())
        salience = lexicon.get("salience") or {}
        try:
            self.order_decay = float(salience.get("order_decay", 1.0))
        except (TypeError, ValueError):
            raise LexiconError(f"{source}: salience.order_decay must be a number") from None
        if not math.isfinite(self.order_decay):
            raise LexiconError(f"{source}: salience.order_decay must be a finite number")
        self.term_count = sum(1 for t, _ in entries.values() if t)
        self._automaton = build_automaton(entries.items())

    # -- scoring -------------------------------------------------------------------------------
    def score_sentence(self, text: str) -> SentenceScore:
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lower-case to two; keep offsets aligned
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        if "\u2019" in lowered or "\u2018" in lowered or "\u02bc" in lowered:
            lowered = lowered.translate(_APOSTROPHES)
        found = longest_matches(self._automaton, lowered)
        if not found:
            return SentenceScore(text, 0.0, 0.0, 0.0)
        cues: list[tuple[int, int, _Modifier]] = []
        matches: list[Match] = []
        escalation = deescalation = 0.0
        for start, end, (term, modifiers) in found:  # neutral phrases carry (None, ())
            if term is not None:
                # The events named first carry a news sentence; later ones are mostly background.
                factor = self.order_decay ** len(matches)
                applied: list[str] = (
                    [f"order:{len(matches) + 1}"] if matches and self.order_decay != 1.0 else []
                )
                negated = False
                kinds_applied: set[str] = set()
                for _cue_start, cue_end, cue in cues:
                    if cue.applies_to and cue.applies_to != term.polarity:
                        continue
                    # Words from the end of the cue to the term, counted by spaces (the text is one
                    # line); from the cue's end, so a long cue ("threatened to withdraw from") does
                    # not use up its own window.
                    distance = lowered.count(" ", cue_end, start)
                    if distance > cue.window or cue.kind in kinds_applied:
                        continue
                    if not cue.whole_sentence and _CLAUSE_BREAK.search(lowered, cue_end, start):
                        continue
                    if cue.factor < 0:  # flips (negation, reversal, breach) apply once per term
                        if negated:
                            continue
                        negated = True
                    kinds_applied.add(cue.kind)
                    factor *= cue.factor
                    applied.append(f"{cue.kind}:{cue.cue}")
                effective = term.polarity * term.weight * factor
                if effective > 0:
                    escalation += effective
                else:
                    deescalation -= effective
                matches.append(
                    Match(
                        term.term,
                        text[start:end],
                        term.category,
                        term.polarity,
                        term.weight,
                        start,
                        end,
                        tuple(applied),
                        effective,
                    )
                )
            cues.extend((start, end, modifier) for modifier in modifiers)
        return SentenceScore(
            text, math.tanh(escalation - deescalation), escalation, deescalation, tuple(matches)
        )

    def score_many(self, texts: Iterable[str]) -> list[SentenceScore]:
        return [self.score_sentence(t) for t in texts]

    def score_text(self, text: str) -> TextScore:
        from pipeline.text import split_sentences

        sentences = tuple(self.score_sentence(s) for s in split_sentences(text))
        if not sentences:
            return TextScore(0.0, ())
        total = sum(s.net for s in sentences)
        return TextScore(math.tanh(total / math.sqrt(len(sentences))), sentences)

    def explain_table(self, result: TextScore) -> Any:
        """A rich table: each sentence, its score, and every matched term with its modifiers."""
        from rich.table import Table

        table = Table(title=f"Escalation score {result.score:+.3f}", show_lines=True)
        table.add_column("#", justify="right")
        table.add_column("score", justify="right")
        table.add_column("sentence", overflow="fold", ratio=3)
        table.add_column("matched terms (category, weight → effective, modifiers)", overflow="fold", ratio=3)
        for i, sentence in enumerate(result.sentences, start=1):
            colour = (
                "red"
                if sentence.score >= ESCALATORY_THRESHOLD
                else ("green" if sentence.score <= DEESCALATORY_THRESHOLD else "white")
            )
            details = "\n".join(
                f"{m.surface!r} {m.category} {m.polarity * m.weight:+.2f} → {m.effective_weight:+.2f}"
                + (f" [{', '.join(m.modifiers)}]" if m.modifiers else "")
                for m in sentence.matches
            )
            table.add_row(str(i), f"[{colour}]{sentence.score:+.3f}[/]", sentence.text, details or "-")
        return table


def load_lexicon(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise LexiconError(f"lexicon {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise LexiconError(f"lexicon {path}: top level must be a mapping")
    return data


@functools.lru_cache(maxsize=8)
def load_scorer(path: Path | None = None) -> Scorer:
    """The scorer for a lexicon file, compiled once per path and process."""
    lexicon_path = Path(path) if path else DEFAULT_LEXICON
    return Scorer(load_lexicon(lexicon_path), str(lexicon_path))
