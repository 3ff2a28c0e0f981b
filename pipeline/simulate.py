"""Simulated daily signal series with known spikes, to compare and tune spike detectors.

A simulated actor is a stream of daily sentence counts drawn from a negative binomial (news volume is
over-dispersed: quiet days and busy days), with a weekday effect (weekend news is thinner) and, for
minor actors, extra zero days. Each sentence is escalatory with a base probability and then carries a
score in [0.2, 1], so the two measures the detector watches are derived exactly like
``pipeline.signals``: the count of escalatory sentences and the index 100*sum(score)/(n + 3).
The day's sentences come from articles (about 1.5 sentences per article that names the actor, as
measured on RSS titles and teasers) spread over a set of outlets, which gives the article and source
counts the detector's gates read. For the "mass" ranking each escalatory sentence is a distinct text
(no wire copies), a material act with probability ``material_share`` (else verbal), carried by one
of the day's outlets; the corpus has ``outlets`` active outlets every day. A spike multiplies the
volume and raises the escalatory share for one to three days (the material share stays the same). ``alert_days`` runs the production detector (``pipeline.detector``) on a series.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from pipeline.detector import DayRow, DetectionSettings, detect_actor
from pipeline.signals import SHRINKAGE_SENTENCES

# Day 0 of every simulated series: a Monday, so days 5 and 6 of each week are the weekend.
SIMULATION_START = date(2024, 1, 1)


@dataclass(frozen=True)
class ActorProfile:
    mean_sentences: float = 20.0  # mean sentences per day that mention the actor
    dispersion: float = 2.0  # negative binomial shape k: variance = mean + mean^2 / k
    zero_share: float = 0.0  # extra share of days with no coverage at all (minor actors)
    escalatory_share: float = 0.15  # share of sentences that score above the threshold
    weekend_factor: float = 0.6
    sentences_per_article: float = 1.5  # sentences naming the actor per article that names it
    outlets: int = 15  # feeds the articles come from, uniformly (feeds.yaml lists 15)
    material_share: float = 0.5  # of the escalatory sentences, material acts (the rest verbal)


@dataclass(frozen=True)
class Spike:
    day: int
    volume_factor: float = 3.0  # coverage multiplies ...
    escalatory_share: float = 0.45  # ... and turns hostile
    length_days: int = 1


@dataclass
class SimulatedSeries:
    counts: list[float]  # escalatory sentences per day
    index: list[float]  # escalation index per day
    articles: list[int] = field(default_factory=list)  # articles naming the actor per day
    sources: list[int] = field(default_factory=list)  # distinct outlets among them
    spikes: list[Spike] = field(default_factory=list)
    material_mass: list[float] = field(default_factory=list)  # ranking measures (pipeline/signals.py)
    verbal_mass: list[float] = field(default_factory=list)
    escalatory_outlets: list[int] = field(default_factory=list)
    active_outlets: int = 0

    def day_rows(self) -> dict[date, DayRow]:
        """The series as the detector reads it: one row per day from SIMULATION_START."""
        return {
            SIMULATION_START + timedelta(days=day): DayRow(
                SIMULATION_START + timedelta(days=day),
                articles=self.articles[day],
                sources=self.sources[day],
                escalation_index=self.index[day],
                escalatory_sentences=self.counts[day],
                escalatory_texts=int(self.counts[day]),
                escalatory_outlets=self.escalatory_outlets[day] if self.escalatory_outlets else 0,
                material_mass=self.material_mass[day] if self.material_mass else 0.0,
                verbal_mass=self.verbal_mass[day] if self.verbal_mass else 0.0,
                active_outlets=self.active_outlets,
            )
            for day in range(len(self.counts))
        }


def simulate(
    rng: np.random.Generator, days: int, profile: ActorProfile, spikes: list[Spike] | tuple[Spike, ...] = ()
) -> SimulatedSeries:
    spike_at: dict[int, Spike] = {}
    for spike in spikes:
        for offset in range(spike.length_days):
            spike_at[spike.day + offset] = spike
    # Coverage (articles, outlets) and the ranking's material/outlet draws come from their own
    # streams, so the measures of a seed do not depend on them.
    coverage_rng = rng.spawn(1)[0]
    ranking_rng = coverage_rng.spawn(1)[0]
    counts, index, articles, sources = [], [], [], []
    material, verbal, escalatory_outlets = [], [], []
    for day in range(days):
        mean = profile.mean_sentences * (profile.weekend_factor if day % 7 in (5, 6) else 1.0)
        share = profile.escalatory_share
        spike = spike_at.get(day)
        if spike is not None:
            mean *= spike.volume_factor
            share = spike.escalatory_share
        if spike is None and rng.random() < profile.zero_share:
            n = 0
        else:
            k = profile.dispersion
            n = int(rng.negative_binomial(k, k / (k + mean)))
        escalatory = int(rng.binomial(n, share)) if n else 0
        scores = rng.uniform(0.2, 1.0, escalatory) if escalatory else np.zeros(0)
        total = float(scores.sum()) if escalatory else 0.0
        counts.append(float(escalatory))
        index.append(100.0 * total / (n + SHRINKAGE_SENTENCES))
        n_articles = 1 + int(coverage_rng.binomial(n - 1, 1 / profile.sentences_per_article)) if n else 0
        articles.append(n_articles)
        day_outlets = coverage_rng.integers(0, profile.outlets, n_articles).tolist()
        sources.append(len(set(day_outlets)))
        is_material = ranking_rng.random(escalatory) < profile.material_share
        material.append(float(scores[is_material].sum()))
        verbal.append(float(scores[~is_material].sum()))
        carried = ranking_rng.choice(day_outlets, escalatory).tolist() if escalatory else []
        escalatory_outlets.append(len(set(carried)))
    return SimulatedSeries(
        counts, index, articles, sources, list(spikes), material, verbal, escalatory_outlets, profile.outlets
    )


def alert_days(series: SimulatedSeries, params: DetectionSettings) -> dict[int, str]:
    """Day -> severity of the escalation alerts the production detector raises on this series (first
    appearance on day 0): the same gates, baseline, larger-surprise rule and cooldown as live detection."""
    rows = series.day_rows()
    detection = detect_actor("SIM", rows, SIMULATION_START, rows, "escalation", params)
    return {(c.day - SIMULATION_START).days: c.severity for c in detection.candidates}
