"""Outlets, not feeds (issue 15): `feeds.outlet`, the outlet a feed belongs to (`pipeline.feeds.outlet_key`
of its URL: the host without "www.", a URL without a host its own outlet), written by the store with
the feed row. Every count of independent sources reads it (daily_signals.sources, daily_measures'
outlets, the evidence views), so a publisher's world and regional feeds count once. The existing feeds
are filled here with the same function (one definition of an outlet; the feeds table is small);
daily_signals.sources of a warehouse upgraded from 0008 still count feeds until its signals are
recomputed (`escalation signals`).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from pipeline.feeds import outlet_key

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("outlet", sa.Text(), nullable=True))
    conn = op.get_bind()
    feeds = sa.table(
        "feeds", sa.column("feed_id", sa.Integer()), sa.column("url", sa.Text()), sa.column("outlet", sa.Text())
    )
    for feed_id, url in conn.execute(sa.select(feeds.c.feed_id, feeds.c.url)).all():
        conn.execute(feeds.update().where(feeds.c.feed_id == feed_id).values(outlet=outlet_key(url)))
    with op.batch_alter_table("feeds") as batch:
        batch.alter_column("outlet", existing_type=sa.Text(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("outlet")
