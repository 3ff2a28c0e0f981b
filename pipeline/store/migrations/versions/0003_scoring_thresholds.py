"""The scorer's thresholds as data: the views read `scoring_thresholds` instead of a literal 0.2.

The rows themselves are written after every upgrade from `pipeline.score` (migrate.ensure_schema
rewrites them whenever they differ), so they are not inserted here.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scoring_thresholds",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("scoring_thresholds")
