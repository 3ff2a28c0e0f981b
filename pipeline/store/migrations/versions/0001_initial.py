"""The warehouse as first released (end-to-end slice): feeds, fetches, articles, sentences, actors,
daily signals, alerts and their deliveries, pipeline runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("feed_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("first_seen_at", UTC_TIME, nullable=False),
        sa.Column("last_fetched_at", UTC_TIME, nullable=True),
        sa.Column("last_success_at", UTC_TIME, nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("feed_id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "fetch_log",
        sa.Column("fetch_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("fetched_at", UTC_TIME, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("not_modified", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("bozo_reason", sa.Text(), nullable=True),
        sa.Column("entries_seen", sa.Integer(), nullable=False),
        sa.Column("new_articles", sa.Integer(), nullable=False),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.feed_id"]),
        sa.PrimaryKeyConstraint("fetch_id"),
    )
    op.create_index("ix_fetch_log_feed_time", "fetch_log", ["feed_id", "fetched_at"], unique=False)
    op.create_table(
        "articles",
        sa.Column("article_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_key", sa.Text(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("published_at", UTC_TIME, nullable=False),
        sa.Column("published_day", sa.Date(), nullable=False),
        sa.Column("date_source", sa.String(length=16), nullable=False),
        sa.Column("fetched_at", UTC_TIME, nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("sentence_count", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.feed_id"]),
        sa.PrimaryKeyConstraint("article_id"),
        sa.UniqueConstraint("article_key"),
    )
    op.create_index("ix_articles_day", "articles", ["published_day"], unique=False)
    op.create_table(
        "article_sources",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("feed_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.article_id"]),
        sa.ForeignKeyConstraint(["feed_id"], ["feeds.feed_id"]),
        sa.PrimaryKeyConstraint("article_id", "feed_id"),
    )
    op.create_table(
        "sentences",
        sa.Column("sentence_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("escalation", sa.Float(), nullable=False),
        sa.Column("deescalation", sa.Float(), nullable=False),
        sa.Column("matches", sa.Text(), nullable=False),
        sa.Column("scorer_version", sa.Text(), nullable=False),
        sa.Column("scored_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.article_id"]),
        sa.PrimaryKeyConstraint("sentence_id"),
        sa.UniqueConstraint("article_id", "seq", name="uq_sentences_article_seq"),
    )
    op.create_table(
        "sentence_actors",
        sa.Column("sentence_id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["sentence_id"], ["sentences.sentence_id"]),
        sa.PrimaryKeyConstraint("sentence_id", "actor"),
    )
    op.create_index("ix_sentence_actors_actor", "sentence_actors", ["actor"], unique=False)
    op.create_table(
        "daily_signals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("sentences", sa.Integer(), nullable=False),
        sa.Column("escalatory_sentences", sa.Integer(), nullable=False),
        sa.Column("deescalatory_sentences", sa.Integer(), nullable=False),
        sa.Column("escalation_index", sa.Float(), nullable=False),
        sa.Column("deescalation_index", sa.Float(), nullable=False),
        sa.Column("max_score", sa.Float(), nullable=False),
        sa.Column("computed_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("day", "actor"),
    )
    op.create_index("ix_daily_signals_actor_day", "daily_signals", ["actor", "day"], unique=False)
    op.create_table(
        "alerts",
        sa.Column("alert_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("spread", sa.Float(), nullable=False),
        sa.Column("surprise", sa.Float(), nullable=False),
        sa.Column("articles", sa.Integer(), nullable=False),
        sa.Column("sources", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("alert_id"),
        sa.UniqueConstraint("day", "actor", "kind", name="uq_alerts_day_actor_kind"),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.alert_id"]),
        sa.PrimaryKeyConstraint("alert_id", "channel"),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("run_id", sa.String(length=200), nullable=False),
        sa.Column("trigger", sa.String(length=32), nullable=False),
        sa.Column("started_at", UTC_TIME, nullable=False),
        sa.Column("finished_at", UTC_TIME, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("feeds_ok", sa.Integer(), nullable=False),
        sa.Column("feeds_failed", sa.Integer(), nullable=False),
        sa.Column("new_articles", sa.Integer(), nullable=False),
        sa.Column("new_sentences", sa.Integer(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("run_id"),
    )


def downgrade() -> None:
    for table in (
        "pipeline_runs",
        "alert_deliveries",
        "alerts",
        "daily_signals",
        "sentence_actors",
        "sentences",
        "article_sources",
        "articles",
        "fetch_log",
        "feeds",
    ):
        op.drop_table(table)
