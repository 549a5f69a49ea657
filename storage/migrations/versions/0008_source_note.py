"""source_states: a note on why a healthy source delivered nothing (e.g. files still uploading)

Revision ID: 0008_source_note
Revises: 0007_notification_messages
Create Date: 2026-12-01

A drop folder that holds a half-uploaded file is healthy but imports nothing yet; the reason
was only in the worker's log. ``note`` carries it to the dashboard's source page.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_source_note"
down_revision = "0007_notification_messages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "source_states", sa.Column("note", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("source_states") as batch:
        batch.drop_column("note")
