"""installation: a random id per database, for idempotency keys that never repeat elsewhere

Revision ID: 0009_installation_id
Revises: 0008_source_note
Create Date: 2026-12-03

Keys were derived from alert ids alone, so alert #1 of every fresh database sent the same
key, and a receiver that drops repeats dropped real pages. The id is made here, once, when
the database is created or upgraded; a rebuilt database gets a new one.
"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0009_installation_id"
down_revision = "0008_source_note"
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table(
        "installation",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(table, [{"id": uuid.uuid4().hex, "created_at": datetime.now(UTC)}])


def downgrade() -> None:
    op.drop_table("installation")
