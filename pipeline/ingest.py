"""Orchestration shared by the CLI and the Airflow DAGs: fetch -> parse -> text -> score -> actors -> store.

One feed is one unit of work and one warehouse transaction: a feed that fails (network, bad XML, a bug
in a later stage) is recorded with its reason and never stops the others.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from pipeline.actors import Gazetteer, load_gazetteer
from pipeline.config import Settings
from pipeline.fetch import FetchResult, FetchSettings, Validators, fetch_many, fetch_one
from pipeline.parse import ParsedEntry, parse_feed
from pipeline.score import Scorer, encode_matches, load_scorer
from pipeline.text import article_sentences
from pipeline.warehouse import ArticleRecord, FetchRecord, SentenceRecord, Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineContext:
    """Everything a stage needs, built once per process (the lexicon and gazetteer compile once)."""

    settings: Settings
    warehouse: Warehouse
    scorer: Scorer
    gazetteer: Gazetteer
    fetch_settings: FetchSettings


def build_context(settings: Settings, *, init_schema: bool = True) -> PipelineContext:
    warehouse = Warehouse.from_url(settings.db_url)
    if init_schema:
        warehouse.init_schema()
    return PipelineContext(
        settings=settings,
        warehouse=warehouse,
        scorer=load_scorer(settings.lexicon_file),
        gazetteer=load_gazetteer(settings.gazetteer_file),
        fetch_settings=FetchSettings.from_settings(settings),
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
        return {
            "source": self.source,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "not_modified": self.not_modified,
            "bozo_reason": self.bozo_reason,
            "entries_seen": self.entries_seen,
            "new_articles": self.new_articles,
            "new_sentences": self.new_sentences,
            "elapsed_s": round(self.elapsed_s, 3),
            "days": [d.isoformat() for d in self.days],
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FeedOutcome:
        values = dict(data)
        values["days"] = tuple(date.fromisoformat(str(d)) for d in values.get("days") or ())  # type: ignore[union-attr]
        return cls(**values)  # type: ignore[arg-type]


def _article_record(entry: ParsedEntry, ctx: PipelineContext) -> ArticleRecord:
    body_html = entry.content_html or entry.summary_html
    sentences = article_sentences(entry.title, body_html)
    records = []
    for seq, text in enumerate(sentences):
        scored = ctx.scorer.score_sentence(text)
        records.append(
            SentenceRecord(
                seq=seq,
                text=text,
                score=scored.score,
                escalation=scored.escalation,
                deescalation=scored.deescalation,
                matches=encode_matches(scored.matches),
                actors=tuple(ctx.gazetteer.codes(text)),
            )
        )
    content_hash = hashlib.sha1("\n".join(sentences).encode("utf-8")).hexdigest()
    return ArticleRecord(
        article_key=entry.entry_id,
        guid=entry.guid,
        url=entry.link,
        title=entry.title,
        published_at=entry.published_at,
        date_source=entry.date_source,
        content_hash=content_hash,
        sentences=tuple(records),
    )


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

    parsed = parse_feed(result.body, result.source, result.fetched_at)
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
    fresh = [e for e in parsed.entries if e.entry_id not in known]
    articles = [_article_record(entry, ctx) for entry in fresh]
    stored = warehouse.store_feed_batch(
        _fetch_record(
            result,
            bozo_reason=parsed.bozo_reason,
            entries_seen=len(parsed.entries),
            feed_title=parsed.title,
        ),
        articles,
        run_id,
        ctx.scorer.version,
        seen_keys=[e.entry_id for e in parsed.entries],
    )
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
    result = fetch_one(source, Validators(etag, last_modified), ctx.fetch_settings)
    return _safe_process(result, ctx, run_id)


def ingest_sources(
    sources: Sequence[str],
    ctx: PipelineContext,
    run_id: str,
    on_feed_done: Callable[[FeedOutcome], None] | None = None,
) -> list[FeedOutcome]:
    """Fetch many feeds concurrently, then store them one transaction per feed."""
    validators = {s: Validators(*ctx.warehouse.validators_for(s)) for s in sources}
    results = fetch_many(sources, validators, ctx.fetch_settings)
    outcomes = []
    for result in results:
        outcome = _safe_process(result, ctx, run_id)
        outcomes.append(outcome)
        if on_feed_done is not None:
            on_feed_done(outcome)
    return outcomes


@dataclass
class CycleReport:
    run_id: str
    feeds: list[FeedOutcome] = field(default_factory=list)
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


def now_utc() -> datetime:
    return datetime.now(UTC)


def run_cycle(
    sources: Sequence[str],
    ctx: PipelineContext,
    *,
    trigger: str = "cli",
    notify: bool = True,
    on_feed_done: Callable[[FeedOutcome], None] | None = None,
) -> CycleReport:
    """One full cycle: ingest, recompute signals for every day the new articles touch, detect spikes."""
    from pipeline import alerts as alerting
    from pipeline.signals import compute_signals

    warehouse = ctx.warehouse
    run_id = warehouse.start_run(trigger, {"feeds": len(sources)})
    report = CycleReport(run_id=run_id)
    try:
        report.feeds = ingest_sources(sources, ctx, run_id, on_feed_done)
        report.days = touched_days(report.feeds)
        if report.days:
            since, until = report.days[0], report.days[-1]
            report.signal_rows = compute_signals(warehouse, since, until).rows_written
            detected = alerting.detect(
                warehouse,
                since,
                until,
                alerting.DetectionParams.from_settings(ctx.settings),
                mode="live",
                notifiers=alerting.build_notifiers(ctx.settings, warehouse) if notify else (),
            )
            report.alerts = [alerting.alert_to_dict(a) for a in detected.alerts]
    except BaseException:
        warehouse.finish_run(run_id, "failed", _run_counts(report))
        raise
    warehouse.finish_run(run_id, report.status, _run_counts(report))
    return report


def _run_counts(report: CycleReport) -> dict[str, object]:
    return {
        "feeds_ok": report.feeds_ok,
        "feeds_failed": report.feeds_failed,
        "new_articles": report.new_articles,
        "new_sentences": report.new_sentences,
    }


def finish_pipeline_run(warehouse: Warehouse, run_id: str, outcomes: Sequence[FeedOutcome]) -> None:
    """Close a run whose feeds were ingested elsewhere (Airflow's mapped tasks)."""
    report = CycleReport(run_id=run_id, feeds=list(outcomes))
    warehouse.finish_run(run_id, report.status, _run_counts(report))


def report_task_failure(settings: Settings, *, dag_id: str, task_id: str, run_id: str, error: str) -> None:
    """Tell the on-call channel that a pipeline task failed (log always, webhook when configured)."""
    from pipeline import alerts as alerting

    message = f"escalation pipeline task failed: {dag_id}.{task_id} run {run_id}: {error}"[:1000]
    log.error(message)
    alerting.send_operational_message(settings, message)
