"""Score stage: an explainable, lexicon-based escalation scorer.

The lexicon (data/lexicon.yaml, a reviewed data file with a version) holds weighted terms in
escalatory (+) and de-escalatory (-) categories plus modifier cues. Every term variant and every
cue is compiled into ONE Aho-Corasick automaton; scoring a sentence is one pass of it plus
arithmetic on positions, never a loop over terms.

Sentence score (see docs/scoring.md):
    effective_weight(match) = polarity * weight * product(factors of the modifiers in scope)
    net = sum(effective_weight);  score = tanh(net)  in [-1, 1]
A modifier cue applies to the terms that follow it within `window` words of the same clause, or
(cues_after) to the terms before it, or (position: around) to the whole sentence; a word-sense rule
decides an ambiguous term from the words around it; a category's fitted `scale` multiplies its
weights. Every applied factor is listed on the match, so each score explains itself.
Text score = tanh(sum(net of each sentence) / sqrt(number of sentences)): more agreeing evidence
raises it, but a long article is not more escalatory just for being long.
"""

from __future__ import annotations

import functools
import gc
import json
import math
import pickle
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple

from pipeline import _digest
from pipeline.config import PACKAGE_DATA
from pipeline.matching import build_automaton, longest_matches
from pipeline.text import split_sentences

SCORER_CODE_VERSION = "13"
DEFAULT_LEXICON = PACKAGE_DATA / "lexicon.yaml"
# setup.py parses the packaged lexicon at build time and stores the mapping here, with the digest of the text
# it parsed (load_lexicon).
PARSED_AT_BUILD = PACKAGE_DATA.parent / "_lexicon.pickle"
ESCALATORY_THRESHOLD = 0.2
DEESCALATORY_THRESHOLD = -0.2
# The context kinds of the lexicon (modifiers with position: around): a match carrying one of their labels
# was read as a natural disaster, an accident or ordinary crime, not as political escalation. The store
# counts such evidence apart (signals' context_texts, incidents' context share): it opens no incident.
CONTEXT_KINDS = ("disaster", "accident", "crime")
CONTEXT_MODIFIER_PREFIXES = tuple(f"{kind}:" for kind in CONTEXT_KINDS)
# Modifiers under which a term names an act that may not have happened, or not now: reported
# second-hand, to come, denied, demanded, recalled from the past ("protesters demand a military
# coup"), told as background to the day's news (`recalled`: "the general, who led the coup,
# arrived") or dated by its year (`dated`: "the 2015 attacks"). Such a term still scores, but it is not
# an act the text asserts (`asserted_acts`: what the rare-act path of the detector reads).
UNASSERTED_MODIFIER_PREFIXES = (
    "hedge:",
    "future:",
    "denial:",
    "appeal:",
    "retrospective:",
    "recalled:",
    "dated:",
)

_CLAUSE_BREAK: Final = re.compile(r"[,;:.!?()\"]|\b(?:but|however|while|whereas|although|though|yet)\b")
# A phrase set off by two commas right after a term, before a cue that follows it closely ("The agreement, signed
# in March, has been violated"): at most this many words, and no other clause break, so the cue still reaches the term.
APPOSITIVE_WORDS = 6
_ES_ENDINGS = ("s", "x", "z", "ch", "sh")
_VOWELS = set("aeiou")
_WORD_PUNCTUATION: Final = ".,;:!?\"'()[]"


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
        # Fields read untyped: compiled (setup.py), a typed read would turn an int weight into a float
        # and refuse a list of modifiers; the dict holds what the match holds, as json writes it.
        this: Any = self
        return {
            "term": this.term,
            "surface": this.surface,
            "category": this.category,
            "polarity": this.polarity,
            "weight": this.weight,
            "start": this.start,
            "end": this.end,
            "modifiers": list(this.modifiers),
            "effective_weight": round(this.effective_weight, 4),
        }


# json's own string encoder (C, ensure_ascii=False flavour): encode_matches() writes the same text as
# json.dumps([m.to_dict() for m in matches], ensure_ascii=False) without building the dicts. Numbers
# are ints and finite floats (the lexicon refuses others), which json also writes as repr() does.
_json_string = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _json_text(text: str) -> str:
    """_json_string(text) for a sentence: printable ASCII without a quote or a backslash (nearly every
    sentence of an English feed) needs no escape, so it is only quoted; json escapes nothing else in ASCII
    but control characters, which are unprintable. Four checks in C cost less than the encoder's two passes."""
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return _json_string(text)


def encode_matches(matches: Iterable[Any]) -> str:
    """The JSON stored in sentences.matches: a list of Match.to_dict(), written directly (the
    dicts and the generic encoder were a third of the ingest's per-sentence cost). The JSON writers take
    `Any`: compiled (setup.py), a `float` parameter would turn an int into a float, which json writes
    otherwise."""
    parts = []
    # One unpacking instead of nine attribute reads: this runs for every match written.
    for term, surface, category, polarity, weight, start, end, modifiers, effective in matches:
        # What a term always writes the same way comes from a cache (see _term_json); the rest
        # of the object is formatted here.
        key = (term, category, polarity, weight)
        # _cacheable() inlined
        head = _TERM_JSON.get(key) if weight.__class__ is float and weight and polarity.__class__ is int else None
        if head is None:
            head = _term_json(key)
        rounded = _ROUNDED.get(effective) if effective.__class__ is float and effective else None
        if rounded is None:
            rounded = _rounded(effective)
        if modifiers:
            listed = _MODIFIERS_JSON.get(modifiers) if modifiers.__class__ is tuple else None
            if listed is None:
                listed = _modifiers_json(modifiers)
        else:
            listed = ""
        parts.append(
            f'{head[0]}{_json_string(surface)}{head[1]}{start!r}, "end": {end!r}, '
            f'"modifiers": [{listed}], "effective_weight": {rounded}}}'
        )
    return f"[{', '.join(parts)}]"


# The JSON around a match's surface for each (term, category, polarity, weight) seen, and the
# written form of each rounded effective weight: a few hundred distinct values each in a news
# feed; the sentence numbers that _written also caches take some thousands (9,000 in 40,000 items).
# All are bounded, so an odd lexicon or feed cannot grow them without limit. Only non-zero floats
# (and int polarities) are cached: 1 == 1.0 == True and 0.0 == -0.0 as keys, but json writes each
# differently.
_TERM_JSON: dict[Any, tuple[str, str]] = {}
_ROUNDED: dict[Any, str] = {}
# The JSON list items of each modifier tuple seen (its labels repeat: "order:2", a negation cue, ...).
_MODIFIERS_JSON: dict[Any, str] = {}
_CACHE_LIMIT = 20_000


def _modifiers_json(modifiers: Any) -> str:
    listed = ", ".join(map(_json_string, modifiers))
    if modifiers.__class__ is tuple and len(_MODIFIERS_JSON) < _CACHE_LIMIT:
        _MODIFIERS_JSON[modifiers] = listed
    return listed


def _cacheable(number: object) -> bool:
    return number.__class__ is float and bool(number)


def _term_json(key: tuple[Any, Any, Any, Any]) -> tuple[str, str]:
    term, category, polarity, weight = key
    head = (
        f'{{"term": {_json_string(term)}, "surface": ',
        f', "category": {_json_string(category)}, "polarity": {polarity!r}, "weight": {weight!r}, "start": ',
    )
    if _cacheable(weight) and polarity.__class__ is int and len(_TERM_JSON) < _CACHE_LIMIT:
        _TERM_JSON[key] = head
    return head


def _round4(number: Any) -> str:
    """repr(round(number, 4)), as json writes it, in one float-to-text conversion instead of two and a
    parse: both round the exact binary value to 4 decimals the same way (dtoa's correctly rounded
    mode 3), and a decimal of at most 15 significant digits is the shortest repr of the float nearest
    to it, so dropping the trailing zeros of "%.4f" gives the same text (-0.0 included). Only floats
    of magnitude below 1e9 take this path (ints, NaN, infinities and big numbers keep the original)."""
    if number.__class__ is float and -1e9 < number < 1e9:
        text = f"{number:.4f}".rstrip("0")
        return text + "0" if text[-1] == "." else text
    return repr(round(number, 4))


def _rounded(weight: Any) -> str:
    text = _round4(weight)
    if _cacheable(weight) and len(_ROUNDED) < _CACHE_LIMIT:
        _ROUNDED[weight] = text
    return text


def _written(number: Any) -> str:
    """_round4(number), from the _ROUNDED cache when it holds it: sentence and text scores and their
    sums repeat nearly as much as effective weights (a sentence with one plain term scores what every
    such sentence does), and formatting a float costs about ten dict lookups (measured). Zero, the most
    common value, is never cached (0.0 and -0.0 are one key but written differently): it is told
    apart here."""
    if number.__class__ is float:
        if number:
            text = _ROUNDED.get(number)
            return text if text is not None else _rounded(number)
        return "-0.0" if math.copysign(1.0, number) < 0 else "0.0"
    return _round4(number)


_NO_MATCHES = '"score": 0.0, "escalation": 0.0, "deescalation": 0.0, "matches": []'


def encode_sentence_score(s: Any) -> str:
    """The JSON of s.to_dict(), as json.dumps(..., ensure_ascii=False) writes it."""
    if not s.matches:  # most sentences of a news feed
        return f'{{"text": {_json_text(s.text)}, {_NO_MATCHES}}}'
    return (
        f'{{"text": {_json_text(s.text)}, "score": {_written(s.score)}, '
        f'"escalation": {_written(s.escalation)}, "deescalation": {_written(s.deescalation)}, '
        f'"matches": {encode_matches(s.matches)}}}'
    )


def encode_text_score_head(score: Any) -> str:
    """What comes before the sentences in `encode_text_score` (for writers that stream them)."""
    return f'{{"score": {_written(score)}, "sentences": ['


def encode_text_score(result: Any) -> str:
    """The JSON of result.to_dict(), as json.dumps(..., ensure_ascii=False) writes it, without
    building the dicts: one line of `escalation score --jsonl`."""
    sentences = ", ".join(map(encode_sentence_score, result.sentences))
    return f"{encode_text_score_head(result.score)}{sentences}]}}"


def text_score(total_net: float, sentences: int) -> float:
    """A text's score from the sum of its sentences' nets: tanh(total / sqrt(n)), 0 for no sentence."""
    return math.tanh(total_net / math.sqrt(sentences)) if sentences else 0.0


def read_in_context(matches: Iterable[dict[str, Any]]) -> bool:
    """Whether a stored sentence's escalation is all harm read in a context (disaster, accident, crime):
    every match that adds escalation carries a context label, and one does. A death threat next to a
    background "murder of a journalist" is a threat, not crime; "a gunman killed four" is crime."""
    labelled = False
    for match in matches:
        in_context = any(str(m).startswith(CONTEXT_MODIFIER_PREFIXES) for m in match.get("modifiers") or ())
        if not in_context and float(match.get("effective_weight", 0.0)) > 0:
            return False
        labelled = labelled or in_context
    return labelled


def asserted_acts(matches: Iterable[dict[str, Any]]) -> set[str]:
    """The categories a stored sentence asserts as acts: those of its matches that add escalation and
    carry no modifier of UNASSERTED_MODIFIER_PREFIXES ("reportedly arrested", "will invade", "demand a
    coup" assert nothing; the order modifier is only how much a later term adds, not doubt)."""
    acts: set[str] = set()
    for match in matches:
        category = match.get("category")
        if category is None or float(match.get("effective_weight", 0.0)) <= 0:
            continue
        if not any(str(m).startswith(UNASSERTED_MODIFIER_PREFIXES) for m in match.get("modifiers") or ()):
            acts.add(category)
    return acts


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
        this: Any = self  # untyped reads, as in Match.to_dict
        return {
            "text": this.text,
            "score": round(this.score, 4),
            "escalation": round(this.escalation, 4),
            "deescalation": round(this.deescalation, 4),
            "matches": [m.to_dict() for m in this.matches],
        }


class TextScore(NamedTuple):
    """A text's score and its sentences (a NamedTuple, like Match: one per scored text)."""

    score: float
    sentences: tuple[SentenceScore, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        this: Any = self  # untyped reads, as in Match.to_dict
        return {"score": round(this.score, 4), "sentences": [s.to_dict() for s in this.sentences]}


@dataclass(frozen=True)
class _Sense:
    """A reading of an ambiguous term decided by the words around it: with `unless`, any of the words
    within `window` words on either side multiplies the term by `factor` ("strike" next to "workers");
    with `requires`, the absence of all of them does ("taken over" without "palace", "troops", ...)."""

    words: frozenset[str]
    window: int
    factor: float
    requires: bool = False
    # `except_with`: words that keep the term's main reading whatever the sense words say, within
    # `except_window` words on either side ("army officers annulled the election results and taken power":
    # an election in view voids "take power", soldiers in view restore it)
    exceptions: frozenset[str] = frozenset()
    except_window: int = 0

    @property
    def width(self) -> int:
        return max(self.window, self.except_window if self.exceptions else 0)


# Not frozen: the compiled build (mypyc, setup.py) has no object.__setattr__ for __post_init__ to fill the two
# derived fields of a frozen class. Nothing changes a term after it is built.
@dataclass
class _Term:
    term: str
    category: str
    polarity: int
    weight: float
    senses: tuple[_Sense, ...] = ()
    actor: bool = False  # names who acts (a militia), not an act: as the opening subject it takes no rank
    # The widest window of its senses (0 without senses): the words around the term that _reading
    # splits, worked out once here instead of for every occurrence.
    width: int = field(init=False, default=0)
    # When every sense is an `unless` one: all their words together. A term with none of them in the
    # words around it keeps its main reading whatever the exceptions say (_reading's fast path).
    unless_words: frozenset[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.width = max((sense.width for sense in self.senses), default=0)
        all_unless = bool(self.senses) and not any(sense.requires for sense in self.senses)
        self.unless_words = frozenset().union(*(sense.words for sense in self.senses)) if all_unless else None


# Final: the compiled build reads them as constants, not from the module's dictionary (the cue loop asks for each)
BEFORE: Final = "before"
AFTER: Final = "after"
AROUND: Final = "around"


@dataclass(frozen=True)
class _Modifier:
    kind: str
    cue: str
    factor: float
    window: int
    applies_to: int = 0  # 0: every term; +1/-1: only escalatory / de-escalatory terms
    whole_sentence: bool = False  # reaches across clause boundaries (subordinate clauses do)
    # BEFORE: the cue acts on the terms after it; AFTER: on the terms before it ("the truce is in
    # tatters"); AROUND: on every term of the sentence (a context such as "cyclone").
    position: str = BEFORE
    categories: frozenset[str] | None = None  # only terms of these categories (or of `terms`); None: all
    terms: frozenset[str] = frozenset()
    # A context cue ("cyclone") is void when the sentence also names a perpetrator: an escalatory term
    # of one of these categories that the context itself does not reach ("militants", "air strike").
    unless_categories: frozenset[str] = frozenset()
    # ... or a word that names a political motive or agent and is no term ("a terror attack").
    unless_words: re.Pattern[str] | None = None
    # ... or a cue of one of these other kinds: an attacker the crime context names ("a man wielding a
    # knife on a train") is no accident.
    unless_kinds: frozenset[str] = frozenset()
    # The cue phrase also counts as the term it contains, and the context applies to it ("mass shooting" is
    # a shooting read as crime; "gunman" is the harm and its context at once).
    cue_terms: bool = False
    # The cue phrase is a term that a cue of one of these kinds has undone before it: then it acts on
    # nothing ("called off its boycott and rejoined the dialogue": the boycott breaches no dialogue).
    unless_undone: frozenset[str] = frozenset()
    # Not for a term a cue of one of these kinds already reached: two ways of saying that captives are out
    # ("freed hostages were flown home") are no double negative that would hold them again.
    unless_applied: frozenset[str] = frozenset()
    # An after-cue that, right after "and", is a verb with an object of its own ("recalled their ambassadors and
    # suspended direct flights"): there it does not reach back to the term, unless "it" or "them" follows, the
    # term taken up again ("agreed a truce and violated it").
    own_object: bool = False

    def reaches(self, term: _Term) -> bool:
        """Whether this modifier applies to `term` by its category or name (score_sentence spells the
        same test inline: it runs for every term and cue)."""
        return self.categories is None or term.category in self.categories or term.term in self.terms


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
    if "~" not in term:  # most terms and cues: the phrase itself, its spaces normalised
        return [" ".join(term.split())]
    variants = [""]
    for word in term.split():
        forms = inflections(word[1:], irregular) if word.startswith("~") else [word]
        variants = [f"{prefix} {form}".strip() for prefix in variants for form in forms]
    return variants


def _text(value: object, where: str) -> str:
    """A word or phrase of the lexicon. YAML reads a bare no, off, yes or on as a boolean, which
    str() would silently turn into the word "false" (the negation cue "no" was lost that way until
    lexicon 2026.12.3): anything but text is an error, so such a word must be quoted."""
    if not isinstance(value, str):
        raise LexiconError(f"{where}: {value!r} is not text (quote YAML words such as no, off, yes, on)")
    return value


def _parse_term(entry: object, default_weight: float, where: str) -> tuple[str, float]:
    text = _text(entry, where).strip()
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


def _word_set(words: Iterable[object], irregular: dict[str, list[str]], where: str) -> frozenset[str]:
    """Context words; "~word" stands for its inflections as for terms."""
    found: set[str] = set()
    for word in words:
        text = _text(word, where).lower().strip()
        found.update(_expand(text, irregular) if text.startswith("~") else [text])
    return frozenset(found)


def _parse_senses(
    specs: Iterable[Any], irregular: dict[str, list[str]], source: str
) -> dict[str, tuple[_Sense, ...]]:
    senses: dict[str, tuple[_Sense, ...]] = {}
    for number, spec in enumerate(specs, start=1):
        where = f"{source}: senses entry {number}"
        try:
            names = [str(t).lower().replace("~", "") for t in spec["terms"]]
            requires = "requires" in spec
            words = _word_set(spec["requires"] if requires else spec["unless"], irregular, where)
            window = int(spec.get("window", 4))
            factor = float(spec.get("factor", 0.0))
            exceptions = _word_set(spec.get("except_with") or [], irregular, where)
            except_window = int(spec.get("except_window", window))
        except LexiconError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise LexiconError(
                f"{where}: needs terms, unless or requires, and optional window, factor, except_with, except_window ({exc})"
            ) from None
        if not math.isfinite(factor):
            raise LexiconError(f"{where}: factor must be a finite number")
        for name in names:
            senses[name] = (
                *senses.get(name, ()),
                _Sense(words, window, factor, requires, exceptions, except_window),
            )
    return senses


def _parse_modifier(
    kind: str, spec: Any, source: str, irregular: dict[str, list[str]], category_names: Iterable[str] = ()
) -> list[tuple[str, _Modifier]]:
    """The (cue text, modifier) pairs of one modifier kind; a cue word written "~collapse" stands
    for its inflections (collapse, collapses, collapsed, collapsing), as in terms."""
    try:
        factor, window = float(spec["factor"]), int(spec["window"])
        where = f"{source}: modifier {kind}"
        cues = [(BEFORE, v) for c in spec.get("cues") or [] for v in _expand(_text(c, where).lower(), irregular)]
        cues += [
            (AFTER, v) for c in spec.get("cues_after") or [] for v in _expand(_text(c, where).lower(), irregular)
        ]
        applies_to = {"all": 0, "escalatory": 1, "deescalatory": -1}[spec.get("applies_to", "all")]
        whole_sentence = {"clause": False, "sentence": True}[spec.get("scope", "clause")]
        around = {"before": False, "around": True}[spec.get("position", "before")]
        categories = frozenset(spec["categories"]) if "categories" in spec else None
        excluded = frozenset(spec["except_categories"]) if "except_categories" in spec else None
        terms = frozenset(_text(t, where).lower() for t in spec.get("terms") or [])
        unless = frozenset(spec.get("unless_categories") or [])
        unless_words = [v for w in spec.get("unless_words") or [] for v in _expand(_text(w, where).lower(), irregular)]
        not_before = sorted(
            {_text(w, where).lower() for w in spec.get("unless_words_not_before") or []}, key=len, reverse=True
        )
        cue_terms = bool(spec.get("cue_terms", False))
        unless_kinds = frozenset(spec.get("unless_kinds") or [])
        unless_undone = frozenset(spec.get("unless_undone") or [])
        unless_applied = frozenset(spec.get("unless_applied") or [])
        own_object = {
            v for c in spec.get("cues_after_own_object") or [] for v in _expand(_text(c, where).lower(), irregular)
        }
    except LexiconError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LexiconError(
            f"{source}: modifier {kind} needs factor, window, cues (or cues_after) and an optional "
            f"applies_to of all|escalatory|deescalatory, scope of clause|sentence and position of "
            f"before|around ({exc})"
        ) from None
    if not math.isfinite(factor):
        raise LexiconError(f"{source}: modifier {kind}: factor must be a finite number")
    if excluded is not None:  # every category but these, resolved here: no cost per sentence
        if categories is not None:
            raise LexiconError(
                f"{source}: modifier {kind}: categories and except_categories exclude each other"
            )
        categories = frozenset(category_names) - excluded
    if not cues:
        raise LexiconError(f"{source}: modifier {kind} has no cues")
    stray = own_object - {cue for position, cue in cues if position == AFTER}
    if stray:  # a misspelt or missing cue would silently change nothing
        raise LexiconError(f"{source}: modifier {kind}: cues_after_own_object names no cue after: {sorted(stray)}")
    # Whole words, longest first, not followed by a word of `unless_words_not_before` ("drone footage" of a
    # flood names no weapon); searched only in a sentence where this context's cue was found.
    voids = (
        re.compile(
            r"(?<![\w-])(?:"
            + "|".join(map(re.escape, sorted(set(unless_words), key=len, reverse=True)))
            + r")(?![\w-])"
            + (rf"(?!\s+(?:{'|'.join(map(re.escape, not_before))})\b)" if not_before else "")
        )
        if unless_words
        else None
    )
    built = []
    for position, cue in cues:
        position = AROUND if around else position
        modifier = _Modifier(
            kind,
            cue.lower(),
            factor,
            window,
            applies_to,
            whole_sentence,
            position,
            categories,
            terms,
            unless,
            unless_words=voids,
            unless_kinds=unless_kinds,
            cue_terms=cue_terms,
            unless_undone=unless_undone,
            unless_applied=unless_applied,
            own_object=position == AFTER and cue in own_object,
        )
        built.append((cue, modifier))
    return built


@functools.lru_cache(maxsize=64)
def _order_label(position: int) -> str:
    return f"order:{position}"


_PLAIN: Final[tuple[float, tuple[str, ...]]] = (1.0, ())
_new_tuple = tuple.__new__


def _only_spaces(text: str) -> bool:
    """Whether " " is the only whitespace character of `text`: then its words are what cutting it at each
    " " gives, empty pieces dropped, just as str.split() would give them. In ASCII the other whitespace
    characters are the nine tested here: nine searches for one character each take less than half the time
    of isprintable(), which also tells it (every whitespace character but " " is unprintable) and is asked
    of any other text."""
    if text.isascii():
        return not (
            "\t" in text
            or "\n" in text
            or "\r" in text
            or "\x0b" in text
            or "\x0c" in text
            or "\x1c" in text
            or "\x1d" in text
            or "\x1e" in text
            or "\x1f" in text
        )
    return text.isprintable()


def _reading(lowered: str, start: int, end: int, term: _Term, spaced: bool) -> tuple[float, tuple[str, ...]]:
    """The factor and labels of the senses of the term at lowered[start:end]; `spaced` is
    _only_spaces(lowered), asked once per sentence."""
    unless_words = term.unless_words
    # None of the sense words within the widest window, as it stands or as _context_word reads it: the main
    # reading, without the per-sense scans. Asked where only " " separates words (nearly every sentence:
    # split_sentences collapses whitespace); elsewhere the scans below give the same answer.
    if unless_words is not None and spaced and _plain_window(lowered, start, end, term.width, unless_words):
        return _PLAIN
    factor, labels = 1.0, []
    # The words around the term, split and cleaned once for all its senses (a term may have several):
    # nearest first on the left, up to the widest window.
    near = _near_words(lowered, start, end, term.width, spaced)
    for sense in term.senses:
        if sense.exceptions and _sense_word(near, sense.exceptions, sense.except_window) is not None:
            continue  # the main reading holds: "army officers ... annulled the election and taken power"
        word = _sense_word(near, sense.words, sense.window)
        if sense.requires and word is None:
            factor *= sense.factor
            labels.append("sense:no-context")
        elif not sense.requires and word is not None:
            factor *= sense.factor
            labels.append(f"sense:{word}")
    return factor, tuple(labels)


def _plain_window(lowered: str, start: int, end: int, width: int, unless_words: frozenset[str]) -> bool:
    """Whether none of the `width` words on each side of lowered[start:end] (cut as _near_words cuts
    them where only " " separates words) is one of `unless_words`, and no "'" or "-" (which _context_word may
    read as one) stands in those words: then no sense applies. Each word is tested as it is cut and no
    list is built, for most terms with senses (nearly nine in ten on the labelled files) end here.
    A "'" or "-" stripped off a word still sends the term the long way, which reads it exactly."""
    strip = _WORD_PUNCTUATION
    taken = 0
    position = start
    while position > 0 and taken < width:
        cut = lowered.rfind(" ", 0, position)
        word = lowered[cut + 1 : position]
        position = cut if cut > 0 else 0
        if word:
            if word.strip(strip) in unless_words:
                return False
            taken += 1
    left = position
    taken = 0
    position, size = end, len(lowered)
    while position < size and taken < width:
        cut = lowered.find(" ", position)
        if cut < 0:
            cut = size
        word = lowered[position:cut]
        position = cut + 1
        if word:
            if word.strip(strip) in unless_words:
                return False
            taken += 1
    right = min(position, size)
    return (
        lowered.find("'", left, start) < 0
        and lowered.find("-", left, start) < 0
        and lowered.find("'", end, right) < 0
        and lowered.find("-", end, right) < 0
    )


def _near_words(lowered: str, start: int, end: int, width: int, spaced: bool) -> tuple[list[str], list[str]]:
    """Up to `width` whitespace-separated words on each side of lowered[start:end], punctuation stripped:
    the left ones nearest first (lowered[:start].rsplit(None, width), reversed), then the right ones.
    `spaced`: _only_spaces(lowered)."""
    strip = _WORD_PUNCTUATION
    if not spaced:  # whitespace other than " " (a tab, a line break, a no-break space)
        left = lowered[:start].rsplit(None, width)
        left = left[1:] if len(left) > width else left
        return (
            [w.strip(strip) for w in reversed(left)],
            [w.strip(strip) for w in lowered[end:].split(None, width)[:width]],
        )
    # Only " " separates words here: the words are cut
    # out one by one around the term, without the copies of the rest of the sentence that a split of
    # lowered[:start] and lowered[end:] makes (this runs for every term that has senses).
    before: list[str] = []
    position = start
    while position > 0 and len(before) < width:
        cut = lowered.rfind(" ", 0, position)
        if cut < 0:
            word = lowered[:position]
            position = 0
        else:
            word = lowered[cut + 1 : position]
            position = cut
        if word:
            before.append(word.strip(strip))
    after: list[str] = []
    position, size = end, len(lowered)
    while position < size and len(after) < width:
        cut = lowered.find(" ", position)
        if cut < 0:
            word = lowered[position:]
            position = size
        else:
            word = lowered[position:cut]
            position = cut + 1
        if word:
            after.append(word.strip(strip))
    return before, after


def _verb_of_its_own(lowered: str, cue_start: int, cue_end: int) -> bool:
    """Whether the after-cue at lowered[cue_start:cue_end] comes right after the word "and" and is not followed
    by "it" or "them" (see _Modifier.own_object)."""
    if cue_start < 4 or not lowered.startswith("and ", cue_start - 4):
        return False
    if cue_start > 4 and (lowered[cue_start - 5].isalnum() or lowered[cue_start - 5] == "_"):  # "band ", "demand "
        return False
    for pronoun in (" it", " them"):
        if lowered.startswith(pronoun, cue_end):
            after = cue_end + len(pronoun)
            if after == len(lowered) or not (lowered[after].isalnum() or lowered[after] == "_"):
                return False
    return True


def _has_perpetrator(
    terms: list[tuple[int, int, _Term]], readings: list[tuple[float, tuple[str, ...]]], context: _Modifier
) -> bool:
    """Whether the sentence names an agent of harm that `context` does not explain away: an
    escalatory term of one of its unless_categories outside its own reach ("killed in an air strike"
    during a flood is still an air strike), not voided by another sense."""
    for (_start, _end, term), (sense_factor, _) in zip(terms, readings, strict=True):
        if term.polarity > 0 and sense_factor and term.category in context.unless_categories:
            if not context.reaches(term):
                return True
    return False


def _appositive_between(lowered: str, start: int, end: int) -> bool:
    """Whether the clause breaks between a term ending at `start` and a cue at `end` are just the two commas
    around a short phrase inserted right after the term (", signed in March,", ", the army said,"), with the
    cue at most three words after it: the clause around the insertion is whole."""
    if not lowered.startswith(",", start):  # the first comma right after the term
        return False
    second = lowered.find(",", start + 1, end)
    if second < 0 or lowered.count(" ", start, second) > APPOSITIVE_WORDS or lowered.count(" ", second, end) > 4:
        return False
    # no other break inside the pair or after it
    return not (_CLAUSE_BREAK.search(lowered, start + 1, second) or _CLAUSE_BREAK.search(lowered, second + 1, end))


def _context_void(
    context: _Modifier,
    lowered: str,
    cues: list[tuple[int, int, _Modifier]],
    terms: list[tuple[int, int, _Term]],
    readings: list[tuple[float, tuple[str, ...]]],
) -> bool:
    """Whether the sentence names what `context` cannot explain away: a motive or weapon word, a cue of
    another context that names an attacker (crime voids an accident), or a perpetrator term."""
    if context.unless_words is not None and context.unless_words.search(lowered):
        return True
    if context.unless_kinds and any(other.kind in context.unless_kinds for _, _, other in cues):
        return True
    return bool(context.unless_categories) and _has_perpetrator(terms, readings, context)


def _contained_term(
    phrase: str, entries: dict[str, tuple[_Term | None, tuple[_Modifier, ...]]], context: _Modifier
) -> _Term | None:
    """The term a cue phrase contains ("mass shooting" holds "shooting", "slams into" holds "slams"), the
    longest run of its words that is a term, unless it is a perpetrator the context does not reach (a
    "storm surge" holds no storming: the phrase stays a bare cue); a quote closed on a word is not part of it
    ("warning' to" holds "warning")."""
    words = [word.strip("'\"‘’“”") for word in phrase.split()]
    for size in range(len(words), 0, -1):
        for first in range(len(words) - size + 1):
            found = entries.get(" ".join(words[first : first + size]), (None, ()))[0]
            if found is not None:
                reached = context.reaches(found)
                return found if reached or found.category not in context.unless_categories else None
    return None


def _context_word(word: str, words: frozenset[str]) -> str | None:
    """`word` (punctuation stripped) as a context word of `words`: itself, without "'s", or a compound's
    first part ("state-linked" is also "state", "flood-hit" also "flood"; never its last part:
    "cease-fire" is no fire)."""
    if word in words:
        return word
    if word.endswith("'s"):
        word = word[:-2]
        if word in words:
            return word
    if "-" in word:
        head = word.partition("-")[0]
        if head in words:
            return head
    return None


def _sense_word(near: tuple[list[str], list[str]], words: frozenset[str], window: int) -> str | None:
    """The first of `words` within `window` words of the words left (nearest first) and right of a
    term (a sense's context words, or its exceptions)."""
    for side in near:  # left (nearest first), then right; indexed, so no slice or tuple is built
        for i in range(min(window, len(side))):
            word = side[i]
            if word in words:  # the common case, without a call
                return word
            if ("'" in word or "-" in word) and (found := _context_word(word, words)) is not None:
                return found
    return None


_ANCHOR_STRIP: Final = ".,;:!?\"'()[]"  # quotes too: "'Several active shooters' leave 3 dead" names shooters


def _anchor_word(raw: str) -> str:
    """A word of the sentence as the anchor test reads it: punctuation stripped, then a possessive "'s"."""
    token = raw.strip(_ANCHOR_STRIP)
    return token[:-2] if token.endswith("'s") else token


@dataclass(frozen=True)
class _Anchor:
    """The political anchor test (lexicon `anchor`, 2026.12.12): the words of war and of peace that
    everyday news borrows (`terms`: "a bidding war", "a war epic", "the King hosts a reception") count
    `factor` times their weight, labelled `unanchored:no-anchor`, in a sentence that names no anchor:
    no state, capital, group or leader of the gazetteer, no armed or political actor, weapon, place
    of conflict or diplomatic object (`words` and `phrases`, whole words, lower case)."""

    factor: float
    terms: frozenset[str]
    words: frozenset[str]
    phrases: frozenset[str]
    openers: dict[str, tuple[int, ...]]  # a phrase's first word -> the word counts of its phrases
    # Names that anchor only as written (`cased_names`): the gazetteer's aliases that are everyday words in
    # lower case ("Turkey", "Poles"), found whole in the sentence as it was written, as the gazetteer
    # finds them. None: no such name.
    cased: re.Pattern[str] | None = None

    def names_cased(self, text: str) -> bool:
        """Whether `text` (as written, not lower-cased) holds one of the cased names as a whole word."""
        return self.cased is not None and self.cased.search(text) is not None

    def anchored(self, lowered: str, spaced: bool) -> bool:
        """Whether the sentence names an anchor; `spaced` is _only_spaces(lowered)."""
        words = self.words
        # Word by word, stopping at the first anchor: most sentences that ask name one within their
        # first three words, so the rest is never cut out and cleaned (the whole list is needed only
        # without one). Where only " " separates words, they are cut at each " " (see _near_words).
        cleaned: list[str] = []
        if spaced:
            position, length = 0, len(lowered)
            while position < length:
                cut = lowered.find(" ", position)
                if cut < 0:
                    cut = length
                if cut > position:  # not the empty word between two spaces
                    token = _anchor_word(lowered[position:cut])
                    if token in words:
                        return True
                    cleaned.append(token)
                position = cut + 1
        else:
            for raw in lowered.split():
                token = _anchor_word(raw)
                if token in words:
                    return True
                cleaned.append(token)
        if "-" in lowered:  # "state-backed", "rebel-held", "pro-government"
            for token in cleaned:
                if "-" in token and not words.isdisjoint(token.split("-")):
                    return True
        # Phrases only where one can start: a dictionary look-up per word, not a join per window.
        openers, phrases = self.openers, self.phrases
        if openers.keys().isdisjoint(cleaned):
            return False
        for first, token in enumerate(cleaned):
            sizes = openers.get(token)
            if sizes is not None:
                for size in sizes:
                    if " ".join(cleaned[first : first + size]) in phrases:
                        return True
        return False


def _parse_anchor(spec: Any, source: str, irregular: dict[str, list[str]]) -> _Anchor | None:
    if not spec:
        return None
    where = f"{source}: anchor"
    try:
        factor = float(spec["factor"])
        terms = frozenset(_text(t, where).lower() for t in spec["terms"])
        listed = _word_set([*spec["words"], *(spec.get("names") or [])], irregular, where)
    except LexiconError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LexiconError(f"{where}: needs factor, terms and words, and optional names ({exc})") from None
    if not (math.isfinite(factor) and 0 <= factor <= 1):
        raise LexiconError(f"{where}: factor must be a number from 0 to 1")
    cleaned = {w.strip(_ANCHOR_STRIP) for w in listed}
    words = frozenset(w for w in cleaned if " " not in w)
    phrases = frozenset(w for w in cleaned if " " in w)
    openers: dict[str, set[int]] = {}
    for phrase in phrases:
        parts = phrase.split(" ")
        openers.setdefault(parts[0], set()).add(len(parts))
    cased_names = spec.get("cased_names") or []
    if not isinstance(cased_names, list) or not all(isinstance(n, str) and n.strip() for n in cased_names):
        raise LexiconError(f"{where}: cased_names must be a list of names as written")
    cased = (
        re.compile(r"(?<!\w)(?:" + "|".join(re.escape(n.strip()) for n in sorted(cased_names, key=len, reverse=True)) + r")(?!\w)")
        if cased_names
        else None
    )
    return _Anchor(factor, terms, words, phrases, {first: tuple(sorted(n)) for first, n in openers.items()}, cased)


def _salience_number(salience: dict[str, Any], key: str, default: float, source: str, minimum: float | None = None) -> float:
    """A finite number of the lexicon's `salience` section (at least `minimum` when given)."""
    try:
        value = float(salience.get(key, default))
    except (TypeError, ValueError):
        raise LexiconError(f"{source}: salience.{key} must be a number") from None
    if not math.isfinite(value) or (minimum is not None and value < minimum):
        bound = "" if minimum is None else f" of at least {minimum:g}"
        raise LexiconError(f"{source}: salience.{key} must be a finite number{bound}")
    return value


def _salience_count(salience: dict[str, Any], key: str, default: int, minimum: int, source: str) -> int:
    """A whole number of words of the lexicon's `salience` section, at least `minimum`."""
    value = salience.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise LexiconError(f"{source}: salience.{key} must be a whole number of at least {minimum}")
    return value


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
        senses = _parse_senses(lexicon.get("senses") or [], irregular, source)
        entries: dict[str, tuple[_Term | None, tuple[_Modifier, ...]]] = {}
        salience = lexicon.get("salience") or {}
        actor_categories = frozenset(salience.get("actor_categories") or ())
        actor_terms = frozenset(str(t).lower().replace("~", "") for t in salience.get("actor_terms") or ())
        for name, spec in categories.items():
            where = f"{source}: category {name}"
            try:
                polarity = int(spec["polarity"])
                default_weight = float(spec.get("weight", 1.0))
                scale = float(spec.get("scale", 1.0))  # fitted on labelled data (docs/scoring.md)
                terms = spec["terms"]
            except (KeyError, TypeError, ValueError) as exc:
                raise LexiconError(f"{where}: needs polarity, weight and terms ({exc})") from None
            if polarity not in (1, -1):
                raise LexiconError(f"{where}: polarity must be 1 or -1")
            if not math.isfinite(default_weight):
                raise LexiconError(f"{where}: weight must be a finite number")
            if not (math.isfinite(scale) and scale > 0):
                raise LexiconError(f"{where}: scale must be a positive number")
            self.categories[name] = {
                "polarity": polarity,
                "weight": default_weight,
                "scale": scale,
                "description": spec.get("description", ""),
            }
            for entry in terms:
                canonical, weight = _parse_term(entry, default_weight, where)
                plain = canonical.replace("~", "")
                info = _Term(
                    plain,
                    name,
                    polarity,
                    round(weight * scale, 4),
                    senses.get(plain, ()),
                    name in actor_categories or plain in actor_terms,
                )
                for variant in _expand(canonical, irregular):
                    existing = entries.get(variant)
                    if existing and existing[0] and existing[0].category != name:
                        raise LexiconError(
                            f"{where}: {variant!r} is already a term of category {existing[0].category}"
                        )
                    if not existing or not existing[0]:
                        entries[variant] = (info, ())
        unknown_actors = actor_terms - {term.term for term, _ in entries.values() if term}
        if unknown_actors:
            raise LexiconError(f"{source}: salience.actor_terms names no term: {sorted(unknown_actors)}")
        for kind, spec in modifiers.items():
            for key in ("unless_kinds", "unless_undone", "unless_applied"):
                unknown = set((spec or {}).get(key) or []) - set(modifiers) if isinstance(spec, dict) else set()
                if unknown:  # a misspelt kind would silently void nothing
                    raise LexiconError(f"{source}: modifier {kind}: {key} names no modifier: {sorted(unknown)}")
            for cue, modifier in _parse_modifier(kind, spec, source, irregular, self.categories):
                cue = cue.lower()
                term, known = entries.get(cue, (None, ()))
                if term is None and modifier.cue_terms:
                    term = _contained_term(cue, entries, modifier)
                entries[cue] = (term, (*known, modifier))
        for phrase in lexicon.get("neutral") or []:
            entries[_text(phrase, f"{source}: neutral").lower()] = (None, ())
        self.order_decay = _salience_number(salience, "order_decay", 1.0, source)
        self.actor_factor = _salience_number(salience, "actor_factor", 1.0, source)
        # how deep in the sentence an actor still counts as its subject
        self.actor_words = _salience_count(salience, "actor_words", 3, 1, source)
        # A headline's topic label ("Ukraine war: ...", "Gaza ceasefire: ..."): up to topic_words words before
        # the first ": " name the story and the day's act follows; like a subject actor, the label's terms do
        # not push the acts after them down the order, and they count topic_factor times their weight. 0: off.
        self.topic_words = _salience_count(salience, "topic_words", 0, 0, source)
        self.topic_factor = _salience_number(salience, "topic_factor", 1.0, source, minimum=0)
        # A fronted background clause ("After months of fighting, the two sides agreed to stop shooting"): a
        # sentence that opens with one of fronted_cues and reaches a ", " within fronted_words words tells the
        # day's act after the comma; the clause's terms keep their weight but, like a topic label's, take no rank.
        self.fronted_words = _salience_count(salience, "fronted_words", 0, 0, source)
        fronted_cues = salience.get("fronted_cues") or []
        if not isinstance(fronted_cues, list) or not all(isinstance(c, str) and c.strip() for c in fronted_cues):
            raise LexiconError(f"{source}: salience.fronted_cues must be a list of words or phrases")
        self.fronted_cues = tuple(f"{c.strip().lower()} " for c in fronted_cues)
        self.anchor = _parse_anchor(lexicon.get("anchor"), source, irregular)
        self.term_count = sum(1 for t, _ in entries.values() if t)
        self._automaton = build_automaton(entries.items())

    # -- scoring -------------------------------------------------------------------------------
    def score_sentence(self, text: str) -> SentenceScore:
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lower-case to two; keep offsets aligned
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        # Typographic apostrophes read as "'" (cues such as "won't"); str.replace, not str.translate,
        # which is tens of times slower on non-ASCII text.
        if "\u2019" in lowered:
            lowered = lowered.replace("\u2019", "'")
        if "\u2018" in lowered:
            lowered = lowered.replace("\u2018", "'")
        if "\u02bc" in lowered:
            lowered = lowered.replace("\u02bc", "'")
        # Typed, so that the compiled build reads terms and cues as native objects, not by attribute look-up.
        found: list[tuple[int, int, tuple[_Term | None, tuple[_Modifier, ...]]]] = longest_matches(
            self._automaton, lowered
        )
        if not found:
            return _new_tuple(SentenceScore, (text, 0.0, 0.0, 0.0, ()))
        # Terms first: half the sentences that match anything match only cues ("no", "if", "not") and
        # score 0, so their cue list is never built.
        terms: list[tuple[int, int, _Term]] = [(start, end, term) for start, end, (term, _) in found if term is not None]
        if not terms:
            return _new_tuple(SentenceScore, (text, 0.0, 0.0, 0.0, ()))
        # neutral phrases carry (None, ())
        cues: list[tuple[int, int, _Modifier]] = [
            (start, end, modifier) for start, end, (_, modifiers) in found for modifier in modifiers
        ]
        matches: list[Match] = []
        escalation = deescalation = 0.0
        decay = self.order_decay
        # Senses first, for every term: a context's perpetrator test must know which terms another
        # sense has voided ("fire at a hospital" is a blaze, not shooting).
        # Whether only " " separates the words (see _near_words): asked once here for every window cut below.
        spaced = _only_spaces(lowered)
        readings = [
            _reading(lowered, start, end, term, spaced) if term.senses else _PLAIN for start, end, term in terms
        ]
        # The anchor test runs only in a sentence with a term it reaches ("war", "hosts", "loan").
        anchor = self.anchor
        unanchored = (
            anchor is not None
            and any(term.term in anchor.terms for _, _, term in terms)
            and not anchor.anchored(lowered, spaced)
            and not anchor.names_cased(text)
        )
        unranked = 0
        # A leading segment whose terms take no rank: a headline's topic label (up to its ": ") or a fronted
        # background clause (up to its ", "); -1 without one.
        lead_end, lead_factor, lead_label = -1, 1.0, ""
        if self.topic_words:
            colon = lowered.find(": ")
            if colon > 0 and lowered.count(" ", 0, colon) < self.topic_words:
                lead_end, lead_factor, lead_label = colon, self.topic_factor, "topic:label"
        if lead_end < 0 and self.fronted_cues and lowered.startswith(self.fronted_cues):
            comma = lowered.find(", ")
            if comma > 0 and lowered.count(" ", 0, comma) < self.fronted_words:
                lead_end, lead_label = comma, "fronted:clause"
        # A sentence-wide cue inside a fronted clause ("After weeks of shelling, ...": the subordinate "after")
        # stops at its comma: the act after it is the day's news, not background.
        fronted_end = lead_end if lead_label == "fronted:clause" else -1
        voided: dict[int, bool] = {}  # context cue -> the sentence voids it (a perpetrator is named)
        undone: dict[int, set[str]] = {}  # term start -> the kinds of the flips applied to it
        for index, (start, end, term) in enumerate(terms):
            # The events named first carry a news sentence; later ones are mostly background. An actor
            # named before any act, within the sentence's first actor_words words (the subject: "Rebels
            # free 30 soldiers", "Colombia's government and ELN rebels extend their ceasefire"), and a
            # term its sense voids ("gas supplies" that nobody cut) do not push the acts after them down
            # the order. Deeper in a long sentence an actor is background ("... indicating the intention
            # of the factions to increase their attacks").
            sense_factor, sense_labels = readings[index]
            rank = index - unranked
            if not sense_factor:
                unranked += 1
            elif end <= lead_end:  # the story's label or a background clause ("Gaza ceasefire: strikes kill 20")
                # ranked among the segment's own terms only ("Ceasefire deal:": the deal comes second)
                sense_factor *= lead_factor * (decay**unranked if unranked else 1.0)
                sense_labels = (
                    (*sense_labels, _order_label(unranked + 1), lead_label) if unranked else (*sense_labels, lead_label)
                )
                unranked += 1
            elif term.actor and index == unranked and lowered.count(" ", 0, start) < self.actor_words:
                unranked += 1
                if index + 1 < len(terms):  # it names who acts; the act that follows says what happened
                    sense_factor *= self.actor_factor
                    sense_labels = (*sense_labels, "actor:subject")
            if rank and decay != 1.0:
                factor = decay**rank * sense_factor
                applied: list[str] = [_order_label(rank + 1), *sense_labels]
            else:
                factor = sense_factor
                applied = list(sense_labels)
            flipped_at = -1  # start of the cue whose flip applied; a second flip needs another cue
            flips = 0
            kinds_applied: set[str] = set()
            polarity, category, name = term.polarity, term.category, term.term  # read once per term
            for cue_start, cue_end, cue in cues:
                if cue.applies_to and cue.applies_to != polarity:
                    continue
                if cue.kind in kinds_applied:
                    continue
                if cue.unless_applied and not cue.unless_applied.isdisjoint(kinds_applied):
                    continue
                if cue.unless_undone and cue_start in undone and not cue.unless_undone.isdisjoint(undone[cue_start]):
                    continue
                if (  # not cue.reaches(term), inlined: it runs for every term and cue
                    cue.categories is not None
                    and category not in cue.categories
                    and name not in cue.terms
                    # a context reaches the term its own cue phrase holds ("slams into the coast")
                    and not (cue.cue_terms and cue_start <= start and end <= cue_end)
                ):
                    continue
                position = cue.position
                if position == BEFORE:
                    if cue_end > start:
                        continue
                    # Words from the end of the cue to the term, counted by spaces (the text is one
                    # line); from the cue's end, so a long cue ("threatened to withdraw from") does
                    # not use up its own window.
                    if lowered.count(" ", cue_end, start) > cue.window:
                        continue
                    if not cue.whole_sentence and _CLAUSE_BREAK.search(lowered, cue_end, start):
                        continue
                    if cue_end <= fronted_end < start:
                        continue
                elif position == AFTER:  # "the truce is in tatters": the cue follows the term
                    if cue_start < end or lowered.count(" ", end, cue_start) > cue.window:
                        continue
                    if cue.own_object and _verb_of_its_own(lowered, cue_start, cue_end):
                        continue
                    if (
                        not cue.whole_sentence
                        and _CLAUSE_BREAK.search(lowered, end, cue_start)
                        and not _appositive_between(lowered, end, cue_start)
                    ):
                        continue
                else:  # AROUND: a context for the whole sentence
                    # It applies to its own term only when its phrase is that term ("mass shooting",
                    # "gunman": cue_terms); never otherwise ("storm" storming a hotel).
                    if cue_start < end and cue_end > start and not cue.cue_terms:
                        continue
                    # Whether the sentence voids this context is the same for every term: asked once.
                    void = voided.get(id(cue))
                    if void is None:
                        void = voided[id(cue)] = _context_void(cue, lowered, cues, terms, readings)
                    if void:
                        continue
                if cue.factor < 0:  # flips (negation, reversal, breach): one per cue, two at most
                    # A second flip from another cue is a double negative and undoes the first ("denies
                    # blocking aid", "did not violate the truce", "no plans to lift sanctions"); one cue
                    # that carries two kinds ("refused to") still flips once.
                    if flips == 2 or cue_start == flipped_at:
                        continue
                    flips += 1
                    flipped_at = cue_start
                    undone.setdefault(start, set()).add(cue.kind)
                kinds_applied.add(cue.kind)
                factor *= cue.factor
                applied.append(f"{cue.kind}:{cue.cue}")
            if unanchored and name in anchor.terms:  # type: ignore[union-attr]
                factor *= anchor.factor  # type: ignore[union-attr]
                applied.append("unanchored:no-anchor")
            weight = term.weight
            effective = polarity * weight * factor
            if effective > 0:
                escalation += effective
            else:
                deescalation -= effective
            # tuple.__new__ is what Match(...) ends in, without the Python frame of NamedTuple's __new__
            matches.append(
                _new_tuple(
                    Match, (name, text[start:end], category, polarity, weight, start, end, tuple(applied), effective)
                )
            )
        return _new_tuple(
            SentenceScore, (text, math.tanh(escalation - deescalation), escalation, deescalation, tuple(matches))
        )

    def score_many(self, texts: Iterable[str]) -> list[SentenceScore]:
        return [self.score_sentence(t) for t in texts]

    def score_text(self, text: str) -> TextScore:
        sentences = tuple([self.score_sentence(sentence) for sentence in split_sentences(text)])
        if not sentences:
            return _new_tuple(TextScore, (0.0, ()))
        # A list, not a generator, for sum(): one frame instead of one resumption per sentence.
        total = sum([s.escalation - s.deescalation for s in sentences])
        return _new_tuple(TextScore, (text_score(total, len(sentences)), sentences))


def load_lexicon(path: Path) -> dict[str, Any]:
    """The mapping of a lexicon file. A file whose text is the one setup.py parsed at build time (the packaged
    lexicon, unedited) comes from that parse (PARSED_AT_BUILD): importing PyYAML and parsing were half the
    start-up of every `escalation score` process. Any other text is parsed here."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon {path}: {exc.strerror or exc}") from None
    data = parsed_at_build(raw)
    if data is None:
        data = _parse_yaml(raw, path)
    if not isinstance(data, dict):
        raise LexiconError(f"lexicon {path}: top level must be a mapping")
    return data


def parsed_at_build(raw: bytes, stored: Path = PARSED_AT_BUILD) -> Any:
    """The build's parse of the lexicon text `raw`, or None when there is none (a checkout never built, a
    pure-Python build without PyYAML) or it was made from another text (the lexicon edited since)."""
    try:
        record = pickle.loads(stored.read_bytes())
    except Exception:  # missing, truncated or from another build: parse the text instead
        return None
    if not isinstance(record, dict) or record.get("source") != _digest(raw):
        return None
    return record.get("lexicon")


def _parse_yaml(raw: bytes, path: Path) -> Any:
    import yaml  # only here: the packaged lexicon is normally parsed at build time (load_lexicon)

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LexiconError(f"lexicon {path} is not UTF-8 text: {exc}") from None
    try:
        # libyaml's loader parses the lexicon about 8x faster than the pure-Python one; same result, the
        # pure loader is the fallback.
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise LexiconError(f"lexicon {path} is not valid YAML: {exc}") from None


@functools.lru_cache(maxsize=8)
def load_scorer(path: Path | None = None) -> Scorer:
    """The scorer for a lexicon file, compiled once per path and process."""
    lexicon_path = Path(path) if path else DEFAULT_LEXICON
    # Parsing and compiling build tens of thousands of objects and no garbage: the cyclic collector's
    # passes over them were a tenth of the compile (start-up of every `escalation score` process).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return Scorer(load_lexicon(lexicon_path), str(lexicon_path))
    finally:
        if collecting:
            gc.enable()
