"""Live spike detection: reads the signal series from the store, scores each day (pure functions
below), applies the cooldown, stores the alerts with their evidence and hands them to delivery.

Detection, for actor a on day D and each kind (escalation, deescalation), on two measures of the kind
(the index and the count of escalatory/de-escalatory sentences):
  baseline window = the days [D - guard - baseline_days, D - guard), restricted to days since a's first
  appearance, a missing day counting as 0 (silence is a value, not a gap);
  detector "mad" (default): baseline = median(window), spread = max(1.4826 * MAD(window), floor);
  detector "ewma": baseline/spread = exponentially weighted mean/std over the window, spread floored;
  surprise = (value - baseline) / spread; the measure with the larger surprise decides the alert;
  an alert needs surprise >= the 'watch' threshold, at least min_history_days of history,
  min_articles articles and min_sources distinct feeds on D (one article cannot page anyone).
The median/MAD pair ignores a burst inside the window and copes with zero-heavy series (the floor
stops a flat-zero baseline from turning any blip into an infinite z). bench/bench_detectors.py
compares both detectors on simulated series; docs and figures in README "Alerts" and BENCHMARKS.md.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from pipeline.config import DetectionParams
from pipeline.delivery import SEVERITY_RANK, Notifier, deliver_alerts
from pipeline.store import Alert, Warehouse

# kind -> (measure column, spread floor attribute of DetectionParams); the first is the headline measure.
KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "escalation": (("escalation_index", "spread_floor"), ("escalatory_sentences", "count_spread_floor")),
    "deescalation": (
        ("deescalation_index", "spread_floor"),
        ("deescalatory_sentences", "count_spread_floor"),
    ),
}


@dataclass
class DetectReport:
    since: date
    until: date
    mode: str
    alerts: list[Alert] = field(default_factory=list)
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> count this call
    suppressed: int = 0  # spikes inside the cooldown of an alert at least as severe


def _baseline(
    series: dict[date, Any], column: str, day: date, first_seen: date, params: DetectionParams
) -> list[float]:
    end = day - timedelta(days=params.guard_days)
    values = []
    for offset in range(params.baseline_days, 0, -1):
        d = end - timedelta(days=offset)
        if d >= first_seen:
            row = series.get(d)
            values.append(float(row[column]) if row else 0.0)
    return values


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
    history: Sequence[float], value: float, spread_floor: float, params: DetectionParams
) -> tuple:
    if params.detector == "ewma":
        return ewma_surprise(history, value, spread_floor, params.ewma_lambda)
    return robust_surprise(history, value, spread_floor)


def detect_series(
    values: Sequence[float], params: DetectionParams, spread_floor: float | None = None
) -> list[tuple[int, str, float]]:
    """Pure detection over one daily series (index 0 = first appearance), without volume gates or
    cooldown: (day index, severity, surprise) of each day that would alert. Used for simulation."""
    floor = params.spread_floor if spread_floor is None else spread_floor
    found = []
    for day in range(len(values)):
        end = day - params.guard_days
        history = values[max(0, end - params.baseline_days) : max(0, end)]
        if len(history) < params.min_history_days:
            continue
        _, _, surprise = surprise_of(history, values[day], floor, params)
        severity = params.severity(surprise)
        if severity:
            found.append((day, severity, surprise))
    return found


def _score_day(
    series: dict[date, Any], day: date, first_seen: date, kind: str, params: DetectionParams
) -> tuple | None:
    row = series.get(day)
    if row is None or row["articles"] < params.min_articles or row["sources"] < params.min_sources:
        return None
    best = None
    for column, floor_name in KINDS[kind]:
        history = _baseline(series, column, day, first_seen, params)
        if len(history) < params.min_history_days:
            return None  # a new actor: not enough history to call anything a spike
        value = float(row[column])
        baseline, spread, surprise = surprise_of(history, value, getattr(params, floor_name), params)
        if best is None or surprise > best[4]:
            best = (column, value, baseline, spread, surprise)
    column, value, baseline, spread, surprise = best
    severity = params.severity(surprise)
    if severity is None:
        return None
    return severity, value, baseline, spread, surprise, row["articles"], row["sources"], column


def _cooled_down(
    warehouse: Warehouse, actor: str, kind: str, day: date, severity: str, cooldown_days: int
) -> bool:
    """True when an alert of at least this severity fired for actor+kind in the cooldown window."""
    if cooldown_days <= 0:
        return False
    earlier = warehouse.alert_severities(
        actor, kind, day - timedelta(days=cooldown_days), day - timedelta(days=1)
    )
    return repeats_within_cooldown(severity, earlier)


def repeats_within_cooldown(severity: str, earlier: Iterable[str]) -> bool:
    """The cooldown rule: an alert is suppressed when one at least as severe fired in the window
    before it (so a rising severity still re-alerts)."""
    return any(SEVERITY_RANK[s] >= SEVERITY_RANK[severity] for s in earlier)


def detect(
    warehouse: Warehouse,
    since: date,
    until: date,
    params: DetectionParams | None = None,
    *,
    mode: str = "live",
    notifiers: Sequence[Notifier] = (),
) -> DetectReport:
    """Detect spikes on every day of [since, until], store the alerts, deliver pending ones."""
    params = params or DetectionParams()
    if mode not in ("live", "backtest"):
        raise ValueError(f"mode must be 'live' or 'backtest', not {mode!r}")
    report = DetectReport(since, until, mode)
    by_actor = warehouse.signal_rows(since - timedelta(days=params.guard_days + params.baseline_days), until)
    first_seen = warehouse.first_signal_days()
    day = since
    while day <= until:
        for actor, series in sorted(by_actor.items()):
            for kind in KINDS:
                scored = _score_day(series, day, first_seen[actor], kind, params)
                if scored is None:
                    continue
                severity, value, baseline, spread, surprise, n_articles, n_sources, measure = scored
                if _cooled_down(warehouse, actor, kind, day, severity, params.cooldown_days):
                    report.suppressed += 1
                    continue
                evidence = warehouse.top_sentences(
                    day=day, actor=actor, limit=params.evidence_sentences, descending=kind == "escalation"
                )
                alert = Alert(
                    day,
                    actor,
                    kind,
                    severity,
                    value,
                    baseline,
                    spread,
                    surprise,
                    n_articles,
                    n_sources,
                    mode,
                    tuple(evidence),
                    measure,
                )
                alert_id = warehouse.store_alert(alert)
                report.alerts.append(Alert(**{**alert.__dict__, "alert_id": alert_id}))
        day += timedelta(days=1)
    if notifiers and mode == "live":
        report.deliveries = deliver_alerts(warehouse, report.alerts, notifiers, params.notify_min_severity)
    return report
