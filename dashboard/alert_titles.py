"""Alert titles in the page's language.

Rules write their titles in Chinese when they fire (notifications and the audit trail keep
them). The English pages say the same from the alert's fields: its key, count and expected
level, and the details its rule stored in the evidence (the window, the share stage's parent
count and usual share, the CUSUM stage). Chinese pages show the stored title.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.detect.findings import expected_text
from dashboard.i18n import Lang
from dashboard.value_names import value_name
from domain.dimensions import KEY_NAMES_EN

# The evidence fields an English title reads; the alert lists carry only these.
TITLE_DETAILS = ("stage", "window_minutes", "share_of", "parent_count", "share", "products")


def title_details(evidence: Mapping[str, Any] | None) -> dict[str, Any]:
    """The part of an alert's evidence that its English title reads."""
    if not evidence:
        return {}
    return {k: evidence[k] for k in TITLE_DETAILS if k in evidence}


def window_en(minutes: int) -> str:
    """``findings.window_text`` in English: "30 minutes", "3 hours" (not "180 minutes")."""
    if minutes >= 60 and minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def _key_en(key: Mapping[str, Any], lower: bool = False) -> str:
    parts = []
    for dimension, value in key.items():
        name = KEY_NAMES_EN.get(dimension, dimension)
        shown = value_name(dimension, str(value), "en") if value else "—"
        parts.append(f"{name.lower() if lower else name} {shown}")
    return " · ".join(parts)


def _parent(key: Mapping[str, Any], details: Mapping) -> dict[str, Any]:
    """The share stage's parent key: the dimensions of ``key`` its rule's ``share_of`` names
    (empty for an alert stored before the details named them)."""
    dimensions = details.get("share_of")
    if not isinstance(dimensions, list):
        return {}
    return {d: key[d] for d in dimensions if d in key}


def _share_text(key: Mapping[str, Any], count: int, details: Mapping) -> str:
    """ ", 30% of product P1's 40 in the same window, usually about 10%"."""
    try:
        parent_count, share = int(details["parent_count"]), float(details["share"])
    except (KeyError, TypeError, ValueError):
        return ""
    parent = _parent(key, details)
    whose = f"{_key_en(parent, lower=True)}'s {parent_count}" if parent else f"{parent_count}"
    return (
        f", {count / max(parent_count, 1):.0%} of {whose} in the same window,"
        f" usually about {share:.0%}"
    )


def alert_title(
    stored: str,
    rule_kind: str,
    key: Mapping[str, Any] | None,
    count: int,
    expected: float,
    lang: Lang,
    details: Mapping[str, Any] | None = None,
) -> str:
    """``stored`` on Chinese pages; on English ones the alert's key, count, expected level and
    the ``details`` its rule stored (the evidence, or ``title_details`` of it)."""
    if lang == "zh" or not isinstance(key, Mapping):
        return stored
    count, expected = int(count), float(expected or 0)
    details = details if isinstance(details, Mapping) else {}
    minutes = details.get("window_minutes")
    span = window_en(int(minutes)) if isinstance(minutes, int | float) else ""
    window = f" in {span}" if span else ""
    if rule_kind == "source_silent":
        return f"Source {key.get('source', '')}: no data"
    if rule_kind == "copied_text":
        return f"Copied text: {count} similar complaints{window}"
    if rule_kind == "threshold":
        return f"{_key_en(key)}: {count} complaints{window} (threshold {expected:g})"
    if rule_kind == "event":
        products = details.get("products")
        across = f" across {products} product{'s' * (products != 1)}" if products else ""
        return (
            f"{_key_en(key)}: {count} complaints{window}{across}, "
            f"expected {expected_text(expected)}"
        )
    stage = details.get("stage")
    if stage == "share":
        share = _share_text(key, count, details)
        if share:
            return f"{_key_en(key)}: {count} complaints{window}{share}"
    if stage == "cusum":
        last = f" in the last {span}" if span else ""
        return (
            f"{_key_en(key)}: {count} complaints{last}, "
            f"expected {expected_text(expected)}, rising for days"
        )
    return f"{_key_en(key)}: {count} complaints{window}, expected {expected_text(expected)}"


def row_title(row: Any, lang: Lang) -> str:
    """``alert_title`` of one row of an alert list (``queries`` frames, by ``itertuples``)."""
    return alert_title(
        row.title,
        row.rule_kind,
        row.key,
        row.count,
        row.expected,
        lang,
        getattr(row, "details", None),
    )
