# ruff: noqa: B023  (event lambdas are called inside their own loop iteration)
"""A labelled complaint stream for the detection benchmark (not used by the product itself).

60+ days spanning Spring Festival: hour-of-day and weekday seasonality, public holidays and 调休
make-up workdays (chinesecalendar), a post-holiday rebound and pre-holiday lull (decoys that are
NOT events), over-dispersed daily variation per product (gamma-Poisson), sparse products, and
injected events of each kind with their complaint ids as labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import pandas as pd

from collectors.vocabulary import CATEGORIES, PRODUCT_LINES, PROVINCES

TZ = ZoneInfo("Asia/Shanghai")
CHANNELS = {"hotline": 0.42, "web": 0.18, "app": 0.18, "social": 0.1, "counter": 0.06,
            "regulator": 0.04, "media": 0.02}  # fmt: skip
HOUR_PROFILE = np.array(
    [0.15, 0.1, 0.08, 0.07, 0.08, 0.15, 0.35, 0.7, 1.3, 1.8, 1.9, 1.8,
     1.3, 1.4, 1.8, 1.8, 1.7, 1.5, 1.1, 0.9, 0.8, 0.7, 0.5, 0.3]
)  # fmt: skip
PHRASES = [
    "{p}理赔一直拖着不给处理，客服电话打了{n}次都没人回复",
    "购买{p}时业务员承诺的收益和合同不一致，要求退保退全款",
    "{p}续保时保费无故上涨{n}%，没有任何说明",
    "申请{p}退保被告知只能退现金价值，损失{n}千元",
    "{p}的客服态度很差，投诉后{n}天没有进展",
    "{p}理赔材料反复要求补充，已经提交了{n}次",
    "App上{p}的保单信息显示错误，无法查询",
    "{p}扣款{n}次但保单没有生效",
    "代理人离职后{p}保单无人服务，续期通知也没有收到",
    "{p}健康告知时业务员没有说明，现在拒赔",
]
FILLERS = ["希望尽快处理", "请给个说法", "非常失望", "要求赔偿损失", "", "", "已经向朋友反映",
           "再不处理就去监管投诉", "麻烦回电", "等了很久"]  # fmt: skip
COPIED = [
    "本人于{y}年购买{p}，销售人员存在误导销售行为，未告知犹豫期及退保损失，现要求全额退还已交保费，"
    "否则将向监管部门投诉",
    "我是{p}的投保人，保险公司在销售时夸大收益隐瞒风险，严重侵害消费者权益，特委托代理要求全额退保",
]


@dataclass
class Event:
    id: str
    kind: str
    start: datetime
    end: datetime
    complaint_ids: list[str] = field(default_factory=list)


@dataclass
class Stream:
    complaints: pd.DataFrame
    events: list[Event]
    products: int
    days: int


def day_factor(day: date, rng_day: float) -> tuple[float, str]:
    """Volume of a local day relative to a workday, and why (holidays are decoys, not events)."""
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    workday = chinese_calendar.is_workday(day)
    if on_holiday and name:
        return (0.3 if name == "Spring Festival" else 0.5), "holiday"
    if not workday:
        return 0.6, "weekend"
    # first two workdays after a long break: a backlog rebound (decoy)
    prev = [day - timedelta(days=i) for i in (1, 2, 3)]
    if any(chinese_calendar.get_holiday_detail(d)[1] for d in prev):
        return 1.5 * rng_day, "rebound"
    return 1.0, "workday"


def generate(
    seed: int,
    start: date = date(2026, 1, 16),
    days: int = 60,
    n_products: int = 240,
    per_day: float = 520.0,
    dispersion: float = 0.25,
) -> Stream:
    rng = np.random.default_rng(seed)
    lines = [PRODUCT_LINES[i % len(PRODUCT_LINES)] for i in range(n_products)]
    codes = [f"P{i:03d}" for i in range(n_products)]
    names = [
        f"{lines[i]}{['安心', '福佑', '金选', '优享', '尊享'][i % 5]}{i}号"
        for i in range(n_products)
    ]
    weights = 1.0 / np.arange(1, n_products + 1) ** rng.uniform(0.9, 1.2)
    weights[rng.permutation(n_products)[: n_products // 4]] *= 0.05  # a quarter are sparse
    weights /= weights.sum()
    regions = list(PROVINCES)
    region_p = np.array(list(PROVINCES.values()))
    region_p /= region_p.sum()
    chan = list(CHANNELS)
    chan_p = np.array(list(CHANNELS.values()))
    hour_p = HOUR_PROFILE / HOUR_PROFILE.sum()
    rows: list[dict] = []
    counter = [0]

    def row(at: datetime, p: int, region: str, channel: str, category: str, tag: str = "",
            text: str | None = None) -> str:  # fmt: skip
        counter[0] += 1
        cid = f"c{seed}-{counter[0]:06d}"
        if text is None:
            text = PHRASES[int(rng.integers(len(PHRASES)))].format(
                p=names[p], n=int(rng.integers(2, 30))
            )
            text += "，" + FILLERS[int(rng.integers(len(FILLERS)))]
        rows.append({"id": cid, "received_at": at.isoformat(timespec="seconds"), "channel": channel,
                     "product_code": codes[p], "product_name": names[p], "product_line": lines[p],
                     "region": region, "category": category, "event_tag": tag, "text": text})  # fmt: skip
        return cid

    def rand_time(day_start: datetime, hours: np.ndarray | None = None) -> datetime:
        h = int(rng.choice(24, p=hour_p if hours is None else hours))
        return day_start + timedelta(hours=h, seconds=int(rng.integers(3600)))

    # background
    for d in range(days):
        day = start + timedelta(days=d)
        factor, _ = day_factor(day, rng.uniform(0.9, 1.2))
        day_start = datetime(day.year, day.month, day.day, tzinfo=TZ)
        global_mult = rng.gamma(1 / 0.02, 0.02)
        mult = rng.gamma(1 / dispersion, dispersion, size=n_products)
        lam = per_day * factor * global_mult * weights * mult
        counts = rng.poisson(lam)
        for p in np.flatnonzero(counts):
            for _ in range(int(counts[p])):
                row(rand_time(day_start), int(p), regions[int(rng.choice(31, p=region_p))],
                    chan[int(rng.choice(len(chan), p=chan_p))],
                    CATEGORIES[int(rng.integers(len(CATEGORIES)))])  # fmt: skip
    # events, after a two-week warm-up, spread over the rest
    events: list[Event] = []
    kinds = ["product_surge"] * 8 + ["branch_missell"] * 4 + ["tagged"] * 4 + ["copied_text"] * 3
    kinds += ["slow_rise"] * 3 + ["social_viral"] * 3 + ["night_surge"] * 3
    rng.shuffle(kinds)
    slots = np.linspace(14, days - 4, len(kinds) + 1)[:-1]
    for k, (kind, slot) in enumerate(zip(kinds, slots, strict=True)):
        day = start + timedelta(days=float(slot) + rng.uniform(0, 0.8))
        t0 = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(
            hours=int(rng.integers(8, 18))
        )
        p = int(rng.choice(n_products, p=weights))
        ev = Event(f"e{seed}-{k}", kind, t0, t0)

        def burst(n: int, hours: float, make, ev=ev, t0=t0) -> None:
            for _ in range(n):
                at = t0 + timedelta(seconds=float(rng.uniform(0, hours * 3600)))
                ev.complaint_ids.append(make(at))
            ev.end = t0 + timedelta(hours=hours)

        def anywhere(ch: str | None = None) -> tuple[str, str]:
            return regions[int(rng.choice(31, p=region_p))], ch or chan[
                int(rng.choice(len(chan), p=chan_p))
            ]

        if kind == "product_surge":
            n = int(rng.choice([8, 12, 18, 30, 50]))
            burst(n, rng.uniform(1, 4), lambda at: row(at, p, *anywhere(), "理赔"))
        elif kind == "branch_missell":
            region = regions[int(rng.integers(31))]
            burst(int(rng.integers(7, 16)), rng.uniform(2, 8),
                  lambda at: row(at, p, region, anywhere()[1], "销售"))  # fmt: skip
        elif kind == "tagged":
            tag = f"事件{seed}-{k}"
            ps = rng.choice(n_products, size=int(rng.integers(4, 15)), p=weights)
            burst(int(rng.integers(12, 40)), rng.uniform(2, 6),
                  lambda at: row(at, int(rng.choice(ps)), *anywhere(), "理赔", tag))  # fmt: skip
        elif kind == "copied_text":
            template = COPIED[int(rng.integers(len(COPIED)))]
            ps = rng.choice(n_products, size=int(rng.integers(3, 10)), p=weights)

            def copied(at: datetime) -> str:
                q = int(rng.choice(ps))
                text = template.format(y=2019 + int(rng.integers(5)), p=names[q])
                return row(at, q, *anywhere(), "退保", text=text)

            burst(int(rng.integers(8, 25)), rng.uniform(3, 12), copied)
        elif kind == "slow_rise":
            p = int(rng.choice(n_products, size=1, p=weights)[0])
            while weights[p] * per_day < 2:
                p = int(rng.choice(n_products, p=weights))
            base = weights[p] * per_day
            span = int(rng.integers(3, 5))
            day0 = datetime(day.year, day.month, day.day, tzinfo=TZ)
            ev.start = day0
            for dd in range(span):
                extra = rng.poisson(base * (0.8 + 1.2 * dd))
                for _ in range(int(extra)):
                    ev.complaint_ids.append(
                        row(rand_time(day0 + timedelta(days=dd)), p, *anywhere(), "服务")
                    )
            ev.end = day0 + timedelta(days=span)
        elif kind == "social_viral":
            burst(int(rng.integers(10, 30)), rng.uniform(1, 3),
                  lambda at: row(at, p, *anywhere("social"), "产品"))  # fmt: skip
        elif kind == "night_surge":
            t0 = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(
                hours=int(rng.integers(0, 4))
            )
            ev.start = t0
            burst(
                int(rng.integers(6, 12)),
                rng.uniform(1, 2),
                lambda at: row(at, p, *anywhere(), "理赔"),
                t0=t0,
            )
        events.append(ev)
    frame = pd.DataFrame(rows)
    frame = frame.sort_values("received_at", kind="stable").reset_index(drop=True)
    return Stream(frame, events, n_products, days)
