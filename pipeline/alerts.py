"""Live spike detection and incidents: the store gives the daily signal series and the alerts already
stored in the cooldown window, the pure detector (pipeline/detector.py, where the rules are
documented) decides, the store keeps the alerts with their evidence, the pure incident logic
(pipeline/incidents.py) folds the stored alerts into incidents, and delivery pages people when an
incident opens at or above the paging severity or gets worse. Every alert still goes to the log.

Backtests are the same run over past days (mode "backtest": stored, never pushed); `backtest` runs
it in memory over stored history (nothing written) for `escalation backtest`.

Incidents of a mode are refolded from all its stored alerts on every run (live incidents from live
alerts, backtest ones from every alert), so a re-run of the same days leaves the same incidents and
pages; only the pages of the run's own days are delivered, so a first run on a warehouse with old
alerts records their incidents without paging anyone for the past.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from pipeline import incidents as folding
from pipeline import interrupts
from pipeline.clock import today_utc
from pipeline.config import GRAVE_ACT_PAGE, DetectionParams
from pipeline.delivery import Notifier, deliver, deliver_pages
from pipeline.detector import RARE_ACT_MEASURE, DayRow, day_row, history_days, measure_label
from pipeline.detector import detect as find_candidates
from pipeline.store import Alert, IncidentPage, StoredIncident, Warehouse
from pipeline.store.runs import INTERRUPTED

MODES = ("live", "backtest")


@dataclass
class DetectReport:
    since: date
    until: date
    mode: str
    alerts: list[Alert] = field(default_factory=list)
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> count this call (alerts and pages)
    suppressed: int = 0  # spikes inside the cooldown of an alert at least as severe
    incidents: list[StoredIncident] = field(default_factory=list)  # of the mode, active in the range
    pages: list[IncidentPage] = field(default_factory=list)  # pages of the range's days


def day_rows(rows: Mapping[date, Mapping[str, Any]]) -> dict[date, DayRow]:
    """One actor's stored signal rows as the detector reads them."""
    return {day: day_row(day, row) for day, row in rows.items()}


def incident_params(params: DetectionParams) -> folding.IncidentParams:
    """The incident settings of the detection section; incidents page from notify_min_severity up."""
    return folding.IncidentParams(
        quiet_days=params.incident_quiet_days,
        page_severity=params.notify_min_severity,
        max_context_share=params.incident_max_context_share,
        upgrade_factor=params.incident_upgrade_factor or None,
    )


def history_starts(first_days: Mapping[str, date]) -> dict[str, date]:
    """Where each actor's baseline history starts: the first day of the warehouse's signals, for
    every actor. The warehouse watched the whole corpus since then, so an actor it did not mention
    was silent (a value, 0), not unobserved: a country that first makes the news with a coup or an
    assassination is a break from a long calm, not a new actor without history. min_history_days
    then only holds back the first days of the warehouse itself."""
    start = min(first_days.values(), default=None)
    return {actor: start for actor in first_days} if start is not None else {}


def find_alerts(
    warehouse: Warehouse,
    since: date,
    until: date,
    params: DetectionParams,
    mode: str,
    earlier: Mapping[tuple[str, str], Iterable[tuple[date, str]]],
) -> tuple[list[Alert], int]:
    """The one detector over [since, until] with each alert's evidence (distinct sentences with their
    copies and outlets), counterparts and disaster/accident share; nothing is stored."""
    history_start = since - timedelta(days=history_days(params))  # every window the detector reads
    series = {actor: day_rows(rows) for actor, rows in warehouse.signal_rows(history_start, until).items()}
    days = [since + timedelta(days=offset) for offset in range((until - since).days + 1)]
    found = find_candidates(series, history_starts(warehouse.first_signal_days()), days, params, earlier)
    out: list[Alert] = []
    for candidate in found.candidates:  # by day, actor, kind: the order they were always stored in
        escalatory = candidate.kind == "escalation"
        evidence = warehouse.top_sentences(
            day=candidate.day, actor=candidate.actor, limit=params.evidence_sentences, descending=escalatory, scan=200
        )
        context = warehouse.alert_context(candidate.day, candidate.actor, escalatory=escalatory)
        needed = params.incident_partner_share * context.sentences
        partners = tuple(actor for actor, count in context.partners if count >= needed)[:3]
        if candidate.partner is not None:  # a new pair's incident is the pair's: its partner comes first
            partners = (candidate.partner, *(p for p in partners if p != candidate.partner))[:3]
        out.append(
            Alert(
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
                counterparts=partners,
                context_share=round(context.context_share, 4) if escalatory else 0.0,
            )
        )
    return out, found.suppressed


def _evidence(alert: Alert) -> tuple[folding.Evidence, ...]:
    return tuple(
        folding.Evidence(
            text=e["text"],
            title=e.get("title") or "",
            url=e.get("url"),
            outlet=e.get("outlet") or e.get("feed") or "",
            day=alert.day,
            score=float(e.get("score") or 0.0),
            copies=int(e.get("copies") or 1),
            outlets=int(e.get("outlets") or 1),
        )
        for e in alert.evidence
    )


def candidate_of(alert: Alert, ref: int | None = None) -> folding.Candidate:
    """An alert as the incident logic reads it."""
    return folding.Candidate(
        day=alert.day,
        actor=alert.actor,
        kind=alert.kind,
        severity=alert.severity,
        surprise=alert.surprise,
        counterparts=alert.counterparts,
        context_share=alert.context_share if alert.kind == "escalation" else 0.0,
        articles=alert.articles,
        sources=alert.sources,
        evidence=_evidence(alert),
        ref=alert.alert_id if ref is None else ref,
        grave=alert.measure == RARE_ACT_MEASURE,
    )


def fold_alerts(
    alerts: Sequence[Alert], params: folding.IncidentParams, *, until: date | None = None
) -> folding.Timeline:
    """The incidents of these alerts, from the first alert's day to `until` (default: the last's)."""
    by_day: dict[date, list[folding.Candidate]] = defaultdict(list)
    for index, alert in enumerate(alerts):
        by_day[alert.day].append(candidate_of(alert, alert.alert_id if alert.alert_id is not None else index))
    if not by_day:
        return folding.Timeline()
    last = max(until or max(by_day), max(by_day))
    return folding.fold(by_day, params, since=min(by_day), until=last)


def evidence_dict(item: folding.Evidence) -> dict[str, Any]:
    return {
        "text": item.text,
        "title": item.title,
        "url": item.url,
        "outlet": item.outlet,
        "day": item.day.isoformat() if item.day else None,
        "score": round(item.score, 4),
        "copies": item.copies,
        "outlets": item.outlets,
    }


def _key(incident: folding.Incident) -> tuple[str, date, str]:
    return (incident.kind, incident.opened, incident.lead)


def why(page: folding.Page, alert: Alert | None) -> str:
    """One line: what raised the page (the alert behind it, and what rose)."""
    cause = page.cause
    detail = (
        f"{measure_label(alert.measure)} {alert.value:.1f} vs baseline {alert.baseline:.1f}, "
        if alert is not None and alert.measure
        else ""
    )
    source = (
        f"{cause.actor} {cause.kind} alert on {cause.day}: {detail}surprise {cause.surprise:.1f}, "
        f"{cause.articles} articles, {cause.sources} sources"
    )
    if page.reason == "open":
        return f"opened at {page.severity}: {source}"
    if page.reason == GRAVE_ACT_PAGE:
        return f"a grave act it had not had, at {page.severity}: {source}"
    if page.previous_severity != page.severity:
        return f"severity rose {page.previous_severity} -> {page.severity}: {source}"
    before = f"{page.previous_surprise:.1f}" if page.previous_surprise is not None else "?"
    return (
        f"worse at {page.severity}: surprise {cause.surprise:.1f} against {before} at its last page; {source}"
    )


def stored_form(
    mode: str, timeline: folding.Timeline, alerts: Sequence[Alert]
) -> tuple[list[StoredIncident], list[IncidentPage]]:
    """A fold as the store keeps it (the incidents' alert ids are the candidates' refs)."""
    by_id = {a.alert_id: a for a in alerts if a.alert_id is not None}
    stored = [
        StoredIncident(
            mode=mode,
            kind=i.kind,
            lead=i.lead,
            opened=i.opened,
            actors=tuple(sorted(i.actors)),
            last_alert=i.last_alert,
            closed=i.closed,
            severity=i.severity,
            peak_surprise=i.peak_surprise,
            alerts=i.alerts,
            evidence=tuple(evidence_dict(e) for e in i.evidence),
            paged_severity=i.paged_severity,
            first_paged=i.first_paged,
            alert_ids=tuple(r for r in i.refs if r in by_id),
        )
        for i in timeline.incidents
    ]
    pages = [
        IncidentPage(
            incident_key=_key(p.incident),
            day=p.day,
            reason=p.reason,
            severity=p.severity,
            previous_severity=p.previous_severity,
            surprise=p.cause.surprise,
            cause_actor=p.cause.actor,
            why=why(p, by_id.get(p.cause.ref)),
            evidence=tuple(evidence_dict(e) for e in p.incident.evidence),
            actors=tuple(sorted(p.incident.actors)),
            mode=mode,
            alerts=p.incident.alerts,
        )
        for p in timeline.pages
    ]
    return stored, pages


def detect(
    warehouse: Warehouse,
    since: date,
    until: date,
    params: DetectionParams | None = None,
    *,
    mode: str = "live",
    notifiers: Sequence[Notifier] = (),
) -> DetectReport:
    """Detect spikes on every day of [since, until], store the alerts, refold the mode's incidents,
    and (live only) deliver: every alert to the log channel, the range's incident pages to all."""
    params = params or DetectionParams()
    if mode not in MODES:
        raise ValueError(f"mode must be 'live' or 'backtest', not {mode!r}")
    report = DetectReport(since, until, mode)
    earlier = (
        warehouse.alert_history(since - timedelta(days=params.cooldown_days), until)
        if params.cooldown_days > 0
        else {}
    )
    found, report.suppressed = find_alerts(warehouse, since, until, params, mode, earlier)
    for alert in found:
        report.alerts.append(replace(alert, alert_id=warehouse.store_alert(alert)))
    # Live incidents stand as of today (a quiet spell since the range closes them); backtest ones
    # as of the range's last day.
    as_of = max(until, today_utc()) if mode == "live" else until

    def refold(stored_alerts: list[Alert]) -> tuple[list[StoredIncident], list[IncidentPage]]:
        return stored_form(
            mode, fold_alerts(stored_alerts, incident_params(params), until=as_of), stored_alerts
        )

    saved, pages = warehouse.refold_incidents(mode, refold)
    in_range = [p for p in pages if since <= p.day <= until]
    report.pages = [
        replace(
            p, page_id=saved.page_ids[(p.incident_key, p.day)], incident_id=saved.incident_ids[p.incident_key]
        )
        for p in in_range
    ]
    if notifiers and mode == "live":
        outcome: dict[str, int] = defaultdict(int)
        log_channels = [n for n in notifiers if n.channel == "log"]
        if log_channels:
            for status, count in deliver(
                warehouse, [a.alert_id for a in report.alerts if a.alert_id], log_channels
            ).items():
                outcome[status] += count
        page_ids = [p.page_id for p in report.pages if p.page_id is not None]
        for status, count in deliver_pages(warehouse, page_ids, notifiers).items():
            outcome[status] += count
        report.deliveries = dict(outcome)
    report.incidents = warehouse.load_incidents(since, until, mode)  # after delivery: what reached whom
    return report


@dataclass
class BacktestRun:
    since: date
    until: date
    alerts: list[Alert]
    timeline: folding.Timeline
    suppressed: int


def backtest(
    warehouse: Warehouse, since: date, until: date, params: DetectionParams | None = None
) -> BacktestRun:
    """Detection and incidents over stored history, in memory: the production detector and fold of
    `detect`, with the cooldown of this run alone; nothing is written."""
    params = params or DetectionParams()
    found, suppressed = find_alerts(warehouse, since, until, params, "backtest", {})
    timeline = fold_alerts(found, incident_params(params), until=until)
    return BacktestRun(since, until, found, timeline, suppressed)


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
    except BaseException as exc:
        if not interrupts.is_stop(exc):
            raise
        if mode == "live" and notifiers:
            warehouse.drop_connections(exc)
            days = [(since + timedelta(days=i)).isoformat() for i in range((until - since).days + 1)]
            run_id = warehouse.start_run("cli-detect", {"since": since, "until": until})
            warehouse.finish_run(run_id, INTERRUPTED, {}, details={"pending": {"days": days, "notify": True}})
        raise
