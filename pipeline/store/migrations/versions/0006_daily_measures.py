"""Ranking measures (issue 15): `daily_measures`, per (day, actor) the escalatory evidence the detector
ranks by (distinct texts, outlets, material and verbal mass, disaster/accident context) and the
outlets active in the corpus that day. Recomputed with daily_signals; a warehouse upgraded from 0005
has none until its signals are recomputed (`escalation signals`), and detection then reads zeros.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_measures",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("escalatory_texts", sa.Integer(), nullable=False),
        sa.Column("escalatory_outlets", sa.Integer(), nullable=False),
        sa.Column("material_mass", sa.Float(), nullable=False),
        sa.Column("verbal_mass", sa.Float(), nullable=False),
        sa.Column("context_texts", sa.Integer(), nullable=False),
        sa.Column("active_outlets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "actor"),
    )
    op.create_index("ix_daily_measures_actor_day", "daily_measures", ["actor", "day"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_daily_measures_actor_day", table_name="daily_measures")
    op.drop_table("daily_measures")
