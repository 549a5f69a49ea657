"""sms_reply_codes: codes sent in SMS pages, so a reply from the paged number acknowledges

Revision ID: 0010_sms_reply_codes
Revises: 0009_installation_id
Create Date: 2026-12-03

An SMS page carries a short code ("回复 1234 确认"); the worker pulls replies from the SMS
platform and acknowledges the alert for the person whose number replied. A row per alert and
message, written before the page goes out, ties a code to the number, the person and the
notification row it went out with.
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0010_sms_reply_codes"
down_revision = "0009_installation_id"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sms_reply_codes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("receiver", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=False),
        sa.Column("alert_id", ID, nullable=False),
        sa.Column("notification_id", ID, nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_key", "alert_id", name="uq_sms_reply_codes_message_alert"),
    )
    op.create_index(
        "ix_sms_reply_codes_lookup", "sms_reply_codes", ["channel", "phone", "code"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_sms_reply_codes_lookup", table_name="sms_reply_codes")
    op.drop_table("sms_reply_codes")
