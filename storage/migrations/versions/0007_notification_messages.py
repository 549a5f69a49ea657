"""notifications: rows for messages that are not about an alert (the weekly report)

Revision ID: 0007_notification_messages
Revises: 0006_quarantine_lookup_index
Create Date: 2026-12-01

The weekly report goes through the same outbox as alerts (retries with backoff, fallback
channels, leases), so its rows need no alert: ``alert_id`` becomes nullable, ``kind`` says
"alert" or "message", and ``payload`` freezes the message (title, note, link, attachments) when
it is queued, so a retry sends exactly what was queued.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007_notification_messages"
down_revision = "0006_quarantine_lookup_index"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="alert")
        )
        batch_op.add_column(sa.Column("payload", storage.types.JSONType, nullable=True))
        batch_op.alter_column("alert_id", existing_type=ID, nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM notifications WHERE alert_id IS NULL")
    with op.batch_alter_table("notifications") as batch_op:
        batch_op.alter_column("alert_id", existing_type=ID, nullable=False)
        batch_op.drop_column("payload")
        batch_op.drop_column("kind")
