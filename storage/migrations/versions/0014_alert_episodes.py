"""alerts.episode, alerts.episode_at: a re-trigger reopens the same alert

Revision ID: 0014_alert_episodes
Revises: 0013_stretched_customer_keys
Create Date: 2026-12-04

An alert a person resolved while its condition still held used to come back as a new alert a
tick later (history split, "#2 已恢复" and "#3 首次通知" in one message). It now reopens: the
same alert, its history kept, with an episode number that keys its new notifications apart
from the first ones. Existing alerts are episode 0.
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014_alert_episodes"
down_revision = "0013_stretched_customer_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("episode", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("episode_at", UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("episode_at")
        batch.drop_column("episode")
