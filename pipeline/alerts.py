"""Live spike detection: the store gives the daily signal series and the alerts already stored in
the cooldown window, the pure detector (pipeline/detector.py, where the rules are documented)
decides, the store keeps the alerts with their evidence sentences, and delivery sends them.
Backtests are the same run over past days (mode "backtest": stored, never pushed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from pipeline.config import DetectionParams
from pipeline.delivery import Notifier, deliver_alerts
from pipeline.detector import DayRow
from pipeline.detector import detect as find_candidates
from pipeline.store import Alert, Warehouse
from pipeline.store.runs import INTERRUPTED

MODES = ("live", "backtest")


@dataclass
class DetectReport:
    since: date
    until: date
    mode: str
    alerts: list[Alert] = field(default_factory=list)
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> count this call
    suppressed: int = 0  # spikes inside the cooldown of an alert at least as severe


def day_rows(rows: Mapping[date, Mapping[str, Any]]) -> dict[date, DayRow]:
    """One actor's stored signal rows as the detector reads them."""
    return {
        day: DayRow(
            day,
            articles=int(row["articles"]),
            sources=int(row["sources"]),
            escalation_index=float(row["escalation_index"]),
            deescalation_index=float(row["deescalation_index"]),
            escalatory_sentences=float(row["escalatory_sentences"]),
            deescalatory_sentences=float(row["deescalatory_sentences"]),
        )
        for day, row in rows.items()
    }


def detect(
    warehouse: Warehouse,
    since: date,
    until: date,
    params: DetectionParams | None = None,
    *,
    mode: str = "live",
    notifiers: Sequence[Notifier] = (),
) -> DetectReport:
    """Detect spikes on every day of [since, until], store the alerts, deliver pending ones (live only)."""
    params = params or DetectionParams()
    if mode not in MODES:
        raise ValueError(f"mode must be 'live' or 'backtest', not {mode!r}")
    report = DetectReport(since, until, mode)
    history_start = since - timedelta(days=params.guard_days + params.baseline_days)
    series = {actor: day_rows(rows) for actor, rows in warehouse.signal_rows(history_start, until).items()}
    earlier = (
        warehouse.alert_history(since - timedelta(days=params.cooldown_days), until)
        if params.cooldown_days > 0
        else {}
    )
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    found = find_candidates(series, warehouse.first_signal_days(), days, params, earlier)
    report.suppressed = found.suppressed
    for candidate in found.candidates:  # by day, actor, kind: the order they were always stored in
        evidence = warehouse.top_sentences(
            day=candidate.day,
            actor=candidate.actor,
            limit=params.evidence_sentences,
            descending=candidate.kind == "escalation",
        )
        alert = Alert(
            candidate.day,
            candidate.actor,
            candidate.kind,
            candidate.severity,
            candidate.value,
            candidate.baseline,
            candidate.spread,
            candidate.surprise,
            candidate.articles,
            candidate.sources,
            mode,
            tuple(evidence),
            candidate.measure,
        )
        report.alerts.append(replace(alert, alert_id=warehouse.store_alert(alert)))
    if notifiers and mode == "live":
        report.deliveries = deliver_alerts(warehouse, report.alerts, notifiers, params.notify_min_severity)
    return report


def detect_leaving_pending(
    warehouse: Warehouse,
    since: date,
    until: date,
    params: DetectionParams,
    *,
    mode: str,
    notifiers: Sequence[Notifier] = (),
) -> DetectReport:
    """`detect`, for `escalation detect`: stopped by SIGINT/SIGTERM while detecting live days with
    channels, it leaves an interrupted run holding the range, so the next `escalation run` detects
    those days again and delivers what was not delivered (with the configured parameters)."""
    try:
        return detect(warehouse, since, until, params, mode=mode, notifiers=notifiers)
    except KeyboardInterrupt:
        if mode == "live" and notifiers:
            days = [(since + timedelta(days=i)).isoformat() for i in range((until - since).days + 1)]
            run_id = warehouse.start_run("cli-detect", {"since": since, "until": until})
            warehouse.finish_run(run_id, INTERRUPTED, {}, details={"pending": {"days": days, "notify": True}})
        raise
