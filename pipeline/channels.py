"""Alert channels: the log, a generic JSON webhook, Slack-compatible webhooks and SMTP email with a
PNG chart of the last 60 days. Targets and credentials come from settings (env), never code; error
messages name hosts only, never URLs with tokens or passwords. Each channel sends one alert
(`send`) or one incident page (`send_page`: the incident's id, actors, since when, severity and why
it rose, its distinct evidence sentences with their copies and outlets) and raises on failure;
pipeline/delivery.py decides what to send and records the outcome.
"""

from __future__ import annotations

import html
import io
import logging
import smtplib
from datetime import date, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlsplit

import httpx

from pipeline.config import Settings, load_settings
from pipeline.delivery import Notifier
from pipeline.detector import KINDS, MASS_VALUED_MEASURES, day_row, measure_label
from pipeline.store import Alert, IncidentPage, Warehouse, alert_to_dict

log = logging.getLogger(__name__)


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

    def send_page(self, page: IncidentPage) -> None:
        log.warning("PAGE %s", page_headline(page))


def page_payload(page: IncidentPage) -> dict[str, Any]:
    """The JSON of a page (webhook body; Slack and email render the same facts)."""
    return {
        "type": "escalation_incident",
        "incident": page.incident_id,
        "page": page.page_id,
        "reason": page.reason,
        "kind": page.kind,
        "actors": list(page.actors),
        "since": page.opened.isoformat(),
        "day": page.day.isoformat(),
        "severity": page.severity,
        "previous_severity": page.previous_severity,
        "surprise": round(page.surprise, 2),
        "why": page.why,
        "alerts": page.alerts,
        "evidence": [
            {
                key: item.get(key)
                for key in ("text", "title", "url", "outlet", "day", "score", "copies", "outlets")
            }
            for item in page.evidence
        ],
    }


def page_headline(page: IncidentPage) -> str:
    direction = "escalation" if page.kind == "escalation" else "de-escalation"
    what = "new" if page.reason == "open" else "worse"
    return (
        f"{page.severity.upper()}: {what} {direction} incident #{page.incident_id} "
        f"{'/'.join(page.actors)} since {page.opened} ({page.why})"
    )


def copies_note(item: dict[str, Any]) -> str:
    """' [4 copies, 3 outlets]' for evidence whose text came in several items, else ''."""
    copies, outlets = int(item.get("copies") or 1), int(item.get("outlets") or 1)
    return f" [{copies} copies, {outlets} outlets]" if copies > 1 else ""


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

    def send_page(self, page: IncidentPage) -> None:
        self.post(page_payload(page))


def build_notifiers(settings: Settings, warehouse: Warehouse | None = None) -> list[Notifier]:
    """Every configured channel: the log always; webhook, Slack and email when their settings are set.
    With a warehouse, emails carry a 60-day chart."""
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


CHART_DAYS = 60
SEVERITY_EMOJI = {
    "watch": ":large_yellow_circle:",
    "warning": ":large_orange_circle:",
    "critical": ":red_circle:",
}


def alert_headline(alert: Alert) -> str:
    direction = "escalation" if alert.kind == "escalation" else "de-escalation"
    return (
        f"{alert.severity.upper()}: {direction} spike for {alert.actor} on {alert.day}: "
        f"{measure_label(measure_of(alert))} {alert.value:.1f} vs baseline {alert.baseline:.1f} "
        f"(z={alert.surprise:.1f}, "
        f"{alert.articles} articles, {alert.sources} sources)"
    )


class SlackNotifier(WebhookNotifier):
    """Slack incoming-webhook payload (text + blocks); Mattermost and others accept the same."""

    channel = "slack"

    def send(self, alert: Alert) -> None:
        lines = [f"{SEVERITY_EMOJI.get(alert.severity, '')} *{_slack_escape(alert_headline(alert))}*"]
        for item in alert.evidence[:3]:
            link = f"<{_slack_escape(item.get('url') or '')}|{_slack_escape(item.get('title') or 'source')}>"
            lines.append(
                f"> {_slack_escape(item['text'][:300])} ({item['score']:+.2f}{copies_note(item)}) {link}"
            )
        self.post(
            {
                "text": alert_headline(alert),
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}],
            }
        )

    def send_page(self, page: IncidentPage) -> None:
        lines = [f"{SEVERITY_EMOJI.get(page.severity, '')} *{_slack_escape(page_headline(page))}*"]
        for item in page.evidence[:3]:
            link = f"<{_slack_escape(item.get('url') or '')}|{_slack_escape(item.get('title') or 'source')}>"
            lines.append(
                f"> {_slack_escape(item['text'][:300])} ({_slack_escape(item.get('outlet') or '')}, "
                f"{item.get('day') or ''}{copies_note(item)}) {link}"
            )
        self.post(
            {
                "text": page_headline(page),
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}],
            }
        )


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn control characters; feed text is untrusted.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def measure_of(alert: Alert) -> str:
    """The daily_signals column the alert fired on (the kind's headline measure for old alerts)."""
    return alert.measure or KINDS[alert.kind][0][0]


def series_for_chart(
    warehouse: Warehouse, alert: Alert, rhetoric_weight: float | None = None
) -> list[tuple[date, float]]:
    """The alert's measure over the CHART_DAYS days up to its day, a day without a row as 0 (the
    mass of the mass ranking with `rhetoric_weight`, default the detection settings')."""
    start = alert.day - timedelta(days=CHART_DAYS - 1)
    if measure_of(alert) in MASS_VALUED_MEASURES:
        if rhetoric_weight is None:
            rhetoric_weight = load_settings().detection.rhetoric_weight
        rows = warehouse.signal_rows(start, alert.day, [alert.actor]).get(alert.actor, {})
        known = {day: day_row(day, row).mass(rhetoric_weight) for day, row in rows.items()}
    else:
        known = warehouse.measure_values(alert.actor, measure_of(alert), start, alert.day)
    return [(start + timedelta(days=i), known.get(start + timedelta(days=i), 0.0)) for i in range(CHART_DAYS)]


def render_chart(warehouse: Warehouse, alert: Alert) -> bytes:
    """A small PNG: the index over the last 60 days, the baseline, the alert day marked."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    from matplotlib.figure import Figure

    series = series_for_chart(warehouse, alert)
    figure = Figure(figsize=(6, 2.4), dpi=100)
    axes = figure.subplots()
    axes.plot([d for d, _ in series], [v for _, v in series], color="#444444", linewidth=1.2)
    axes.axhline(alert.baseline, color="#1f77b4", linestyle="--", linewidth=0.8, label="baseline")
    axes.scatter([alert.day], [alert.value], color="#d62728", zorder=3, label=alert.severity)
    axes.set_title(
        f"{alert.actor}: {measure_label(measure_of(alert))}, last {CHART_DAYS} days", fontsize=9
    )
    axes.tick_params(labelsize=7)
    axes.legend(fontsize=7, loc="upper left")
    figure.autofmt_xdate()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def email_message(alert: Alert, chart_png: bytes | None, sender: str, recipients: list[str]) -> EmailMessage:
    """Plain text + HTML (feed text escaped) with the chart inline."""
    message = EmailMessage()
    message["Subject"] = f"[escalation] {alert_headline(alert)}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    evidence_text = "\n".join(
        f"- ({e['score']:+.2f}{copies_note(e)}) {e['text']} <{e.get('url') or ''}>" for e in alert.evidence
    )
    message.set_content(f"{alert_headline(alert)}\n\nEvidence:\n{evidence_text}\n")
    chart_id = make_msgid(domain="escalation.local")
    rows = "".join(
        f"<tr><td>{e['score']:+.2f}</td><td>{html.escape(e['text'])}</td><td>{int(e.get('copies') or 1)}</td>"
        f'<td><a href="{html.escape(e.get("url") or "", quote=True)}">{html.escape(e.get("title") or "source")}</a></td></tr>'
        for e in alert.evidence
    )
    chart_tag = f'<p><img src="cid:{chart_id[1:-1]}" alt="60-day chart"></p>' if chart_png else ""
    message.add_alternative(
        f"<html><body><h3>{html.escape(alert_headline(alert))}</h3>{chart_tag}"
        f'<table border="1" cellpadding="4"><tr><th>score</th><th>sentence</th><th>copies</th><th>article</th></tr>{rows}</table>'
        "</body></html>",
        subtype="html",
    )
    if chart_png:
        message.get_payload()[1].add_related(chart_png, "image", "png", cid=chart_id, filename="chart.png")
    return message


def page_email(
    page: IncidentPage, sender: str, recipients: list[str], chart_png: bytes | None = None
) -> EmailMessage:
    """Plain text + HTML (feed text escaped): the incident, why it paged, its distinct evidence, and
    the chart of the alert that raised it inline."""
    message = EmailMessage()
    message["Subject"] = f"[escalation] {page_headline(page)}"
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    lines = "\n".join(
        f"- {e['text']} ({e.get('outlet') or ''}, {e.get('day') or ''}{copies_note(e)}) <{e.get('url') or ''}>"
        for e in page.evidence
    )
    message.set_content(f"{page_headline(page)}\n\nWhy: {page.why}\n\nEvidence:\n{lines}\n")
    rows = "".join(
        f"<tr><td>{html.escape(e['text'])}</td><td>{html.escape(e.get('outlet') or '')}</td>"
        f"<td>{html.escape(str(e.get('day') or ''))}</td><td>{int(e.get('copies') or 1)}</td>"
        f'<td><a href="{html.escape(e.get("url") or "", quote=True)}">{html.escape(e.get("title") or "source")}</a></td></tr>'
        for e in page.evidence
    )
    chart_id = make_msgid(domain="escalation.local")
    chart_tag = f'<p><img src="cid:{chart_id[1:-1]}" alt="60-day chart"></p>' if chart_png else ""
    message.add_alternative(
        f"<html><body><h3>{html.escape(page_headline(page))}</h3><p>{html.escape(page.why)}</p>{chart_tag}"
        '<table border="1" cellpadding="4"><tr><th>sentence</th><th>outlet</th><th>day</th><th>copies</th>'
        f"<th>article</th></tr>{rows}</table></body></html>",
        subtype="html",
    )
    if chart_png:
        message.get_payload()[1].add_related(chart_png, "image", "png", cid=chart_id, filename="chart.png")
    return message


def cause_alert(warehouse: Warehouse, page: IncidentPage) -> Alert | None:
    """The stored alert that raised a page (its actor, kind and day)."""
    for alert in warehouse.load_alerts(page.day, page.day):
        if alert.actor == page.cause_actor and alert.kind == page.kind:
            return alert
    return None


class EmailNotifier:
    channel = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        *,
        user: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        warehouse: Warehouse | None = None,
        timeout_s: float = 20.0,
    ):
        self.host, self.port, self.sender, self.recipients = host, port, sender, recipients
        self._user, self._password, self._starttls = user, password, starttls
        self._warehouse, self._timeout_s = warehouse, timeout_s

    def __repr__(self) -> str:
        return f"EmailNotifier(host={self.host!r}, port={self.port}, recipients={len(self.recipients)})"

    def send(self, alert: Alert) -> None:
        chart = render_chart(self._warehouse, alert) if self._warehouse is not None else None
        self._deliver(email_message(alert, chart, self.sender, self.recipients))

    def send_page(self, page: IncidentPage) -> None:
        alert = cause_alert(self._warehouse, page) if self._warehouse is not None else None
        chart = render_chart(self._warehouse, alert) if self._warehouse is not None and alert else None
        self._deliver(page_email(page, self.sender, self.recipients, chart))

    def _deliver(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self._timeout_s) as smtp:
                if self._starttls:
                    smtp.starttls()
                if self._user:
                    smtp.login(self._user, self._password or "")
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            # The exception text can echo credentials in some servers' replies: keep only its type/code.
            code = getattr(exc, "smtp_code", None)
            raise RuntimeError(
                f"smtp {self.host}:{self.port}: {type(exc).__name__}{f' {code}' if code else ''}"
            ) from None
