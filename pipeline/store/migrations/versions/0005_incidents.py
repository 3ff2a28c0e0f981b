"""Incidents (issue 15): `incidents`, `incident_alerts`, `incident_pages`, `page_deliveries`, and
two alert columns the incident fold reads (counterparts, context_share; NULL on older alerts,
which then fold as one-actor alerts with no disaster context).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("alerts", sa.Column("counterparts", sa.Text(), nullable=True))
    op.add_column("alerts", sa.Column("context_share", sa.Float(), nullable=True))
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("lead", sa.String(length=32), nullable=False),
        sa.Column("opened", sa.Date(), nullable=False),
        sa.Column("actors", sa.Text(), nullable=False),
        sa.Column("last_alert", sa.Date(), nullable=False),
        sa.Column("closed", sa.Date(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("peak_surprise", sa.Float(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("paged_severity", sa.String(length=16), nullable=True),
        sa.Column("first_paged", sa.Date(), nullable=True),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("incident_id"),
        sa.UniqueConstraint("mode", "kind", "opened", "lead", name="uq_incidents_key"),
    )
    op.create_index("ix_incidents_mode_opened", "incidents", ["mode", "opened"], unique=False)
    op.create_table(
        "incident_alerts",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.alert_id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.incident_id"]),
        sa.PrimaryKeyConstraint("incident_id", "alert_id"),
    )
    op.create_index("ix_incident_alerts_alert", "incident_alerts", ["alert_id"], unique=False)
    op.create_table(
        "incident_pages",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("previous_severity", sa.String(length=16), nullable=True),
        sa.Column("surprise", sa.Float(), nullable=False),
        sa.Column("cause_actor", sa.String(length=32), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.incident_id"]),
        sa.PrimaryKeyConstraint("page_id"),
        sa.UniqueConstraint("incident_id", "day", name="uq_incident_pages_incident_day"),
    )
    op.create_table(
        "page_deliveries",
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=True),
        sa.Column("updated_at", UTC_TIME, nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["incident_pages.page_id"]),
        sa.PrimaryKeyConstraint("page_id", "channel"),
    )


def downgrade() -> None:
    op.drop_table("page_deliveries")
    op.drop_table("incident_pages")
    op.drop_index("ix_incident_alerts_alert", table_name="incident_alerts")
    op.drop_table("incident_alerts")
    op.drop_index("ix_incidents_mode_opened", table_name="incidents")
    op.drop_table("incidents")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("context_share")
        batch.drop_column("counterparts")
