"""complaint extension level: 0 = 15 days, 1 = extended to 30, 2 = extended to 60

Revision ID: 0003_extension_level
Revises: 0002_count_deliveries
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_extension_level"
down_revision = "0002_count_deliveries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.add_column(
            sa.Column("extension_level", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("extension_level")
