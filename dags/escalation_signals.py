"""Signals, alerts and incidents: recompute daily_signals for some days, then detect alerts, which
maintains the incidents (pipeline.alerts.detect refolds them from the stored alerts) and pages: the
incident open or upgrade is what notifies people; every alert goes to the log channel.

Scheduled by `AssetOrTimeSchedule`: a run starts on every event of the `escalation_scored_sentences`
asset (emitted by escalation_ingest and escalation_rescore) AND daily at 06:30 UTC with a real data
interval (`CronDataIntervalTimetable`), so the DAG can be backfilled:
`airflow backfill create --dag-id escalation_signals --from-date 2026-10-01 --to-date 2026-10-31`.

`resolve_days` picks the days, first match wins:
1. params `since`/`until` (YYYY-MM-DD, inclusive; one alone means that day) of a manual run;
2. the union of the "days" in the triggering asset events (asset-triggered runs have no data
   interval; an event with no days means nothing changed and the run does nothing);
3. the UTC days overlapped by the data interval (end exclusive).
Recomputation is idempotent: signals of a day are replaced atomically, alerts are upserted on
(day, actor, kind), incidents on (mode, kind, opened, lead) and pages on (incident, day), and a page
is delivered once per channel, so re-running any interval (backfill, clear, retry) leaves the same
rows and pages nobody twice.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, CronDataIntervalTimetable, Param, dag, get_current_context, task
from escalation_common import SCORED_SENTENCES, START_DATE, default_task_args

DAG_ID = "escalation_signals"
_DAY = r"^\d{4}-\d{2}-\d{2}$"


@dag(
    dag_id=DAG_ID,
    schedule=AssetOrTimeSchedule(
        timetable=CronDataIntervalTimetable("30 6 * * *", timezone="UTC"),
        assets=[SCORED_SENTENCES],
    ),
    start_date=START_DATE,  # see escalation_common: a run of any date runs its tasks
    catchup=False,
    max_active_runs=1,  # one writer of daily_signals/alerts at a time
    default_args=default_task_args(),
    params={
        "since": Param(None, type=["null", "string"], pattern=_DAY, description="first day (YYYY-MM-DD)"),
        "until": Param(None, type=["null", "string"], pattern=_DAY, description="last day (YYYY-MM-DD)"),
    },
    tags=["escalation"],
    doc_md=__doc__,
)
def escalation_signals() -> None:
    @task(execution_timeout=timedelta(minutes=5))
    def resolve_days() -> list[str]:
        import logging

        from pipeline.orchestration import resolve_days as resolve

        context = get_current_context()
        params = context["params"]
        triggering = context["triggering_asset_events"]
        extras = [dict(event.extra or {}) for asset in triggering for event in triggering[asset]]
        selection = resolve(
            since=params.get("since"),
            until=params.get("until"),
            event_extras=extras,
            interval_start=context.get("data_interval_start"),
            interval_end=context.get("data_interval_end"),
        )
        logging.getLogger(__name__).info(
            "recomputing %d day(s) from %s: %s", len(selection.days), selection.source, selection.days
        )
        return list(selection.days)

    @task
    def compute_signals(days: list[str]) -> list[str]:
        from escalation_common import task_settings

        from pipeline.orchestration import day_ranges
        from pipeline.signals import compute_signals as compute
        from pipeline.store import Warehouse

        if not days:
            return []
        warehouse = Warehouse.from_url(task_settings().db_url)
        warehouse.init_schema()
        for since, until in day_ranges(days):
            compute(warehouse, since, until)
        return days

    @task(trigger_rule="none_failed", multiple_outputs=False)
    def detect_alerts(days: list[str] | None) -> dict[str, int]:
        from escalation_common import task_settings

        from pipeline import alerts as alerting
        from pipeline.channels import build_notifiers
        from pipeline.orchestration import day_ranges
        from pipeline.store import Warehouse

        if not days:
            return {"alerts": 0, "pages": 0}
        settings = task_settings()
        warehouse = Warehouse.from_url(settings.db_url)
        params = settings.detection
        notifiers = build_notifiers(settings, warehouse)
        found = {"alerts": 0, "pages": 0}
        for since, until in day_ranges(days):
            report = alerting.detect(warehouse, since, until, params, mode="live", notifiers=notifiers)
            found["alerts"] += len(report.alerts)
            found["pages"] += len(report.pages)
        return found

    detect_alerts(compute_signals(resolve_days()))


escalation_signals()
