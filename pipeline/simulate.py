"""Simulated daily signal series with known spikes, to compare and tune spike detectors.

A simulated actor is a stream of daily sentence counts drawn from a negative binomial (news volume is
over-dispersed: quiet days and busy days), with a weekday effect (weekend news is thinner) and, for
minor actors, extra zero days. Each sentence is escalatory with a base probability and then carries a
score in [0.2, 1], so the two measures the detector watches are derived exactly like
``pipeline.signals``: the count of escalatory sentences and the index 100*sum(score)/(n + 3).
A spike multiplies the volume and raises the escalatory share for one to three days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from pipeline.alerts import DetectionParams

INDEX_SMOOTHING = 3  # the "+3" of the signals stage: few sentences cannot make a large index


@dataclass(frozen=True)
class ActorProfile:
    mean_sentences: float = 20.0  # mean sentences per day that mention the actor
    dispersion: float = 2.0  # negative binomial shape k: variance = mean + mean^2 / k
    zero_share: float = 0.0  # extra share of days with no coverage at all (minor actors)
    escalatory_share: float = 0.15  # share of sentences that score above the threshold
    weekend_factor: float = 0.6


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
    spikes: list[Spike] = field(default_factory=list)


def simulate(
    rng: np.random.Generator, days: int, profile: ActorProfile, spikes: list[Spike] | tuple[Spike, ...] = ()
) -> SimulatedSeries:
    spike_at: dict[int, Spike] = {}
    for spike in spikes:
        for offset in range(spike.length_days):
            spike_at[spike.day + offset] = spike
    counts, index = [], []
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
        total = float(rng.uniform(0.2, 1.0, escalatory).sum()) if escalatory else 0.0
        counts.append(float(escalatory))
        index.append(100.0 * total / (n + INDEX_SMOOTHING))
    return SimulatedSeries(counts, index, list(spikes))


def alert_days(series: SimulatedSeries, params: DetectionParams) -> dict[int, str]:
    """Day -> severity of the alerts the detector would raise on this series: either measure may fire
    (the larger surprise wins, as in ``pipeline.alerts``), then the cooldown drops a repeat unless its
    severity is higher. Volume gates (articles, sources) are left out: this measures the detector."""
    from pipeline.alerts import KINDS, detect_series, repeats_within_cooldown

    measures = {"escalation_index": series.index, "escalatory_sentences": series.counts}
    best: dict[int, tuple[float, str]] = {}
    for column, floor_name in KINDS["escalation"]:
        for day, severity, surprise in detect_series(measures[column], params, getattr(params, floor_name)):
            if day not in best or surprise > best[day][0]:
                best[day] = (surprise, severity)
    fired: dict[int, str] = {}
    for day in sorted(best):
        severity = best[day][1]
        if repeats_within_cooldown(
            severity, (fired[d] for d in range(day - params.cooldown_days, day) if d in fired)
        ):
            continue
        fired[day] = severity
    return fired
