"""Helpers shared by the escalation DAGs (not a DAG file: listed in .airflowignore).

Importable from the DAG files because Airflow's dag-processor and task runner put the DAG folder
(the bundle path) on sys.path. Nothing here touches a database or the network at import time.

Settings come from ESCALATION_* env vars, and Airflow connections override them when defined:
escalation_warehouse (postgres: host/login/password/schema/port), escalation_webhook and
escalation_slack (the URL in the password or extra "url"), escalation_smtp (host/port/login/password,
extra {"from": ..., "to": "a@x,b@y", "starttls": true}).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset

log = logging.getLogger(__name__)

# Updated whenever stored sentences (and so the daily signals) may change: emitted by
# escalation_ingest after every ingestion and by escalation_rescore after a re-scoring.
# The event's extra carries {"days": ["YYYY-MM-DD", ...]} (the UTC days whose sentences changed);
# escalation_signals recomputes exactly those days.
SCORED_SENTENCES = Asset(name="escalation_scored_sentences", uri="escalation://warehouse/sentences")

# Pool bounding concurrent feed fetches across all runs and DAGs (create it once per deployment):
#   airflow pools set escalation_fetch 8 "escalation feed fetches"
# 8 slots = the per-DAG cap of the mapped ingest task; a missing pool leaves the tasks unscheduled
# under a real scheduler (dag.test() ignores pools, the tests create it anyway).
FETCH_POOL = "escalation_fetch"
FETCH_POOL_SLOTS = 8

# Every DAG's start_date. Airflow runs no task of a run dated before its DAG's start_date (the run
# says success with nothing done, e.g. `airflow dags test escalation_ingest 2026-10-16`). 1990 is as
# far back as a published date is trusted (pipeline/parse.py), so a signals backfill reaches any
# archived day; ingest and rescore work on what is there now, whatever the date. With catchup=False
# the scheduler still starts from the latest interval, not from 1990.
START_DATE = pendulum.datetime(1990, 1, 1, tz="UTC")


def mapped_results(values: Any) -> list:
    """Every result of a mapped upstream task, fetched in one request.

    Airflow hands a task the mapped results as a lazy sequence. Iterating it (list(), a for loop)
    asks for one index past the end to find where it stops, and the Task SDK client logs that 404
    as "[error] XCom not found" in every run; a slice asks for all of them at once. None (an upstream
    skipped) is an empty list; a plain list passes through."""
    return [] if values is None else list(values[:])


def default_task_args(**overrides: Any) -> dict[str, Any]:
    """Retries with backoff, a timeout and the failure callback, for every task of every DAG."""
    args: dict[str, Any] = {
        "owner": "escalation",
        "retries": 2,
        "retry_delay": timedelta(minutes=2),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=15),
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": on_task_failure,
    }
    args.update(overrides)
    return args


def on_task_failure(context: Any) -> None:
    """Task-level failure callback (a DAG-level BaseNotifier breaks dag.test() in Airflow 3.3.2).

    Logs and sends the operational message (webhook when configured), then closes the warehouse
    pipeline run of this Airflow run as failed (a no-op for DAGs that open none).
    """
    from pipeline.config import load_settings
    from pipeline.ingest import report_task_failure
    from pipeline.orchestration import mark_run_failed, pipeline_run_id
    from pipeline.store import Warehouse

    try:
        settings = task_settings()
    except Exception:  # a broken connection must not hide the original failure
        settings = load_settings()
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(ti, "dag_id", None) or "?"
    run_id = str(context.get("run_id"))
    report_task_failure(
        settings,
        dag_id=dag_id,
        task_id=getattr(ti, "task_id", "?"),
        run_id=run_id,
        error=str(context.get("exception")),
    )
    try:
        mark_run_failed(Warehouse.from_url(settings.db_url), pipeline_run_id(dag_id, run_id))
    except Exception:  # the warehouse itself may be what failed
        log.exception("could not mark the pipeline run of %s %s as failed", dag_id, run_id)


def task_settings():
    """The pipeline Settings for a running task (env vars, then Airflow connections)."""
    from airflow.sdk import Connection

    from pipeline.config import CONNECTION_IDS, ConnectionFields, apply_connections, load_settings

    found = {}
    for conn_id in CONNECTION_IDS:
        try:
            conn = Connection.get(conn_id)
        except Exception:  # not defined (AirflowNotFoundException) or no API here: env vars decide
            continue
        if conn is None:
            continue
        found[conn_id] = ConnectionFields(
            conn_type=conn.conn_type,
            host=conn.host,
            login=conn.login,
            password=conn.password,
            schema=conn.schema,
            port=conn.port,
            extra=conn.extra_dejson or {},
        )
    if found:
        log.info("settings from Airflow connections: %s", ", ".join(sorted(found)))  # ids only
    return apply_connections(load_settings(), found)
