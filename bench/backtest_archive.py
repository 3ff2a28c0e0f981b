"""Backtest alerting on a news archive with known events: does an analyst get paged for the right things?

    .venv/bin/python bench/backtest_archive.py ARCHIVE.jsonl.gz EVENTS.yaml [--db sqlite:///...]
        [--variant NAME ...] [--halves] [--budget] [--list]

(a) imports the archive into the warehouse through `pipeline.archive` (idempotent: a second run
    reuses what is stored), (b) computes daily signals, (c) runs a detector over the whole range and
    folds its candidates into incidents with `pipeline.incidents`, (d) prints, per known escalation of
    EVENTS, whether and on which day it paged, the quiet windows that paged, paged escalation
    incidents per week, and (with --list) every paged incident so a reader can judge them.

Variants (the detector that feeds the incidents):
  production          the production path (`alerts.backtest`, what `escalation backtest` runs) without the
                      disaster/accident share
  production+context  the production path as it pages (disaster/accident-context candidates held back)
  research            the harness's own per-day measure from the stored sentences: an actor's "mass" =
                      the sum of its distinct escalatory sentences' scores (wire copies once; verbal
                      conflict x rhetoric_weight; disaster/accident context and non-news desks left
                      out) x sqrt(distinct outlets); surprise = robust z against the last long_days
                      (silence since the corpus began counts as 0; spread floored, and with `calm` at
                      least the window's standard deviation); a coverage-aware outlet gate; severities
                      from the detection settings; incidents re-page on upgrade_factor x the surprise.
  research-NAME / research+NAME  the same with one feature of `Features` off / on, to measure it.
--halves: the knobs in TUNED are chosen on one calendar year and scored on the other, both ways.
--budget: per research variant, the floor with most events paged at <= 1 paged incident a week over
the whole range (in-sample; it compares features at one paging budget).
EVENTS is YAML like ../shared/data/world_news_2021_2022.events.yaml. An event counts as paged when
an escalation incident involving one of its actors pages (opens, or upgrades) inside its window;
"by a first page" counts only incidents whose first page falls there.

Research only: it reads the warehouse with SQLAlchemy (the store layer should provide these
measures; see NEEDED_MEASURES). Nothing here is a test; it changes only the warehouse it is given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
import yaml

from pipeline import alerts as alerting
from pipeline.actors import ALL_ACTORS, load_gazetteer
from pipeline.archive import import_archive
from pipeline.config import DetectionParams, load_settings
from pipeline.detector import robust_surprise, severity_of
from pipeline.incidents import (
    Candidate,
    Evidence,
    Incident,
    IncidentParams,
    Page,
    Timeline,
    fold,
)
from pipeline.score import ESCALATORY_THRESHOLD, load_scorer
from pipeline.signals import compute_signals
from pipeline.store import Warehouse
from pipeline.store.schema import articles, feeds, sentence_actors, sentences

# What the store/signals layer should give the detector per (day, actor), instead of this harness.
# Since the ranking work of issue 15 the store computes all but the last (daily_measures; counterparts
# per alert from store.incidents) and the production detector's "mass" ranking reads them; the desk
# (the "research-desks" variant) changed nothing on the shared archive, so it was not moved.
NEEDED_MEASURES = (
    "escalatory_texts: distinct escalatory sentence texts (wire copies once)",
    "escalatory_outlets: distinct feeds with an escalatory sentence",
    "material_mass: sum of escalatory sentence scores, rhetoric-only sentences weighted down",
    "context_share: share of escalatory sentences in disaster/accident context",
    "top counterparts: actors co-mentioned in the escalatory sentences, with counts",
    "corpus outlets active on the day (for the coverage-aware gate)",
    "an article's desk (sport, arts, ...) from its URL or feed category, stored on the article",
)

# Scorer categories (pipeline/data/lexicon.yaml) of verbal conflict (CAMEO 09-13, 16); every other
# escalatory category is a material act (attacks, casualties, mobilisation, seizures of power, ...).
# The lexicon carries this as data now (`kind: verbal | material` per category); this copy stays for
# the harness's own measure.
VERBAL_CATEGORIES = frozenset(
    {"threat_ultimatum", "rejection", "investigation_legal", "hostile_rhetoric", "warning_signals"}
)
# Disaster and accident context (research vocabulary: the scorer's perpetrator test, issue 13, should
# own this as lexicon data). A sentence naming one of these stems is context, not an act by someone.
CONTEXT_STEMS = (
    "earthquake", "quake", "tremor", "aftershock", "tsunami", "flood", "eruption", "volcan", "hurricane",
    "typhoon", "cyclone", "tornado", "tropical storm", "winter storm", "snowstorm", "landslide", "mudslide",
    "wildfire", "bushfire", "forest fire", "heatwave", "drought", "avalanche", "derail", "plane crash",
    "air crash", "capsiz", "shipwreck", "stampede", "building collapse", "mine blast", "gas explosion",
    "accident",
)


# -- events -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KnownEvent:
    name: str
    actors: frozenset[str]
    first: date
    last: date


def load_events(path: Path) -> tuple[list[KnownEvent], list[KnownEvent]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))

    def events(rows: Iterable[Mapping]) -> list[KnownEvent]:
        return [
            KnownEvent(r["name"], frozenset(r["actors"]), date.fromisoformat(str(r["first"])),
                       date.fromisoformat(str(r["last"])))
            for r in rows or ()
        ]

    return events(data.get("escalations")), events(data.get("quiet"))


# -- the stored sentences, as the research detector reads them --------------------------------------
@dataclass
class Day:
    """One actor's escalatory evidence of one day."""

    texts: dict[str, tuple[float, bool, bool, int, str, str, str | None, bool]] = field(default_factory=dict)
    # normalised text -> (score, material, context, feed, text, title, url, dyadic); wire copies collapse
    outlets: set[int] = field(default_factory=set)
    articles: set[int] = field(default_factory=set)
    partners: Counter = field(default_factory=Counter)
    sentences: int = 0  # all sentences that mention the actor (escalatory or not)


@dataclass
class Corpus:
    days: dict[str, dict[date, Day]]  # actor -> day -> Day
    outlets_by_day: dict[date, int]  # feeds with any article that day
    feed_names: dict[int, str]
    first: date
    last: date


# Desks whose items are not political news, by the first word-bearing segment of the item's URL path
# (bbc.co.uk/sport/..., cnn.com/2021/02/13/motorsport/..., .../entertainment-arts-123): a "fight back"
# in a cricket report or an "attack" on an umpire's chair is no escalation by anyone.
NON_NEWS_DESKS = frozenset(
    {"sport", "sports", "football", "soccer", "cricket", "tennis", "golf", "rugby", "motorsport", "formula1",
     "olympics", "boxing", "athletics", "cycling", "entertainment", "arts", "culture", "music", "film",
     "movies", "tv", "television", "style", "fashion", "travel", "food", "lifestyle", "books", "games"}
)
_PATH_WORD = re.compile(r"[a-z]+")


def non_news_desk(url: str | None) -> bool:
    if not url:
        return False
    for segment in urlsplit(url).path.lower().split("/"):
        words = _PATH_WORD.findall(segment)
        if not words or segment.isdigit() or segment == "news":
            continue  # a date, an id, or the generic news root (bbc.co.uk/news/entertainment-arts-...)
        return bool(set(segment.split("-")) & NON_NEWS_DESKS)
    return False


def _context(text: str) -> bool:
    lowered = text.casefold()
    return any(stem in lowered for stem in CONTEXT_STEMS)


def load_corpus(warehouse: Warehouse, *, inherit_article_actors: bool = False, desks: bool = True) -> Corpus:
    """Every actor's escalatory evidence per day. With inherit_article_actors, a sentence also counts
    for the actors its article names elsewhere (a teaser under a headline naming the country); with
    desks, items of non-news desks (sport, arts, ...; see NON_NEWS_DESKS) are no escalatory evidence."""
    s, a, sa_ = sentences.c, articles.c, sentence_actors.c
    with warehouse.engine.connect() as conn:
        feed_names = dict(conn.execute(sa.select(feeds.c.feed_id, feeds.c.title)).all())
        outlets_by_day = dict(
            conn.execute(
                sa.select(a.published_day, sa.func.count(sa.distinct(a.feed_id))).group_by(a.published_day)
            ).all()
        )
        actor_rows = conn.execute(sa.select(sa_.sentence_id, sa_.actor)).all()
        rows = conn.execute(
            sa.select(
                s.sentence_id, s.article_id, s.text, s.score, s.matches, a.published_day, a.feed_id, a.title, a.url
            ).join(articles, a.article_id == s.article_id)
        ).all()
    actors_of: dict[int, list[str]] = defaultdict(list)
    for sentence_id, actor in actor_rows:
        actors_of[sentence_id].append(actor)
    article_actors: dict[int, set[str]] = defaultdict(set)
    if inherit_article_actors:
        for sid, article_id, *_ in rows:
            article_actors[article_id].update(actors_of.get(sid, ()))
    days: dict[str, dict[date, Day]] = defaultdict(dict)
    for sid, article_id, text, score, matches, day, feed_id, title, url in rows:
        names = sorted(set(actors_of.get(sid, ())) | article_actors.get(article_id, set()))
        if not names:
            continue
        escalatory = score >= ESCALATORY_THRESHOLD and not (desks and non_news_desk(url))
        if escalatory:
            categories = {m["category"] for m in json.loads(matches) if m["effective_weight"] > 0}
            material = bool(categories - VERBAL_CATEGORIES)
            context = _context(text)
            key = " ".join(text.casefold().split())[:160]
        for actor in names:
            cell = days[actor].get(day)
            if cell is None:
                cell = days[actor][day] = Day()
            cell.sentences += 1
            cell.articles.add(article_id)
            if not escalatory:
                continue
            cell.outlets.add(feed_id)
            previous = cell.texts.get(key)
            if previous is None or score > previous[0]:
                dyadic = len(set(names) - {ALL_ACTORS}) >= 2  # the sentence names both sides
                cell.texts[key] = (score, material, context, feed_id, text, title, url, dyadic)
            for other in names:
                if other != actor:
                    cell.partners[other] += 1
    all_days = [d for series in days.values() for d in series]
    return Corpus(dict(days), outlets_by_day, feed_names, min(all_days), max(all_days))


# -- research detector ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Features:
    """The research detector's features; a variant switches one off (research-NAME) or on (research+NAME)."""

    novelty: bool = True  # long-history baseline (long_days) instead of the 28-day one
    breadth: bool = True  # distinct texts (wire copies once), weighted by sqrt(distinct outlets)
    intensity: bool = True  # rhetoric-only sentences count rhetoric_weight, material acts 1
    coverage: bool = True  # outlets needed scale with the outlets active that day (else 2, as today)
    context: bool = True  # disaster/accident context sentences are not mass; their share is held back
    calm: bool = True  # the spread also remembers sporadic past activity (std), not only the median day
    article_actors: bool = False  # a sentence counts for every actor its article names
    desks: bool = True  # items of non-news desks (sport, arts, ...) are no escalatory evidence
    dyad: bool = False  # sentences naming two actors (one acting on the other) weigh dyad_weight
    upgrade: bool = True  # incidents re-page when the surprise reaches upgrade_factor x the last page's


@dataclass(frozen=True)
class Knobs:
    long_days: int = 90
    short_days: int = 28  # today's baseline_days
    guard_days: int = 1
    rhetoric_weight: float = 0.4
    floor: float = 0.75  # spread floor of the daily mass (about one material headline over a silent actor)
    min_mass: float = 1.0  # mass needed at all
    outlet_share: float = 0.25  # of the day's active outlets that must carry escalatory evidence (at least 1)
    dyad_weight: float = 2.0
    partner_share: float = 0.3  # a counterpart named in this share of the actor's evidence
    min_history_days: int = 5  # days of corpus (not of the actor: silence is history too)


def _mass(cell: Day | None, features: Features, knobs: Knobs) -> float:
    if cell is None:
        return 0.0
    total = 0.0
    for score, material, context, *_, dyadic in cell.texts.values():
        if features.context and context:
            continue  # disaster/accident context is not the actor's escalation
        weight = 1.0 if (material or not features.intensity) else knobs.rhetoric_weight
        if features.dyad and dyadic:
            weight *= knobs.dyad_weight  # "X against Y": an act between two named actors
        total += weight * score
    if features.breadth:
        total *= math.sqrt(max(1, len(cell.outlets)))  # corroboration by independent outlets
    return total


def research_candidates(
    corpus: Corpus, since: date, until: date, features: Features, knobs: Knobs, params: DetectionParams
) -> dict[date, list[Candidate]]:
    out: dict[date, list[Candidate]] = defaultdict(list)
    window = knobs.long_days if features.novelty else knobs.short_days
    for actor, series in corpus.days.items():
        if actor == ALL_ACTORS:
            continue
        first_seen = corpus.first  # silence since the corpus began is history, not a gap
        masses = {d: _mass(cell, features, knobs) for d, cell in series.items()}  # a silent day is 0

        for day in sorted(d for d in series if since <= d <= until):
            cell = series[day]
            value = masses[day]
            if value < knobs.min_mass:
                continue
            active = max(1, corpus.outlets_by_day.get(day, 1))
            needed = max(1, round(knobs.outlet_share * active)) if features.coverage else 2
            if len(cell.outlets) < needed:
                continue
            end = day - timedelta(days=knobs.guard_days)
            history = [
                masses.get(end - timedelta(days=k), 0.0) for k in range(1, window + 1) if end - timedelta(days=k) >= first_seen
            ]
            if len(history) < knobs.min_history_days:
                continue
            baseline, spread, surprise = robust_surprise(history, value, knobs.floor)
            if features.calm:
                # A zero-median actor that flares every few weeks is not news on each flare; one that
                # was silent for months is (a break from a long calm).
                spread = max(spread, statistics.pstdev(history))
                surprise = (value - baseline) / spread
            severity = severity_of(surprise, params)
            if severity is None:
                continue
            texts = list(cell.texts.values())
            context_share = sum(1 for t in texts if t[2]) / len(texts) if features.context and texts else 0.0
            partners = [p for p, n in cell.partners.most_common() if n >= knobs.partner_share * len(texts)]
            evidence = tuple(
                Evidence(text=t[4], title=t[5], url=t[6], outlet=corpus.feed_names.get(t[3], ""), day=day, score=t[0])
                for t in sorted(texts, key=lambda t: -t[0])[:5]
            )
            out[day].append(
                Candidate(day, actor, "escalation", severity, surprise, tuple(partners), context_share,
                          len(cell.articles), len(cell.outlets), evidence)
            )
    return out


# -- the production detector's alerts as candidates -------------------------------------------------
def production_candidates(
    warehouse: Warehouse, corpus: Corpus, since: date, until: date, params: DetectionParams, with_context: bool
) -> dict[date, list[Candidate]]:
    """The production path's candidates (`alerts.backtest`: the detector of live detection, each alert
    with its evidence, counterparts and disaster/accident share from the store), in memory. Without
    `with_context` the disaster share is dropped (to measure what holding it back changes)."""
    del corpus  # the production path reads the store itself
    run = alerting.backtest(warehouse, since, until, params)
    out: dict[date, list[Candidate]] = defaultdict(list)
    for index, alert in enumerate(run.alerts):
        candidate = alerting.candidate_of(alert, index)
        out[alert.day].append(candidate if with_context else replace(candidate, context_share=0.0))
    return out


# -- scoring a timeline against the known events ---------------------------------------------------
@dataclass
class Score:
    caught: list[tuple[KnownEvent, date | None, str]]  # (event, first page in window, "open" | "upgrade")
    quiet_paged: list[tuple[KnownEvent, Incident]]
    paged_incidents: list[Incident]
    weeks: float

    @property
    def hits(self) -> int:
        """Events with a page (an incident's first page, or an upgrade) in their window."""
        return sum(1 for _, day, _ in self.caught if day is not None)

    @property
    def strict_hits(self) -> int:
        """Events whose incident's FIRST page fell in the window (not an upgrade of an older one)."""
        return sum(1 for _, day, reason in self.caught if day is not None and reason == "open")

    @property
    def per_week(self) -> float:
        return len(self.paged_incidents) / self.weeks if self.weeks else 0.0

    def line(self) -> str:
        return (f"{self.hits:2d}/{len(self.caught)} escalations paged in window ({self.strict_hits} by a first "
                f"page), {len(self.quiet_paged)} quiet window(s) paged, {len(self.paged_incidents)} paged "
                f"escalation incidents = {self.per_week:.2f}/week")


def score_timeline(
    timeline: Timeline, escalations: Sequence[KnownEvent], quiet: Sequence[KnownEvent], first: date, last: date
) -> Score:
    pages = sorted((p for p in timeline.pages if p.incident.kind == "escalation" and first <= p.day <= last),
                   key=lambda p: (p.day, p.reason != "open"))
    by_number = {i.number: i for i in timeline.incidents}

    def actors(page: Page) -> frozenset[str]:  # as the incident ended up (it may gain a counterpart later)
        return by_number.get(page.incident.number, page.incident).actors

    caught: list[tuple[KnownEvent, date | None, str]] = []
    for event in escalations:
        if not first <= event.first <= last:
            continue
        hits = [p for p in pages if actors(p) & event.actors and event.first <= p.day <= event.last]
        opening = next((p for p in hits if p.reason == "open"), None)
        page = opening or (hits[0] if hits else None)
        caught.append((event, page.day if page else None, page.reason if page else ""))
    quiet_paged = []
    for event in quiet:
        if not first <= event.first <= last:
            continue
        for page in pages:
            if actors(page) & event.actors and event.first <= page.day <= event.last:
                quiet_paged.append((event, by_number.get(page.incident.number, page.incident)))
                break
    paged_numbers = sorted({p.incident.number for p in pages if p.reason == "open"})
    paged = [by_number[n] for n in paged_numbers if n in by_number]
    return Score(caught, quiet_paged, paged, ((last - first).days + 1) / 7)


def print_score(score: Score, title: str, *, listing: bool) -> None:
    print(f"\n## {title}\n{score.line()}")
    for event, day, reason in score.caught:
        state = f"PAGED {day} ({reason})" if day else "missed"
        print(f"  {state:27s} {event.name} ({'/'.join(sorted(event.actors))}, {event.first}..{event.last})")
    for event, incident in score.quiet_paged:
        top = incident.evidence[0].title if incident.evidence else ""
        print(f"  QUIET PAGED {event.name}: {'/'.join(sorted(incident.actors))} {incident.first_paged} {top[:90]!r}")
    if listing:
        print("  paged incidents (first page, actors, opened, peak severity, alerts, top evidence title):")
        for incident in score.paged_incidents:
            top = incident.evidence[0].title if incident.evidence else ""
            print(f"    {incident.first_paged} {'/'.join(sorted(incident.actors)):14s} opened {incident.opened} "
                  f"{incident.severity:8s} {incident.alerts:3d}  {top[:100]}")


# -- orchestration ---------------------------------------------------------------------------------
FEATURES = tuple(f.name for f in fields(Features))
VARIANTS = ("production", "production+context", "research",
            *(f"research{'+' if not getattr(Features(), f) else '-'}{f.replace('_', '-')}" for f in FEATURES))
# Knobs chosen on one half and checked on the other with --halves (a small grid, nothing per event).
TUNED = {"floor": (0.5, 0.6, 0.75, 1.0), "long_days": (90, 180), "outlet_share": (0.25, 0.5)}
BUDGET_FLOORS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2)


def research_features(variant: str) -> Features:
    """research, research-NAME (feature off), research+NAME (feature on)."""
    rest = variant.removeprefix("research")
    if not rest:
        return Features()
    name = rest[1:].replace("-", "_")
    if rest[0] not in "+-" or name not in FEATURES:
        raise ValueError(f"unknown variant {variant!r}")
    return replace(Features(), **{name: rest[0] == "+"})


class Runner:
    """Runs a variant over the whole range (corpora loaded once per actor attribution)."""

    def __init__(self, warehouse: Warehouse, params: DetectionParams, incident_params: IncidentParams,
                 since: date, until: date):
        self.warehouse, self.params, self.incident_params = warehouse, params, incident_params
        self.since, self.until = since, until
        self._corpora: dict[tuple[bool, bool], Corpus] = {}

    def corpus(self, article_actors: bool = False, desks: bool = True) -> Corpus:
        if (article_actors, desks) not in self._corpora:
            self._corpora[article_actors, desks] = load_corpus(
                self.warehouse, inherit_article_actors=article_actors, desks=desks)
        return self._corpora[article_actors, desks]

    def timeline(self, variant: str, knobs: Knobs) -> Timeline:
        if variant.startswith("production"):
            corpus = self.corpus()
            candidates = production_candidates(self.warehouse, corpus, self.since, self.until, self.params,
                                               variant.endswith("+context"))
            incident_params = self.incident_params
        else:
            features = research_features(variant)
            corpus = self.corpus(features.article_actors, features.desks)
            candidates = research_candidates(corpus, self.since, self.until, features, knobs, self.params)
            incident_params = self.incident_params if features.upgrade else replace(
                self.incident_params, upgrade_factor=None)
        return fold(candidates, incident_params, since=self.since, until=self.until)


def _objective(score: Score) -> tuple:
    """Recall first, then no quiet window paged, then fewer pages (targets: >= 11/13, 0, <= 1/week)."""
    return (score.hits - 3 * len(score.quiet_paged) - 3 * max(0.0, score.per_week - 1.0), -score.per_week)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("archive", type=Path)
    parser.add_argument("events", type=Path)
    parser.add_argument("--db", default="sqlite:///data/backtest_archive.db")
    parser.add_argument("--variant", action="append", choices=VARIANTS)
    parser.add_argument("--halves", action="store_true", help="choose TUNED knobs on one year, score the other")
    parser.add_argument("--list", action="store_true", help="list every paged incident")
    parser.add_argument("--budget", action="store_true",
                        help="per research variant, the floor of BUDGET_FLOORS with most events paged at <= 1 "
                             "paged incident a week over the whole range (in-sample: compares features at one budget)")
    parser.add_argument("--quiet-days", type=int, default=IncidentParams().quiet_days)
    args = parser.parse_args(argv)

    settings = load_settings()
    if args.db.startswith("sqlite:///"):
        Path(args.db.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    warehouse = Warehouse.from_url(args.db)
    warehouse.init_schema()
    started = time.perf_counter()
    imported = import_archive(args.archive, warehouse, load_scorer(settings.scoring.lexicon_file),
                              load_gazetteer(settings.scoring.gazetteer_file))
    print(f"import: {imported.items} items, {imported.new_articles} new articles "
          f"({time.perf_counter() - started:.1f} s)")
    if not imported.first_day or not imported.last_day:
        print("nothing to backtest: the archive has no items", file=sys.stderr)
        return 2
    since, until = date.fromisoformat(imported.first_day), date.fromisoformat(imported.last_day)
    compute_signals(warehouse, since, until)
    escalations, quiet = load_events(args.events)
    params = settings.detection
    incident_params = IncidentParams(quiet_days=args.quiet_days, page_severity=params.notify_min_severity)
    runner = Runner(warehouse, params, incident_params, since, until)
    print(f"range {since} .. {until}; paging severity {incident_params.page_severity}, incident quiet spell "
          f"{incident_params.quiet_days} days, upgrade factor {incident_params.upgrade_factor}; knobs {Knobs()}")
    halves = [(max(date(y, 1, 1), since), min(date(y, 12, 31), until)) for y in range(since.year, until.year + 1)]
    for variant in args.variant or VARIANTS:
        timeline = runner.timeline(variant, Knobs())
        print_score(score_timeline(timeline, escalations, quiet, since, until), f"{variant}: whole range",
                    listing=args.list)
        for first, last in halves:
            print(f"   {first.year}: {score_timeline(timeline, escalations, quiet, first, last).line()}")
        if args.budget and variant.startswith("research"):
            best_floor, best = None, None
            for floor in BUDGET_FLOORS:
                s = score_timeline(runner.timeline(variant, replace(Knobs(), floor=floor)), escalations, quiet,
                                   since, until)
                if s.per_week <= 1.0 and (best is None or (s.hits, -s.per_week) > (best.hits, -best.per_week)):
                    best_floor, best = floor, s
            if best is not None:
                missed = ", ".join(e.name for e, day, _ in best.caught if day is None)
                print(f"   at <= 1/week (floor {best_floor}): {best.line()}; missed: {missed}")
        if args.halves and variant.startswith("research"):
            for fit, check in itertools.permutations(halves, 2):
                best, best_knobs = None, Knobs()
                for values in itertools.product(*TUNED.values()):
                    trial = replace(Knobs(), **dict(zip(TUNED, values, strict=True)))
                    s = score_timeline(runner.timeline(variant, trial), escalations, quiet, *fit)
                    if best is None or _objective(s) > _objective(best):
                        best, best_knobs = s, trial
                held = score_timeline(runner.timeline(variant, best_knobs), escalations, quiet, *check)
                chosen = {k: getattr(best_knobs, k) for k in TUNED}
                print(f"   chosen on {fit[0].year} {chosen}: {best.line()}")
                print(f"     checked on {check[0].year}: {held.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
