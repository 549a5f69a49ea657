# ruff: noqa: B023  (event lambdas are called inside their own loop iteration)
"""A labelled complaint stream for the detection benchmark (not used by the product itself).

60+ days spanning Spring Festival: hour-of-day and weekday seasonality, public holidays and 调休
make-up workdays (chinesecalendar), a post-holiday rebound and pre-holiday lull (decoys that are
NOT events), over-dispersed daily variation per product (gamma-Poisson), sparse products, and
injected events of each kind with their complaint ids as labels.

``Variety`` (optional; without it the stream is exactly the original one) varies the assumptions:
heavier-tailed day multipliers (lognormal or low-shape gamma), unlabelled self-exciting bursts on
some channels, several hour-of-day profiles, very busy and very sparse products, sources stamped
to the hour or to the date, and the event kinds of issue 18 (``NEW_KINDS``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np
import pandas as pd

from domain.vocabulary import CATEGORIES, PRODUCT_LINES, PROVINCES

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


# hour-of-day profiles a product can follow (relative volume per local hour)
HOUR_PROFILES = {
    "office": HOUR_PROFILE,
    "flat": np.r_[np.full(7, 0.6), np.full(15, 1.0), np.full(2, 0.8)],
    "evening": np.array(
        [0.5, 0.3, 0.15, 0.1, 0.1, 0.15, 0.3, 0.6, 0.9, 1.0, 1.0, 1.0,
         1.1, 1.0, 1.0, 1.0, 1.0, 1.1, 1.3, 1.7, 2.1, 2.2, 1.8, 1.0]
    ),
    "lunch": np.array(
        [0.1, 0.05, 0.05, 0.05, 0.05, 0.1, 0.3, 0.8, 1.6, 1.7, 1.4, 2.2,
         2.6, 1.6, 1.3, 1.4, 1.5, 1.2, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2]
    ),
}  # fmt: skip

ORIGINAL_KINDS = {"product_surge": 8, "branch_missell": 4, "tagged": 4, "copied_text": 3,
                  "slow_rise": 3, "social_viral": 3, "night_surge": 3}  # fmt: skip
# the classes issue 18 says the product missed or caught late
NEW_KINDS = {"busy_hours": 3, "moderate_surge": 3, "small_burst": 3, "tagged_spread": 2,
             "branch_spread": 2, "slow_rise_6d": 2}  # fmt: skip


@dataclass(frozen=True)
class Variety:
    """Generator settings beyond volume and dispersion (None of them: the original stream)."""

    day_tail: str = "gamma"  # per-product day multiplier: "gamma" or "lognormal"
    tail_sigma: float = 0.5  # lognormal sigma (mean kept at 1)
    persistence: float = 0.0  # lognormal: day-to-day correlation of a product's log level (AR 1)
    burst_channels: tuple[str, ...] = ()  # channels with unlabelled self-exciting bursts
    burst_branching: float = 0.0  # mean children of each complaint there (< 1)
    burst_minutes: float = 20.0  # mean delay of a child after its parent
    hour_profiles: tuple[str, ...] = ("office",)  # each product follows one, at random
    busy_products: int = 0  # this many products get busy_factor × their volume
    busy_factor: float = 4.0
    very_sparse_share: float = 0.0  # this share of products get 0.02 × their volume
    hour_stamped_share: float = 0.0  # products whose times are cut to the hour
    date_stamped_channels: tuple[str, ...] = ()  # channels that give only the date
    kinds: tuple[tuple[str, int], ...] = tuple(ORIGINAL_KINDS.items())


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
    variety: Variety | None = None,
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
    if variety is not None and variety.busy_products:
        weights[rng.permutation(n_products)[: variety.busy_products]] *= variety.busy_factor
    if variety is not None and variety.very_sparse_share:
        weights[rng.permutation(n_products)[: int(n_products * variety.very_sparse_share)]] *= 0.02
    weights /= weights.sum()
    regions = list(PROVINCES)
    region_p = np.array(list(PROVINCES.values()))
    region_p /= region_p.sum()
    chan = list(CHANNELS)
    chan_p = np.array(list(CHANNELS.values()))
    hour_p = HOUR_PROFILE / HOUR_PROFILE.sum()
    product_hours: list[np.ndarray | None] = [None] * n_products
    if variety is not None and variety.hour_profiles != ("office",):
        for i in range(n_products):
            profile = HOUR_PROFILES[
                variety.hour_profiles[int(rng.integers(len(variety.hour_profiles)))]
            ]
            product_hours[i] = profile / profile.sum()
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

    def cascade(at: datetime, p: int, channel: str) -> None:
        """Unlabelled self-exciting children of one complaint (a thread that spreads a while)."""
        assert variety is not None
        pending = [at]
        while pending:
            parent = pending.pop()
            for _ in range(int(rng.poisson(variety.burst_branching))):
                child = parent + timedelta(minutes=float(rng.exponential(variety.burst_minutes)))
                row(child, p, regions[int(rng.choice(31, p=region_p))], channel,
                    CATEGORIES[int(rng.integers(len(CATEGORIES)))])  # fmt: skip
                pending.append(child)

    # background
    level = np.zeros(n_products)  # lognormal day levels (standard normal, AR 1 across days)
    for d in range(days):
        day = start + timedelta(days=d)
        factor, _ = day_factor(day, rng.uniform(0.9, 1.2))
        day_start = datetime(day.year, day.month, day.day, tzinfo=TZ)
        global_mult = rng.gamma(1 / 0.02, 0.02)
        if variety is not None and variety.day_tail == "lognormal":
            sigma, rho = variety.tail_sigma, variety.persistence
            shock = rng.normal(0.0, 1.0, size=n_products)
            level = shock if d == 0 else rho * level + np.sqrt(1 - rho * rho) * shock
            mult = np.exp(sigma * level - sigma * sigma / 2)
        else:
            mult = rng.gamma(1 / dispersion, dispersion, size=n_products)
        lam = per_day * factor * global_mult * weights * mult
        counts = rng.poisson(lam)
        for p in np.flatnonzero(counts):
            for _ in range(int(counts[p])):
                at = rand_time(day_start, product_hours[p])
                region = regions[int(rng.choice(31, p=region_p))]
                channel = chan[int(rng.choice(len(chan), p=chan_p))]
                row(at, int(p), region, channel, CATEGORIES[int(rng.integers(len(CATEGORIES)))])
                if variety is not None and channel in variety.burst_channels:
                    cascade(at, int(p), channel)
    # events, after a two-week warm-up, spread over the rest
    events: list[Event] = []
    mix = dict(variety.kinds) if variety is not None else ORIGINAL_KINDS
    kinds = [kind for kind, n in mix.items() for _ in range(n)]
    rng.shuffle(kinds)
    base_rate = weights * per_day  # a product's complaints on an ordinary workday

    def product_near(low: float, high: float) -> int:
        """A product whose usual daily volume is in [low, high] (else the nearest one)."""
        fits = np.flatnonzero((base_rate >= low) & (base_rate <= high))
        if len(fits):
            return int(rng.choice(fits))
        return int(np.argmin(np.minimum(abs(base_rate - low), abs(base_rate - high))))

    def working_time(t0: datetime, hours: float) -> datetime:
        """A moment in [t0, t0 + hours], more likely in busy hours (office profile)."""
        while True:
            at = t0 + timedelta(seconds=float(rng.uniform(0, hours * 3600)))
            if rng.uniform() < HOUR_PROFILE[at.hour] / HOUR_PROFILE.max():
                return at

    def spread(ev: Event, n: int, hours: float, make) -> None:
        for _ in range(n):
            ev.complaint_ids.append(make(working_time(ev.start, hours)))
        ev.end = ev.start + timedelta(hours=hours)

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
        elif kind == "busy_hours":  # ~30 extra in ~6 working hours on a 20+/day product
            q = product_near(20, 60)
            ev.start = ev.end = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(
                hours=int(rng.integers(9, 12)))  # fmt: skip
            burst(int(rng.integers(26, 35)), rng.uniform(5, 7),
                  lambda at: row(at, q, *anywhere(), "理赔"), t0=ev.start)  # fmt: skip
        elif kind == "moderate_surge":  # ~4x over 1-2 days on a 3-8/day product
            q = product_near(3, 8)
            hours = float(rng.uniform(24, 48))
            spread(ev, int(rng.poisson(3 * base_rate[q] * hours / 24)), hours,
                   lambda at: row(at, q, *anywhere(), "理赔"))  # fmt: skip
        elif kind == "small_burst":  # ~10 in ~5 hours on a ~5/day product
            q = product_near(3.5, 7)
            burst(int(rng.integers(9, 12)), rng.uniform(4, 6),
                  lambda at: row(at, q, *anywhere(), "服务"))  # fmt: skip
        elif kind == "tagged_spread":  # 30-40 tagged over 1-2 days on one product line
            tag = f"事件{seed}-{k}"
            line = lines[p]
            same_line = [i for i in range(n_products) if lines[i] == line]
            ps = rng.choice(same_line, size=min(len(same_line), int(rng.integers(3, 8))),
                            replace=False)  # fmt: skip
            spread(ev, int(rng.integers(30, 41)), float(rng.uniform(24, 48)),
                   lambda at: row(at, int(rng.choice(ps)), *anywhere(), "理赔", tag))  # fmt: skip
        elif kind == "branch_spread":  # ~12 mis-selling over two days, one product and province
            region = regions[int(rng.integers(31))]
            spread(ev, int(rng.integers(10, 15)), float(rng.uniform(40, 50)),
                   lambda at: row(at, p, region, anywhere()[1], "销售"))  # fmt: skip
        elif kind == "slow_rise_6d":  # ~40 extra over six days, rising
            q = product_near(3, 15)
            day0 = datetime(day.year, day.month, day.day, tzinfo=TZ)
            ev.start = day0
            shares = np.arange(1, 7) / 21
            for dd, share in enumerate(shares):
                for _ in range(int(rng.poisson(40 * share))):
                    at = rand_time(day0 + timedelta(days=dd))
                    ev.complaint_ids.append(row(at, q, *anywhere(), "服务"))
            ev.end = day0 + timedelta(days=6)
        events.append(ev)
    frame = pd.DataFrame(rows)
    if variety is not None:
        frame = stamp(frame, variety, rng, codes)
    frame = frame.sort_values("received_at", kind="stable").reset_index(drop=True)
    return Stream(frame, events, n_products, days)


def stamp(frame: pd.DataFrame, variety: Variety, rng: np.random.Generator,
          codes: list[str]) -> pd.DataFrame:  # fmt: skip
    """Cut times to the hour for some products and to the local date for some channels."""
    moments = pd.to_datetime(frame["received_at"], format="ISO8601")
    hourly = rng.permutation(codes)[: int(len(codes) * variety.hour_stamped_share)]
    to_hour = frame["product_code"].isin(hourly)
    to_date = frame["channel"].isin(variety.date_stamped_channels)
    moments = moments.where(~to_hour, moments.dt.floor("h"))
    moments = moments.where(~to_date, moments.dt.floor("D"))
    frame["received_at"] = [m.isoformat() for m in moments]
    return frame
