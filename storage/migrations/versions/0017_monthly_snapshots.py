"""monthly_snapshots: a closed accountability cycle's report parts, built once

Revision ID: 0017_monthly_snapshots
Revises: 0016_alert_assignee
Create Date: 2026-12-04

A full cycle's report takes 1.5–2.3 s to count on SQLite (issue 23), most of it grouping a
quarter of a million complaints whose receipt dates no longer change once the cycle is closed.
The worker writes those counts here after the closing day; overdue decisions stay live.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0017_monthly_snapshots"
down_revision = "0016_alert_assignee"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monthly_snapshots",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("cycle", sa.String(16), nullable=False),
        sa.Column("built_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("parts", storage.types.JSONType, nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("monthly_snapshots")
