"""Alert channels with real peers: Slack-style webhook on a local HTTP server, email to a real
SMTP server (aiosmtpd), the PNG chart; plus the cooldown rule."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import replace
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from helpers import detect_with_test_floors, params_with_test_floors
from test_alerts import NOISY, SPIKE_DAY, START, put_series

from pipeline.channels import EmailNotifier, SlackNotifier, build_notifiers, email_message, render_chart
from pipeline.config import NotifySettings, Settings
from pipeline.store import Alert

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (Controller's readiness check cannot use port 0)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield controller, inbox
    controller.stop()


def hostile_alert() -> Alert:
    return Alert(
        day=SPIKE_DAY,
        actor="IRN",
        kind="escalation",
        severity="critical",
        value=60.0,
        baseline=10.0,
        spread=2.0,
        surprise=25.0,
        articles=5,
        sources=3,
        mode="live",
        evidence=(
            {
                "text": "Militias <script>alert(1)</script> attacked the base",
                "score": 0.9,
                "url": "https://n.example/a?x=1&y=<2>",
                "title": "<b>Attack</b>",
                "feed": "f",
                "matches": [],
            },
        ),
    )


def test_email_arrives_at_a_real_smtp_server_with_chart(warehouse, smtp_server):
    controller, inbox = smtp_server
    put_series(warehouse, "IRN", [*NOISY, 60])
    notifier = EmailNotifier(
        "127.0.0.1", controller.port, "alerts@example.org", ["oncall@example.org"], warehouse=warehouse
    )
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier])
    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["oncall@example.org"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert "CRITICAL" in message["Subject"] and "IRN" in message["Subject"]
    images = [part for part in message.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0].get_content().startswith(PNG_MAGIC)
    assert message.get_body(("html",)).get_content().count("cid:") == 1
    assert "opened at critical" in message.get_body(("plain",)).get_content()  # why it paged
    assert warehouse.page_delivery_states()[0]["status"] == "sent"

    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier])  # re-run: nothing resent
    assert len(inbox.messages) == 1


def test_smtp_down_then_up_delivers_once(warehouse, smtp_server):
    controller, inbox = smtp_server
    put_series(warehouse, "IRN", [*NOISY, 60])
    down = EmailNotifier(
        "127.0.0.1", 9, "a@example.org", ["b@example.org"], password="hunter2", user="u", timeout_s=2
    )
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[down])
    (state,) = warehouse.page_delivery_states()
    assert state["status"] == "failed" and "hunter2" not in state["last_error"]
    up = EmailNotifier("127.0.0.1", controller.port, "a@example.org", ["b@example.org"])
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[up])
    assert len(inbox.messages) == 1 and warehouse.page_delivery_states()[0]["status"] == "sent"
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[up])  # back up: never twice
    assert len(inbox.messages) == 1


def test_email_escapes_feed_text():
    message = email_message(hostile_alert(), None, "a@example.org", ["b@example.org"])
    body = message.get_body(("html",)).get_content()
    assert "<script>" not in body and "&lt;script&gt;" in body
    assert "<b>Attack</b>" not in body and "y=&lt;2&gt;" in body


def test_slack_payload_on_a_local_server(warehouse, httpserver):
    put_series(warehouse, "IRN", [*NOISY, 60])
    httpserver.expect_request("/services/T0/B0/XYZ", method="POST").respond_with_data("ok")
    detect_with_test_floors(
        warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[SlackNotifier(httpserver.url_for("/services/T0/B0/XYZ"))]
    )
    payload = httpserver.log[0][0].get_json()
    assert payload["text"].startswith("CRITICAL: new escalation incident #")
    assert "IRN since" in payload["text"]
    assert payload["blocks"][0]["type"] == "section"


ROSE = "severity rose warning -> critical"  # pipeline.alerts.why of the upgrade page below
ROSE_ESCAPED = "severity rose warning -&gt; critical"  # as mrkdwn and HTML must show it


def detect_an_upgrade(warehouse, notifier) -> None:
    """An incident opens at warning on SPIKE_DAY and rises to critical the next day: two pages."""
    put_series(warehouse, "IRN", [*NOISY, 21, 60])  # z about 5 (warning), then about 25 (critical)
    params = params_with_test_floors(notify_min_severity="warning")
    for day in (SPIKE_DAY, SPIKE_DAY + timedelta(days=1)):
        report = detect_with_test_floors(warehouse, day, day, params, notifiers=[notifier])
    assert [(p.reason, p.previous_severity) for p in report.pages] == [("upgrade", "warning")]


def test_slack_upgrade_page_says_why_it_rose(warehouse, httpserver):
    httpserver.expect_request("/services/T0/B0/XYZ", method="POST").respond_with_data("ok")
    detect_an_upgrade(warehouse, SlackNotifier(httpserver.url_for("/services/T0/B0/XYZ")))
    opened, upgraded = (request.get_json() for request, _ in httpserver.log)
    assert opened["text"].startswith("WARNING: new escalation incident #") and ROSE not in opened["text"]
    # The fallback text (notifications) and the message block both carry what rose, and from what.
    assert upgraded["text"].startswith("CRITICAL: worse escalation incident #") and ROSE in upgraded["text"]
    assert ROSE_ESCAPED in upgraded["blocks"][0]["text"]["text"]


def test_email_upgrade_page_says_why_it_rose(warehouse, smtp_server):
    controller, inbox = smtp_server
    notifier = EmailNotifier(
        "127.0.0.1", controller.port, "alerts@example.org", ["oncall@example.org"], warehouse=warehouse
    )
    detect_an_upgrade(warehouse, notifier)
    opened, upgraded = (
        email.message_from_bytes(envelope.content, policy=email.policy.default) for envelope in inbox.messages
    )
    assert "opened at warning" in opened.get_body(("plain",)).get_content()
    assert upgraded["Subject"].startswith("[escalation] CRITICAL: worse escalation incident #")
    assert ROSE in upgraded["Subject"]
    assert (
        f"Why: {ROSE}: IRN escalation alert on {SPIKE_DAY + timedelta(days=1)}"
        in upgraded.get_body(("plain",)).get_content()
    )
    assert f"<p>{ROSE_ESCAPED}: IRN escalation alert" in upgraded.get_body(("html",)).get_content()


def test_slack_text_is_escaped():
    from pipeline.channels import _slack_escape

    assert _slack_escape("<!channel> & <http://x|y>") == "&lt;!channel&gt; &amp; &lt;http://x|y&gt;"


def test_chart_is_a_png_of_the_last_60_days(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    png = render_chart(warehouse, hostile_alert())
    assert png.startswith(PNG_MAGIC) and len(png) > 2000


def test_build_notifiers_from_settings_never_shows_secrets():
    settings = Settings(
        notify=NotifySettings(
            webhook_url="https://hooks.example/T/SECRET1",
            slack_webhook_url="https://hooks.slack.example/services/SECRET2",
            smtp_host="smtp.example.org",
            smtp_password="SECRET3",
            alert_email_to="a@example.org, b@example.org",
        )
    )
    notifiers = build_notifiers(settings)
    assert [n.channel for n in notifiers] == ["log", "webhook", "slack", "email"]
    shown = repr(notifiers) + repr(settings)
    assert not any(secret in shown for secret in ("SECRET1", "SECRET2", "SECRET3"))
    assert notifiers[-1].recipients == ["a@example.org", "b@example.org"]


def test_cooldown_suppresses_repeats_but_not_a_rising_severity(warehouse):
    # A surge lasting several days: day 20 critical, day 21 watch-level, day 22 critical again.
    put_series(warehouse, "IRN", [*NOISY, 60, 20, 70])
    params = params_with_test_floors(cooldown_days=3)
    report = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY + timedelta(days=2), params)
    days = [(a.day, a.severity) for a in report.alerts]
    assert days == [(SPIKE_DAY, "critical")]
    assert report.suppressed == 2

    fresh = detect_with_test_floors(
        warehouse,
        START,
        START + timedelta(days=40),
        params_with_test_floors(cooldown_days=0),
        mode="backtest",
    )
    assert len([a for a in fresh.alerts if a.actor == "IRN"]) == 3


def test_rising_severity_re_alerts_inside_cooldown(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 17, 60])  # watch-level first, then critical
    report = detect_with_test_floors(
        warehouse, SPIKE_DAY, SPIKE_DAY + timedelta(days=1), params_with_test_floors(cooldown_days=3)
    )
    assert [a.severity for a in report.alerts] == ["watch", "critical"]


def test_alert_messages_show_each_evidence_text_once_with_its_copies():
    wire = {"text": "Rockets hit the base", "score": 0.8, "url": "https://n.example/w", "title": "W", "feed": "f",
            "matches": [], "copies": 4, "outlets": 3}  # fmt: skip
    alone = {**wire, "text": "Tehran warned", "copies": 1, "outlets": 1}
    alert = replace(hostile_alert(), evidence=(wire, alone))
    message = email_message(alert, None, "a@example.org", ["b@example.org"])
    text = message.get_body(("plain",)).get_content()
    assert "(+0.80 [4 copies, 3 outlets]) Rockets hit the base" in text
    assert "(+0.80) Tehran warned" in text and text.count("Rockets hit the base") == 1
    assert "<td>Rockets hit the base</td><td>4</td>" in message.get_body(("html",)).get_content()
    sent = []

    class Captured(SlackNotifier):
        def post(self, payload):
            sent.append(payload)

    Captured("https://hooks.slack.com/services/T0/B0/XYZ").send(alert)
    lines = sent[0]["blocks"][0]["text"]["text"]
    assert "Rockets hit the base (+0.80 [4 copies, 3 outlets])" in lines and "Tehran warned (+0.80)" in lines


def test_the_chart_of_a_mass_alert_plots_the_mass_it_was_ranked_by(warehouse):
    from dataclasses import replace

    from pipeline.channels import series_for_chart

    put_series(warehouse, "IRN", [*NOISY, 60])
    with warehouse.engine.begin() as conn:
        conn.execute(
            warehouse.tables["daily_measures"].insert(),
            [
                {"day": SPIKE_DAY, "actor": "IRN", "escalatory_texts": 3, "escalatory_outlets": 4,
                 "material_mass": 2.0, "verbal_mass": 1.0, "context_texts": 0, "active_outlets": 5},
            ],
        )
    alert = replace(hostile_alert(), measure="escalation_mass", value=5.0)
    series = dict(series_for_chart(warehouse, alert, rhetoric_weight=0.5))
    assert series[SPIKE_DAY] == pytest.approx((2.0 + 0.5 * 1.0) * 2)  # x sqrt(4 outlets)
    assert series[SPIKE_DAY - timedelta(days=1)] == 0.0  # a signal row without ranking measures
    assert render_chart(warehouse, alert).startswith(PNG_MAGIC)
    rare = replace(alert, measure="rare_act")  # a rare grave act charts the day's mass too
    assert dict(series_for_chart(warehouse, rare, rhetoric_weight=0.5)) == series
    assert render_chart(warehouse, rare).startswith(PNG_MAGIC)
    from pipeline.channels import alert_headline

    assert "rare grave act, escalation mass 5.0 vs baseline" in alert_headline(rare)
    pair = replace(alert, measure="new_pair")  # so does a new actor pair
    assert dict(series_for_chart(warehouse, pair, rhetoric_weight=0.5)) == series
    assert "new actor pair, escalation mass 5.0 vs baseline" in alert_headline(pair)
