"""PostgreSQL: complaints partitioned by month of received_at; the global key in complaint_keys

Revision ID: 0004_partition_complaints
Revises: 0003_extension_level
Create Date: 2026-12-01

On PostgreSQL ``complaints`` becomes a table partitioned by RANGE (received_at) with monthly
partitions and a DEFAULT partition (see storage/partitions.py and docs/SCALING.md). A partitioned
table cannot carry a unique index that leaves out the partition key, so the idempotency key
(source, external_id) moves to the small unpartitioned ``complaint_keys``, backfilled here; the
primary key becomes (id, received_at), ids still come from the same sequence and stay unique.
SQLite is left exactly as it was.
"""

from datetime import UTC, datetime

from alembic import op
from sqlalchemy import text

from storage import partitions

revision = "0004_partition_complaints"
down_revision = "0003_extension_level"
branch_labels = None
depends_on = None

OLD = "complaints_unpartitioned"
INDEXES = (
    ("ix_complaints_received_at", "(received_at)"),
    ("ix_complaints_product_received", "(product_code, received_at)"),
    ("ix_complaints_customer_key", "(customer_key)"),
)


def _sequence(conn, table: str) -> str:
    name = conn.execute(text(f"SELECT pg_get_serial_sequence('{table}', 'id')")).scalar()
    if not name:
        raise RuntimeError(f"{table}.id has no sequence; cannot convert complaints")
    return name


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    sequence = _sequence(conn, "complaints")
    conn.execute(text(f"ALTER TABLE complaints RENAME TO {OLD}"))
    conn.execute(text(f"ALTER TABLE {OLD} RENAME CONSTRAINT complaints_pkey TO {OLD}_pkey"))
    conn.execute(text(f"ALTER TABLE {OLD} DROP CONSTRAINT uq_complaints_source_external_id"))
    for name, _ in INDEXES:
        conn.execute(text(f"DROP INDEX {name}"))
    conn.execute(
        text(
            f"CREATE TABLE complaints (LIKE {OLD} INCLUDING DEFAULTS INCLUDING STORAGE) "
            "PARTITION BY RANGE (received_at)"
        )
    )
    conn.execute(text("ALTER TABLE complaints ADD PRIMARY KEY (id, received_at)"))
    conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY complaints.id"))
    conn.execute(
        text(f"CREATE TABLE {partitions.DEFAULT_PARTITION} PARTITION OF complaints DEFAULT")
    )

    now = datetime.now(UTC)
    current = partitions.month_of(now)
    first = partitions.add_months(current, -partitions.MONTHS_BACK)
    last = partitions.add_months(current, partitions.MONTHS_AHEAD)
    months = set(
        conn.execute(
            text(
                f"SELECT DISTINCT date_trunc('month', received_at AT TIME ZONE 'UTC')::date "
                f"FROM {OLD} WHERE received_at >= :lo AND received_at < :hi"
            ),
            {"lo": f"{first} 00:00:00+00", "hi": f"{partitions.add_months(last, 1)} 00:00:00+00"},
        ).scalars()
    )
    for month in sorted(months):
        partitions.create_partition(conn, month)
    partitions.ensure_partitions(conn, now)

    conn.execute(text(f"INSERT INTO complaints SELECT * FROM {OLD}"))
    conn.execute(
        text(
            f"CREATE TABLE {partitions.KEYS_TABLE} ("
            "source VARCHAR(64) NOT NULL, external_id VARCHAR(128) NOT NULL, "
            f"complaint_id BIGINT NOT NULL DEFAULT nextval('{sequence}'), "
            "received_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (source, external_id))"
        )
    )
    conn.execute(
        text(
            f"INSERT INTO {partitions.KEYS_TABLE} (source, external_id, complaint_id, received_at) "
            f"SELECT source, external_id, id, received_at FROM {OLD}"
        )
    )
    conn.execute(text(f"DROP TABLE {OLD}"))
    for name, columns in INDEXES:  # on the parent: PostgreSQL creates one per partition
        conn.execute(text(f"CREATE INDEX {name} ON complaints {columns}"))
    conn.execute(text("ANALYZE complaints"))
    conn.execute(text(f"ANALYZE {partitions.KEYS_TABLE}"))


def downgrade() -> None:
    """Back to one plain table; rows of detached (archived) partitions are not brought back."""
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    sequence = _sequence(conn, "complaints")
    conn.execute(text(f"CREATE TABLE {OLD} (LIKE complaints INCLUDING DEFAULTS INCLUDING STORAGE)"))
    conn.execute(text(f"INSERT INTO {OLD} SELECT * FROM complaints"))
    conn.execute(text(f"ALTER SEQUENCE {sequence} OWNED BY {OLD}.id"))
    conn.execute(text(f"DROP TABLE {partitions.KEYS_TABLE}"))
    conn.execute(text("DROP TABLE complaints"))  # and every partition with it
    conn.execute(text(f"ALTER TABLE {OLD} RENAME TO complaints"))
    conn.execute(text("ALTER TABLE complaints ADD CONSTRAINT complaints_pkey PRIMARY KEY (id)"))
    conn.execute(
        text(
            "ALTER TABLE complaints ADD CONSTRAINT uq_complaints_source_external_id "
            "UNIQUE (source, external_id)"
        )
    )
    for name, columns in INDEXES:
        conn.execute(text(f"CREATE INDEX {name} ON complaints {columns}"))
