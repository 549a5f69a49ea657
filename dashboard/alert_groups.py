"""One line on the wall per situation: a product's surge and the surges of its categories,
regions or channels are one product in trouble, not three alerts to read.

Pure: the alert console still lists every alert; notifications group by their own rules.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd


def _product(key: Any) -> str | None:
    code = key.get("product_code") if isinstance(key, dict) else None
    return str(code) if code else None


def fold_related(alerts: pd.DataFrame) -> pd.DataFrame:
    """The first alert of each situation, in the given order, with ``related``: how many more.

    Alerts keyed by one product are one situation, and so is an alert with the alerts linked
    to it (``parent_alert_id``: the products inside an event wave), transitively.
    """
    if alerts.empty:
        return alerts.assign(related=pd.Series(dtype=int))
    ids = [int(i) for i in alerts["id"]]
    root = {i: i for i in ids}

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    def join(a: int, b: int) -> None:
        root[find(b)] = find(a)

    by_product: dict[str, int] = {}
    for alert_id, key, parent in zip(ids, alerts["key"], alerts["parent_alert_id"], strict=True):
        product = _product(key)
        if product is not None:
            join(by_product.setdefault(product, alert_id), alert_id)
        if pd.notna(parent) and int(parent) in root:
            join(int(parent), alert_id)
    groups = [find(i) for i in ids]
    sizes = Counter(groups)
    seen: set[int] = set()
    first: list[bool] = []
    for group in groups:
        first.append(group not in seen)
        seen.add(group)
    heads = [g for g, is_first in zip(groups, first, strict=True) if is_first]
    return alerts[first].assign(related=[sizes[g] - 1 for g in heads])
