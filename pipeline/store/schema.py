"""The one schema definition (SQLAlchemy Core `MetaData`) of the warehouse, and its DDL.

Natural keys everywhere: a feed by its URL, an article by its key, a sentence by (article, seq), a
signal by (day, actor), an alert by (day, actor, kind). `scoring_thresholds` holds the scorer's
escalatory/de-escalatory thresholds (`pipeline.score`) so the SQL views use the same numbers.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from pipeline.score import DEESCALATORY_THRESHOLD, ESCALATORY_THRESHOLD
from pipeline.store.engine import UTCDateTime

metadata = sa.MetaData()

feeds = sa.Table(
    "feeds",
    metadata,
    sa.Column("feed_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.Text, nullable=False, unique=True),
    sa.Column("title", sa.Text),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_fetched_at", UTCDateTime),
    sa.Column("last_success_at", UTCDateTime),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    # The outlet the feed belongs to (`pipeline.feeds.outlet_key` of its URL, written with the row;
    # migration 0009): what counts independent outlets, so a publisher's two feeds are one source.
    sa.Column("outlet", sa.Text, nullable=False),
)

fetch_log = sa.Table(
    "fetch_log",
    metadata,
    sa.Column("fetch_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.feed_id"), nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("status", sa.Integer),
    sa.Column("not_modified", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text),
    sa.Column("bozo_reason", sa.Text),
    sa.Column("entries_seen", sa.Integer, nullable=False, default=0),
    sa.Column("new_articles", sa.Integer, nullable=False, default=0),
    sa.Column("elapsed_s", sa.Float),
    sa.Index("ix_fetch_log_feed_time", "feed_id", "fetched_at"),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("article_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_key", sa.Text, nullable=False, unique=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.feed_id"), nullable=False),
    sa.Column("guid", sa.Text),
    sa.Column("url", sa.Text),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("published_at", UTCDateTime, nullable=False),
    sa.Column("published_day", sa.Date, nullable=False),
    sa.Column("date_source", sa.String(16), nullable=False),
    sa.Column("fetched_at", UTCDateTime, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("sentence_count", sa.Integer, nullable=False),
    sa.Column("run_id", sa.Text),
    sa.Index("ix_articles_day", "published_day"),
    sa.Index("ix_articles_feed_day", "feed_id", "published_day"),
)

# Every feed that carried an article (the article row keeps the first): corroboration across sources.
article_sources = sa.Table(
    "article_sources",
    metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.article_id"), primary_key=True),
    sa.Column("feed_id", sa.Integer, sa.ForeignKey("feeds.feed_id"), primary_key=True),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
)

# How each article's text was obtained (issue 14): from the feed item, or from its page. Every article
# stored since migration 0004 has a row (older ones got body_source 'feed', page_state 'skipped').
# page_state: pending (a teaser whose page is to be fetched) | done (the page's text replaced the
# teaser's) | failed (the teaser kept; error says why) | skipped (a real body in the feed, page
# fetching turned off, or a page in a language the scorer does not read).
article_pages = sa.Table(
    "article_pages",
    metadata,
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.article_id"), primary_key=True),
    sa.Column("body_source", sa.String(8), nullable=False),  # feed | page
    sa.Column("page_state", sa.String(8), nullable=False),
    sa.Column("page_url", sa.Text),  # the canonical article link that is (or was) fetched
    sa.Column("host", sa.Text),  # pipeline.parse.host_key(page_url): what per-host limits count
    sa.Column("attempts", sa.Integer, nullable=False, default=0),  # page-step runs that tried it
    sa.Column("http_status", sa.Integer),
    sa.Column("final_url", sa.Text),  # after redirects
    sa.Column("fetched_at", UTCDateTime),
    sa.Column("extractor", sa.String(32)),
    sa.Column("extractor_version", sa.String(64)),
    sa.Column("language", sa.String(8)),  # ISO 639-1 of the page's text
    sa.Column("error", sa.Text),  # why the page gave no text (pipeline.pages / pipeline.extract reasons)
    sa.Column("run_id", sa.Text),  # the pipeline run whose page step last wrote the row
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_article_pages_state_host", "page_state", "host"),
)

sentences = sa.Table(
    "sentences",
    metadata,
    sa.Column("sentence_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.Integer, sa.ForeignKey("articles.article_id"), nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("escalation", sa.Float, nullable=False),
    sa.Column("deescalation", sa.Float, nullable=False),
    sa.Column("matches", sa.Text, nullable=False),  # JSON list of Match.to_dict()
    sa.Column("scorer_version", sa.Text, nullable=False),
    sa.Column("scored_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("article_id", "seq", name="uq_sentences_article_seq"),
)

sentence_actors = sa.Table(
    "sentence_actors",
    metadata,
    sa.Column("sentence_id", sa.Integer, sa.ForeignKey("sentences.sentence_id"), primary_key=True),
    sa.Column("actor", sa.String(32), primary_key=True),
    sa.Index("ix_sentence_actors_actor_sentence", "actor", "sentence_id"),
)

daily_signals = sa.Table(
    "daily_signals",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("actor", sa.String(32), primary_key=True),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("sources", sa.Integer, nullable=False),
    sa.Column("sentences", sa.Integer, nullable=False),
    sa.Column("escalatory_sentences", sa.Integer, nullable=False),
    sa.Column("deescalatory_sentences", sa.Integer, nullable=False),
    sa.Column("escalation_index", sa.Float, nullable=False),
    sa.Column("deescalation_index", sa.Float, nullable=False),
    sa.Column("max_score", sa.Float, nullable=False),
    sa.Column("computed_at", UTCDateTime, nullable=False),
    sa.Index("ix_daily_signals_actor_day", "actor", "day"),
)

# Since 0006: the escalatory evidence of an actor's day as the ranking reads it (pipeline/signals.py
# defines it), recomputed with daily_signals; active_outlets is the corpus's, the same on every row of a day.
daily_measures = sa.Table(
    "daily_measures",
    metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("actor", sa.String(32), primary_key=True),
    sa.Column("escalatory_texts", sa.Integer, nullable=False),
    sa.Column("escalatory_outlets", sa.Integer, nullable=False),
    sa.Column("material_mass", sa.Float, nullable=False),
    sa.Column("verbal_mass", sa.Float, nullable=False),
    sa.Column("context_texts", sa.Integer, nullable=False),
    sa.Column("active_outlets", sa.Integer, nullable=False),
    # Since 0007: {material category: the best score of a text outside disaster context carrying it},
    # JSON; the detector's rare-act path reads which kinds of act an actor had on a day.
    sa.Column("act_scores", sa.Text, nullable=False, server_default="{}"),
    # Since 0008: {partner actor: [mass, outlets]} of the material texts outside disaster context that
    # name both, JSON; the detector's new-pair path reads which actor pairs had a front on a day.
    sa.Column("pair_masses", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_daily_measures_actor_day", "actor", "day"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("actor", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # escalation | deescalation
    sa.Column("severity", sa.String(16), nullable=False),  # watch | warning | critical
    sa.Column("measure", sa.String(32), nullable=False),  # the daily_signals column that spiked
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("baseline", sa.Float, nullable=False),
    sa.Column("spread", sa.Float, nullable=False),
    sa.Column("surprise", sa.Float, nullable=False),
    sa.Column("articles", sa.Integer, nullable=False),
    sa.Column("sources", sa.Integer, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),  # JSON list of top sentences
    sa.Column("mode", sa.String(16), nullable=False),  # live | backtest
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    # Since 0005 (NULL on older alerts): the actors its evidence names with it, strongest first
    # (comma-separated), and the share of that evidence in a disaster or accident context.
    sa.Column("counterparts", sa.Text),
    sa.Column("context_share", sa.Float),
    sa.UniqueConstraint("day", "actor", "kind", name="uq_alerts_day_actor_kind"),
    sa.Index("ix_alerts_actor_day", "actor", "day"),
)

alert_deliveries = sa.Table(
    "alert_deliveries",
    metadata,
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.alert_id"), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | sending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Incidents (issue 15): the alerts of one story (an actor or actor pair and a kind), per mode (live
# incidents page people; backtest ones record what would have paged). Natural key: mode, kind, the
# day it opened and its lead actor (the actor whose alert opened it). `actors` is comma-separated,
# sorted; `evidence` a JSON list of distinct sentences (text, title, url, outlet, day, score, copies,
# outlets). Detection refolds them from the stored alerts, so the rows follow the alerts.
incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("incident_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("mode", sa.String(16), nullable=False),  # live | backtest
    sa.Column("kind", sa.String(16), nullable=False),  # escalation | deescalation
    sa.Column("lead", sa.String(32), nullable=False),
    sa.Column("opened", sa.Date, nullable=False),
    sa.Column("actors", sa.Text, nullable=False),
    sa.Column("last_alert", sa.Date, nullable=False),
    sa.Column("closed", sa.Date),  # NULL while open
    sa.Column("severity", sa.String(16), nullable=False),  # the highest so far
    sa.Column("peak_surprise", sa.Float, nullable=False),
    sa.Column("alerts", sa.Integer, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("paged_severity", sa.String(16)),  # the highest it paged (or would have) at
    sa.Column("first_paged", sa.Date),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("mode", "kind", "opened", "lead", name="uq_incidents_key"),
    sa.Index("ix_incidents_mode_opened", "mode", "opened"),
)

# Which alerts an incident is made of (an alert belongs to one incident per mode).
incident_alerts = sa.Table(
    "incident_alerts",
    metadata,
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.incident_id"), primary_key=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.alert_id"), primary_key=True),
    sa.Index("ix_incident_alerts_alert", "alert_id"),
)

# A page: an incident opened at or above the paging severity (reason open), got worse (upgrade) or
# gained a grave act it had not paged with (grave act).
# One per incident and day; `why` says what raised it, `evidence` is the incident's as paged.
incident_pages = sa.Table(
    "incident_pages",
    metadata,
    sa.Column("page_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("incident_id", sa.Integer, sa.ForeignKey("incidents.incident_id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("reason", sa.String(16), nullable=False),  # open | upgrade | grave act
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("previous_severity", sa.String(16)),
    sa.Column("surprise", sa.Float, nullable=False),
    sa.Column("cause_actor", sa.String(32), nullable=False),
    sa.Column("why", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("incident_id", "day", name="uq_incident_pages_incident_day"),
)

# The delivery state machine of pages, as alert_deliveries is for alerts.
page_deliveries = sa.Table(
    "page_deliveries",
    metadata,
    sa.Column("page_id", sa.Integer, sa.ForeignKey("incident_pages.page_id"), primary_key=True),
    sa.Column("channel", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),  # pending | sending | sent | failed
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

pipeline_runs = sa.Table(
    "pipeline_runs",
    metadata,
    sa.Column("run_id", sa.String(200), primary_key=True),
    sa.Column("trigger", sa.String(32), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("status", sa.String(16), nullable=False),  # running | success | partial | failed | interrupted
    sa.Column("feeds_ok", sa.Integer, nullable=False, default=0),
    sa.Column("feeds_failed", sa.Integer, nullable=False, default=0),
    sa.Column("new_articles", sa.Integer, nullable=False, default=0),
    sa.Column("new_sentences", sa.Integer, nullable=False, default=0),
    sa.Column("details", sa.Text),
)

# name -> value; the views read them (`select value from scoring_thresholds where name = ...`).
scoring_thresholds = sa.Table(
    "scoring_thresholds",
    metadata,
    sa.Column("name", sa.String(32), primary_key=True),  # escalatory | deescalatory
    sa.Column("value", sa.Float, nullable=False),
)


def current_thresholds() -> dict[str, float]:
    """What `scoring_thresholds` must hold: the scorer's own constants."""
    return {"escalatory": ESCALATORY_THRESHOLD, "deescalatory": DEESCALATORY_THRESHOLD}


def thresholds_are_current(conn: Connection) -> bool:
    stored = dict(conn.execute(sa.select(scoring_thresholds.c.name, scoring_thresholds.c.value)).all())
    return stored == current_thresholds()


def write_thresholds(conn: Connection) -> None:
    """Make `scoring_thresholds` hold exactly the scorer's thresholds (in the caller's transaction)."""
    conn.execute(scoring_thresholds.delete())
    conn.execute(
        scoring_thresholds.insert(), [{"name": k, "value": v} for k, v in current_thresholds().items()]
    )


def ddl(dialect_name: str) -> str:
    """CREATE statements of the whole schema for one dialect (the committed sql/schema_*.sql)."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    dialect = {"sqlite": sqlite.dialect(), "postgresql": postgresql.dialect()}[dialect_name]
    parts = [f"-- Generated from pipeline/store/schema.py by schema.ddl({dialect_name!r}); do not edit.\n"]
    for table in metadata.sorted_tables:
        parts.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";\n")
        for index in sorted(table.indexes, key=lambda i: i.name or ""):
            parts.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";\n")
    return "\n".join(parts)
