"""Incidents in the warehouse, on SQLite and PostgreSQL: detection opens and updates them from the
stored alerts, pages through the channels when one opens or gets worse (a real local HTTP server as
the webhook), never twice, and the migration brings an existing warehouse with alerts along."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa
from helpers import detect_with_test_floors, fetch_record, params_with_test_floors
from test_alerts import NOISY, SPIKE_DAY, START, put_series
from test_migrations import _fill_release_one

from pipeline.alerts import detect
from pipeline.articles import ArticleRecord, SentenceRecord
from pipeline.channels import WebhookNotifier
from pipeline.config import DetectionParams
from pipeline.store import Warehouse, migrate


def hook(httpserver, path: str = "/hook") -> WebhookNotifier:
    httpserver.expect_request(path, method="POST").respond_with_json({"ok": True})
    return WebhookNotifier(httpserver.url_for(path))


def payloads(httpserver) -> list[dict]:
    return [request.get_json() for request, _ in httpserver.log]


def test_an_incident_pages_when_it_opens_and_again_only_when_it_gets_worse(warehouse, httpserver):
    put_series(warehouse, "IRN", [*NOISY, 21, 60])  # z about 5 (warning), then about 25 (critical)
    notifier = hook(httpserver)
    params = params_with_test_floors(notify_min_severity="warning")
    first = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, params, notifiers=[notifier])
    assert [(a.severity, a.actor) for a in first.alerts] == [("warning", "IRN")]
    assert [p.reason for p in first.pages] == ["open"]
    detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, params, notifiers=[notifier])  # a re-run
    second = detect_with_test_floors(
        warehouse, SPIKE_DAY + timedelta(days=1), SPIKE_DAY + timedelta(days=1), params, notifiers=[notifier]
    )
    sent = payloads(httpserver)
    assert [(p["reason"], p["severity"], p["previous_severity"]) for p in sent] == [
        ("open", "warning", None),
        ("upgrade", "critical", "warning"),
    ]
    assert sent[0]["incident"] == sent[1]["incident"] and sent[1]["why"].startswith(
        "severity rose warning -> critical"
    )
    (incident,) = second.incidents
    assert (incident.severity, incident.alerts, incident.pages, incident.first_paged) == (
        "critical",
        2,
        2,
        SPIKE_DAY,
    )
    assert len(incident.alert_ids) == 2 and incident.sent_to_people == 2  # two pages reached the webhook
    for _ in range(2):  # re-running both days sends nothing again and changes no incident row
        detect_with_test_floors(
            warehouse, SPIKE_DAY, SPIKE_DAY + timedelta(days=1), params, notifiers=[notifier]
        )
    assert len(httpserver.log) == 2
    (again,) = warehouse.load_incidents(START, SPIKE_DAY + timedelta(days=1))
    assert again.incident_id == incident.incident_id and again.pages == 2


def test_ongoing_coverage_joins_its_incident_and_does_not_page_again(warehouse, httpserver):
    put_series(warehouse, "IRN", [*NOISY, *[60] * 6])  # a war covered every day
    notifier = hook(httpserver)
    last = SPIKE_DAY + timedelta(days=5)
    for offset in range(6):
        day = SPIKE_DAY + timedelta(days=offset)
        detect_with_test_floors(warehouse, day, day, notifiers=[notifier])
    (incident,) = warehouse.load_incidents(START, last, "live")
    assert incident.alerts == 2 and incident.pages == 1  # day 1 and day 5 (after the cooldown)
    # Live incidents stand as of today: the series ended weeks ago, so the quiet spell closed it.
    assert incident.closed == incident.last_alert + timedelta(days=DetectionParams().incident_quiet_days)
    assert [p["reason"] for p in payloads(httpserver)] == ["open"]


def test_a_quiet_spell_closes_an_incident_and_a_later_flare_opens_a_new_one(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60, *NOISY[:10], 60])
    second_spike = SPIKE_DAY + timedelta(days=11)
    report = detect_with_test_floors(warehouse, SPIKE_DAY, second_spike, mode="backtest")
    first, second = warehouse.load_incidents(START, second_spike, "backtest")
    assert first.closed == SPIKE_DAY + timedelta(days=DetectionParams().incident_quiet_days)
    assert second.opened == second_spike and second.closed is None
    assert [p.reason for p in report.pages] == ["open", "open"]


def _article(
    key: str, day, url: str, sentences: list[tuple[str, float, tuple[str, ...], list[str]]]
) -> ArticleRecord:
    """An article with real sentence texts: (text, score, actors, modifiers of its one match)."""
    return ArticleRecord(
        article_key=key,
        guid=None,
        url=url,
        title=f"title {key}",
        published_at=datetime.combine(day, time(12), tzinfo=UTC),
        date_source="published",
        content_hash=key,
        sentences=tuple(
            SentenceRecord(
                seq=i,
                text=text,
                score=score,
                escalation=max(score, 0.0),
                deescalation=max(-score, 0.0),
                matches=json.dumps([{"term": "attack", "effective_weight": score, "modifiers": modifiers}]),
                actors=actors,
            )
            for i, (text, score, actors, modifiers) in enumerate(sentences)
        ),
    )


def _store(warehouse, feed: str, records: list[ArticleRecord]) -> None:
    warehouse.store_feed_batch(fetch_record(feed, feed_title=feed.split("/")[2]), records, "run-t", "test-1")


def test_the_counterpart_makes_it_a_pair_and_wire_copies_count_once(warehouse):
    put_series(warehouse, "IRN", [*NOISY, 60])
    wire = "Iranian forces fired missiles at Israeli positions overnight."
    for n, feed in enumerate(("https://one.example/rss", "https://two.example/rss")):
        _store(
            warehouse,
            feed,
            [
                _article(
                    f"w{n}",
                    SPIKE_DAY,
                    f"https://{feed.split('/')[2]}/w{n}",
                    [(wire, 0.9, ("IRN", "ISR"), []), (f"Tehran vowed revenge {n}.", 0.5, ("IRN",), [])],
                )
            ],
        )
    report = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, mode="backtest")
    (alert,) = report.alerts
    assert alert.counterparts == ("ISR",) and alert.context_share == 0.0
    top = alert.evidence[0]
    assert (top["text"], top["copies"], top["outlets"]) == (wire, 2, 2)
    assert len(alert.evidence) == 3  # the wire text once, the two different sentences
    (incident,) = report.incidents
    assert incident.actors == ("IRN", "ISR") and incident.lead == "IRN"
    assert incident.evidence[0]["copies"] == 2 and incident.evidence[0]["outlet"] in (
        "one.example",
        "two.example",
    )


def test_a_disaster_day_opens_no_escalation_incident(warehouse, httpserver):
    put_series(warehouse, "TUR", [*NOISY, 60])
    _store(
        warehouse,
        "https://one.example/rss",
        [
            _article(
                "q1",
                SPIKE_DAY,
                "https://one.example/q1",
                [
                    (
                        "The earthquake killed hundreds in southern Turkey.",
                        0.2,
                        ("TUR",),
                        ["disaster:earthquake"],
                    ),
                    (
                        "Rescuers in Turkey pulled survivors from rubble.",
                        0.1,
                        ("TUR",),
                        ["disaster:earthquake"],
                    ),
                ],
            )
        ],
    )
    report = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[hook(httpserver)])
    (alert,) = report.alerts
    assert alert.context_share == 1.0
    assert report.incidents == [] and report.pages == [] and httpserver.log == []


@pytest.mark.parametrize(
    ("first", "second", "share"),
    [
        # ordinary crime is context like a disaster: it opens nothing
        (["crime:gunman"], ["crime:mass shooting"], 1.0),
        # a threat next to a background murder (its one match unlabelled) is political: half the evidence
        ([], ["crime:murder"], 0.5),
    ],
)
def test_crime_evidence_is_context_unless_a_political_act_carries_the_sentence(
    warehouse, httpserver, first, second, share
):
    put_series(warehouse, "USA", [*NOISY, 60])
    _store(
        warehouse,
        "https://one.example/rss",
        [
            _article(
                "c1",
                SPIKE_DAY,
                "https://one.example/c1",
                [
                    ("A gunman in the United States killed four at a bar.", 0.4, ("USA",), first),
                    ("The United States saw its third mass shooting this week.", 0.3, ("USA",), second),
                ],
            )
        ],
    )
    report = detect_with_test_floors(warehouse, SPIKE_DAY, SPIKE_DAY, notifiers=[hook(httpserver)])
    (alert,) = report.alerts
    assert alert.context_share == share
    if share == 1.0:
        assert report.incidents == [] and report.pages == [] and httpserver.log == []


def test_a_warehouse_with_alerts_is_migrated_and_its_old_alerts_page_nobody(
    request, warehouse_url, httpserver
):
    schema = request.getfixturevalue("pg_schema") if warehouse_url.startswith("postgresql") else None
    warehouse = Warehouse.from_url(warehouse_url, schema=schema)
    try:
        migrate.upgrade(warehouse.engine, "0001")  # a warehouse of release one, alerts in it
        before = _fill_release_one(warehouse.engine)
        with warehouse.engine.begin() as conn:  # an old live alert that would page today
            conn.execute(sa.text("update alerts set severity = 'critical' where kind = 'escalation'"))
        warehouse.init_schema()
        assert warehouse.current_revision() == migrate.head_revision()
        (old,) = [
            a for a in warehouse.load_alerts(START, SPIKE_DAY + timedelta(days=60)) if a.kind == "escalation"
        ]
        assert old.counterparts == () and old.context_share == 0.0  # NULL columns read as "no information"
        later = old.day + timedelta(days=30)
        report = detect(warehouse, later, later, notifiers=[hook(httpserver)])
        incidents = warehouse.load_incidents(old.day, later)
        assert sorted(i.kind for i in incidents) == ["deescalation", "escalation"]
        escalation = next(i for i in incidents if i.kind == "escalation")
        assert escalation.first_paged == old.day and escalation.closed is not None  # it would have paged then
        assert report.pages == [] and httpserver.log == [] and warehouse.page_delivery_states() == []
        with warehouse.engine.connect() as conn:
            counts = {
                t: conn.execute(sa.text(f"select count(*) from {t}")).scalar_one()
                for t in ("alerts", "alert_deliveries")
            }
        assert counts == {"alerts": before["alerts"], "alert_deliveries": before["alert_deliveries"]}
    finally:
        warehouse.dispose()


def test_two_detection_runs_at_the_same_moment_leave_every_alert_in_an_incident(warehouse_url, request):
    """Two processes' runs (here threads, each with its own engine) store their alerts and refold at
    once: the last fold saved must still hold both runs' alerts (one fold at a time)."""
    import threading

    schema = request.getfixturevalue("pg_schema") if warehouse_url.startswith("postgresql") else None
    first = Warehouse.from_url(warehouse_url, schema=schema)
    first.init_schema()
    second = Warehouse.from_url(warehouse_url, schema=schema)
    actors = ("IRN", "ISR", "QAT", "UKR")  # both runs detect all four on the same day
    for actor in actors:
        put_series(first, actor, [*NOISY, 60])
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(warehouse):
        try:
            barrier.wait()
            for _ in range(3):
                detect_with_test_floors(
                    warehouse, SPIKE_DAY, SPIKE_DAY, params_with_test_floors(), mode="backtest"
                )
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    try:
        assert errors == []
        found = first.load_incidents(SPIKE_DAY, SPIKE_DAY, "backtest")
        linked = sorted(a for i in found for a in i.alert_ids)
        stored = sorted(a.alert_id for a in first.load_alerts(SPIKE_DAY, SPIKE_DAY))
        assert len(stored) == len(actors) and linked == stored
        assert len({i.key for i in found}) == len(found)  # no incident twice
    finally:
        first.dispose()
        second.dispose()


def test_a_grave_act_page_is_delivered_after_a_stronger_page_and_only_once(warehouse):
    # The incident paged at critical (surprise 9) on day 0; on day 3 a grave act joined it (surprise 5,
    # the same severity): an ordinary page that weak would repeat day 0's, a grave-act page does not;
    # a second grave-act page of the incident repeats the first.
    from pipeline.store import IncidentPage, StoredIncident

    day0 = START + timedelta(days=40)
    key = ("escalation", day0, "AFG")
    incident = StoredIncident(
        mode="live", kind="escalation", lead="AFG", opened=day0, actors=("AFG", "TALIBAN"),
        last_alert=day0 + timedelta(days=4), closed=None, severity="critical", peak_surprise=9.0, alerts=3,
        evidence=(), paged_severity="critical", first_paged=day0,
    )

    def page(offset: int, reason: str, surprise: float) -> IncidentPage:
        return IncidentPage(key, day0 + timedelta(days=offset), reason, "critical", "critical" if offset else None,
                            surprise, "AFG", f"{reason} on day {offset}")

    pages = [page(0, "open", 9.0), page(2, "upgrade", 5.0), page(3, "grave act", 5.0), page(4, "grave act", 5.0)]
    saved = warehouse.save_incident_fold("live", [incident], pages)
    ids = [saved.page_ids[(key, p.day)] for p in pages]
    sent_at = datetime.now(UTC)
    warehouse.add_pending_page_deliveries(ids[:1], ["webhook"])
    warehouse.finish_page_delivery(ids[0], "webhook", "sent", 1, None, sent_at)
    assert warehouse.pages_to_deliver(ids[1:]) == ids[2:]  # the weak upgrade repeats day 0; grave acts do not
    warehouse.add_pending_page_deliveries(ids[2:3], ["webhook"])
    warehouse.finish_page_delivery(ids[2], "webhook", "sent", 1, None, sent_at)
    assert warehouse.pages_to_deliver(ids[3:]) == []  # one grave act per incident reaches people
