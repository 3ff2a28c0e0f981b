"""Spike detection and delivery: real databases, a real local HTTP server as the webhook."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import article, detect_with_test_floors, fetch_record, params_with_test_floors, schema_url

from pipeline.alerts import detect
from pipeline.channels import LogNotifier, WebhookNotifier
from pipeline.config import DetectionParams, load_settings
from pipeline.store import alert_to_dict

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
    counts: list[int] | None = None,
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
                "escalatory_sentences": counts[offset] if counts else 5,
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
    report = detect_with_test_floors(warehouse, START, SPIKE_DAY, params_with_test_floors(), mode="backtest")
    assert [(a.actor, a.day, a.kind) for a in report.alerts] == [("IRN", SPIKE_DAY, "escalation")]
    alert = report.alerts[0]
    # Baseline window: days [D-30, D-2) since first appearance, i.e. the first 18 days here.
    assert alert.baseline == pytest.approx(statistics.median(NOISY[:18]))
    assert alert.severity == "critical" and alert.surprise >= 8
    assert alert.mode == "backtest"


def test_deescalation_surge_is_its_own_kind(warehouse):
    put_series(warehouse, "QAT", [*NOISY, 60], kind="deescalation_index")
    (alert,) = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY).alerts
    assert alert.kind == "deescalation"


@pytest.mark.parametrize(
    ("series_kwargs", "params"),
    [
        ({"articles": 2}, params_with_test_floors()),  # one or two articles cannot page anyone
        ({"sources": 1}, params_with_test_floors()),  # no corroboration across feeds
        ({}, params_with_test_floors(min_history_days=30)),  # too little history for this actor
    ],
)
def test_gates(warehouse, series_kwargs, params):
    put_series(warehouse, "IRN", [*NOISY, 60], **series_kwargs)
    assert detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, params).alerts == []


def test_new_actor_on_day_one_does_not_alert(warehouse):
    put_series(warehouse, "NEW", [80])
    assert detect_with_test_floors(warehouse, START, START).alerts == []


def test_zero_baseline_uses_the_spread_floor(warehouse):
    put_series(warehouse, "IRN", [0] * 20 + [7])
    (alert,) = detect_with_test_floors(
        warehouse, SPIKE_DAY, SPIKE_DAY, params_with_test_floors(spread_floor=2.0)
    ).alerts
    assert alert.spread == 2.0 and alert.surprise == pytest.approx(3.5) and alert.severity == "watch"


def test_rerun_never_duplicates_and_live_stays_live(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, mode="live")
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, mode="backtest")
    stored = warehouse.load_alerts(START, SPIKE_DAY)
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
    (alert,) = [
        a for a in detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY).alerts if a.actor == "IRN"
    ]
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
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier])
    (state,) = warehouse.page_delivery_states()
    assert state["status"] == "failed" and state["attempts"] == 1
    assert "503" in state["last_error"] and "SECRET-TOKEN" not in state["last_error"]

    httpserver.expect_oneshot_request("/hooks/T000/SECRET-TOKEN", method="POST").respond_with_json(
        {"ok": True}
    )
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier])
    (state,) = warehouse.page_delivery_states()
    assert state["status"] == "sent" and state["attempts"] == 2 and state["sent_at"] is not None
    payload = httpserver.log[-1][0].get_json()
    assert payload["type"] == "escalation_incident" and payload["reason"] == "open"
    assert payload["actors"] == ["IRN"] and payload["severity"] == "critical" and "evidence" in payload
    assert payload["since"] == SPIKE_DAY.isoformat() and payload["why"].startswith("opened at critical")

    requests_so_far = len(httpserver.log)
    detect_with_test_floors(
        warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[notifier]
    )  # a re-run sends nothing again
    assert len(httpserver.log) == requests_so_far
    httpserver.check_assertions()


def test_unreachable_webhook_is_failed_not_fatal(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    report = detect_with_test_floors(
        warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[WebhookNotifier("http://127.0.0.1:9/hook", timeout_s=1)]
    )
    assert report.deliveries == {"failed": 1}
    with warehouse.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(warehouse.tables["alerts"])).scalar_one() == 1
        )


def test_backtest_does_not_notify(warehouse, httpserver):
    put_series(warehouse, "IRN", [*NOISY, 60])
    detect_with_test_floors(
        warehouse,
        SPIKE_DAY,
        SPIKE_DAY,
        mode="backtest",
        notifiers=[WebhookNotifier(httpserver.url_for("/h"))],
    )
    assert httpserver.log == [] and warehouse.delivery_states() == [] and warehouse.page_delivery_states() == []
    (incident,) = warehouse.load_incidents(SPIKE_DAY, SPIKE_DAY, "backtest")
    assert incident.first_paged == SPIKE_DAY  # it would have paged


def test_count_of_escalatory_sentences_is_watched_too(warehouse):
    # The index stays flat (more coverage, same tone), but the number of escalatory sentences jumps.
    counts = [5, 6, 4, 5, 5, 6, 4, 5, 5, 6, 4, 5, 5, 6, 4, 5, 5, 6, 4, 5]
    put_series(warehouse, "IRN", [*NOISY, 11], counts=[*counts, 40])
    (alert,) = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY).alerts
    assert alert.measure == "escalatory_sentences" and alert.value == 40
    assert alert.baseline == 5 and alert.severity == "critical"
    assert alert_to_dict(alert)["measure"] == "escalatory_sentences"
    assert warehouse.load_alerts(SPIKE_DAY, SPIKE_DAY)[0].measure == "escalatory_sentences"


def test_headline_measure_wins_when_it_is_the_bigger_surprise(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    (alert,) = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY).alerts
    assert alert.measure == "escalation_index"


def test_ewma_detector_is_selectable_and_sees_the_spike(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    (alert,) = detect_with_test_floors(
        warehouse, SPIKE_DAY, SPIKE_DAY, params_with_test_floors(detector="ewma")
    ).alerts
    assert alert.severity == "critical"
    assert 9 < alert.baseline < 12  # the weighted mean of the window, not the median


@pytest.mark.parametrize(
    "bad",
    [
        {"detector": "magic"},
        {"watch": 6.0, "warning": 5.0},
        {"notify_min_severity": "loud"},
        {"ewma_lambda": 0},
    ],
)
def test_bad_detection_parameters_are_refused_with_the_reason(bad):
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        DetectionParams(**bad)


def test_settings_reach_the_detector():
    settings = load_settings(
        {
            "ESCALATION_DETECTOR": "ewma",
            "ESCALATION_ALERT_WATCH": "2.5",
            "ESCALATION_NOTIFY_MIN_SEVERITY": "watch",
            "ESCALATION_SPREAD_FLOOR": "3",
        }
    )
    params = settings.detection
    assert (params.detector, params.watch, params.notify_min_severity, params.spread_floor) == (
        "ewma",
        2.5,
        "watch",
        3.0,
    )


def test_watch_alerts_are_logged_but_do_not_page_by_default(warehouse, httpserver, caplog):
    # Defaults: notify_min_severity=warning. A watch-level spike reaches the log, not the webhook.
    put_series(warehouse, "IRN", [0] * 20 + [26])  # floor 8 -> z = 3.25: watch (the index ranking)
    hook = WebhookNotifier(httpserver.url_for("/hook"))
    caplog.set_level("INFO")
    params = DetectionParams(ranking="index")
    report = detect(warehouse, SPIKE_DAY, SPIKE_DAY, params, notifiers=[LogNotifier(), hook])
    assert [a.severity for a in report.alerts] == ["watch"]
    assert httpserver.log == []
    assert [s["channel"] for s in warehouse.delivery_states()] == ["log"]
    assert "IRN" in caplog.text


class SlowCountingNotifier:
    """A channel that takes a while to answer, and counts what it receives."""

    channel = "counting"

    def __init__(self):
        import threading

        self.sent: list[int] = []
        self._lock = threading.Lock()

    def send(self, alert):
        import time

        time.sleep(0.2)
        with self._lock:
            self.sent.append(alert.alert_id)


def test_two_runs_delivering_at_once_send_once(warehouse):
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.delivery import deliver

    put_series(warehouse, "IRN", [*NOISY, 60])
    (alert,) = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY).alerts
    notifier = SlowCountingNotifier()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda _: deliver(warehouse, [alert.alert_id], [notifier]), range(4)))
    assert notifier.sent == [alert.alert_id]
    assert sum(o.get("sent", 0) for o in outcomes) == 1
    (state,) = warehouse.delivery_states()
    assert (state["status"], state["attempts"]) == ("sent", 1)


def test_a_delivery_stuck_in_sending_is_taken_over_when_stale(warehouse):
    from pipeline.delivery import STALE_SENDING, deliver

    put_series(warehouse, "IRN", [*NOISY, 60])
    (alert,) = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY).alerts
    notifier = SlowCountingNotifier()
    deliveries = warehouse.tables["alert_deliveries"]
    with warehouse.engine.begin() as conn:  # a run that died after claiming, just now
        conn.execute(
            deliveries.insert().values(
                alert_id=alert.alert_id,
                channel="counting",
                status="sending",
                attempts=0,
                updated_at=datetime.now(UTC),
            )
        )
    assert deliver(warehouse, [alert.alert_id], [notifier]) == {} and notifier.sent == []
    with warehouse.engine.begin() as conn:  # ... or long ago
        conn.execute(
            deliveries.update().values(updated_at=datetime.now(UTC) - STALE_SENDING - timedelta(minutes=1))
        )
    assert deliver(warehouse, [alert.alert_id], [notifier]) == {"sent": 1} and notifier.sent == [
        alert.alert_id
    ]


# What detection and delivery store; a backtest must leave every row of them as it was.
DETECTION_STATE = (
    "alerts",
    "alert_deliveries",
    "incidents",
    "incident_alerts",
    "incident_pages",
    "page_deliveries",
    "pipeline_runs",
)


def _state(warehouse) -> dict[str, list[tuple]]:
    """Every row of those tables with every column (timestamps too: a rewrite of the same values
    is a change), sorted."""
    with warehouse.engine.connect() as conn:
        return {
            name: sorted((tuple(r) for r in conn.execute(sa.select(warehouse.tables[name]))), key=repr)
            for name in DETECTION_STATE
        }


def _assert_unchanged(warehouse, before: dict[str, list[tuple]]) -> None:
    after = _state(warehouse)
    for name in DETECTION_STATE:  # table by table, so a failure names the table
        assert after[name] == before[name], name


def test_a_backtest_changes_no_stored_alert_incident_page_or_delivery(
    request, warehouse, httpserver, tmp_path
):
    from helpers import escalation

    from pipeline.alerts import backtest

    # Live state: an incident opened at warning and rose to critical (two pages, each sent to the log
    # and a webhook); then a stored backtest run over the same days (backtest incidents and pages).
    warehouse.store_feed_batch(fetch_record(), [article("a1", SPIKE_DAY, [(0.9, ("IRN",))])], "r1", "v1")
    put_series(warehouse, "IRN", [*NOISY, 21, 60])
    httpserver.expect_request("/hook", method="POST").respond_with_json({"ok": True})
    notifiers = [LogNotifier(), WebhookNotifier(httpserver.url_for("/hook"))]
    params = params_with_test_floors(notify_min_severity="warning")
    last = SPIKE_DAY + timedelta(days=1)
    for day in (SPIKE_DAY, last):
        detect_with_test_floors(warehouse, day, day, params, notifiers=notifiers)
    detect_with_test_floors(warehouse, START, last, params, mode="backtest")
    before = _state(warehouse)
    assert all(before[t] for t in DETECTION_STATE if t != "pipeline_runs"), before
    assert {i.mode for i in warehouse.load_incidents(START, last)} == {"live", "backtest"}
    posted = len(httpserver.log)
    assert posted == 2

    run = backtest(warehouse, START, last, params)
    # The replay found what detection stored (so it had something it could have written or sent).
    assert [(a.day, a.actor, a.severity) for a in run.alerts] == [
        (SPIKE_DAY, "IRN", "warning"),
        (last, "IRN", "critical"),
    ]
    assert [p.reason for p in run.timeline.pages] == ["open", "upgrade"]
    _assert_unchanged(warehouse, before)

    # `escalation backtest` as a user runs it, with the same detection settings and a webhook set.
    schema = request.getfixturevalue("pg_schema") if warehouse.engine.dialect.name == "postgresql" else None
    url = schema_url(warehouse.engine.url.render_as_string(hide_password=False), schema)
    events = tmp_path / "events.yaml"
    events.write_text(
        f"escalations:\n  - {{name: the IRN surge, actors: [IRN], first: {SPIKE_DAY}, last: {last}}}\n"
    )
    env = {
        "ESCALATION_SPREAD_FLOOR": "2",
        "ESCALATION_COUNT_SPREAD_FLOOR": "2",
        "ESCALATION_RANKING": "index",
        "ESCALATION_NOTIFY_MIN_SEVERITY": "warning",
        "ESCALATION_WEBHOOK_URL": httpserver.url_for("/hook"),
    }
    window = ("--since", START.isoformat(), "--until", last.isoformat())
    result = escalation("backtest", "--events", str(events), *window, "--json", db_url=url, env=env)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert (figures["alerts"], figures["escalations_paged"]) == (2, 1)
    _assert_unchanged(warehouse, before)
    assert len(httpserver.log) == posted  # and it paged nobody
