"""alerts.assignee: the person an alert was handed to

Revision ID: 0016_alert_assignee
Revises: 0015_branch_on_counts
Create Date: 2026-12-04

An incident page can hand an alert to a named person from the roster. That person then takes
the on-call's pages for it (first page, reminders); "" keeps the old behaviour (the on-call).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_alert_assignee"
down_revision = "0015_branch_on_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("assignee", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("assignee")
