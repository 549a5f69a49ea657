"""SqlReader: series binned by the database equal series binned in Python; shared text reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import delete

from alerts.detect.id_cursor import IdCursor
from alerts.detect.sql_reader import SqlReader
from storage.ingest import ingest_complaints
from storage.models import Complaint
from tests.alerts.test_detection_engine import Row

T0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)  # local midnight in Shanghai


def stored(session) -> list[Row]:
    rows = []
    for i in range(120):
        at = T0 + timedelta(minutes=37 * i + (i % 5))
        row = Row(f"c{i}", at, product=f"P{i % 4}", channel=("web", "hotline")[i % 2])
        row.text = f"文本 {i % 7}"
        rows.append(row)
    ingest_complaints(session, rows)
    session.commit()
    return rows


def as_dict(keys, matrix) -> dict:
    return {k: row.tolist() for k, row in zip(keys, matrix, strict=True)}


def test_series_binned_in_sql_equals_binned_in_python(session):
    stored(session)
    reader = SqlReader(session)
    for group_by, step, since in [
        (["product_code"], 1440, T0),
        ([], 60, T0 + timedelta(hours=3)),
        (["product_code", "channel"], 180, T0 - timedelta(days=1)),
    ]:
        until = T0 + timedelta(days=3)
        keys, matrix = reader.series(group_by, since, until, step)
        assert reader._bin_expression(since, step) is not None  # the SQL path was taken
        with pytest.MonkeyPatch.context() as patch:  # the Python path, as for other databases
            patch.setattr(reader, "_bin_expression", lambda *args: None)
            plain_keys, plain = reader.series(group_by, since, until, step)
        assert as_dict(keys, matrix) == as_dict(plain_keys, plain)
        assert matrix.sum() == plain.sum() > 0
        assert matrix.shape[1] == -(-(until - since) // timedelta(minutes=step))
    keys, matrix = reader.series(["product_code"], T0, T0 + timedelta(days=2), 1440)
    day_one = sum(1 for i in range(120) if 37 * i + (i % 5) < 1440)
    assert int(np.sum(matrix[:, 0])) == day_one


def test_a_narrower_text_read_is_served_from_the_wider_one(session):
    rows = stored(session)
    reader = SqlReader(session)
    wide, moved = reader.new_texts(IdCursor(), T0)
    assert sorted(r.external_id for r in wide) == sorted(r.external_id for r in rows)
    assert [r.id for r in wide] == sorted(r.id for r in wide)
    assert moved == IdCursor(high=wide[-1].id)
    since = T0 + timedelta(days=1)
    session.execute(delete(Complaint).where(Complaint.id == wide[-1].id))  # not read again
    narrow, narrow_moved = reader.new_texts(IdCursor(), since)
    assert narrow == [r for r in wide if r.received_at >= since] and 0 < len(narrow) < len(wide)
    assert narrow_moved == moved
    # a wider read than the first one, or another cursor, goes to the database
    assert wide[-1] not in reader.new_texts(IdCursor(), T0 - timedelta(days=1))[0]
    assert wide[-1] not in reader.new_texts(IdCursor(high=wide[10].id), since)[0]
