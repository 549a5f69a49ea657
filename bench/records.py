"""Raw complaint records as a source delivers them: local-time strings, Chinese labels, PII in text."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from domain.vocabulary import CATEGORIES, PRODUCT_LINES, PROVINCES

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHANNEL_LABELS = ["热线", "网页表单", "App", "微博", "监管转办", "柜面"]
TEMPLATES = [
    "{p}理赔申请提交已经{n}天了还没有结果，客服一直说在审核，请尽快处理。联系电话{phone}",
    "销售人员承诺{p}可以随时退保全额返还，现在退保只退了一部分，我的手机{phone}。",
    "{p}续保时保费上涨{n}%，没有任何通知，身份证号{idcard}，请给个说法。",
    "打了{n}次客服电话都没人接，{p}的保全变更一直办不下来，邮箱 zhang{n}@example.com",
]


def raw_records(n: int, seed: int = 7, end: datetime | None = None) -> list[dict[str, Any]]:
    """``n`` records over the 7 days before ``end``; about 2% re-deliver an earlier id."""
    rng = np.random.default_rng(seed)
    end = end or datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI)
    provinces = list(PROVINCES)
    offsets = np.sort(rng.integers(0, 7 * 24 * 3600, size=n))
    products = rng.integers(0, 2000, size=n)
    regions = rng.integers(0, len(provinces), size=n)
    channels = rng.integers(0, len(CHANNEL_LABELS), size=n)
    categories = rng.integers(0, len(CATEGORIES), size=n)
    templates = rng.integers(0, len(TEMPLATES), size=n)
    customers = rng.integers(0, max(n // 3, 1), size=n)
    repeats = rng.random(size=n) < 0.02
    start = end.replace(tzinfo=None) - timedelta(days=7)
    records = []
    for i in range(n):
        phone = f"13{customers[i] % 10}{customers[i]:08d}"[:11]
        product = int(products[i])
        ident = i - 1 if repeats[i] and i else i
        records.append(
            {
                "id": f"T{ident:09d}",
                "received_at": (start + timedelta(seconds=int(offsets[i]))).strftime(
                    "%Y-%m-%d %H:%M:%S"
                ),
                "channel": CHANNEL_LABELS[channels[i]],
                "product_code": f"P{product:05d}",
                "product_name": f"产品{product}号",
                "product_line": PRODUCT_LINES[product % len(PRODUCT_LINES)],
                "region": provinces[regions[i]] + "省",
                "category": CATEGORIES[categories[i]],
                "text": TEMPLATES[templates[i]].format(
                    p=f"产品{product}号",
                    n=int(i % 90) + 1,
                    phone=phone,
                    idcard=f"1101011990{int(customers[i]) % 10000:04d}123X",
                ),
                "customer_phone": phone,
            }
        )
    return records
