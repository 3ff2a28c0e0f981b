"""Spike detection and delivery: real databases, a real local HTTP server as the webhook."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import article, fetch_record

from pipeline.alerts import (
    DetectionParams,
    WebhookNotifier,
    alert_to_dict,
    delivery_states,
    detect,
    load_alerts,
)

START = date(2026, 10, 1)
SPIKE_DAY = START + timedelta(days=20)


def put_series(
    warehouse,
    actor: str,
    values: list[float],
    *,
    articles: int = 5,
    sources: int = 3,
    kind: str = "escalation_index",
):
    rows = []
    for offset, value in enumerate(values):
        rows.append(
            {
                "day": START + timedelta(days=offset),
                "actor": actor,
                "articles": articles,
                "sources": sources,
                "sentences": 20,
                "escalatory_sentences": 5,
                "deescalatory_sentences": 1,
                "escalation_index": value if kind == "escalation_index" else 1.0,
                "deescalation_index": value if kind == "deescalation_index" else 1.0,
                "max_score": 0.9,
                "computed_at": datetime(2026, 11, 1, tzinfo=UTC),
            }
        )
    with warehouse.engine.begin() as conn:
        conn.execute(warehouse.tables["daily_signals"].insert(), rows)


NOISY = [10, 12, 9, 11, 10, 13, 8, 10, 11, 12, 9, 10, 11, 10, 12, 9, 11, 10, 13, 10]


def test_spike_is_detected_with_severity_and_flat_series_is_not(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    put_series(warehouse, "QAT", [*NOISY, 11])
    report = detect(warehouse, START, SPIKE_DAY, DetectionParams(), mode="backtest")
    assert [(a.actor, a.day, a.kind) for a in report.alerts] == [("IRN", SPIKE_DAY, "escalation")]
    alert = report.alerts[0]
    # Baseline window: days [D-30, D-2) since first appearance, i.e. the first 18 days here.
    assert alert.baseline == pytest.approx(statistics.median(NOISY[:18]))
    assert alert.severity == "critical" and alert.surprise >= 8
    assert alert.mode == "backtest"


def test_deescalation_surge_is_its_own_kind(warehouse):
    put_series(warehouse, "QAT", [*NOISY, 60], kind="deescalation_index")
    (alert,) = detect(warehouse, SPIKE_DAY, SPIKE_DAY).alerts
    assert alert.kind == "deescalation"


@pytest.mark.parametrize(
    ("series_kwargs", "params"),
    [
        ({"articles": 2}, DetectionParams()),  # one or two articles cannot page anyone
        ({"sources": 1}, DetectionParams()),  # no corroboration across feeds
        ({}, DetectionParams(min_history_days=30)),  # too little history for this actor
    ],
)
def test_gates(warehouse, series_kwargs, params):
    put_series(warehouse, "IRN", [*NOISY, 60], **series_kwargs)
    assert detect(warehouse, SPIKE_DAY, SPIKE_DAY, params).alerts == []


def test_new_actor_on_day_one_does_not_alert(warehouse):
    put_series(warehouse, "NEW", [80])
    assert detect(warehouse, START, START).alerts == []


def test_zero_baseline_uses_the_spread_floor(warehouse):
    put_series(warehouse, "IRN", [0] * 20 + [7])
    (alert,) = detect(warehouse, SPIKE_DAY, SPIKE_DAY, DetectionParams(spread_floor=2.0)).alerts
    assert alert.spread == 2.0 and alert.surprise == pytest.approx(3.5) and alert.severity == "watch"


def test_rerun_never_duplicates_and_live_stays_live(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    detect(warehouse, SPIKE_DAY, SPIKE_DAY, mode="live")
    detect(warehouse, SPIKE_DAY, SPIKE_DAY, mode="backtest")
    stored = load_alerts(warehouse, START, SPIKE_DAY)
    assert len(stored) == 1 and stored[0].mode == "live"


def test_evidence_comes_from_the_stored_sentences(warehouse):
    for i in range(4):
        warehouse.store_feed_batch(
            fetch_record(f"https://feed{i % 2}.example/rss"),
            [article(f"d{i}", SPIKE_DAY, [(0.9, ("IRN",)), (0.2, ("IRN",))])],
            "r",
            "v1",
        )
    put_series(warehouse, "IRN", NOISY)
    from pipeline.signals import compute_signals

    compute_signals(warehouse, SPIKE_DAY, SPIKE_DAY)
    (alert,) = [a for a in detect(warehouse, SPIKE_DAY, SPIKE_DAY).alerts if a.actor == "IRN"]
    data = alert_to_dict(alert)
    assert data["sources"] == 2 and data["articles"] == 4
    assert len(data["evidence"]) == 5 and data["evidence"][0]["score"] == 0.9
    assert data["evidence"][0]["url"].startswith("https://news.example/")


def test_webhook_down_then_up_delivers_exactly_once(warehouse, httpserver):
    put_series(warehouse, "IRN", [*NOISY, 60])
    secret_url = httpserver.url_for("/hooks/T000/SECRET-TOKEN")
    notifier = WebhookNotifier(secret_url)

    httpserver.expect_oneshot_request("/hooks/T000/SECRET-TOKEN", method="POST").respond_with_data(
        "down", status=503
    )
    detect(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier])
    (state,) = delivery_states(warehouse)
    assert state["status"] == "failed" and state["attempts"] == 1
    assert "503" in state["last_error"] and "SECRET-TOKEN" not in state["last_error"]

    httpserver.expect_oneshot_request("/hooks/T000/SECRET-TOKEN", method="POST").respond_with_json(
        {"ok": True}
    )
    detect(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier])
    (state,) = delivery_states(warehouse)
    assert state["status"] == "sent" and state["attempts"] == 2 and state["sent_at"] is not None
    payload = httpserver.log[-1][0].get_json()
    assert payload["actor"] == "IRN" and payload["severity"] == "critical" and "evidence" in payload

    requests_so_far = len(httpserver.log)
    detect(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier])  # a re-run sends nothing again
    assert len(httpserver.log) == requests_so_far
    httpserver.check_assertions()


def test_unreachable_webhook_is_failed_not_fatal(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    report = detect(
        warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[WebhookNotifier("http://127.0.0.1:9/hook", timeout_s=1)]
    )
    assert report.deliveries == {"failed": 1}
    with warehouse.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(warehouse.tables["alerts"])).scalar_one() == 1
        )


def test_backtest_does_not_notify(warehouse, httpserver):
    put_series(warehouse, "IRN", [*NOISY, 60])
    detect(
        warehouse,
        SPIKE_DAY,
        SPIKE_DAY,
        mode="backtest",
        notifiers=[WebhookNotifier(httpserver.url_for("/h"))],
    )
    assert httpserver.log == [] and delivery_states(warehouse) == []
