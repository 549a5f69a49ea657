"""complaints.branch: the branch office accountable for a complaint

Revision ID: 0012_branch_dimension
Revises: 0010_sms_reply_codes
Create Date: 2026-12-04

A branch's customer-service department closes its complaints on a monthly cycle and is judged on
them (the monthly report, issue 23). The branch came in as a source column but was folded into
the province; it is now stored as the source gave it. Old rows keep an empty branch.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_branch_dimension"
down_revision = "0010_sms_reply_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "complaints", sa.Column("branch", sa.String(64), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch:
        batch.drop_column("branch")
