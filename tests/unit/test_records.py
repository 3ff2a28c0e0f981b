"""The one record codec: typed records to JSON-ready dicts and back, by their declared field types."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from pipeline.ingest import FeedOutcome
from pipeline.records import field_names, from_plain, to_plain
from pipeline.store import Alert, alert_to_dict


@dataclass(frozen=True)
class Sample:
    day: date
    at: datetime | None
    days: tuple[date, ...] = ()
    ratio: float = 0.0
    note: str | None = None


def test_a_record_survives_json_and_back():
    record = Sample(date(2026, 3, 1), datetime(2026, 3, 1, 6, 30, tzinfo=UTC), (date(2026, 2, 28),), 0.123456)
    plain = to_plain(record)
    assert plain == {
        "day": "2026-03-01",
        "at": "2026-03-01T06:30:00+00:00",
        "days": ["2026-02-28"],
        "ratio": 0.123456,
        "note": None,
    }
    assert from_plain(Sample, json.loads(json.dumps(plain))) == record


def test_rounding_and_omission_are_per_field():
    record = Sample(date(2026, 3, 1), None, ratio=2 / 3)
    assert to_plain(record, digits={"ratio": 2}, omit=("note",)) == {
        "day": "2026-03-01",
        "at": None,
        "days": [],
        "ratio": 0.67,
    }


def test_unknown_keys_are_refused_and_missing_ones_default():
    with pytest.raises(ValueError, match="Sample has no field"):
        from_plain(Sample, {"day": "2026-03-01", "at": None, "colour": "red"})
    assert from_plain(Sample, {"day": "2026-03-01", "at": None}).days == ()
    assert field_names(Sample) == ("day", "at", "days", "ratio", "note")


def test_feed_outcomes_travel_through_xcom_unchanged():
    outcome = FeedOutcome("https://feeds.example/rss", True, 200, entries_seen=3, days=(date(2026, 11, 2),))
    assert FeedOutcome.from_dict(json.loads(json.dumps(outcome.to_dict()))) == outcome


def test_alert_payloads_round_their_measures_and_keep_evidence():
    alert = Alert(
        date(2026, 11, 2), "IRN", "escalation", "warning", 41.23456, 10.0, 4.44444, 6.987, 9, 3, "live",
        ({"text": "a sentence", "score": 0.8},), "escalation_index", 17,
    )
    data = alert_to_dict(alert)
    assert data["value"] == 41.235 and data["spread"] == 4.444 and data["surprise"] == 6.99
    assert data["day"] == "2026-11-02" and data["evidence"] == [{"text": "a sentence", "score": 0.8}]
    assert "alert_id" not in data
