"""A dimension's values in the page's language.

Channels are codes (``dashboard.i18n.channel_name`` names them); complaint categories and
product lines are the Chinese labels of ``domain.vocabulary`` and read in English on English
pages. Products, regions, events and a value outside these tables (a category configured
later, a source's own label) are outside text and show as they are.
"""

from __future__ import annotations

from dashboard.i18n import Lang, channel_name

CATEGORY_EN = {
    "理赔": "Claims",
    "销售": "Sales",
    "退保": "Surrender",
    "保全": "Policy changes",
    "服务": "Service",
    "产品": "Product",
    "其他": "Other",
}

PRODUCT_LINE_EN = {
    "车险": "Motor",
    "意外险": "Accident",
    "健康险": "Health",
    "寿险": "Life",
    "旅行险": "Travel",
    "家财险": "Home",
    "责任险": "Liability",
}

_ENGLISH = {"category": CATEGORY_EN, "product_line": PRODUCT_LINE_EN}


def value_name(dimension: str, value: str, lang: Lang = "zh") -> str:
    """``value`` of ``dimension`` as the page shows it ("理赔" → "Claims" on English pages)."""
    if dimension == "channel":
        return channel_name(value, lang)
    if lang == "zh":
        return value
    return _ENGLISH.get(dimension, {}).get(value, value)
