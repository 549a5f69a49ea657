"""The dimensions complaints are counted by, declared once: every other list derives from here.

``DIMENSIONS`` is the key of ``complaint_counts`` besides ``bucket_start``, in its column order.
``KEY_NAMES`` names them (and the other keys an alert may carry) in Chinese and English.
"""

from __future__ import annotations

DIMENSIONS = (
    "source",
    "channel",
    "product_code",
    "product_line",
    "region",
    "category",
    "event_tag",
    "branch",
)
# Dimensions that are not a complaint's own attribute: where it came from and who handles it.
# Dashboard breakdowns and the why panel's baseline use the others.
ORIGIN_DIMENSIONS = ("source", "branch")
ATTRIBUTE_DIMENSIONS = tuple(d for d in DIMENSIONS if d not in ORIGIN_DIMENSIONS)

# (Chinese, English) for each alert key: the dimensions, then keys of text rules.
KEY_NAMES = {
    "source": ("来源", "Source"),
    "channel": ("渠道", "Channel"),
    "product_code": ("产品", "Product"),
    "product_line": ("险种", "Line"),
    "region": ("地区", "Region"),
    "category": ("类别", "Category"),
    "event_tag": ("事件", "Event"),
    "branch": ("分支机构", "Branch"),
    "product_name": ("产品", "Product"),
    "keyword": ("关键词", "Keyword"),
    "cluster": ("文本簇", "Text cluster"),
}
KEY_NAMES_ZH = {key: zh for key, (zh, _en) in KEY_NAMES.items()}
KEY_NAMES_EN = {key: en for key, (_zh, en) in KEY_NAMES.items()}
