"""Alerts record the measure that spiked (index or sentence count); indexes for the analyst paths.

Existing alerts were all raised on the index, so they get escalation_index / deescalation_index
from their kind.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("alerts", sa.Column("measure", sa.String(length=32), nullable=True))
    op.execute(
        "update alerts set measure = case when kind = 'deescalation' then 'deescalation_index' "
        "else 'escalation_index' end"
    )
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("measure", existing_type=sa.String(length=32), nullable=False)
    op.create_index("ix_alerts_actor_day", "alerts", ["actor", "day"], unique=False)
    op.create_index("ix_articles_feed_day", "articles", ["feed_id", "published_day"], unique=False)
    # (actor, sentence_id) instead of (actor): the actor -> sentences path reads the index only.
    op.drop_index("ix_sentence_actors_actor", table_name="sentence_actors")
    op.create_index(
        "ix_sentence_actors_actor_sentence", "sentence_actors", ["actor", "sentence_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sentence_actors_actor_sentence", table_name="sentence_actors")
    op.create_index("ix_sentence_actors_actor", "sentence_actors", ["actor"], unique=False)
    op.drop_index("ix_articles_feed_day", table_name="articles")
    op.drop_index("ix_alerts_actor_day", table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("measure")
