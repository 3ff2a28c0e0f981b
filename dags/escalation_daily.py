"""Daily ingestion: list feeds -> one mapped task per feed -> signals for the data interval -> alerts.

Thin wiring only: every task calls a function of the `pipeline` package (the CLI calls the same ones).
Nothing at import time touches the network or a database; heavy imports live inside the tasks.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task

DAG_ID = "escalation_daily"


def _on_task_failure(context: dict) -> None:
    """Task-level failure notifier (a DAG-level BaseNotifier breaks dag.test() in Airflow 3.3.2)."""
    from escalation_common import task_settings

    from pipeline.config import load_settings
    from pipeline.ingest import report_task_failure

    try:
        settings = task_settings()
    except Exception:  # a broken connection must not hide the original failure
        settings = load_settings()
    ti = context.get("task_instance")
    report_task_failure(
        settings,
        dag_id=DAG_ID,
        task_id=getattr(ti, "task_id", "?"),
        run_id=str(context.get("run_id")),
        error=str(context.get("exception")),
    )


def _run_id() -> str:
    # Keyed on the DAG run, so a retried task writes into the same pipeline run.
    return f"airflow:{DAG_ID}:{get_current_context()['run_id']}"


def _interval_days() -> list[str]:
    """The UTC days covered by this run's data interval (the end bound is exclusive)."""
    context = get_current_context()
    start, end = context["data_interval_start"], context["data_interval_end"]
    if start is None or end is None or end <= start:
        # Manual or asset-triggered runs have no real interval: fall back to the day before the run.
        anchor = (end or start or pendulum.now("UTC")).in_timezone("UTC")
        return [anchor.subtract(days=1).date().isoformat()]
    first = start.in_timezone("UTC").date()
    last = (end.in_timezone("UTC") - timedelta(microseconds=1)).date()
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable("0 6 * * *", timezone="UTC"),
    start_date=pendulum.datetime(2026, 11, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": _on_task_failure,
    },
    tags=["escalation"],
    doc_md=__doc__,
)
def escalation_daily() -> None:
    @task
    def list_feeds() -> list[str]:
        from escalation_common import task_settings

        from pipeline.feeds import load_feed_list
        from pipeline.warehouse import Warehouse

        settings = task_settings()
        sources = [spec.url for spec in load_feed_list(settings.feeds_file)]
        warehouse = Warehouse.from_url(settings.db_url)
        warehouse.init_schema()
        warehouse.start_run("airflow", {"feeds": len(sources)}, run_id=_run_id())
        return sources

    @task(multiple_outputs=False, max_active_tis_per_dag=8)  # one dict per feed, aggregated downstream
    def ingest_feed(source: str) -> dict:
        from escalation_common import task_settings

        from pipeline.ingest import build_context, ingest_source

        ctx = build_context(task_settings())
        # Only counts travel through XCom; the articles themselves are in the warehouse.
        return ingest_source(source, ctx, _run_id()).to_dict()

    @task(trigger_rule="none_failed")
    def compute_signals(outcomes: list[dict] | None) -> list[str]:
        from datetime import date

        from escalation_common import task_settings

        from pipeline.signals import compute_signals as compute
        from pipeline.warehouse import Warehouse

        touched = {day for outcome in (outcomes or []) for day in outcome["days"]}
        days = sorted(touched | set(_interval_days()))
        warehouse = Warehouse.from_url(task_settings().db_url)
        warehouse.init_schema()
        compute(warehouse, date.fromisoformat(days[0]), date.fromisoformat(days[-1]))
        return days

    @task(trigger_rule="none_failed")
    def detect_alerts(days: list[str], outcomes: list[dict] | None) -> int:
        from datetime import date

        from escalation_common import task_settings

        from pipeline import alerts as alerting
        from pipeline.ingest import FeedOutcome, finish_pipeline_run
        from pipeline.warehouse import Warehouse

        settings = task_settings()
        warehouse = Warehouse.from_url(settings.db_url)
        report = alerting.detect(
            warehouse,
            date.fromisoformat(days[0]),
            date.fromisoformat(days[-1]),
            alerting.DetectionParams.from_settings(settings),
            mode="live",
            notifiers=alerting.build_notifiers(settings, warehouse),
        )
        finish_pipeline_run(warehouse, _run_id(), [FeedOutcome.from_dict(o) for o in outcomes or []])
        return len(report.alerts)

    sources = list_feeds()
    outcomes = ingest_feed.expand(source=sources)
    days = compute_signals(outcomes)
    detect_alerts(days, outcomes)


escalation_daily()
