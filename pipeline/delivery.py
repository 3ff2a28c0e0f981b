"""Alert delivery: the state machine that sends each alert once per channel, ever.

Per (alert, channel) a delivery row goes pending -> sending -> sent | failed. A run claims a row
by moving it to 'sending' with a conditional UPDATE (the lock: of two runs at the same moment one
wins, the other skips), sends, then records 'sent' or 'failed'. Failed and pending rows, also of
earlier runs, are retried; a row left 'sending' by a run that died is taken over after
STALE_SENDING; a row marked 'sent' is never sent again. The SQL is in pipeline/store/alerts.py;
the channels are in pipeline/channels.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Protocol

from pipeline.clock import now_utc
from pipeline.detector import SEVERITY_RANK
from pipeline.interrupts import deferred
from pipeline.store import Alert, Warehouse

# A delivery left in 'sending' this long ago belongs to a run that died mid-send: take it over.
STALE_SENDING = timedelta(minutes=10)


class Notifier(Protocol):
    channel: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raise on failure (the caller records the reason and retries later)."""


def deliver(warehouse: Warehouse, alert_ids: Iterable[int], notifiers: Sequence[Notifier]) -> dict[str, int]:
    """Send each alert once per channel. Pending/failed deliveries (also from earlier runs) are retried;
    a delivery marked 'sent' is never sent again. Returns status -> count of this call."""
    channels = {n.channel: n for n in notifiers}
    warehouse.add_pending_deliveries(set(alert_ids), list(channels))
    outcome: dict[str, int] = defaultdict(int)
    for alert_id, channel in warehouse.unsent_deliveries(list(channels)):
        # Claim, send and record as one step for SIGINT/SIGTERM: a stop waits for the record, so an
        # alert is never sent without being marked sent (and sent again by the next run).
        with deferred():
            status = _deliver_one(warehouse, alert_id, channels[channel])
        if status:
            outcome[status] += 1
    return dict(outcome)


def _deliver_one(warehouse: Warehouse, alert_id: int, notifier: Notifier) -> str | None:
    attempts = warehouse.claim_delivery(alert_id, notifier.channel, now_utc() - STALE_SENDING)
    if attempts is None:
        return None  # another run is sending it right now, or already has
    alert = warehouse.load_alert(alert_id)
    if alert is None:
        return None
    try:
        notifier.send(alert)
    except Exception as exc:  # a channel that is down keeps the alert pending for the next run
        status, error, sent_at = "failed", str(exc)[:500], None
    else:
        status, error, sent_at = "sent", None, now_utc()
    warehouse.finish_delivery(alert_id, notifier.channel, status, attempts + 1, error, sent_at)
    return status


def deliver_alerts(
    warehouse: Warehouse, alerts: Sequence[Alert], notifiers: Sequence[Notifier], min_severity: str
) -> dict[str, int]:
    """Every alert goes to the log channel; people (every other channel) are paged from
    `min_severity` up. Returns status -> count over all channels."""
    floor = SEVERITY_RANK[min_severity]
    log_channels = [n for n in notifiers if n.channel == "log"]
    push_channels = [n for n in notifiers if n.channel != "log"]
    everything = [a.alert_id for a in alerts if a.alert_id]
    pushed = [a.alert_id for a in alerts if a.alert_id and SEVERITY_RANK[a.severity] >= floor]
    outcome: dict[str, int] = defaultdict(int)
    for ids, channels in ((everything, log_channels), (pushed, push_channels)):
        if channels:
            for status, count in deliver(warehouse, ids, channels).items():
                outcome[status] += count
    return dict(outcome)
