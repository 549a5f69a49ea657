"""complaints: (customer_key, product_code, received_at) index replaces (customer_key)

Revision ID: 0005_customer_product_index
Revises: 0004_partition_complaints
Create Date: 2026-12-01

Repeat and multi-channel flags look up one customer's complaints about one product within 30
days on every ingest page; with the product and time in the index that lookup no longer visits
the table rows of a customer's other products. The old index's queries (by customer) use the
new one's prefix. On PostgreSQL an index on the partitioned parent applies to every partition.
"""

from alembic import op

revision = "0005_customer_product_index"
down_revision = "0004_partition_complaints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_complaints_customer_product_received",
        "complaints",
        ["customer_key", "product_code", "received_at"],
    )
    op.drop_index("ix_complaints_customer_key", table_name="complaints")


def downgrade() -> None:
    op.create_index("ix_complaints_customer_key", "complaints", ["customer_key"])
    op.drop_index("ix_complaints_customer_product_received", table_name="complaints")
