"""Article pages in the warehouse: which articles wait for their page, and the one write that puts a
page's text in place of the feed's teaser (`replace_article_text`), whole or not at all."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from pipeline.articles import SentenceRecord, content_hash
from pipeline.clock import now_utc
from pipeline.store.engine import chunks, clean_text, run_transaction
from pipeline.store.feeds import insert_sentence_records
from pipeline.store.schema import article_pages, articles, sentence_actors, sentences

PAGE_STATES = ("pending", "done", "failed", "skipped")
BODY_SOURCES = ("feed", "page")


@dataclass(frozen=True)
class PendingPage:
    """An article whose feed item was a teaser and whose page has not been read yet."""

    article_id: int
    article_key: str
    url: str  # canonical
    host: str
    title: str
    published_day: date
    attempts: int


@dataclass(frozen=True)
class PageRecord:
    """What the page step learned about one article's page.

    `state`: 'done' (the page's sentences replace the feed's), 'failed' (the feed's are kept, `error`
    says why), 'pending' (a transient failure: tried again by the next page step), 'skipped' (read,
    but not scored: a language the lexicon does not cover)."""

    state: str
    http_status: int | None = None
    final_url: str | None = None
    fetched_at: datetime | None = None
    extractor: str | None = None
    extractor_version: str | None = None
    language: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if self.state not in PAGE_STATES:
            raise ValueError(f"page state must be one of {', '.join(PAGE_STATES)}, not {self.state!r}")


class PageStore:
    """The article_pages rows and the page text write (a part of `Warehouse`)."""

    engine: Engine

    def pending_page_urls(self) -> list[str]:
        """The distinct canonical URLs of every pending page (for grouping by host), in name order."""
        query = (
            sa.select(article_pages.c.page_url)
            .where(article_pages.c.page_state == "pending")
            .distinct()
            .order_by(article_pages.c.page_url)
        )
        with self.engine.connect() as conn:
            return [url for url in conn.execute(query).scalars() if url]

    def pending_pages(self, *, hosts: Iterable[str] | None = None, limit: int | None = None) -> list[PendingPage]:
        """Pending pages (of those `hosts` only, when given), oldest article first."""
        p, a = article_pages.c, articles.c
        query = (
            sa.select(p.article_id, a.article_key, p.page_url, p.host, a.title, a.published_day, p.attempts)
            .select_from(article_pages.join(articles, a.article_id == p.article_id))
            .where(p.page_state == "pending", p.page_url.is_not(None))
            .order_by(p.article_id)
        )
        wanted = None if hosts is None else sorted(set(hosts))
        found: list[PendingPage] = []
        with self.engine.connect() as conn:
            for chunk in [None] if wanted is None else chunks(wanted):
                selected = query if chunk is None else query.where(p.host.in_(chunk))
                if limit is not None:
                    selected = selected.limit(limit)
                found.extend(PendingPage(*row) for row in conn.execute(selected).all())
        found.sort(key=lambda page: page.article_id)
        return found[:limit] if limit is not None else found

    def article_page(self, article_key: str) -> dict[str, Any] | None:
        """An article's page row with its sentence count (what the CLI and tests look at)."""
        query = (
            sa.select(article_pages, articles.c.sentence_count, articles.c.article_key)
            .join(articles, articles.c.article_id == article_pages.c.article_id)
            .where(articles.c.article_key == article_key)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        return dict(row) if row else None

    def run_page_days(self, run_id: str) -> list[date]:
        """The published days of the articles whose page text a pipeline run stored, in order."""
        query = (
            sa.select(articles.c.published_day)
            .join(article_pages, article_pages.c.article_id == articles.c.article_id)
            .where(article_pages.c.run_id == run_id, article_pages.c.body_source == "page")
            .distinct()
        )
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def page_state_counts(self, run_id: str | None = None) -> dict[str, int]:
        """Articles by page state (those a pipeline run's page step wrote last, with `run_id`)."""
        query = sa.select(article_pages.c.page_state, sa.func.count()).group_by(article_pages.c.page_state)
        if run_id is not None:
            query = query.where(article_pages.c.run_id == run_id)
        with self.engine.connect() as conn:
            return {state: int(n) for state, n in conn.execute(query).all()}

    def replace_article_text(
        self,
        article_id: int,
        page: PageRecord,
        new_sentences: Sequence[SentenceRecord] | None,
        scorer_version: str,
        run_id: str | None = None,
    ) -> tuple[date, ...]:
        """Record what the page step found for a pending article and, with `new_sentences` (state
        'done'), replace the article's sentences and their actor rows with them: ONE transaction,
        so a reader sees the teaser's sentences or the page's, never a mix, and a crash leaves the
        article pending. The article must still be pending (a concurrent page step that got there
        first wins; this call then changes nothing). Returns the published day whose signals changed
        (none when the sentences were kept)."""
        if (new_sentences is not None) != (page.state == "done"):
            raise ValueError("sentences go with state 'done', and only with it")

        def work(conn: Connection) -> tuple[date, ...]:
            # The update comes first: it claims the row (PostgreSQL row lock; SQLite's write lock,
            # which the sentence numbering below relies on) and tells whether it was still pending.
            values: dict[str, Any] = {
                "page_state": page.state,
                "attempts": article_pages.c.attempts + 1,
                "http_status": page.http_status,
                "final_url": clean_text(page.final_url),
                "fetched_at": page.fetched_at,
                "extractor": page.extractor,
                "extractor_version": page.extractor_version,
                "language": page.language,
                "error": clean_text(page.error),
                "run_id": run_id,
                "updated_at": now_utc(),
            }
            if new_sentences is not None:
                values["body_source"] = "page"
            claimed = conn.execute(
                article_pages.update()
                .where(article_pages.c.article_id == article_id, article_pages.c.page_state == "pending")
                .values(**values)
            ).rowcount
            if not claimed or new_sentences is None:
                return ()
            old = sa.select(sentences.c.sentence_id).where(sentences.c.article_id == article_id)
            conn.execute(sentence_actors.delete().where(sentence_actors.c.sentence_id.in_(old)))
            conn.execute(sentences.delete().where(sentences.c.article_id == article_id))
            records = tuple(new_sentences)
            insert_sentence_records(conn, [(article_id, r) for r in records], scorer_version, now_utc())
            conn.execute(
                articles.update()
                .where(articles.c.article_id == article_id)
                .values(sentence_count=len(records), content_hash=content_hash(records))
            )
            day = conn.execute(
                sa.select(articles.c.published_day).where(articles.c.article_id == article_id)
            ).scalar_one()
            return (day,)

        return run_transaction(self.engine, work, f"page text of article {article_id}")
