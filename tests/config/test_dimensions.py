"""The dimensions are declared once (domain/dimensions.py); the lists pydantic needs as Literal
types must say the same."""

from __future__ import annotations

from typing import get_args

from config.base import Dimension
from config.sources import CountField, RecordField
from dashboard.report import DIMENSIONS as REPORT_DIMENSIONS
from domain.dimensions import DIMENSIONS, KEY_NAMES
from storage.models import ComplaintCount


def test_the_config_literal_is_the_domain_tuple():
    assert get_args(Dimension) == DIMENSIONS


def test_source_files_may_map_every_dimension_but_the_source():
    delivered = set(DIMENSIONS) - {"source"}
    assert delivered <= set(get_args(RecordField))
    assert delivered <= set(get_args(CountField))


def test_the_counts_table_is_keyed_by_the_dimensions_and_every_one_has_a_name():
    columns = [c.name for c in ComplaintCount.__table__.columns]
    assert columns[columns.index("bucket_start") + 1 :][: len(DIMENSIONS)] == list(DIMENSIONS)
    assert set(DIMENSIONS) <= set(KEY_NAMES)
    assert set(REPORT_DIMENSIONS) <= set(DIMENSIONS)
