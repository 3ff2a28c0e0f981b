"""Alert storage: the alert record, its upsert, the cooldown look-up, loads, and the SQL of the
delivery state machine (pending -> sending -> sent | failed; the conditional claim is the lock)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pipeline.clock import now_utc
from pipeline.records import field_names, from_plain, to_plain
from pipeline.store.engine import insert_for, run_transaction
from pipeline.store.schema import alert_deliveries, alerts


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
    counterparts: tuple[str, ...] = ()  # other actors its evidence names, strongest first
    context_share: float = 0.0  # share of its evidence in a disaster or accident context
    alert_id: int | None = None


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    """The JSON-ready form of an alert (CLI --json, webhook payloads, run reports)."""
    return to_plain(alert, digits=_ALERT_DIGITS, omit=("alert_id",))


_ALERT_DIGITS = {"value": 3, "baseline": 3, "spread": 3, "surprise": 2, "context_share": 3}


def _row_to_alert(row: Any) -> Alert:
    values = {name: row[name] for name in field_names(Alert)}
    counterparts = tuple(a for a in (row["counterparts"] or "").split(",") if a)
    return from_plain(
        Alert,
        {
            **values,
            "evidence": json.loads(row["evidence"]),
            "counterparts": counterparts,
            "context_share": row["context_share"] or 0.0,
        },
    )


class AlertStore:
    """Alerts and their deliveries (a part of `Warehouse`)."""

    engine: Engine

    def store_alert(self, alert: Alert) -> int:
        """Upsert on (day, actor, kind); returns the alert id. A live alert never turns into a backtest one."""
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
                "counterparts": ",".join(alert.counterparts),
                "context_share": alert.context_share,
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
                    day=alert.day,
                    actor=alert.actor,
                    kind=alert.kind,
                    mode=alert.mode,
                    created_at=stamp,
                    **values,
                )
                .returning(alerts.c.alert_id)
            ).scalar_one()

        # A concurrent detection may insert the same key between the check and the insert: the retry
        # then finds it and updates instead.
        return run_transaction(
            self.engine, work, f"alert {alert.actor} {alert.day} {alert.kind}", retry_on_conflict=True
        )

    def alert_severities(self, actor: str, kind: str, since: date, until: date) -> list[str]:
        """Severities of the stored alerts of actor+kind on the days of [since, until] (the cooldown window)."""
        query = sa.select(alerts.c.severity).where(
            alerts.c.actor == actor, alerts.c.kind == kind, alerts.c.day.between(since, until)
        )
        with self.engine.connect() as conn:
            return list(conn.execute(query).scalars())

    def alert_history(self, since: date, until: date) -> dict[tuple[str, str], list[tuple[date, str]]]:
        """(actor, kind) -> (day, severity) of every stored alert on the days of [since, until], by
        day: what the cooldown of a detection run looks back at."""
        query = (
            sa.select(alerts.c.actor, alerts.c.kind, alerts.c.day, alerts.c.severity)
            .where(alerts.c.day.between(since, until))
            .order_by(alerts.c.actor, alerts.c.kind, alerts.c.day)
        )
        history: dict[tuple[str, str], list[tuple[date, str]]] = {}
        with self.engine.connect() as conn:
            for actor, kind, day, severity in conn.execute(query).all():
                history.setdefault((actor, kind), []).append((day, severity))
        return history

    def load_alert(self, alert_id: int) -> Alert | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(alerts).where(alerts.c.alert_id == alert_id)).mappings().first()
        return _row_to_alert(row) if row else None

    def load_alerts(self, since: date, until: date) -> list[Alert]:
        query = (
            sa.select(alerts)
            .where(alerts.c.day.between(since, until))
            .order_by(alerts.c.day, alerts.c.actor, alerts.c.kind)
        )
        with self.engine.connect() as conn:
            return [_row_to_alert(r) for r in conn.execute(query).mappings()]

    # -- deliveries -----------------------------------------------------------------------------
    def add_pending_deliveries(self, alert_ids: Iterable[int], channels: Sequence[str]) -> None:
        """A 'pending' delivery per alert and channel, unless one exists (in any state)."""
        add_pending(self.engine, alert_deliveries, "alert_id", alert_ids, channels)

    def unsent_deliveries(self, channels: Sequence[str]) -> list[tuple[int, str]]:
        """(alert_id, channel) of every delivery on these channels not marked 'sent'."""
        return unsent(self.engine, alert_deliveries, "alert_id", channels)

    def claim_delivery(self, alert_id: int, channel: str, stale_before: datetime) -> int | None:
        """Mark one delivery 'sending' if it is pending, failed, or 'sending' since before
        `stale_before` (a run that died mid-send); returns its attempts so far, or None when someone
        else holds it or it was sent. The conditional UPDATE is the lock: of two runs delivering at
        the same moment, one changes the row, the other changes nothing."""
        return claim(self.engine, alert_deliveries, "alert_id", alert_id, channel, stale_before)

    def finish_delivery(
        self,
        alert_id: int,
        channel: str,
        status: str,
        attempts: int,
        error: str | None,
        sent_at: datetime | None,
    ) -> None:
        """Record the outcome of a claimed delivery (only while it is still 'sending')."""
        finish(self.engine, alert_deliveries, "alert_id", alert_id, channel, status, attempts, error, sent_at)

    def delivery_states(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [
                dict(r)
                for r in conn.execute(
                    sa.select(alert_deliveries).order_by(alert_deliveries.c.alert_id)
                ).mappings()
            ]


# -- the delivery state machine's SQL, for any deliveries table keyed (<key>, channel) ---------------
def add_pending(
    engine: Engine, table: sa.Table, key: str, ids: Iterable[int], channels: Sequence[str]
) -> None:
    stamp = now_utc()
    with engine.begin() as conn:
        for item in ids:
            for channel in channels:
                conn.execute(
                    insert_for(conn, table)
                    .values(
                        {
                            key: item,
                            "channel": channel,
                            "status": "pending",
                            "attempts": 0,
                            "updated_at": stamp,
                        }
                    )
                    .on_conflict_do_nothing()
                )


def unsent(engine: Engine, table: sa.Table, key: str, channels: Sequence[str]) -> list[tuple[int, str]]:
    d = table.c
    with engine.connect() as conn:
        return [
            (item, channel)
            for item, channel in conn.execute(
                sa.select(d[key], d.channel)
                .where(d.status != "sent", d.channel.in_(list(channels)))
                .order_by(d[key], d.channel)
            ).all()
        ]


def claim(
    engine: Engine, table: sa.Table, key: str, item: int, channel: str, stale_before: datetime
) -> int | None:
    d = table.c
    claimable = sa.or_(
        d.status.in_(("pending", "failed")),
        sa.and_(d.status == "sending", d.updated_at < stale_before),
    )
    with engine.begin() as conn:
        return conn.execute(
            table.update()
            .where(d[key] == item, d.channel == channel, claimable)
            .values(status="sending", updated_at=now_utc())
            .returning(d.attempts)
        ).scalar_one_or_none()


def finish(
    engine: Engine,
    table: sa.Table,
    key: str,
    item: int,
    channel: str,
    status: str,
    attempts: int,
    error: str | None,
    sent_at: datetime | None,
) -> None:
    d = table.c
    with engine.begin() as conn:
        conn.execute(
            table.update()
            .where(d[key] == item, d.channel == channel, d.status == "sending")
            .values(status=status, attempts=attempts, last_error=error, sent_at=sent_at, updated_at=now_utc())
        )
