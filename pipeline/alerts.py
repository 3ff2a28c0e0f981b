"""Alerts stage: spike detection on daily signals, evidence, and delivery that never sends twice.

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

import json
import logging
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pipeline.config import SEVERITIES, DetectionParams, Settings
from pipeline.warehouse import (
    Warehouse,
    alert_deliveries,
    alerts,
    daily_signals,
    insert_for,
    now_utc,
    run_transaction,
)

log = logging.getLogger(__name__)

# kind -> (measure column, spread floor attribute of DetectionParams); the first is the headline measure.
KINDS: dict[str, tuple[tuple[str, str], ...]] = {
    "escalation": (("escalation_index", "spread_floor"), ("escalatory_sentences", "count_spread_floor")),
    "deescalation": (
        ("deescalation_index", "spread_floor"),
        ("deescalatory_sentences", "count_spread_floor"),
    ),
}
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Alert:
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
    mode: str
    evidence: tuple[dict[str, Any], ...] = ()
    measure: str = ""  # which daily_signals column decided the alert
    alert_id: int | None = None


@dataclass
class DetectReport:
    since: date
    until: date
    mode: str
    alerts: list[Alert] = field(default_factory=list)
    deliveries: dict[str, int] = field(default_factory=dict)  # status -> count this call
    suppressed: int = 0  # spikes inside the cooldown of an alert at least as severe


class Notifier(Protocol):
    channel: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raise on failure (the caller records the reason and retries later)."""


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    return {
        "day": alert.day.isoformat(),
        "actor": alert.actor,
        "kind": alert.kind,
        "measure": alert.measure,
        "severity": alert.severity,
        "value": round(alert.value, 3),
        "baseline": round(alert.baseline, 3),
        "spread": round(alert.spread, 3),
        "surprise": round(alert.surprise, 2),
        "articles": alert.articles,
        "sources": alert.sources,
        "mode": alert.mode,
        "evidence": list(alert.evidence),
    }


class LogNotifier:
    channel = "log"

    def send(self, alert: Alert) -> None:
        top = alert.evidence[0]["text"] if alert.evidence else ""
        log.warning(
            "ALERT %s %s %s on %s: %.2f vs baseline %.2f (z=%.1f, %d articles, %d sources) e.g. %r",
            alert.severity.upper(),
            alert.actor,
            alert.kind,
            alert.day,
            alert.value,
            alert.baseline,
            alert.surprise,
            alert.articles,
            alert.sources,
            top[:200],
        )


class WebhookNotifier:
    """JSON POST to a URL that is a secret (it often embeds a token): errors name its host only."""

    channel = "webhook"

    def __init__(self, url: str, timeout_s: float = 10.0):
        self._url = url
        self._timeout_s = timeout_s
        self.host = urlsplit(url).hostname or "?"

    def __repr__(self) -> str:
        return f"WebhookNotifier(host={self.host!r})"

    def post(self, payload: dict[str, Any]) -> None:
        try:
            response = httpx.post(self._url, json=payload, timeout=self._timeout_s)
        except httpx.HTTPError as exc:
            raise RuntimeError(f"webhook {self.host}: {type(exc).__name__}") from None
        if response.status_code >= 300:
            raise RuntimeError(f"webhook {self.host}: HTTP {response.status_code}")

    def send(self, alert: Alert) -> None:
        self.post({"type": "escalation_alert", **alert_to_dict(alert)})


def build_notifiers(settings: Settings, warehouse: Warehouse | None = None) -> list[Notifier]:
    """Every configured channel: the log always; webhook, Slack and email when their settings are set.
    With a warehouse, emails carry a 60-day chart."""
    from pipeline.notify import EmailNotifier, SlackNotifier

    notify = settings.notify
    notifiers: list[Notifier] = [LogNotifier()]
    if notify.webhook_url:
        notifiers.append(WebhookNotifier(notify.webhook_url))
    if notify.slack_webhook_url:
        notifiers.append(SlackNotifier(notify.slack_webhook_url))
    if notify.smtp_host and notify.email_recipients:
        notifiers.append(
            EmailNotifier(
                notify.smtp_host,
                notify.smtp_port,
                notify.smtp_from,
                notify.email_recipients,
                user=notify.smtp_user,
                password=notify.smtp_password,
                starttls=notify.smtp_starttls,
                warehouse=warehouse,
            )
        )
    return notifiers


def send_operational_message(settings: Settings, message: str) -> None:
    """Pipeline trouble for the on-call channel; never raises (it runs inside failure handlers)."""
    log.error("%s", message)
    if settings.notify.webhook_url:
        try:
            WebhookNotifier(settings.notify.webhook_url).post({"type": "pipeline_failure", "text": message})
        except Exception as exc:  # a notifier must not turn one failure into two
            log.error("could not deliver the failure message: %s", exc)


# -- detection ------------------------------------------------------------------------------------
def _series(warehouse: Warehouse, since: date, until: date, params: DetectionParams) -> tuple[dict, dict]:
    start = since - timedelta(days=params.guard_days + params.baseline_days)
    s = daily_signals.c
    with warehouse.engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(
                    s.day,
                    s.actor,
                    s.articles,
                    s.sources,
                    s.escalation_index,
                    s.deescalation_index,
                    s.escalatory_sentences,
                    s.deescalatory_sentences,
                ).where(s.day.between(start, until))
            )
            .mappings()
            .all()
        )
        first_seen = dict(conn.execute(sa.select(s.actor, sa.func.min(s.day)).group_by(s.actor)).all())
    by_actor: dict[str, dict[date, Any]] = defaultdict(dict)
    for row in rows:
        by_actor[row["actor"]][row["day"]] = row
    return by_actor, first_seen


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
    warehouse: Warehouse, actor: str, kind: str, day: date, severity: str, params: DetectionParams
) -> bool:
    """True when an alert of at least this severity fired for actor+kind in the cooldown window."""
    if params.cooldown_days <= 0:
        return False
    with warehouse.engine.connect() as conn:
        earlier = (
            conn.execute(
                sa.select(alerts.c.severity).where(
                    alerts.c.actor == actor,
                    alerts.c.kind == kind,
                    alerts.c.day.between(day - timedelta(days=params.cooldown_days), day - timedelta(days=1)),
                )
            )
            .scalars()
            .all()
        )
    return repeats_within_cooldown(severity, earlier)


def repeats_within_cooldown(severity: str, earlier: Iterable[str]) -> bool:
    """The cooldown rule: an alert is suppressed when one at least as severe fired in the window
    before it (so a rising severity still re-alerts)."""
    return any(SEVERITY_RANK[s] >= SEVERITY_RANK[severity] for s in earlier)


def _store(warehouse: Warehouse, alert: Alert) -> int:
    """Upsert on (day, actor, kind). A live alert never turns into a backtest one."""
    stamp = now_utc()
    evidence = json.dumps(list(alert.evidence), ensure_ascii=False, default=str)

    def work(conn: Connection) -> int:
        existing = conn.execute(
            sa.select(alerts.c.alert_id, alerts.c.mode).where(
                alerts.c.day == alert.day, alerts.c.actor == alert.actor, alerts.c.kind == alert.kind
            )
        ).first()
        values = {
            "severity": alert.severity,
            "measure": alert.measure,
            "value": alert.value,
            "baseline": alert.baseline,
            "spread": alert.spread,
            "surprise": alert.surprise,
            "articles": alert.articles,
            "sources": alert.sources,
            "evidence": evidence,
            "updated_at": stamp,
        }
        if existing:
            mode = "live" if "live" in (existing.mode, alert.mode) else alert.mode
            conn.execute(
                alerts.update().where(alerts.c.alert_id == existing.alert_id).values(mode=mode, **values)
            )
            return existing.alert_id
        return conn.execute(
            alerts.insert()
            .values(
                day=alert.day, actor=alert.actor, kind=alert.kind, mode=alert.mode, created_at=stamp, **values
            )
            .returning(alerts.c.alert_id)
        ).scalar_one()

    # A concurrent detection may insert the same key between the check and the insert: the retry
    # then finds it and updates instead.
    return run_transaction(
        warehouse.engine, work, f"alert {alert.actor} {alert.day} {alert.kind}", retry_on_conflict=True
    )


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
    by_actor, first_seen = _series(warehouse, since, until, params)
    day = since
    while day <= until:
        for actor, series in sorted(by_actor.items()):
            for kind in KINDS:
                scored = _score_day(series, day, first_seen[actor], kind, params)
                if scored is None:
                    continue
                severity, value, baseline, spread, surprise, n_articles, n_sources, measure = scored
                if _cooled_down(warehouse, actor, kind, day, severity, params):
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
                alert_id = _store(warehouse, alert)
                report.alerts.append(Alert(**{**alert.__dict__, "alert_id": alert_id}))
        day += timedelta(days=1)
    if notifiers and mode == "live":
        # Every alert goes to the log; people are paged from notify_min_severity up.
        floor = SEVERITY_RANK[params.notify_min_severity]
        log_channels = [n for n in notifiers if n.channel == "log"]
        push_channels = [n for n in notifiers if n.channel != "log"]
        everything = [a.alert_id for a in report.alerts if a.alert_id]
        pushed = [a.alert_id for a in report.alerts if a.alert_id and SEVERITY_RANK[a.severity] >= floor]
        outcome: dict[str, int] = defaultdict(int)
        for ids, channels in ((everything, log_channels), (pushed, push_channels)):
            if channels:
                for status, count in deliver(warehouse, ids, channels).items():
                    outcome[status] += count
        report.deliveries = dict(outcome)
    return report


# -- delivery -------------------------------------------------------------------------------------
def deliver(warehouse: Warehouse, alert_ids: Iterable[int], notifiers: Sequence[Notifier]) -> dict[str, int]:
    """Send each alert once per channel. Pending/failed deliveries (also from earlier runs) are retried;
    a delivery marked 'sent' is never sent again."""
    ids = set(alert_ids)
    d = alert_deliveries.c
    stamp = now_utc()
    with warehouse.engine.begin() as conn:
        for alert_id in ids:
            for notifier in notifiers:
                conn.execute(
                    insert_for(conn, alert_deliveries)
                    .values(
                        alert_id=alert_id,
                        channel=notifier.channel,
                        status="pending",
                        attempts=0,
                        updated_at=stamp,
                    )
                    .on_conflict_do_nothing()
                )
    outcome: dict[str, int] = defaultdict(int)
    channels = {n.channel: n for n in notifiers}
    with warehouse.engine.connect() as conn:
        todo = conn.execute(
            sa.select(d.alert_id, d.channel).where(d.status != "sent", d.channel.in_(channels))
        ).all()
    for alert_id, channel in todo:
        attempts = _claim(warehouse, alert_id, channel)
        if attempts is None:
            continue  # another run is sending it right now, or already has
        alert = load_alert(warehouse, alert_id)
        if alert is None:
            continue
        try:
            channels[channel].send(alert)
        except Exception as exc:  # a channel that is down keeps the alert pending for the next run
            status, error, sent_at = "failed", str(exc)[:500], None
        else:
            status, error, sent_at = "sent", None, now_utc()
        with warehouse.engine.begin() as conn:
            conn.execute(
                alert_deliveries.update()
                .where(d.alert_id == alert_id, d.channel == channel, d.status == "sending")
                .values(
                    status=status,
                    attempts=attempts + 1,
                    last_error=error,
                    sent_at=sent_at,
                    updated_at=now_utc(),
                )
            )
        outcome[status] += 1
    return dict(outcome)


# A delivery left in 'sending' this long ago belongs to a run that died mid-send: take it over.
STALE_SENDING = timedelta(minutes=10)


def _claim(warehouse: Warehouse, alert_id: int, channel: str) -> int | None:
    """Mark one delivery 'sending' if nobody else holds it; returns its attempts so far, or None.

    The conditional UPDATE is the lock: of two runs delivering at the same moment, one changes the
    row and sends, the other changes nothing and skips, so even concurrent runs send once."""
    d = alert_deliveries.c
    stamp = now_utc()
    claimable = sa.or_(
        d.status.in_(("pending", "failed")),
        sa.and_(d.status == "sending", d.updated_at < stamp - STALE_SENDING),
    )
    with warehouse.engine.begin() as conn:
        return conn.execute(
            alert_deliveries.update()
            .where(d.alert_id == alert_id, d.channel == channel, claimable)
            .values(status="sending", updated_at=stamp)
            .returning(d.attempts)
        ).scalar_one_or_none()


def _row_to_alert(row: Any) -> Alert:
    return Alert(
        day=row["day"],
        actor=row["actor"],
        kind=row["kind"],
        severity=row["severity"],
        value=row["value"],
        baseline=row["baseline"],
        spread=row["spread"],
        surprise=row["surprise"],
        articles=row["articles"],
        sources=row["sources"],
        mode=row["mode"],
        evidence=tuple(json.loads(row["evidence"])),
        alert_id=row["alert_id"],
        measure=row["measure"],
    )


def load_alert(warehouse: Warehouse, alert_id: int) -> Alert | None:
    with warehouse.engine.connect() as conn:
        row = conn.execute(sa.select(alerts).where(alerts.c.alert_id == alert_id)).mappings().first()
    return _row_to_alert(row) if row else None


def load_alerts(warehouse: Warehouse, since: date, until: date) -> list[Alert]:
    with warehouse.engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(alerts)
                .where(alerts.c.day.between(since, until))
                .order_by(alerts.c.day, alerts.c.actor, alerts.c.kind)
            )
            .mappings()
            .all()
        )
    return [_row_to_alert(r) for r in rows]


def delivery_states(warehouse: Warehouse) -> list[dict[str, Any]]:
    with warehouse.engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                sa.select(alert_deliveries).order_by(alert_deliveries.c.alert_id)
            ).mappings()
        ]
