"""Alert titles in the page's language.

Rules write their titles in Chinese when they fire (notifications and the audit trail keep
them). The English pages say the same from the alert's fields: its key, count and expected
level, and the details its rule stored in the evidence (the window, the share stage's parent
count and usual share, the CUSUM stage). Chinese pages show the stored title.

Both name a product as notifications do (``alerts.notify.message.where_of``): by its name
beside its code, "产品 安心交强险（CAR-001）", the name read from its complaints. Product names
are outside text: whoever renders a title keeps it inert (``plain``, ``md_text``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alerts.detect.findings import expected_text
from alerts.detect.rules.threshold import describe_key
from dashboard.i18n import Lang
from dashboard.value_names import value_name
from domain.dimensions import KEY_NAMES_EN, KEY_NAMES_ZH

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


def _named(dimension: str, value: Any, product_name: str) -> bool:
    """Whether this part of a key is a product code said with its name (not when the name is
    unknown or is the code itself)."""
    return dimension == "product_code" and bool(product_name) and product_name != value


def key_zh(key: Mapping[str, Any], product_name: str = "") -> str:
    """``describe_key`` with the product's name beside its code: 产品 安心交强险（CAR-001）."""
    return " · ".join(
        f"{KEY_NAMES_ZH[dimension]} {product_name}（{value}）"
        if _named(dimension, value, product_name)
        else describe_key({dimension: value})
        for dimension, value in key.items()
    )


def _key_en(key: Mapping[str, Any], lower: bool = False, product_name: str = "") -> str:
    parts = []
    for dimension, value in key.items():
        name = KEY_NAMES_EN.get(dimension, dimension)
        if _named(dimension, value, product_name):
            shown = f"{product_name} ({value})"
        else:
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


def _share_text(key: Mapping[str, Any], count: int, details: Mapping, product_name: str) -> str:
    """ ", 30% of product P1's 40 in the same window, usually about 10%"."""
    try:
        parent_count, share = int(details["parent_count"]), float(details["share"])
    except (KeyError, TypeError, ValueError):
        return ""
    parent = _parent(key, details)
    named = _key_en(parent, lower=True, product_name=product_name)
    whose = f"{named}'s {parent_count}" if parent else f"{parent_count}"
    return (
        f", {count / max(parent_count, 1):.0%} of {whose} in the same window,"
        f" usually about {share:.0%}"
    )


def _stored_zh(
    stored: str, key: Mapping[str, Any], details: Mapping[str, Any], product_name: str
) -> str:
    """The stored title with the product named where it says the key: its leading
    ``describe_key(key)``, whose parts may come in another order (PostgreSQL's JSONB gives a
    key back sorted), and a share title's "占<parent>同期". Another title is left as it is."""
    code = key.get("product_code")
    if not _named("product_code", code, product_name):
        return stored
    plain_key = describe_key(key)
    head, rest = stored[: len(plain_key)], stored[len(plain_key) :]
    parts, said = head.split(" · "), [describe_key({d: v}) for d, v in key.items()]
    if not rest.startswith("：") or sorted(parts) != sorted(said):
        return stored
    product = {"product_code": str(code)}
    plain_product, named_product = describe_key(product), key_zh(product, product_name)
    parent = _parent(key, details)
    if parent:
        whose = f"占{key_zh(parent, product_name)}同期"
        rest = rest.replace(f"占{describe_key(parent)}同期", whose, 1)
    return " · ".join(named_product if p == plain_product else p for p in parts) + rest


def alert_title(
    stored: str,
    rule_kind: str,
    key: Mapping[str, Any] | None,
    count: int,
    expected: float,
    lang: Lang,
    details: Mapping[str, Any] | None = None,
    product_name: str = "",
) -> str:
    """``stored`` on Chinese pages; on English ones the alert's key, count, expected level and
    the ``details`` its rule stored (the evidence, or ``title_details`` of it). Either names
    the key's product by ``product_name`` beside its code when it is known."""
    if not isinstance(key, Mapping):
        return stored
    details = details if isinstance(details, Mapping) else {}
    if lang == "zh":
        return _stored_zh(stored, key, details, product_name)
    count, expected = int(count), float(expected or 0)
    minutes = details.get("window_minutes")
    span = window_en(int(minutes)) if isinstance(minutes, int | float) else ""
    window = f" in {span}" if span else ""
    where = _key_en(key, product_name=product_name)
    if rule_kind == "source_silent":
        return f"Source {key.get('source', '')}: no data"
    if rule_kind == "copied_text":
        return f"Copied text: {count} similar complaints{window}"
    if rule_kind == "threshold":
        return f"{where}: {count} complaints{window} (threshold {expected:g})"
    if rule_kind == "event":
        products = details.get("products")
        across = f" across {products} product{'s' * (products != 1)}" if products else ""
        return f"{where}: {count} complaints{window}{across}, expected {expected_text(expected)}"
    stage = details.get("stage")
    if stage == "share":
        share = _share_text(key, count, details, product_name)
        if share:
            return f"{where}: {count} complaints{window}{share}"
    if stage == "cusum":
        last = f" in the last {span}" if span else ""
        return (
            f"{where}: {count} complaints{last}, "
            f"expected {expected_text(expected)}, rising for days"
        )
    return f"{where}: {count} complaints{window}, expected {expected_text(expected)}"


def row_title(row: Any, lang: Lang) -> str:
    """``alert_title`` of one row of an alert list (``queries`` frames, by ``itertuples``), its
    product named by the row's ``product_name``."""
    return alert_title(
        row.title,
        row.rule_kind,
        row.key,
        row.count,
        row.expected,
        lang,
        getattr(row, "details", None),
        _text(getattr(row, "product_name", "")),
    )


def _text(value: Any) -> str:
    """A frame's text cell, or "" (a list without the column, a missing value)."""
    return value if isinstance(value, str) else ""
