"""Re-score stored sentences after a lexicon (or scorer) change, in bounded batches.

Runs daily at 05:00 UTC (before ingestion) and can be triggered by hand after deploying a new
lexicon. `check_scorer_version` compares the stored sentences' scorer_version with the current
lexicon's and plans sentence-id ranges of at most `batch_size` stale sentences (at most
`max_batches` of them per run; the rest waits for the next run). `rescore_batch` is mapped over
those ranges (a retried batch only redoes sentences still carrying the old version).
`publish_rescored_days` emits an event on the `escalation_scored_sentences` asset with the days
whose sentences were re-scored, so escalation_signals recomputes their signals and alerts; when
nothing was stale it is skipped and no event is emitted (the run still succeeds).
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from escalation_common import SCORED_SENTENCES, START_DATE, default_task_args, mapped_results

DAG_ID = "escalation_rescore"


@dag(
    dag_id=DAG_ID,
    # A cheap daily check; explicit CronTriggerTimetable (a bare cron string depends on the
    # create_cron_data_intervals setting) because the run needs no data interval.
    schedule=CronTriggerTimetable("0 5 * * *", timezone="UTC"),
    start_date=START_DATE,  # see escalation_common: a run of any date runs its tasks
    catchup=False,
    max_active_runs=1,
    default_args=default_task_args(),
    params={
        "batch_size": Param(2000, type="integer", minimum=1, maximum=50000, description="sentences per task"),
        "max_batches": Param(200, type="integer", minimum=1, maximum=1000, description="tasks per run"),
    },
    tags=["escalation"],
    doc_md=__doc__,
)
def escalation_rescore() -> None:
    @task(execution_timeout=timedelta(minutes=5))
    def check_scorer_version() -> list[dict]:
        import logging

        from escalation_common import task_settings

        from pipeline.rescore import plan_rescore_batches, stale_sentence_count
        from pipeline.score import load_scorer
        from pipeline.store import Warehouse

        settings = task_settings()
        version = load_scorer(settings.scoring.lexicon_file).version
        warehouse = Warehouse.from_url(settings.db_url)
        warehouse.init_schema()
        stale = stale_sentence_count(warehouse, version)
        params = get_current_context()["params"]
        batches = plan_rescore_batches(
            warehouse, version, int(params["batch_size"]), int(params["max_batches"])
        )
        logging.getLogger(__name__).info(
            "%d sentence(s) not scored by %s: %d batch(es) this run", stale, version, len(batches)
        )
        return batches

    @task(max_active_tis_per_dag=4, execution_timeout=timedelta(minutes=30))
    def rescore_batch(batch: dict) -> list[str]:
        from escalation_common import task_settings

        from pipeline.rescore import rescore_batch as rescore
        from pipeline.score import load_scorer
        from pipeline.store import Warehouse

        settings = task_settings()
        warehouse = Warehouse.from_url(settings.db_url)
        scorer = load_scorer(settings.scoring.lexicon_file)
        return rescore(warehouse, scorer, batch["first_id"], batch["last_id"], limit=batch["sentences"]).days

    @task(trigger_rule="none_failed", outlets=[SCORED_SENTENCES], execution_timeout=timedelta(minutes=5))
    def publish_rescored_days(batch_days: list[list[str]] | None) -> list[str]:
        from airflow.sdk.exceptions import AirflowSkipException

        from pipeline.orchestration import normalize_days

        days = normalize_days(day for batch in mapped_results(batch_days) for day in batch or [])
        if not days:
            raise AirflowSkipException("no sentence was re-scored: no asset event")
        get_current_context()["outlet_events"][SCORED_SENTENCES].extra = {
            "days": days,
            "source": DAG_ID,
        }
        return days

    publish_rescored_days(rescore_batch.expand(batch=check_scorer_version()))


escalation_rescore()
