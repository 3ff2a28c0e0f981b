"""The page step: the articles whose feed item was only a teaser (`articles.is_teaser`, decided at
ingest) get the text of their page.

`read_pages(warehouse, settings, scorer, gazetteer)` takes the pending pages (of some hosts only,
for one Airflow mapped task per host group), fetches them (`pages.fetch_pages`: robots.txt, per-host
limits, address guards, size and time caps; one `RobotsCache` per run), extracts each page's main
text (`extract.extract_page`), and then, one article per transaction (`Warehouse.replace_article_text`):
- an English or undetermined text (`extract.is_scored_language`) is split, scored and tagged, and
  replaces the teaser's sentences (state 'done', body source 'page'); the article's day is returned
  so its signals are recomputed;
- a text in another language is recorded with its language and NOT scored (state 'skipped'): the
  lexicon is English, and its sentences would only add zeros and false English matches to the day;
  the article keeps the feed's sentences;
- a page that gives no text keeps the feed's sentences and records why (state 'failed'; the reason
  is pages' or extract's vocabulary, e.g. "robots.txt disallows", "http 404", "not HTML: application/pdf",
  "empty extraction"). A transient reason (timeout, connection failure, 5xx/429 after the fetcher's
  own retries, robots.txt unavailable) leaves the article pending for the next run, until it has been
  tried MAX_PAGE_ATTEMPTS times.
With `settings.enabled` False (ESCALATION_ARTICLE_FETCH=0) the step requests nothing and changes
nothing (and the feed writer marks new teasers 'skipped', error 'disabled'). An interrupted step
leaves the articles it did not finish pending, each whole: the next run completes them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

from pipeline.actors import Gazetteer
from pipeline.articles import scored_sentences
from pipeline.config import PageSettings
from pipeline.extract import EXTRACTOR, extract_page, extractor_version, is_scored_language
from pipeline.pages import PageResult, RobotsCache, fetch_pages
from pipeline.score import Scorer
from pipeline.store import PageRecord, PendingPage, Warehouse
from pipeline.text import text_sentences

log = logging.getLogger(__name__)

MAX_PAGE_ATTEMPTS = 3  # page steps (runs) that may try one page before it counts as failed
_TRANSIENT = ("timeout", "connection failed", "robots.txt unavailable", "http 429", "http 5")


def is_transient_page_error(error: str | None) -> bool:
    """A reason that may pass by itself (the next run tries the page again)."""
    return error is not None and error.startswith(_TRANSIENT)


@dataclass
class PageStepReport:
    """What one page step did; small enough for Airflow's XCom (`to_dict`)."""

    pending: int = 0  # pending pages taken
    done: int = 0  # text replaced by the page's
    failed: int = 0  # feed text kept for good
    retry: int = 0  # transient failure: still pending
    not_scored: int = 0  # another language: recorded, not scored
    new_sentences: int = 0
    days: tuple[date, ...] = ()
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "pending": self.pending,
            "done": self.done,
            "failed": self.failed,
            "retry": self.retry,
            "not_scored": self.not_scored,
            "new_sentences": self.new_sentences,
            "days": [d.isoformat() for d in self.days],
            "reasons": dict(sorted(self.reasons.items())),
        }


def read_pages(
    warehouse: Warehouse,
    settings: PageSettings,
    scorer: Scorer,
    gazetteer: Gazetteer,
    *,
    hosts: Iterable[str] | None = None,
    robots_cache: RobotsCache | None = None,
    run_id: str | None = None,
) -> PageStepReport:
    """Fetch, extract, score and store the pending pages (of `hosts` only, when given); see above.

    Each page is extracted and stored by one worker thread as soon as it arrives, so the fetcher's
    event loop keeps its hosts busy meanwhile."""
    report = PageStepReport()
    if not settings.enabled:
        return report
    pending = warehouse.pending_pages(hosts=hosts)
    report.pending = len(pending)
    if not pending:
        return report
    by_url: dict[str, list[PendingPage]] = {}
    for page in pending:
        by_url.setdefault(page.url, []).append(page)
    days: set[date] = set()
    version = extractor_version()
    futures: list[Future[None]] = []

    def store(result: PageResult) -> None:
        for article in by_url[result.requested_url]:
            record, sentences = _page_outcome(result, article, version, scorer, gazetteer)
            days.update(warehouse.replace_article_text(
                    article.article_id, record, sentences, scorer.version, run_id
                ))
            _count(report, record, sentences)

    with ThreadPoolExecutor(1, thread_name_prefix="page-store") as writer:
        fetch_pages(
            list(by_url),
            settings,
            robots_cache=robots_cache if robots_cache is not None else RobotsCache(),
            on_result=lambda result: futures.append(writer.submit(store, result)),
        )
        for future in futures:
            future.result()  # a failed write (the warehouse is down) fails the step; the rest stay pending
    report.days = tuple(sorted(days))
    return report


def _page_outcome(
    result: PageResult, article: PendingPage, version: str, scorer: Scorer, gazetteer: Gazetteer
) -> tuple[PageRecord, tuple | None]:
    fetched = {"http_status": result.status, "final_url": result.final_url, "fetched_at": result.fetched_at}
    if result.error is not None:
        transient = is_transient_page_error(result.error) and article.attempts + 1 < MAX_PAGE_ATTEMPTS
        return PageRecord("pending" if transient else "failed", error=result.error, **fetched), None
    page = extract_page(result.body or b"", result.final_url, content_type=result.content_type)
    described = {**fetched, "extractor": EXTRACTOR, "extractor_version": version, "language": page.language}
    if page.error is not None:
        return PageRecord("failed", error=page.error, **described), None
    if not is_scored_language(page.language):
        return PageRecord("skipped", error=f"not scored: language {page.language}", **described), None
    sentences = scored_sentences(text_sentences(article.title, page.text), scorer, gazetteer)
    return PageRecord("done", **described), sentences


def _count(report: PageStepReport, record: PageRecord, sentences: tuple | None) -> None:
    if record.state == "done":
        report.done += 1
        report.new_sentences += len(sentences or ())
    elif record.state == "pending":
        report.retry += 1
    elif record.state == "skipped":
        report.not_scored += 1
    else:
        report.failed += 1
    if record.error is not None:
        reason = record.error if not record.error.startswith("not scored") else "not scored"
        report.reasons[reason] = report.reasons.get(reason, 0) + 1
