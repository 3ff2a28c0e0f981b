"""Signals stage: daily time series per actor (and for all articles, actor 'ALL').

For a UTC day d and an actor a, over the sentences of articles published on d that mention a:
    sentences                = n
    escalatory_sentences     = #{score >= ESCALATORY_THRESHOLD}
    deescalatory_sentences   = #{score <= DEESCALATORY_THRESHOLD}
    escalation_index         = 100 * sum(max(score, 0)) / (n + 3)
    deescalation_index       = 100 * sum(max(-score, 0)) / (n + 3)
    articles, sources        = distinct articles, distinct outlets of the feeds that carried them
                               (feeds.outlet = feeds.outlet_key of the feed URL: BBC's world and
                               Middle East feeds are one source)
    max_score                = max(score)
The index is a mean intensity, not a count: a busier news day with the same mix of language does
not rise. The "+ 3" shrinks thin days toward 0, so one angry sentence is not a 100-point day.
The aggregation runs in SQL (GROUP BY, in pipeline/store/signals.py), identically on SQLite and
PostgreSQL.

With them, the ranking measures of the same (day, actor) (table daily_measures), over its
escalatory sentences (score >= ESCALATORY_THRESHOLD) with each distinct text counted once (the same
sentence in several items, a wire copy, is one text: casefolded, whitespace collapsed):
    escalatory_texts    = distinct escalatory texts
    escalatory_outlets  = distinct outlets that carried one (an outlet: the host of its feeds' URLs,
                          feeds.outlet_key, so a publisher's world and regional feeds are one outlet)
    context_texts       = of the texts, those read in a disaster, accident or crime context (a scorer
                          match with a "disaster:", "accident:" or "crime:" modifier: harm without a
                          political perpetrator)
    material_mass       = sum of the highest score of each text outside that context whose matches
                          include a category of kind "material" (pipeline/data/lexicon.yaml: attacks,
                          casualties, mobilisation, seizures of power, ...)
    verbal_mass         = the same for the other texts (only verbal categories: threats, condemnation,
                          rejection, warnings, legal action)
    active_outlets      = outlets with any article that day in the whole corpus (the coverage the
                          detector's outlet gate scales with)
    act_scores          = {material category: the highest score of a text outside that context
                          whose matches include it} (JSON): which kinds of act the actor's day had,
                          for the detector's rare-act path (a seizure of power of an actor that had
                          none for a year)
    pair_masses         = {other actor: [sum of the best scores, distinct outlets] of the material
                          texts outside that context that name both} (JSON; none for ALL, ALL is
                          nobody's partner): who the actor's day was against, for the detector's
                          new-pair path (a pair with a front today and none for months)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from pipeline.config import load_settings
from pipeline.score import LexiconError, load_lexicon
from pipeline.store import Warehouse

SHRINKAGE_SENTENCES = 3  # the "+ 3": pseudo-sentences of score 0 added to every day
CATEGORY_KINDS = ("material", "verbal")


def verbal_categories(lexicon_file: Path) -> frozenset[str]:
    """The lexicon's categories of kind "verbal" (each category says `kind: material | verbal`;
    material when absent); read again when the file changes."""
    try:
        stamp = Path(lexicon_file).stat().st_mtime_ns
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon {lexicon_file}: {exc.strerror or exc}") from None
    return _verbal_categories(Path(lexicon_file), stamp)


@lru_cache(maxsize=8)
def _verbal_categories(lexicon_file: Path, stamp: int) -> frozenset[str]:
    del stamp  # part of the cache key only
    categories = load_lexicon(lexicon_file).get("categories") or {}
    verbal = set()
    for name, spec in categories.items():
        kind = (spec or {}).get("kind", "material")
        if kind not in CATEGORY_KINDS:
            raise LexiconError(f"{lexicon_file}: category {name}: kind must be material or verbal, not {kind!r}")
        if kind == "verbal":
            verbal.add(name)
    return frozenset(verbal)


@dataclass(frozen=True)
class SignalsReport:
    since: date
    until: date
    rows_written: int


def compute_signals(
    warehouse: Warehouse, since: date, until: date, *, lexicon_file: Path | None = None
) -> SignalsReport:
    """Recompute every signal row (and ranking measure row) of [since, until]: delete the range and
    insert it anew, atomically. `lexicon_file` (default: the settings') says which categories are verbal."""
    if since > until:
        raise ValueError(f"since {since} is after until {until}")
    lexicon = Path(lexicon_file) if lexicon_file else load_settings().scoring.lexicon_file
    written = warehouse.recompute_daily_signals(
        since, until, shrinkage=SHRINKAGE_SENTENCES, verbal_categories=verbal_categories(lexicon)
    )
    return SignalsReport(since, until, written)
