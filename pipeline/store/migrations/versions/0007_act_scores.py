"""Kinds of act per actor-day (issue 15): `daily_measures.act_scores`, per (day, actor) the material
scorer categories of its escalatory texts outside disaster/accident context, each with the best
score of a text carrying it (JSON). The detector's rare-act path reads it: a grave act of a kind the
actor has not had for a long time is news even from one outlet. A warehouse upgraded from 0006 reads
'{}' (no acts) until its signals are recomputed (`escalation signals`).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daily_measures") as batch:
        batch.add_column(sa.Column("act_scores", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("daily_measures") as batch:
        batch.drop_column("act_scores")
