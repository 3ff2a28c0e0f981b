"""Actor pairs per actor-day (issue 15): `daily_measures.pair_masses`, per (day, actor) the other
actors named in the same escalatory material texts outside disaster/accident/crime context, each with
the summed best score of those texts and their distinct outlets (JSON {partner: [mass, outlets]}).
The detector's new-pair path reads it: a pair with a front today and none in the months before is
news even when both actors are busy. A warehouse upgraded from 0007 reads '{}' (no pairs) until its
signals are recomputed (`escalation signals`).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("daily_measures") as batch:
        batch.add_column(sa.Column("pair_masses", sa.Text(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("daily_measures") as batch:
        batch.drop_column("pair_masses")
