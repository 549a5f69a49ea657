"""complaint_counts.branch, count_deliveries.branch: rules can count per branch office

Revision ID: 0015_branch_on_counts
Revises: 0014_alert_episodes
Create Date: 2026-12-04

The branch office (分公司 / 中心支公司) became a complaint field in 0012; detection reads
``complaint_counts``, so a rule could not group by it, and a count-only source could not say
which branch its counts are from. Counts gain the column and it joins their unique key. Counts
stored before keep an empty branch: their branch split is unknown (complaints themselves still
carry it), and a rule never forms a key from an empty value.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_branch_on_counts"
down_revision = "0014_alert_episodes"
branch_labels = None
depends_on = None

OLD_KEY = ["bucket_start", "source", "channel", "product_code", "product_line", "region",
           "category", "event_tag"]  # fmt: skip
NAME = "uq_complaint_counts_bucket_dims"


def upgrade() -> None:
    with op.batch_alter_table("complaint_counts") as batch:
        batch.add_column(sa.Column("branch", sa.String(64), nullable=False, server_default=""))
        batch.drop_constraint(NAME, type_="unique")
        batch.create_unique_constraint(NAME, [*OLD_KEY, "branch"])
    with op.batch_alter_table("count_deliveries") as batch:
        batch.add_column(sa.Column("branch", sa.String(64), nullable=False, server_default=""))


def downgrade() -> None:
    # rows that differ only by branch become one key: add them up before the old key returns
    keys = ", ".join(OLD_KEY)
    op.execute(
        f"CREATE TEMP TABLE radar_counts_down AS SELECT {keys}, SUM(count) AS count "
        f"FROM complaint_counts GROUP BY {keys}"
    )
    op.execute("DELETE FROM complaint_counts")
    op.execute(
        f"INSERT INTO complaint_counts ({keys}, branch, count) "
        f"SELECT {keys}, '', count FROM radar_counts_down"
    )
    op.execute("DROP TABLE radar_counts_down")
    with op.batch_alter_table("complaint_counts") as batch:
        batch.drop_constraint(NAME, type_="unique")
        batch.create_unique_constraint(NAME, OLD_KEY)
        batch.drop_column("branch")
    with op.batch_alter_table("count_deliveries") as batch:
        batch.drop_column("branch")
