"""Customer keys are stretched (PBKDF2 over the keyed HMAC), and migration 0013 turns the
plain-HMAC keys of older databases into the same keys without any raw identifier."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import Engine, text

from collectors.pii import (
    KEY_STRETCH_ROUNDS,
    current_salt,
    customer_key,
    keyed_digest,
    normalise_identifier,
)
from collectors.runner import collect_once
from storage.db import make_session_factory
from storage.migrate import alembic_config
from tests.collectors.helpers import NOW, complaints
from tests.collectors.test_pii_and_repeats import ListSource

PHONES = ["13812345678", "１３９ ８７６５ ４３２１", "+86 137-0000-1111"]
BASE = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def record(i: str, phone: str, days: float, channel: str = "hotline") -> dict:
    at = (BASE + timedelta(days=days)).isoformat()
    return {"id": i, "received_at": at, "channel": channel, "product_code": "CAR-001",
            "customer_phone": phone}  # fmt: skip


def _migrate(engine: Engine, revision: str, down: bool = False) -> None:
    cfg = alembic_config(engine)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(cfg, revision)


def test_key_is_not_the_plain_hmac_and_costs_many_rounds():
    salt = "a-test-salt-of-sufficient-length"
    digest = keyed_digest(normalise_identifier("13812345678"), salt)
    key = customer_key("138 1234 5678", salt)
    assert key != digest and len(key) == 32
    assert key == hashlib.pbkdf2_hmac("sha256", digest.encode(), salt.encode(), 200, 16).hex()
    assert KEY_STRETCH_ROUNDS >= 200
    assert customer_key("138 1234 5678", "another-salt-of-enough-length") != key


def test_migration_turns_stored_hmac_keys_into_stretched_ones(engine):
    factory = make_session_factory(engine)
    old = [record(f"old-{n}", phone, n) for n, phone in enumerate(PHONES)]
    collect_once(factory, "s", "test", ListSource(old), NOW)
    salt = current_salt()
    with engine.begin() as conn:  # as a database written before the stretch holds them
        for n, phone in enumerate(PHONES):
            conn.execute(
                text("UPDATE complaints SET customer_key = :k WHERE external_id = :i"),
                {"k": keyed_digest(normalise_identifier(phone), salt), "i": f"old-{n}"},
            )
    _migrate(engine, "0010_sms_reply_codes", down=True)
    _migrate(engine, "head")

    keys = {c.external_id: c.customer_key for c in complaints(factory, "s")}
    assert keys == {f"old-{n}": customer_key(phone) for n, phone in enumerate(PHONES)}
    # and a complaint arriving after the upgrade is linked to the stored one
    collect_once(factory, "s", "test", ListSource([record("new-0", PHONES[0], 5, "web")]), NOW)
    flags = {c.external_id: (c.is_repeat, c.is_multichannel) for c in complaints(factory, "s")}
    assert flags["new-0"] == (True, True)
