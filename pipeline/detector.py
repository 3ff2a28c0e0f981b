"""The one spike detector: a day series in, alert candidates out. Pure: no database, no clock, no I/O.

Live detection, backtests, the simulation and the detector bench all call this module, so every
published detector figure describes the code that pages people.

For actor a on day D and each kind (escalation, de-escalation), on two measures of the kind (the
index and the count of escalatory / de-escalatory sentences, ``KINDS``):
  baseline window = the days [D - guard - baseline_days, D - guard), restricted to days since a's first
  appearance, a missing day counting as 0 (silence is a value, not a gap);
  detector "mad" (default): baseline = median(window), spread = max(1.4826 * MAD(window), floor);
  detector "ewma": baseline/spread = exponentially weighted mean/std over the window, spread floored;
  surprise = (value - baseline) / spread; the measure with the larger surprise decides (the first
  measure on a tie); a candidate needs surprise >= the 'watch' threshold, at least min_history_days of
  history, min_articles articles and min_sources distinct outlets on D (daily_signals.sources: a publisher's
  two feeds are one outlet; one article cannot page anyone);
  the cooldown then suppresses it when an alert at least as severe fired for the same actor and kind
  within cooldown_days before D (so a rising severity still re-alerts).
The median/MAD pair ignores a burst inside the window and copes with zero-heavy series (the floor
stops a flat-zero baseline from turning any blip into an infinite z).

Ranking "mass" (the default) ranks escalation by what an analyst calls news instead, from the
ranking measures (pipeline/signals.py, table daily_measures):
  mass = (material_mass + rhetoric_weight * verbal_mass) * sqrt(max(1, escalatory_outlets)): distinct
  escalatory texts (a wire copy counts once), material acts over rhetoric, disaster/accident context
  left out, corroborated by independent outlets;
  baseline window = the mass on [D - guard - mass_baseline_days, D - guard) since first_seen (a long
  history: an ongoing war covered every day is its own baseline, a break from a long calm is not);
  spread = max(1.4826 * MAD, mass_spread_floor, standard deviation of the window) (an actor that
  flares every few weeks is not news on each flare; one silent for months is);
  gates (coverage-aware, instead of min_articles/min_sources): mass >= min_mass and at least
  max(1, round(outlet_share * active_outlets)) outlets with an escalatory text that day, so a corpus
  of two or three outlets still alerts; and, with mass_index_rise > 0, the day's escalation index
  (a mean intensity, which a heavy day of ordinary coverage does not raise) at least mass_index_rise
  robust spreads (floored by spread_floor) above its median over the same window; severities and
  cooldown as above. De-escalation keeps the index.
  Next to the mass z-score, a rare-act path (with rare_act_categories): a day whose escalatory texts
  outside disaster/accident context carry a grave material act (a category of rare_act_categories,
  by default a seizure of power) at a score of at least rare_act_min_score, of a kind the actor had
  on no day of the rare_act_days before it (since first_seen, no guard band: yesterday's coup makes
  today's no longer new), alerts at 'warning' (measure "rare_act", surprise at least the warning
  threshold) even when its mass is small: a coup reported by one outlet of a thin corpus is news
  although its z against a silent history is 1 or 2. It keeps the outlet gate and the index gate
  but not min_mass (its act score is its floor: one coup headline of a thin corpus is news) nor
  min_history_days (it needs no baseline: a coup in an actor's first week is news); the store counts
  only acts a text asserts (score.asserted_acts: not "reportedly", "will", "demand a coup" or "ten
  years ago"), so one stray word of a quiet actor does not page; the day's mass z decides when it is
  higher. An ongoing war has the act every week, so the path
  never fires for it again.
  A new-pair path (with new_pair on): the day's actor pairs (daily_measures.pair_masses: the other
  actors named in the same escalatory material texts outside disaster/accident/crime context, with
  those texts' summed scores and outlets), each day's pair mass weighed by sqrt(its outlets) like the
  mass. A pair named today by as many outlets as the outlet gate asks, whose weighed pair mass over
  the last new_pair_window_days (today included: a front is reported over a few days in a thin
  corpus) reaches new_pair_min_mass, and whose weighed pair mass over the new_pair_days before that
  window (since first_seen, no guard band) is at most new_pair_prior_ratio times the window's, is a
  new or renewed front: it alerts at 'warning' (measure "new_pair", its partner in
  Candidate.partner) even when both actors' own histories are busy (ratio 0: only a pair silent for
  new_pair_days is new; 0.5: a pair whose last days carry twice its previous weeks is renewed). Its
  floor and outlet gate, on the pair's own texts, stand in for min_mass and the actor's outlet gate
  (a pair's texts are a part of each actor's); it keeps the index gate and min_history_days. The
  pseudo-actor ALL has no pairs and is never a partner. A pair at war for weeks has its window's
  mass in its prior over and over, so it is new once.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from pipeline.actors import ALL_ACTORS
from pipeline.config import SEVERITIES

# kind -> (measure column, spread floor attribute of the detection params); the first is the headline
# measure. The columns are fields of DayRow and of the daily_signals table.
KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "escalation": (("escalation_index", "spread_floor"), ("escalatory_sentences", "count_spread_floor")),
    "deescalation": (
        ("deescalation_index", "spread_floor"),
        ("deescalatory_sentences", "count_spread_floor"),
    ),
}
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class DetectionSettings(Protocol):
    """What the detector reads from the detection parameters (``config.DetectionParams``, which validates them)."""

    @property
    def baseline_days(self) -> int: ...
    @property
    def guard_days(self) -> int: ...
    @property
    def min_articles(self) -> int: ...
    @property
    def min_sources(self) -> int: ...
    @property
    def min_history_days(self) -> int: ...
    @property
    def cooldown_days(self) -> int: ...
    @property
    def watch(self) -> float: ...
    @property
    def warning(self) -> float: ...
    @property
    def critical(self) -> float: ...
    @property
    def spread_floor(self) -> float: ...
    @property
    def count_spread_floor(self) -> float: ...
    @property
    def detector(self) -> str: ...
    @property
    def ewma_lambda(self) -> float: ...
    @property
    def ranking(self) -> str: ...
    @property
    def mass_baseline_days(self) -> int: ...
    @property
    def mass_spread_floor(self) -> float: ...
    @property
    def rhetoric_weight(self) -> float: ...
    @property
    def min_mass(self) -> float: ...
    @property
    def outlet_share(self) -> float: ...
    @property
    def mass_index_rise(self) -> float: ...
    @property
    def rare_act_categories(self) -> tuple[str, ...]: ...
    @property
    def rare_act_days(self) -> int: ...
    @property
    def rare_act_min_score(self) -> float: ...
    @property
    def new_pair(self) -> bool: ...
    @property
    def new_pair_days(self) -> int: ...
    @property
    def new_pair_min_mass(self) -> float: ...
    @property
    def new_pair_window_days(self) -> int: ...
    @property
    def new_pair_prior_ratio(self) -> float: ...


def severity_of(surprise: float, params: DetectionSettings) -> str | None:
    """The highest severity whose threshold `surprise` reaches, or None below 'watch'."""
    if surprise >= params.critical:
        return "critical"
    if surprise >= params.warning:
        return "warning"
    if surprise >= params.watch:
        return "watch"
    return None


@dataclass(frozen=True)
class DayRow:
    """One actor's signals on one day (the daily_signals columns the detector reads)."""

    day: date
    articles: int
    sources: int
    escalation_index: float = 0.0
    deescalation_index: float = 0.0
    escalatory_sentences: float = 0.0
    deescalatory_sentences: float = 0.0
    # ranking measures (daily_measures)
    escalatory_texts: int = 0
    escalatory_outlets: int = 0
    material_mass: float = 0.0
    verbal_mass: float = 0.0
    context_texts: int = 0
    active_outlets: int = 0
    # (material category, best score of a text outside disaster context carrying it), sorted
    acts: tuple[tuple[str, float], ...] = ()
    # (partner actor, pair mass, pair outlets) of the material texts outside context naming both, sorted
    pairs: tuple[tuple[str, float, int], ...] = ()

    def act_score(self, category: str) -> float:
        """The best score of the day's texts carrying this kind of act (0 when none did)."""
        return next((score for name, score in self.acts if name == category), 0.0)

    def measure(self, column: str) -> float:
        return float(getattr(self, column))

    def mass(self, rhetoric_weight: float) -> float:
        """Distinct escalatory texts' scores, material acts over rhetoric, by sqrt(outlets)."""
        weighted = self.material_mass + rhetoric_weight * self.verbal_mass
        return weighted * math.sqrt(max(1, self.escalatory_outlets))


def day_row(day: date, row: Mapping[str, object]) -> DayRow:
    """A stored signal row (daily_signals with its daily_measures columns; missing ones are 0) as the
    detector reads it."""

    def number(name: str) -> float:
        value = row.get(name)
        return float(value) if value is not None else 0.0  # type: ignore[arg-type]

    return DayRow(
        day,
        articles=int(number("articles")),
        sources=int(number("sources")),
        escalation_index=number("escalation_index"),
        deescalation_index=number("deescalation_index"),
        escalatory_sentences=number("escalatory_sentences"),
        deescalatory_sentences=number("deescalatory_sentences"),
        escalatory_texts=int(number("escalatory_texts")),
        escalatory_outlets=int(number("escalatory_outlets")),
        material_mass=number("material_mass"),
        verbal_mass=number("verbal_mass"),
        context_texts=int(number("context_texts")),
        active_outlets=int(number("active_outlets")),
        acts=_acts(row.get("act_scores")),
        pairs=_pairs(row.get("pair_masses")),
    )


def _stored_mapping(value: object, column: str, shape: str) -> Mapping[object, object]:
    """A JSON column of daily_measures as the store gives it (a dict) or as stored (its text; none: {})."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, Mapping):
        raise ValueError(f"{column} must be a mapping of {shape}, not {value!r}")
    return value


def _pairs(value: object) -> tuple[tuple[str, float, int], ...]:
    """daily_measures.pair_masses (a dict of partner to [mass, outlets], or its JSON text) as DayRow.pairs."""
    out = []
    for partner, cell in _stored_mapping(value, "pair_masses", "partner to [mass, outlets]").items():
        if not isinstance(cell, Sequence) or isinstance(cell, str) or len(cell) != 2:
            raise ValueError(f"pair_masses of {partner!r} must be [mass, outlets], not {cell!r}")
        out.append((str(partner), float(cell[0]), int(cell[1])))
    return tuple(sorted(out))


def _acts(value: object) -> tuple[tuple[str, float], ...]:
    """daily_measures.act_scores (a dict, or its JSON text) as DayRow.acts."""
    acts = _stored_mapping(value, "act_scores", "category to score")
    return tuple(sorted((str(k), float(v)) for k, v in acts.items()))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Candidate:
    """A day that alerts after the gates and the cooldown; `measure` is the column that decided it."""

    day: date
    actor: str
    kind: str
    severity: str
    value: float
    baseline: float
    spread: float
    surprise: float
    articles: int
    sources: int
    measure: str
    partner: str | None = None  # the other actor of a new pair (measure "new_pair")


@dataclass(frozen=True)
class Detection:
    candidates: tuple[Candidate, ...]
    suppressed: int  # spikes inside the cooldown of an alert at least as severe


def robust_surprise(
    history: Sequence[float], value: float, spread_floor: float
) -> tuple[float, float, float]:
    """(baseline, spread, surprise): median, floored 1.4826*MAD, and the robust z of `value`."""
    baseline = statistics.median(history)
    mad = statistics.median(abs(v - baseline) for v in history)
    spread = max(1.4826 * mad, spread_floor)
    return baseline, spread, (value - baseline) / spread


def ewma_surprise(
    history: Sequence[float], value: float, spread_floor: float, lam: float = 0.2
) -> tuple[float, float, float]:
    """(baseline, spread, surprise) from an exponentially weighted mean and variance of `history`
    (oldest first, weight lam on the newest day), spread floored like the robust detector."""
    mean, var = float(history[0]), 0.0
    for x in history[1:]:
        diff = x - mean
        step = lam * diff
        mean += step
        var = (1 - lam) * (var + diff * step)
    spread = max(math.sqrt(var), spread_floor)
    return mean, spread, (value - mean) / spread


def surprise_of(
    history: Sequence[float], value: float, spread_floor: float, params: DetectionSettings
) -> tuple[float, float, float]:
    """(baseline, spread, surprise) of `value` against `history` with the configured detector."""
    if params.detector == "ewma":
        return ewma_surprise(history, value, spread_floor, params.ewma_lambda)
    return robust_surprise(history, value, spread_floor)


def baseline_window(
    series: Mapping[date, DayRow], column: str, day: date, first_seen: date, params: DetectionSettings
) -> list[float]:
    """The measure on the days [day - guard - baseline_days, day - guard) since first_seen, oldest
    first; a day without a row counts as 0."""
    end = day.toordinal() - params.guard_days
    start = max(end - params.baseline_days, first_seen.toordinal())
    values = []
    for ordinal in range(start, end):
        row = series.get(date.fromordinal(ordinal))
        values.append(float(getattr(row, column)) if row else 0.0)
    return values


MASS_MEASURE = "escalation_mass"
RARE_ACT_MEASURE = "rare_act"  # a grave act of a kind the actor had not had for rare_act_days
RARE_ACT_SEVERITY = "warning"  # a rare grave act pages (the default paging severity)
NEW_PAIR_MEASURE = "new_pair"  # a pair with a front these days and little of one in the weeks before
NEW_PAIR_SEVERITY = "warning"  # a new front pages, as a rare act does
# The measures whose alert value is the day's escalation mass (a rare act's and a new pair's too).
MASS_VALUED_MEASURES = frozenset({MASS_MEASURE, RARE_ACT_MEASURE, NEW_PAIR_MEASURE})


def measure_label(measure: str) -> str:
    """How a person reads an alert's measure (a rare act's value is the day's escalation mass)."""
    if measure == RARE_ACT_MEASURE:
        return "rare grave act, escalation mass"
    if measure == NEW_PAIR_MEASURE:
        return "new actor pair, escalation mass"
    return measure.replace("_", " ")


def outlets_needed(active_outlets: int, params: DetectionSettings) -> int:
    """The coverage-aware outlet gate: max(1, round(outlet_share * outlets active that day))."""
    return max(1, round(params.outlet_share * max(1, active_outlets)))


def score_mass_day(
    actor: str, series: Mapping[date, DayRow], day: date, first_seen: date, params: DetectionSettings
) -> Candidate | None:
    """The escalation candidate of the "mass" ranking on `day` before the cooldown, or None."""
    row = series.get(day)
    if row is None:
        return None
    value = row.mass(params.rhetoric_weight)
    # the mass path's gates; a rare act needs only the outlets (its act score is its floor), and a new
    # pair has its own floor and outlet gate on the pair's texts
    few_outlets = row.escalatory_outlets < outlets_needed(row.active_outlets, params)
    if few_outlets and not params.new_pair:
        return None
    gated = few_outlets or value < params.min_mass
    end = day.toordinal() - params.guard_days
    start = max(end - params.mass_baseline_days, first_seen.toordinal())
    history = []
    for ordinal in range(start, end):
        past = series.get(date.fromordinal(ordinal))
        history.append(past.mass(params.rhetoric_weight) if past else 0.0)
    # A surprise needs a baseline; a rare act does not (it asks the act's own history), so a coup in an
    # actor's first week still alerts.
    short = len(history) < params.min_history_days
    window = history or [0.0]  # the actor's first day: no history, a silent one
    baseline, spread, _ = robust_surprise(window, value, params.mass_spread_floor)
    spread = max(spread, statistics.pstdev(window))
    surprise = (value - baseline) / spread
    severity = None if gated or short else severity_of(surprise, params)
    measure = MASS_MEASURE
    below = severity is None or SEVERITY_RANK[severity] < SEVERITY_RANK[RARE_ACT_SEVERITY]
    if below and not few_outlets and rare_act(series, day, first_seen, params):
        # the act's kind, not the day's volume, makes it news: it stands at the paging threshold
        severity, measure = RARE_ACT_SEVERITY, RARE_ACT_MEASURE
        surprise = threshold_of(RARE_ACT_SEVERITY, params)
    partner = None
    below = severity is None or SEVERITY_RANK[severity] < SEVERITY_RANK[NEW_PAIR_SEVERITY]
    if below and not short and (partner := new_pair(actor, series, day, first_seen, params)) is not None:
        # a new front, not the actors' volume, makes it news (the rare act's reasoning)
        severity, measure = NEW_PAIR_SEVERITY, NEW_PAIR_MEASURE
        surprise = threshold_of(NEW_PAIR_SEVERITY, params)
    if severity is None:
        return None
    if params.mass_index_rise > 0:
        index_history = [
            series[d].escalation_index if d in series else 0.0
            for d in (date.fromordinal(o) for o in range(start, end))
        ]
        _, _, index_rise = robust_surprise(index_history or [0.0], row.escalation_index, params.spread_floor)
        if index_rise < params.mass_index_rise:
            return None  # more coverage, not a more hostile one
    return Candidate(
        day, actor, "escalation", severity, value, baseline, spread, surprise, row.articles,
        row.escalatory_outlets, measure, partner,
    )


def history_days(params: DetectionSettings) -> int:
    """How many days before the first detected day the detector reads: the baselines before the guard
    band, and the rare-act and new-pair histories (no guard band) when those paths are on. A live run
    of one day that loads this much decides as a backtest over every day does."""
    return max(
        params.guard_days + max(params.baseline_days, params.mass_baseline_days),
        params.rare_act_days if params.rare_act_categories else 0,
        params.new_pair_days + params.new_pair_window_days - 1 if params.new_pair else 0,
    )


def threshold_of(severity: str, params: DetectionSettings) -> float:
    """The surprise threshold of a severity."""
    return float(getattr(params, severity))


def rare_act(series: Mapping[date, DayRow], day: date, first_seen: date, params: DetectionSettings) -> bool:
    """Whether `day` carries a grave act (a category of rare_act_categories at rare_act_min_score or
    more) that the actor had on no day of the rare_act_days before it (since first_seen)."""
    row = series.get(day)
    if row is None or not params.rare_act_categories:
        return False
    fresh = [c for c in params.rare_act_categories if row.act_score(c) >= params.rare_act_min_score]
    if not fresh:
        return False
    start = max(day.toordinal() - params.rare_act_days, first_seen.toordinal())
    for ordinal in range(start, day.toordinal()):
        past = series.get(date.fromordinal(ordinal))
        if past is not None:
            fresh = [c for c in fresh if past.act_score(c) < params.rare_act_min_score]
            if not fresh:
                return False
    return True


def new_pair(
    actor: str, series: Mapping[date, DayRow], day: date, first_seen: date, params: DetectionSettings
) -> str | None:
    """The strongest partner of `actor` on `day` that forms a new or renewed front (see the module
    doc), or None."""
    row = series.get(day)
    if row is None or not params.new_pair or actor == ALL_ACTORS:
        return None
    needed = outlets_needed(row.active_outlets, params)
    today = [p for p, _, outlets in row.pairs if p not in (actor, ALL_ACTORS) and outlets >= needed]
    if not today:
        return None
    window_start = day.toordinal() - params.new_pair_window_days + 1
    recent = _pair_weights(series, today, window_start, day.toordinal() + 1)
    fresh = {p: mass for p, mass in recent.items() if mass >= params.new_pair_min_mass}
    if not fresh:
        return None
    prior_start = max(window_start - params.new_pair_days, first_seen.toordinal())
    prior = _pair_weights(series, fresh, prior_start, window_start)
    new = [p for p in fresh if prior[p] <= params.new_pair_prior_ratio * fresh[p]]
    return max(new, key=lambda p: (fresh[p], p)) if new else None


def _pair_weights(
    series: Mapping[date, DayRow], partners: Iterable[str], start: int, end: int
) -> dict[str, float]:
    """Each partner's pair mass by sqrt(its outlets), as the mass weighs outlets, summed over the days
    [start, end) (ordinals)."""
    totals = dict.fromkeys(partners, 0.0)
    for ordinal in range(start, end):
        past = series.get(date.fromordinal(ordinal))
        if past is None:
            continue
        for partner, mass, outlets in past.pairs:
            if partner in totals:
                totals[partner] += mass * math.sqrt(max(1, outlets))
    return totals


def score_day(
    actor: str,
    series: Mapping[date, DayRow],
    day: date,
    first_seen: date,
    kind: str,
    params: DetectionSettings,
) -> Candidate | None:
    """The candidate of actor+kind on `day` before the cooldown, or None (gated, too little history,
    or below the watch threshold)."""
    if kind == "escalation" and params.ranking == "mass":
        return score_mass_day(actor, series, day, first_seen, params)
    row = series.get(day)
    if row is None or row.articles < params.min_articles or row.sources < params.min_sources:
        return None
    best: tuple[str, float, float, float, float] | None = None
    for column, floor_name in KINDS[kind]:
        history = baseline_window(series, column, day, first_seen, params)
        if len(history) < params.min_history_days:
            return None  # a new actor: not enough history to call anything a spike
        value = row.measure(column)
        baseline, spread, surprise = surprise_of(history, value, getattr(params, floor_name), params)
        if best is None or surprise > best[4]:
            best = (column, value, baseline, spread, surprise)
    assert best is not None  # every kind has at least one measure
    column, value, baseline, spread, surprise = best
    severity = severity_of(surprise, params)
    if severity is None:
        return None
    return Candidate(
        day, actor, kind, severity, value, baseline, spread, surprise, row.articles, row.sources, column
    )


def repeats_within_cooldown(severity: str, earlier: Iterable[str]) -> bool:
    """The cooldown rule: an alert is suppressed when one at least as severe fired in the window
    before it (so a rising severity still re-alerts)."""
    return any(SEVERITY_RANK[s] >= SEVERITY_RANK[severity] for s in earlier)


def detect_actor(
    actor: str,
    series: Mapping[date, DayRow],
    first_seen: date,
    days: Iterable[date],
    kind: str,
    params: DetectionSettings,
    earlier: Iterable[tuple[date, str]] = (),
) -> Detection:
    """Candidates of one actor and kind on `days` (scored oldest first).

    `earlier` holds the (day, severity) of alerts already stored for this actor and kind (one per
    day); each candidate counts as an earlier alert for the days after it and replaces a stored alert
    of its own day, exactly as when every alert is stored before the next day is scored."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    fired = dict(earlier)
    candidates: list[Candidate] = []
    suppressed = 0
    for day in sorted(set(days)):
        candidate = score_day(actor, series, day, first_seen, kind, params)
        if candidate is None:
            continue
        window = (fired[d] for d in _cooldown_days(day, params.cooldown_days) if d in fired)
        if repeats_within_cooldown(candidate.severity, window):
            suppressed += 1
            continue
        fired[day] = candidate.severity
        candidates.append(candidate)
    return Detection(tuple(candidates), suppressed)


def detect(
    series_by_actor: Mapping[str, Mapping[date, DayRow]],
    first_seen: Mapping[str, date],
    days: Iterable[date],
    params: DetectionSettings,
    earlier: Mapping[tuple[str, str], Iterable[tuple[date, str]]] | None = None,
) -> Detection:
    """Every actor and kind on `days`: the candidates ordered by day, actor, then kind (as ``KINDS``),
    the order live detection stores them in. `earlier` maps (actor, kind) to its stored alerts."""
    earlier = earlier or {}
    days = sorted(set(days))
    found: list[Candidate] = []
    suppressed = 0
    for actor in sorted(series_by_actor):
        for kind in KINDS:
            result = detect_actor(
                actor,
                series_by_actor[actor],
                first_seen[actor],
                days,
                kind,
                params,
                earlier.get((actor, kind), ()),
            )
            found.extend(result.candidates)
            suppressed += result.suppressed
    kind_order = {kind: i for i, kind in enumerate(KINDS)}
    found.sort(key=lambda c: (c.day, c.actor, kind_order[c.kind]))
    return Detection(tuple(found), suppressed)


def _cooldown_days(day: date, cooldown_days: int) -> list[date]:
    return [day - timedelta(days=back) for back in range(1, cooldown_days + 1)]
