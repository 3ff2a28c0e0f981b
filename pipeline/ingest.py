"""Orchestration shared by the CLI and the Airflow DAGs: fetch -> parse -> text -> score -> actors -> store,
then the page step (pipeline.fulltext) for the articles whose feed item was only a teaser.

One feed is one unit of work and one warehouse transaction: a feed that fails (network, bad XML, a bug
in a later stage) is recorded with its reason and never stops the others. `ingest_run` (feeds, then
pages) is what `escalation ingest` and `escalation run` call; the ingest DAG runs the same two
functions as tasks (`ingest_source` per feed, `read_pages_of_hosts` per host group).
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from typing import Any

from pipeline import interrupts
from pipeline.actors import Gazetteer, load_gazetteer
from pipeline.alerts import detect
from pipeline.articles import ArticleRecord, article_record, read_and_score_part, warm_up
from pipeline.channels import build_notifiers, send_operational_message
from pipeline.config import Settings
from pipeline.fetch import FetchResult, Validators, fetch_many, fetch_one
from pipeline.fulltext import PageStepReport, read_pages
from pipeline.orchestration import day_ranges
from pipeline.parse import FeedPart, ParsedEntry, ParsedFeed, assemble, parse_feed, split_feed
from pipeline.records import from_plain, to_plain
from pipeline.score import Scorer, load_scorer
from pipeline.signals import compute_signals
from pipeline.store import ConcurrentWriteError, FetchRecord, StoreResult, Warehouse, alert_to_dict
from pipeline.store.runs import INTERRUPTED, new_run_id
from pipeline.workers import WorkerPool

log = logging.getLogger(__name__)
RECENT = timedelta(days=31)  # a re-fetched feed's items were mostly published within this


@dataclass(frozen=True)
class FeedProgress:
    """How far the feed being stored has got: its items read so far (repeated items included), and
    for a big feed read in parts, the parts done of all (parts 0 of 0: read whole, in this process)."""

    source: str
    bytes: int
    items: int
    parts_done: int = 0
    parts: int = 0


@dataclass(frozen=True)
class PipelineContext:
    """Everything a stage needs, built once per process (the lexicon and gazetteer compile once)."""

    settings: Settings
    warehouse: Warehouse
    scorer: Scorer
    gazetteer: Gazetteer
    # Told as a feed is read (a terminal's progress line: a big feed takes a while); never required.
    on_feed_progress: Callable[[FeedProgress], None] | None = None


def build_context(settings: Settings, *, init_schema: bool = True) -> PipelineContext:
    warehouse = Warehouse.from_url(settings.db_url)
    if init_schema:
        warehouse.init_schema()
    return PipelineContext(
        settings=settings,
        warehouse=warehouse,
        scorer=load_scorer(settings.scoring.lexicon_file),
        gazetteer=load_gazetteer(settings.scoring.gazetteer_file),
    )


@dataclass(frozen=True)
class FeedOutcome:
    """What happened to one feed in one run; small enough to travel through Airflow's XCom."""

    source: str
    ok: bool
    status: int | None = None
    error: str | None = None
    not_modified: bool = False
    bozo_reason: str | None = None
    entries_seen: int = 0
    new_articles: int = 0
    new_sentences: int = 0
    elapsed_s: float = 0.0
    days: tuple[date, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return to_plain(self, digits={"elapsed_s": 3})

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FeedOutcome:
        return from_plain(cls, data)


class FeedWorkers:
    """Worker processes for ONE big feed: its parts are parsed, and its new entries scored, on every
    core. Small feeds (most) never start any. If the processes cannot start or die (a daemonic
    Celery worker may not have children; the OOM killer), the work is done in this process instead."""

    def __init__(self, settings: Settings, body_size: int):
        self.processes = settings.ingest.worker_processes
        self._pool: WorkerPool | None = None
        if (
            self.processes < 2
            or body_size < settings.ingest.parallel_min_bytes
            or multiprocessing.current_process().daemon  # may not have children
        ):
            return
        # spawn, not fork: a forked child would inherit this process's threads' locks and the
        # warehouse's open connections. (So, as always with spawn, a script that calls the pipeline
        # needs the `if __name__ == "__main__":` guard.)
        try:
            self._pool = WorkerPool(self.processes, multiprocessing.get_context("spawn"))
            # A first task for every process: their start-up overlaps the split.
            self._pool.broadcast(warm_up, settings.scoring.lexicon_file, settings.scoring.gazetteer_file)
        except Exception as exc:
            interrupts.reraise_if_stopping(exc)
            self._give_up(exc)

    def _give_up(self, exc: Exception) -> None:
        log.warning("worker processes failed (%s: %s); continuing in this process", type(exc).__name__, exc)
        self.close()

    @property
    def active(self) -> bool:
        return self._pool is not None

    def imap(self, function: Callable[..., Any], chunks: Iterable[Any], *common: Any) -> Iterator[Any] | None:
        """function(chunk, *common) for every chunk, results in order as they come; None when there
        are no workers. A worker failing (or dying: WorkerDied) raises from the iterator."""
        if self._pool is None:
            return None
        return self._pool.map(function, ((chunk, *common) for chunk in chunks))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def __enter__(self) -> FeedWorkers:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _WorkersFailed(Exception):
    """The worker processes failed or a part could not be read: parse the feed whole, here."""


def _ingest_in_workers(result: FetchResult, ctx: PipelineContext, run_id: str) -> FeedOutcome | None:
    """A big feed split into parts that worker processes parse and score, each part's new articles
    written as it arrives, all in the feed's one transaction (so the warehouse works while the
    workers do). None, with nothing written, when the feed is not big, cannot be split, the workers
    fail, or a concurrent writer gets in the way: the caller then does it all in this process."""
    assert result.body is not None
    warehouse = ctx.warehouse
    with FeedWorkers(ctx.settings, len(result.body)) as workers:
        parts = split_feed(result.body, workers.processes * 8) if workers.active else None
        if parts is None:
            return None
        total_parts, items = len(parts), 0
        results = workers.imap(
            read_and_score_part,
            _handed_over(parts),
            result.source,
            result.fetched_at,
            # What this feed stored lately is the bulk of a re-fetch: not scored again (older keys
            # are scored and then skipped by the insert; the set stays small enough to send).
            frozenset(
                warehouse.recent_article_keys_of_feed(result.source, result.fetched_at.date() - RECENT)
            ),
            ctx.settings.scoring.lexicon_file,
            ctx.settings.scoring.gazetteer_file,
        )
        if results is None:
            return None
        collected: list[tuple[FeedPart, list[ArticleRecord]]] = []
        claimed: set[str] = set()  # every entry id of the parts so far, empty items included

        def next_part() -> list[ArticleRecord] | None:
            try:
                part, records = next(results)
            except StopIteration:
                return None
            except Exception as exc:  # a worker died; the functions themselves never raise
                interrupts.reraise_if_stopping(exc)
                raise _WorkersFailed(f"{type(exc).__name__}: {exc}") from exc
            if part.error:  # should not happen: the whole document is well-formed
                raise _WorkersFailed(part.error)
            # First occurrence wins, as in a parse of the whole: a key an earlier part carried
            # (even as an empty item) is not this part's article.
            records = [r for r in records if r.article_key not in claimed]
            claimed.update(c.entry_id for c in part.candidates)
            collected.append((part, records))
            nonlocal items
            items += len(part.candidates)
            if ctx.on_feed_progress is not None:
                ctx.on_feed_progress(
                    FeedProgress(result.source, len(result.body), items, len(collected), total_parts)
                )
            return records

        try:
            with warehouse.feed_writer(
                _fetch_record(result), run_id, ctx.scorer.version, pages_enabled=ctx.settings.pages.enabled
            ) as writer:
                while (records := next_part()) is not None:
                    writer.add(records)
                parsed = assemble(result.source, [part for part, _ in collected])
                built = {r.article_key for _, records in collected for r in records}
                rest = [e for e in parsed.entries if e.entry_id not in built]
                # The entries no worker built (those this feed stored lately, mostly): looked up in
                # the writer's own transaction.
                last = _new_articles(rest, {}, ctx, writer.existing_article_keys(e.entry_id for e in rest))
                writer.add(last)
                stored = writer.finish(_final_fetch_record(result, parsed), [e.entry_id for e in parsed.entries])
        except _WorkersFailed as exc:
            log.warning("feed %s: %s; parsing it whole in this process", result.source, exc)
            return None
        except ConcurrentWriteError as exc:
            # Nothing was written; the parts cannot be replayed, so the feed is done again in this
            # process, with store_feed_batch's retries.
            log.warning("feed %s: %s; storing it from this process", result.source, exc)
            return None
    return _outcome(result, parsed, stored, [*(r for _, records in collected for r in records), *last])


def _handed_over(items: list[bytes]) -> Iterator[bytes]:
    """The items, each removed from the list as it is taken: a part submitted to a worker is held
    only by its pending task, and freed when its result is in (a big feed's parts are its size)."""
    while items:
        yield items.pop(0)


def _fetch_record(result: FetchResult, **changes: object) -> FetchRecord:
    values: dict[str, object] = {
        "feed_url": result.source,
        "fetched_at": result.fetched_at,
        "ok": result.ok,
        "status": result.status,
        "not_modified": result.not_modified,
        "error": result.error,
        "bozo_reason": None,
        "entries_seen": 0,
        "elapsed_s": result.elapsed_s,
        "etag": result.validators.etag if result.validators else None,
        "last_modified": result.validators.last_modified if result.validators else None,
        "feed_title": None,
    }
    values.update(changes)
    return FetchRecord(**values)  # type: ignore[arg-type]


def process_fetch(result: FetchResult, ctx: PipelineContext, run_id: str) -> FeedOutcome:
    """Parse, clean, score, tag and store one fetched feed. Never raises: failures become outcomes."""
    warehouse = ctx.warehouse
    if not result.ok or result.not_modified or result.body is None:
        # A failure (or a 304) is still a fact worth keeping: the fetch log and feed health show it.
        warehouse.record_fetch(_fetch_record(result), run_id)
        return FeedOutcome(
            source=result.source,
            ok=result.ok,
            status=result.status,
            error=result.error,
            not_modified=result.not_modified,
            elapsed_s=result.elapsed_s,
        )

    streamed = _ingest_in_workers(result, ctx, run_id)
    if streamed is not None:
        return streamed
    if ctx.on_feed_progress is not None:
        ctx.on_feed_progress(FeedProgress(result.source, len(result.body), 0))
    parsed = parse_feed(result.body, result.source, result.fetched_at)
    if ctx.on_feed_progress is not None:
        read = len(parsed.entries) + parsed.duplicates_dropped
        ctx.on_feed_progress(FeedProgress(result.source, len(result.body), read))
    return _store_parsed(result, ctx, run_id, parsed, {})


def _store_parsed(
    result: FetchResult,
    ctx: PipelineContext,
    run_id: str,
    parsed: ParsedFeed,
    prepared: Mapping[str, ArticleRecord],
) -> FeedOutcome:
    """Store a parsed feed's new articles in one transaction; `prepared`: articles already built."""
    warehouse = ctx.warehouse
    if parsed.error:
        warehouse.record_fetch(
            _fetch_record(result, ok=False, error=parsed.error, bozo_reason=parsed.bozo_reason), run_id
        )
        return FeedOutcome(
            source=result.source,
            ok=False,
            status=result.status,
            error=parsed.error,
            bozo_reason=parsed.bozo_reason,
            elapsed_s=result.elapsed_s,
        )
    known = warehouse.existing_article_keys(e.entry_id for e in parsed.entries)
    articles = _new_articles(parsed.entries, prepared, ctx, known)
    stored = warehouse.store_feed_batch(
        _final_fetch_record(result, parsed),
        articles,
        run_id,
        ctx.scorer.version,
        seen_keys=[e.entry_id for e in parsed.entries],
        pages_enabled=ctx.settings.pages.enabled,
    )
    return _outcome(result, parsed, stored, articles)


def _new_articles(
    entries: Sequence[ParsedEntry],
    prepared: Mapping[str, ArticleRecord],
    ctx: PipelineContext,
    known: set[str],
) -> list[ArticleRecord]:
    """The articles of the entries whose keys are not `known` (stored); `prepared`: those already built."""
    return [
        prepared.get(entry.entry_id) or article_record(entry, ctx.scorer, ctx.gazetteer)
        for entry in entries
        if entry.entry_id not in known
    ]


def _final_fetch_record(result: FetchResult, parsed: ParsedFeed) -> FetchRecord:
    return _fetch_record(
        result, bozo_reason=parsed.bozo_reason, entries_seen=len(parsed.entries), feed_title=parsed.title
    )


def _outcome(
    result: FetchResult, parsed: ParsedFeed, stored: StoreResult, articles: Sequence[ArticleRecord]
) -> FeedOutcome:
    return FeedOutcome(
        source=result.source,
        ok=True,
        status=result.status,
        bozo_reason=parsed.bozo_reason,
        entries_seen=len(parsed.entries),
        new_articles=stored.new_articles,
        new_sentences=stored.new_sentences,
        elapsed_s=result.elapsed_s,
        days=tuple(sorted({a.published_at.astimezone(UTC).date() for a in articles} | set(stored.days))),
    )


def _safe_process(result: FetchResult, ctx: PipelineContext, run_id: str) -> FeedOutcome:
    try:
        return process_fetch(result, ctx, run_id)
    except Exception as exc:  # one broken feed must not stop the run; its reason is recorded
        # ... but a stop must. Cut mid-transaction on PostgreSQL, the rollback can fail and its
        # error replace the KeyboardInterrupt; taken for this feed's failure, it let the run go on
        # (signals and alerts on the other feeds alone, exit code 0).
        interrupts.reraise_if_stopping(exc)
        log.exception("processing feed %s failed", result.source)
        reason = f"processing failed: {type(exc).__name__}: {exc}"[:500]
        try:
            ctx.warehouse.record_fetch(_fetch_record(result, ok=False, error=reason), run_id)
        except Exception:  # the warehouse itself is down: the outcome still carries the reason
            log.exception("could not record the failure of %s", result.source)
        return FeedOutcome(source=result.source, ok=False, status=result.status, error=reason)


def ingest_source(source: str, ctx: PipelineContext, run_id: str) -> FeedOutcome:
    """Fetch and store one feed (the unit of an Airflow mapped task)."""
    etag, last_modified = ctx.warehouse.validators_for(source)
    result = fetch_one(source, Validators(etag, last_modified), ctx.settings.fetch)
    return _safe_process(result, ctx, run_id)


def ingest_sources(
    sources: Sequence[str],
    ctx: PipelineContext,
    run_id: str,
    on_feed_done: Callable[[FeedOutcome], None] | None = None,
) -> list[FeedOutcome]:
    """Fetch many feeds concurrently, then store them one transaction per feed."""
    validators = {s: Validators(*ctx.warehouse.validators_for(s)) for s in sources}
    results = fetch_many(sources, validators, ctx.settings.fetch)
    outcomes = []
    for result in results:
        outcome = _safe_process(result, ctx, run_id)
        outcomes.append(outcome)
        if on_feed_done is not None:
            on_feed_done(outcome)
    return outcomes


def read_pages_of_hosts(
    ctx: PipelineContext, run_id: str | None, hosts: Sequence[str] | None = None
) -> PageStepReport:
    """The page step over the pending pages (of `hosts` only: one Airflow mapped task per host group)."""
    return read_pages(ctx.warehouse, ctx.settings.pages, ctx.scorer, ctx.gazetteer, hosts=hosts, run_id=run_id)


def ingest_run(
    sources: Sequence[str],
    ctx: PipelineContext,
    run_id: str,
    on_feed_done: Callable[[FeedOutcome], None] | None = None,
) -> tuple[list[FeedOutcome], PageStepReport]:
    """The feeds of a run, then the page step: every pending page (this run's teasers and any an
    earlier, interrupted run left), fetched with one robots.txt cache."""
    outcomes = ingest_sources(sources, ctx, run_id, on_feed_done)
    return outcomes, read_pages_of_hosts(ctx, run_id)


@dataclass
class CycleReport:
    run_id: str
    feeds: list[FeedOutcome] = field(default_factory=list)
    pages: PageStepReport = field(default_factory=PageStepReport)
    days: tuple[date, ...] = ()
    signal_rows: int = 0
    alerts: list[dict[str, object]] = field(default_factory=list)

    @property
    def feeds_ok(self) -> int:
        return sum(1 for f in self.feeds if f.ok)

    @property
    def feeds_failed(self) -> int:
        return sum(1 for f in self.feeds if not f.ok)

    @property
    def new_articles(self) -> int:
        return sum(f.new_articles for f in self.feeds)

    @property
    def new_sentences(self) -> int:
        return sum(f.new_sentences for f in self.feeds)

    @property
    def status(self) -> str:
        if self.feeds and self.feeds_ok == 0:
            return "failed"
        return "partial" if self.feeds_failed else "success"


def touched_days(outcomes: Sequence[FeedOutcome]) -> tuple[date, ...]:
    return tuple(sorted({d for o in outcomes for d in o.days}))


def run_cycle(
    sources: Sequence[str],
    ctx: PipelineContext,
    *,
    trigger: str = "cli",
    notify: bool = True,
    on_feed_done: Callable[[FeedOutcome], None] | None = None,
) -> CycleReport:
    """One full cycle: ingest, recompute signals for every day the new articles touch, detect spikes.

    It also completes what interrupted runs left (`Warehouse.runs_to_complete`): their days are
    recomputed and detected with this run's, their undelivered alerts delivered. Interrupted itself
    (SIGINT/SIGTERM: pipeline.interrupts), it is closed as `interrupted` with the days it knew of,
    and the next run_cycle completes it."""
    warehouse = ctx.warehouse
    left = warehouse.runs_to_complete()
    run_id = new_run_id(trigger)
    report = CycleReport(run_id=run_id)
    done: list[FeedOutcome] = []

    def feed_done(outcome: FeedOutcome) -> None:
        done.append(outcome)
        if on_feed_done is not None:
            on_feed_done(outcome)

    try:
        warehouse.start_run(trigger, {"feeds": len(sources)}, run_id=run_id)
        report.feeds, report.pages = ingest_run(sources, ctx, run_id, feed_done)
        recovered = {day for run in left for day in run.days}
        report.days = tuple(sorted({*touched_days(report.feeds), *report.pages.days, *recovered}))
        channels = build_notifiers(ctx.settings, warehouse) if notify else ()
        for since, until in day_ranges(report.days):
            report.signal_rows += compute_signals(warehouse, since, until).rows_written
            detected = detect(warehouse, since, until, ctx.settings.detection, mode="live", notifiers=channels)
            report.alerts += [alert_to_dict(a) for a in detected.alerts]
        warehouse.mark_completed([run.run_id for run in left], by=run_id)
        warehouse.finish_run(run_id, report.status, _run_counts(report))
    except BaseException as exc:
        if not interrupts.is_stop(exc):
            warehouse.finish_run(run_id, "failed", _run_counts(report))
            raise
        warehouse.drop_connections(exc)
        report.feeds = report.feeds or done
        known = {*touched_days(report.feeds), *report.pages.days, *(day for run in left for day in run.days)}
        pending = {"days": sorted(d.isoformat() for d in known), "notify": notify}
        warehouse.finish_run(run_id, INTERRUPTED, _run_counts(report), details={"pending": pending})
        raise
    return report


def _run_counts(report: CycleReport) -> dict[str, object]:
    return {
        "feeds_ok": report.feeds_ok,
        "feeds_failed": report.feeds_failed,
        "new_articles": report.new_articles,
        "new_sentences": report.new_sentences,
    }


def run_ingest(
    sources: Sequence[str],
    ctx: PipelineContext,
    *,
    trigger: str = "cli-ingest",
    on_feed_done: Callable[[FeedOutcome], None] | None = None,
) -> tuple[str, list[FeedOutcome], PageStepReport]:
    """`escalation ingest`: the feeds and the page step in a run of their own (no signals). Stopped
    by SIGINT/SIGTERM, the run is closed as `interrupted` (what was stored stays; the same ingest
    again stores the rest)."""
    run_id = new_run_id(trigger)
    done: list[FeedOutcome] = []

    def feed_done(outcome: FeedOutcome) -> None:
        done.append(outcome)
        if on_feed_done is not None:
            on_feed_done(outcome)

    try:
        ctx.warehouse.start_run(trigger, {"sources": len(sources)}, run_id=run_id)
        outcomes, pages = ingest_run(sources, ctx, run_id, feed_done)
        finish_pipeline_run(ctx.warehouse, run_id, outcomes)  # the run-status rule of CycleReport
    except BaseException as exc:
        if not interrupts.is_stop(exc):
            ctx.warehouse.finish_run(run_id, "failed", _run_counts(CycleReport(run_id, feeds=done)))
            raise
        ctx.warehouse.drop_connections(exc)
        ctx.warehouse.finish_run(run_id, INTERRUPTED, _run_counts(CycleReport(run_id, feeds=done)))
        raise
    return run_id, outcomes, pages


def finish_pipeline_run(warehouse: Warehouse, run_id: str, outcomes: Sequence[FeedOutcome]) -> None:
    """Close a run whose feeds were ingested elsewhere (Airflow's mapped tasks)."""
    report = CycleReport(run_id=run_id, feeds=list(outcomes))
    warehouse.finish_run(run_id, report.status, _run_counts(report))


def report_task_failure(settings: Settings, *, dag_id: str, task_id: str, run_id: str, error: str) -> None:
    """Tell the on-call channel that a pipeline task failed (log always, webhook when configured)."""
    message = f"escalation pipeline task failed: {dag_id}.{task_id} run {run_id}: {error}"[:1000]
    log.error(message)
    send_operational_message(settings, message)
