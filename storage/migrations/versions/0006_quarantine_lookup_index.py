"""quarantined_records: (source, external_id) index for idempotent quarantine

Revision ID: 0006_quarantine_lookup_index
Revises: 0005_customer_product_index
Create Date: 2026-12-01

Quarantine is idempotent: before storing a rejected record, ingest looks for the same record
(source, external id, reason, payload) already kept, so a re-imported file or a re-delivered
boundary record is not quarantined twice. This index keeps that lookup to the ids at hand.
"""

from alembic import op

revision = "0006_quarantine_lookup_index"
down_revision = "0005_customer_product_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_quarantine_source_external_id", "quarantined_records", ["source", "external_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_quarantine_source_external_id", table_name="quarantined_records")
