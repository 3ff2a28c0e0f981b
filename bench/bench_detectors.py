"""Compare the spike detectors (median/MAD vs EWMA) on simulated actor series with known spikes.

Not a test: prints, per detector and actor profile, the share of spikes caught within one day, the
mean detection delay, the share caught when an earlier burst sits inside the baseline window, and
false alerts per actor-year on spike-free noise, and the false pages once those alerts are folded
into incidents (pipeline.incidents with the settings of live detection: a page when an incident
opens at warning or higher, again only when it gets worse). It runs the production detector
(``pipeline.detector``, through ``simulate.alert_days``) with the default parameters: the article and
source gates, the baseline window and guard, and the cooldown are those of live detection.
``--no-gates`` drops the article/source gates (min_articles = min_sources = 0) to measure the
statistics alone. Rows "index ..." are the index ranking (the escalation index and count against
28 days, the production ranking before issue 15's ranking work); "mass" is the default ranking
(distinct texts, material over rhetoric, sqrt(outlets), 90-day history, coverage-aware outlet gate).

    .venv/bin/python bench/bench_detectors.py [--actors 200] [--seed 7] [--no-gates]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from pipeline import incidents
from pipeline.alerts import incident_params
from pipeline.config import DetectionParams
from pipeline.detector import detect_actor
from pipeline.simulate import SIMULATION_START, ActorProfile, Spike, alert_days, simulate

PROFILES = {
    "major (40 sent/day)": ActorProfile(mean_sentences=40, dispersion=3.0),
    "mid (8 sent/day)": ActorProfile(mean_sentences=8, dispersion=1.5),
    "minor (1.5 sent/day, 40% silent)": ActorProfile(mean_sentences=1.5, dispersion=0.8, zero_share=0.4),
}
WARMUP = 40  # days before anything is scored, so every actor has a full baseline window
YEAR = 365


def spike_trials(
    rng: np.random.Generator,
    profile: ActorProfile,
    params: DetectionParams,
    actors: int,
    burst_before: bool,
    volume_factor: float = 3.0,
) -> tuple[float, float]:
    """(share detected on the spike's first or second day, mean delay in days of those detected)."""
    caught, delays = 0, []
    for _ in range(actors):
        start = WARMUP + int(rng.integers(0, 60))
        spikes = [Spike(day=start, volume_factor=volume_factor, length_days=2)]
        if burst_before:  # an earlier surge of the same size inside the baseline window
            spikes.insert(0, Spike(day=start - 10, volume_factor=volume_factor, length_days=2))
        series = simulate(rng, start + 5, profile, spikes)
        fired = [d for d in alert_days(series, params) if start <= d <= start + 1]
        if fired:
            caught += 1
            delays.append(min(fired) - start)
    return caught / actors, (sum(delays) / len(delays)) if delays else float("nan")


def false_alerts_per_actor_year(
    rng: np.random.Generator, profile: ActorProfile, params: DetectionParams, actors: int
) -> tuple[float, float, float]:
    """(alerts of any severity, alerts of warning and up, incident pages) per actor-year of
    spike-free noise; the incident pages are those of live detection's fold of the same alerts."""
    alerts = paging = pages = 0
    fold_params = incident_params(params)
    for _ in range(actors):
        series = simulate(rng, WARMUP + YEAR, profile)
        rows = series.day_rows()
        found = detect_actor("SIM", rows, SIMULATION_START, rows, "escalation", params).candidates
        by_day: dict = {}
        for c in found:
            if (c.day - SIMULATION_START).days >= WARMUP:
                alerts += 1
                paging += c.severity != "watch"
                by_day.setdefault(c.day, []).append(
                    incidents.Candidate(c.day, "SIM", "escalation", c.severity, c.surprise)
                )
        pages += len(incidents.fold(by_day, fold_params).pages) if by_day else 0
    return alerts / actors, paging / actors, pages / actors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actors", type=int, default=200, help="simulated actors per cell")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-gates", action="store_true", help="drop the article and source gates")
    args = parser.parse_args()
    base = DetectionParams(min_articles=0, min_sources=0) if args.no_gates else DetectionParams()
    detectors = {
        "index median/MAD": replace(base, ranking="index", detector="mad"),
        "index EWMA 0.2": replace(base, ranking="index", detector="ewma", ewma_lambda=0.2),
        "mass": replace(base, ranking="mass"),
    }
    started = time.perf_counter()
    print(
        f"{args.actors} actors per cell, seed {args.seed}; a spike = volume x3 (or x5) and a 45% escalatory "
        f"share for 2 days; thresholds watch {base.watch} / warning {base.warning} / critical {base.critical}, "
        f"floors {base.spread_floor} index points / {base.count_spread_floor} sentences, window "
        f"{base.baseline_days} d, guard {base.guard_days} d, cooldown {base.cooldown_days} d, gates "
        f"{base.min_articles} articles / {base.min_sources} sources a day (index); mass: window "
        f"{base.mass_baseline_days} d, floor {base.mass_spread_floor}, rhetoric weight {base.rhetoric_weight}, "
        f"min mass {base.min_mass}, outlets >= max(1, round({base.outlet_share} x active outlets))"
    )
    print(
        f"{'profile':38} {'detector':18} {'x3 <=1d':>8} {'delay':>6} {'x3 burst':>9} {'x5 <=1d':>8} "
        f"{'false/yr':>9} {'paging/yr':>10} {'pages/yr':>9}"
    )
    for profile_name, profile in PROFILES.items():
        for detector_name, params in detectors.items():
            rng = np.random.default_rng(args.seed)  # same series for both detectors
            caught, delay = spike_trials(rng, profile, params, args.actors, burst_before=False)
            caught_after_burst, _ = spike_trials(rng, profile, params, args.actors, burst_before=True)
            caught_x5, _ = spike_trials(rng, profile, params, args.actors, False, volume_factor=5.0)
            false_rate, paging_rate, page_rate = false_alerts_per_actor_year(rng, profile, params, args.actors)
            print(
                f"{profile_name:38} {detector_name:18} {caught:8.1%} {delay:6.2f} {caught_after_burst:9.1%} "
                f"{caught_x5:8.1%} {false_rate:9.2f} {paging_rate:10.2f} {page_rate:9.2f}"
            )
    print(f"({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
