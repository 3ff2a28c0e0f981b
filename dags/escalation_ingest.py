"""Daily ingestion: list feeds -> one mapped task per feed -> plan the article pages -> one mapped
page task per host group -> finish the run and publish the asset.

Runs at 06:00 UTC (`CronDataIntervalTimetable`). `ingest_feed` is mapped once per feed, at most 8
at once and inside the `escalation_fetch` pool. A feed failing with a transient error (HTTP 5xx/429,
network) raises so Airflow retries it after the retry delay; on its last try the failure is
recorded and the task succeeds, so one dead feed never blocks the others.

Article pages (issue 14): `plan_pages` splits the hosts of every pending page (the teasers the feeds
just stored, and any an interrupted run left) into at most PAGE_GROUPS groups with
`pipeline.pages.host_groups`, every host in exactly one group; `fetch_pages` is mapped once per group.
No two tasks ever hold pages of the same host, so each host's concurrency and delay limits hold
however many tasks run at once (and max_active_runs=1 keeps two DAG runs apart). A page task with a
transient page failure raises so Airflow retries it (the pages done stay done; only the pending
ones are fetched again); on its last try it succeeds and the pages stay pending for the next run.

`finish_run` closes the warehouse pipeline run and emits an event on the `escalation_scored_sentences`
asset whose extra carries the UTC days the new articles and the page texts touched;
`escalation_signals` recomputes those days.

Thin wiring only: every task calls the `pipeline` package (the CLI calls the same functions).
Nothing at import time touches the network or a database; heavy imports live inside the tasks.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import CronDataIntervalTimetable, dag, get_current_context, task
from escalation_common import FETCH_POOL, SCORED_SENTENCES, START_DATE, default_task_args

DAG_ID = "escalation_ingest"
PAGE_GROUPS = 8  # mapped page tasks at most (= their max_active_tis_per_dag)


def _run_id() -> str:
    from pipeline.orchestration import pipeline_run_id

    # Keyed on the DAG run, so a retried task writes into the same pipeline run.
    return pipeline_run_id(DAG_ID, get_current_context()["run_id"])


@dag(
    dag_id=DAG_ID,
    schedule=CronDataIntervalTimetable("0 6 * * *", timezone="UTC"),
    start_date=START_DATE,  # see escalation_common: a run of any date runs its tasks
    catchup=False,  # feeds only serve what is current: re-running an old interval fetches today's items
    max_active_runs=1,
    default_args=default_task_args(),
    tags=["escalation"],
    doc_md=__doc__,
)
def escalation_ingest() -> None:
    @task(execution_timeout=timedelta(minutes=5))
    def list_feeds() -> list[str]:
        from escalation_common import task_settings

        from pipeline.feeds import load_feed_list
        from pipeline.store import Warehouse

        settings = task_settings()
        sources = [spec.url for spec in load_feed_list(settings.feeds_file)]
        warehouse = Warehouse.from_url(settings.db_url)
        warehouse.init_schema()
        warehouse.start_run("airflow", {"feeds": len(sources)}, run_id=_run_id())
        return sources

    @task(
        multiple_outputs=False,  # one dict per feed, aggregated downstream
        max_active_tis_per_dag=8,
        pool=FETCH_POOL,
        execution_timeout=timedelta(minutes=15),
    )
    def ingest_feed(source: str) -> dict:
        from escalation_common import task_settings

        from pipeline.ingest import build_context, ingest_source
        from pipeline.orchestration import is_transient_failure

        ctx = build_context(task_settings())
        # Only counts and days travel through XCom; the articles themselves are in the warehouse.
        outcome = ingest_source(source, ctx, _run_id()).to_dict()
        ti = get_current_context()["ti"]
        if is_transient_failure(outcome) and ti.try_number <= ti.max_tries:
            # Let Airflow retry later; the failed fetch is already in the fetch log.
            raise RuntimeError(f"transient failure of {source}: {outcome['error']} (will retry)")
        return outcome

    @task(trigger_rule="none_failed", execution_timeout=timedelta(minutes=5))
    def plan_pages() -> list[list[str]]:
        from escalation_common import task_settings

        from pipeline.pages import host_groups, host_key
        from pipeline.store import Warehouse

        settings = task_settings()
        if not settings.pages.enabled:  # ESCALATION_ARTICLE_FETCH=0: no page task at all
            return []
        urls = Warehouse.from_url(settings.db_url).pending_page_urls()
        # Hosts, not URLs, travel through XCom: each task reads its hosts' pending pages itself.
        return [sorted({host_key(url) for url in group}) for group in host_groups(urls, PAGE_GROUPS)]

    @task(
        multiple_outputs=False,
        max_active_tis_per_dag=PAGE_GROUPS,
        pool=FETCH_POOL,
        execution_timeout=timedelta(minutes=30),
    )
    def fetch_pages(hosts: list[str]) -> dict:
        from escalation_common import task_settings

        from pipeline.ingest import build_context, read_pages_of_hosts

        report = read_pages_of_hosts(build_context(task_settings()), _run_id(), hosts)
        ti = get_current_context()["ti"]
        if report.retry and ti.try_number <= ti.max_tries:
            # As for feeds: Airflow retries later; the pages done are stored, the others stay pending.
            raise RuntimeError(f"{report.retry} pages of {', '.join(hosts)} failed transiently (will retry)")
        return {**report.to_dict(), "hosts": hosts}

    @task(
        multiple_outputs=False,
        trigger_rule="none_failed",
        outlets=[SCORED_SENTENCES],
        execution_timeout=timedelta(minutes=5),
    )
    def finish_run(outcomes: list[dict] | None, page_reports: list[dict] | None) -> dict:
        from escalation_common import mapped_results, task_settings

        from pipeline.ingest import FeedOutcome, finish_pipeline_run
        from pipeline.orchestration import normalize_days, outcome_days, run_article_days
        from pipeline.store import Warehouse

        results = mapped_results(outcomes)
        pages = mapped_results(page_reports)
        warehouse = Warehouse.from_url(task_settings().db_url)
        finish_pipeline_run(warehouse, _run_id(), [FeedOutcome.from_dict(o) for o in results])
        # What the feeds and page tasks reported plus what this run stored (a retried feed or page
        # task reports no new days for what an earlier try stored).
        days = normalize_days(
            [*outcome_days(results), *outcome_days(pages), *run_article_days(warehouse, _run_id())]
        )
        summary = {
            "days": days,
            "feeds": len(results),
            "feeds_failed": sum(1 for o in results if not o["ok"]),
            "new_articles": warehouse.run_totals(_run_id())[0],  # a retried feed reports none
            # From the warehouse: a retried page task reports only what its last try did.
            "pages": warehouse.page_state_counts(run_id=_run_id()),
            "page_tasks": [p["hosts"] for p in pages],
            "pipeline_run": _run_id(),
            "source": DAG_ID,
        }
        # The asset event (emitted when this task succeeds) tells escalation_signals what to recompute.
        get_current_context()["outlet_events"][SCORED_SENTENCES].extra = summary
        return summary

    feeds_done = ingest_feed.expand(source=list_feeds())
    groups = plan_pages()
    feeds_done >> groups
    finish_run(feeds_done, fetch_pages.expand(hosts=groups))


escalation_ingest()
