"""Alert channels beyond the log and the generic webhook: Slack-compatible webhooks and SMTP email
with a PNG chart of the last 60 days. Targets and credentials come from settings (env), never code;
error messages name hosts only, never URLs with tokens or passwords.
"""

from __future__ import annotations

import html
import io
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import sqlalchemy as sa

from pipeline.alerts import KINDS, Alert, WebhookNotifier
from pipeline.warehouse import Warehouse, daily_signals

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
        f"{measure_of(alert).replace('_', ' ')} {alert.value:.1f} vs baseline {alert.baseline:.1f} "
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
            lines.append(f"> {_slack_escape(item['text'][:300])} ({item['score']:+.2f}) {link}")
        self.post(
            {
                "text": alert_headline(alert),
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}}],
            }
        )


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn control characters; feed text is untrusted.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def measure_of(alert: Alert) -> str:
    """The daily_signals column the alert fired on (the kind's headline measure for old alerts)."""
    return alert.measure or KINDS[alert.kind][0][0]


def series_for_chart(warehouse: Warehouse, alert: Alert) -> list[tuple[Any, float]]:
    column = daily_signals.c[measure_of(alert)]
    start = alert.day - timedelta(days=CHART_DAYS - 1)
    with warehouse.engine.connect() as conn:
        rows = conn.execute(
            sa.select(daily_signals.c.day, column)
            .where(daily_signals.c.actor == alert.actor, daily_signals.c.day.between(start, alert.day))
            .order_by(daily_signals.c.day)
        ).all()
    known = {day: float(value) for day, value in rows}
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
        f"{alert.actor}: {measure_of(alert).replace('_', ' ')}, last {CHART_DAYS} days", fontsize=9
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
        f"- ({e['score']:+.2f}) {e['text']} <{e.get('url') or ''}>" for e in alert.evidence
    )
    message.set_content(f"{alert_headline(alert)}\n\nEvidence:\n{evidence_text}\n")
    chart_id = make_msgid(domain="escalation.local")
    rows = "".join(
        f"<tr><td>{e['score']:+.2f}</td><td>{html.escape(e['text'])}</td>"
        f'<td><a href="{html.escape(e.get("url") or "", quote=True)}">{html.escape(e.get("title") or "source")}</a></td></tr>'
        for e in alert.evidence
    )
    chart_tag = f'<p><img src="cid:{chart_id[1:-1]}" alt="60-day chart"></p>' if chart_png else ""
    message.add_alternative(
        f"<html><body><h3>{html.escape(alert_headline(alert))}</h3>{chart_tag}"
        f'<table border="1" cellpadding="4"><tr><th>score</th><th>sentence</th><th>article</th></tr>{rows}</table>'
        "</body></html>",
        subtype="html",
    )
    if chart_png:
        message.get_payload()[1].add_related(chart_png, "image", "png", cid=chart_id, filename="chart.png")
    return message


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
        message = email_message(alert, chart, self.sender, self.recipients)
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
