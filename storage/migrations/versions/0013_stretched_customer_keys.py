"""complaints: customer keys stretched with PBKDF2 over the stored HMAC digest

Revision ID: 0013_stretched_customer_keys
Revises: 0012_branch_dimension
Create Date: 2026-12-03

A customer key was a plain HMAC of the identifier: with RADAR_PII_SALT, every mobile number's
key was found in about an hour on one core. Keys are now PBKDF2 over that HMAC digest
(``collectors.pii.stretch_key``), so stored keys are rewritten from the digests themselves: no
raw identifier is needed, and complaints stored before and after the upgrade stay linked.
The stretch is copied here, frozen, so that later changes to the application cannot change what
this migration did. It uses the RADAR_PII_SALT of the process that upgrades: run the upgrade
with the same environment as the worker.
"""

import hashlib
import logging
import os

import sqlalchemy as sa
from alembic import op

from config.secrets import DEMO_PII_SALT

revision = "0013_stretched_customer_keys"
down_revision = "0012_branch_dimension"
branch_labels = None
depends_on = None

ROUNDS = 200
BATCH = 5_000
log = logging.getLogger("alembic.runtime.migration")


def stretch(digest: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", digest.encode(), salt.encode(), ROUNDS, 16).hex()


def upgrade() -> None:
    connection = op.get_bind()
    salt = os.environ.get("RADAR_PII_SALT", DEMO_PII_SALT)
    keys = connection.execute(
        sa.text("SELECT DISTINCT customer_key FROM complaints WHERE customer_key != ''")
    ).scalars()
    update = sa.text("UPDATE complaints SET customer_key = :new WHERE customer_key = :old")
    done = 0
    batch: list[dict[str, str]] = []
    for old in list(keys):
        batch.append({"old": old, "new": stretch(old, salt)})
        if len(batch) == BATCH:
            connection.execute(update, batch)
            done += len(batch)
            batch = []
            log.info("stretched %d customer keys", done)
    if batch:
        connection.execute(update, batch)
        done += len(batch)
    log.info("stretched %d customer keys in all", done)


def downgrade() -> None:
    """Keys stay stretched: a stretch cannot be undone. After a downgrade, complaints stored
    before it are no longer linked to new ones by customer (repeat detection starts afresh)."""
    log.warning("customer keys stay stretched; older complaints are no longer linked")
