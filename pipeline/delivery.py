"""Delivery: the state machine that sends each alert, and each incident page, once per channel, ever.

Per (alert, channel) a delivery row goes pending -> sending -> sent | failed. A run claims a row
by moving it to 'sending' with a conditional UPDATE (the lock: of two runs at the same moment one
wins, the other skips), sends, then records 'sent' or 'failed'. Failed and pending rows, also of
earlier runs, are retried; a row left 'sending' by a run that died is taken over after
STALE_SENDING; a row marked 'sent' is never sent again. Alerts (alert_deliveries) go to the log;
incident pages (page_deliveries) are what reaches people. The SQL is in pipeline/store/alerts.py
and pipeline/store/incidents.py; the channels are in pipeline/channels.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from pipeline.clock import now_utc
from pipeline.detector import SEVERITY_RANK
from pipeline.interrupts import deferred
from pipeline.store import Alert, IncidentPage, Warehouse

# A delivery left in 'sending' this long ago belongs to a run that died mid-send: take it over.
STALE_SENDING = timedelta(minutes=10)


class Notifier(Protocol):
    channel: str

    def send(self, alert: Alert) -> None:
        """Deliver one alert; raise on failure (the caller records the reason and retries later)."""

    def send_page(self, page: IncidentPage) -> None:
        """Deliver one incident page; raise on failure (retried later, as an alert)."""


def _run_deliveries(
    ids: Iterable[int],
    notifiers: Sequence[Notifier],
    *,
    add_pending: Callable[[Iterable[int], Sequence[str]], None],
    unsent: Callable[[Sequence[str]], list[tuple[int, str]]],
    claim: Callable[[int, str, datetime], int | None],
    load: Callable[[int], Any],
    finish: Callable[[int, str, str, int, str | None, datetime | None], None],
    send: Callable[[Notifier, Any], None],
) -> dict[str, int]:
    channels = {n.channel: n for n in notifiers}
    add_pending(set(ids), list(channels))
    outcome: dict[str, int] = defaultdict(int)
    for item_id, channel in unsent(list(channels)):
        # Claim, send and record as one step for SIGINT/SIGTERM: a stop waits for the record, so an
        # alert or page is never sent without being marked sent (and sent again by the next run).
        with deferred():
            attempts = claim(item_id, channel, now_utc() - STALE_SENDING)
            if attempts is None:
                continue  # another run is sending it right now, or already has
            item = load(item_id)
            if item is None:
                continue
            try:
                send(channels[channel], item)
            except Exception as exc:  # a channel that is down keeps it pending for the next run
                status, error, sent_at = "failed", str(exc)[:500], None
            else:
                status, error, sent_at = "sent", None, now_utc()
            finish(item_id, channel, status, attempts + 1, error, sent_at)
        outcome[status] += 1
    return dict(outcome)


def deliver(warehouse: Warehouse, alert_ids: Iterable[int], notifiers: Sequence[Notifier]) -> dict[str, int]:
    """Send each alert once per channel. Pending/failed deliveries (also from earlier runs) are retried;
    a delivery marked 'sent' is never sent again. Returns status -> count of this call."""
    return _run_deliveries(
        alert_ids,
        notifiers,
        add_pending=warehouse.add_pending_deliveries,
        unsent=warehouse.unsent_deliveries,
        claim=warehouse.claim_delivery,
        load=warehouse.load_alert,
        finish=warehouse.finish_delivery,
        send=lambda notifier, alert: notifier.send(alert),
    )


def deliver_pages(
    warehouse: Warehouse, page_ids: Iterable[int], notifiers: Sequence[Notifier]
) -> dict[str, int]:
    """Send each incident page once per channel, as `deliver` does alerts; a page that repeats one
    already sent for its incident gets no delivery at all."""
    return _run_deliveries(
        warehouse.pages_to_deliver(page_ids),
        notifiers,
        add_pending=warehouse.add_pending_page_deliveries,
        unsent=warehouse.unsent_page_deliveries,
        claim=warehouse.claim_page_delivery,
        load=warehouse.load_page,
        finish=warehouse.finish_page_delivery,
        send=lambda notifier, page: notifier.send_page(page),
    )


def deliver_alerts(
    warehouse: Warehouse, alerts: Sequence[Alert], notifiers: Sequence[Notifier], min_severity: str
) -> dict[str, int]:
    """Alerts one by one (before incidents): every alert to the log channel, every other channel
    from `min_severity` up. Detection now pages through incidents (`deliver_pages`); this stays for
    callers that deliver alerts themselves. Returns status -> count over all channels."""
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
