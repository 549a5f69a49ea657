"""Alert titles in the page's language.

Rules write their titles in Chinese when they fire (notifications and the audit trail keep
them). The English pages say the same from the alert's fields: its key, count and expected
level. Chinese pages show the stored title.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.detect.findings import expected_text
from dashboard.i18n import Lang, channel_name
from domain.dimensions import KEY_NAMES_EN


def _key_en(key: Mapping[str, Any]) -> str:
    parts = []
    for dimension, value in key.items():
        shown = channel_name(str(value), "en") if dimension == "channel" else value
        parts.append(f"{KEY_NAMES_EN.get(dimension, dimension)} {shown or '—'}")
    return " · ".join(parts)


def alert_title(
    stored: str,
    rule_kind: str,
    key: Mapping[str, Any] | None,
    count: int,
    expected: float,
    lang: Lang,
) -> str:
    """``stored`` on Chinese pages; on English ones the alert's key, count and expected level."""
    if lang == "zh" or not isinstance(key, Mapping):
        return stored
    count, expected = int(count), float(expected or 0)
    if rule_kind == "source_silent":
        return f"Source {key.get('source', '')}: no data"
    if rule_kind == "copied_text":
        return f"Copied text: {count} similar complaints"
    if rule_kind == "threshold":
        return f"{_key_en(key)}: {count} complaints (threshold {expected:g})"
    return f"{_key_en(key)}: {count} complaints, expected {expected_text(expected)}"  # surge, event
