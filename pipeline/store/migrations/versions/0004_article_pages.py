"""How each article's text was obtained: `article_pages` (body source, page state, the page fetch).

Articles stored before this revision took their text from the feed and never had a page fetched:
they get body_source 'feed', page_state 'skipped' (nothing pending, so no old link is fetched).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "article_pages",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("body_source", sa.String(length=8), nullable=False),
        sa.Column("page_state", sa.String(length=8), nullable=False),
        sa.Column("page_url", sa.Text(), nullable=True),
        sa.Column("host", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("final_url", sa.Text(), nullable=True),
        sa.Column("fetched_at", UTC_TIME, nullable=True),
        sa.Column("extractor", sa.String(length=32), nullable=True),
        sa.Column("extractor_version", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["articles.article_id"]),
        sa.PrimaryKeyConstraint("article_id"),
    )
    op.create_index("ix_article_pages_state_host", "article_pages", ["page_state", "host"], unique=False)
    op.execute(
        "insert into article_pages (article_id, body_source, page_state, page_url, attempts, updated_at)"
        " select article_id, 'feed', 'skipped', url, 0, fetched_at from articles"
    )


def downgrade() -> None:
    op.drop_index("ix_article_pages_state_host", table_name="article_pages")
    op.drop_table("article_pages")
