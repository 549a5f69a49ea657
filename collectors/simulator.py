"""A realistic demo source: Chinese insurance complaints with daily rhythms and injected group events.

Everything is derived from (seed, minute), so regenerating a window after a crash yields the
same records with the same ids: the store's idempotency then makes re-reads harmless.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import chinese_calendar
import numpy as np

from collectors.base import Batch
from config.models import SimulatorSource
from domain.vocabulary import PROVINCES

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_MINUTES_PER_FETCH = 24 * 60
# Returning customers: a share of the background and most of a campaign's complainants come from
# a small pool per product, so repeat and multi-channel complaints appear as they do for real.
RETURNING = 0.08
CAMPAIGN_RETURNING = 0.7
CUSTOMER_POOL = 40

# Relative complaint volume by hour of day (Asia/Shanghai): quiet nights, peaks mid-morning and afternoon.
HOUR_PROFILE = np.array(
    [0.15, 0.1, 0.08, 0.06, 0.06, 0.1, 0.25, 0.6, 1.2, 1.7, 1.9, 1.8,
     1.3, 1.5, 1.8, 1.9, 1.7, 1.4, 1.1, 1.0, 0.9, 0.7, 0.45, 0.25]
)  # fmt: skip
HOUR_PROFILE = HOUR_PROFILE / HOUR_PROFILE.mean()
WEEKDAY_FACTOR = (1.15, 1.08, 1.05, 1.03, 1.0, 0.75, 0.68)  # Monday first
HOLIDAY_FACTOR = 0.55
SPRING_FESTIVAL_FACTOR = 0.35

CHANNEL_WEIGHTS = {
    "hotline": 0.5,
    "web": 0.17,
    "app": 0.12,
    "social": 0.15,
    "regulator": 0.03,
    "counter": 0.03,
}

# Product types per line; crossed with series names to give about 200 products.
PRODUCT_TYPES: dict[str, tuple[str, list[str]]] = {
    "车险": ("CAR", ["交强险", "商业车险", "车损险", "第三者责任险", "新能源车险", "驾乘意外险"]),
    "意外险": ("ACC", ["综合意外险", "交通意外险", "老年意外险", "学平险", "建工意外险"]),
    "健康险": ("HLT", ["百万医疗险", "重疾险", "防癌险", "门诊险", "惠民保", "中端医疗险"]),
    "寿险": ("LIF", ["增额终身寿险", "定期寿险", "两全保险", "年金险", "分红险"]),
    "旅行险": ("TRV", ["航班延误险", "境外旅行险", "国内旅行险", "退票险"]),
    "家财险": ("HOM", ["家庭财产险", "房屋综合险", "台风暴雨险"]),
    "责任险": ("LIA", ["雇主责任险", "公众责任险", "产品责任险", "宠物责任险"]),
}
SERIES = ["安心", "尊享", "畅行", "如意", "福满", "守护", "金选", "优享", "臻爱"]
LINE_WEIGHTS = {
    "车险": 0.34,
    "健康险": 0.24,
    "寿险": 0.14,
    "意外险": 0.1,
    "旅行险": 0.07,
    "家财险": 0.05,
    "责任险": 0.06,
}

CATEGORY_BY_LINE = {
    "车险": {"理赔": 0.55, "服务": 0.2, "销售": 0.1, "保全": 0.05, "产品": 0.05, "其他": 0.05},
    "健康险": {"理赔": 0.5, "销售": 0.15, "产品": 0.12, "服务": 0.13, "退保": 0.05, "其他": 0.05},
    "寿险": {"退保": 0.35, "销售": 0.3, "保全": 0.15, "服务": 0.12, "其他": 0.08},
    "意外险": {"理赔": 0.55, "销售": 0.15, "服务": 0.15, "产品": 0.1, "其他": 0.05},
    "旅行险": {"理赔": 0.6, "服务": 0.2, "产品": 0.12, "其他": 0.08},
    "家财险": {"理赔": 0.6, "服务": 0.2, "销售": 0.1, "其他": 0.1},
    "责任险": {"理赔": 0.55, "服务": 0.2, "销售": 0.15, "其他": 0.1},
}

TEXTS = {
    "理赔": [
        "{p}理赔申请提交已经{n}天了还没有结果，客服一直说在审核，请尽快处理。",
        "出险后报案，{p}理赔金额远低于定损，对结果不认可，要求重新核定。",
        "{p}理赔被拒，理由是既往症，但投保时业务员没有问过，联系电话{phone}。",
        "材料都交齐了，{p}理赔拖延，每次打电话都让补材料。",
    ],
    "销售": [
        "业务员推销{p}时承诺随时可以退，现在说要扣手续费，存在误导销售。",
        "购买{p}时没有告知免责条款，销售人员夸大收益，要求全额退保。",
        "被电话推销{p}，没有同意就扣费了，请核实，本人手机{phone}。",
    ],
    "退保": [
        "申请退保{p}，只退了现金价值，损失很大，要求全额退还保费。",
        "{p}退保手续太复杂，跑了{n}次柜面还没办完。",
    ],
    "保全": [
        "{p}变更受益人申请提交后{n}天未处理。",
        "{p}银行卡变更一直失败，扣款失败导致保单失效。",
    ],
    "服务": [
        "拨打客服热线等了{n}分钟无人接听，{p}的问题一直没人解决。",
        "{p}查勘员态度恶劣，迟到{n}小时。",
    ],
    "产品": [
        "{p}续保时保费上涨太多，没有任何说明。",
        "{p}条款看不懂，等待期的规定不合理。",
    ],
    "其他": ["对{p}的短信通知太频繁，要求停止发送。", "{p}的电子保单下载不了。"],
}

# The demo's live event (the first after start-up) is a sharp group complaint: several
# complainants a minute from its first minute, as when a claim decision or a sales campaign hits
# many policyholders at once. Its product's surge rules cross within the minutes README promises
# (tests/alerts/test_demo_first_alert.py); later events are the slower kind detection must also see.
FIRST_EVENT_RATE = (4.0, 6.0)  # complaints a minute, drawn uniformly
EVENT_KINDS = ("product_surge", "branch_missell", "flight_delay", "copied_text")
COPIED_TEXT = "本人于{y}年经代理人推荐购买{p}，代理人承诺可全额退保，现要求全额退还所交保费，否则将向监管部门投诉。"


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    line: str


@dataclass(frozen=True)
class InjectedEvent:
    """A group event the simulator mixes into its stream, for demos and tests."""

    index: int
    kind: str
    start: datetime
    minutes: int
    per_minute: float
    product: Product
    region: str


@lru_cache(maxsize=1)
def product_catalogue() -> tuple[Product, ...]:
    products = []
    for line, (prefix, types) in PRODUCT_TYPES.items():
        number = 0
        for type_name in types:
            for series in SERIES[: 5 + len(type_name) % 4]:
                number += 1
                products.append(Product(f"{prefix}-{number:03d}", f"{series}{type_name}", line))
    return tuple(products)


@lru_cache(maxsize=1)
def _product_weights() -> np.ndarray:
    """Zipf-like popularity inside each line, scaled by the line's share of complaints."""
    products = product_catalogue()
    weights = np.zeros(len(products))
    for line, share in LINE_WEIGHTS.items():
        idx = [i for i, p in enumerate(products) if p.line == line]
        local = 1.0 / np.arange(1, len(idx) + 1) ** 1.1
        weights[idx] = share * local / local.sum()
    return weights / weights.sum()


_REGIONS = list(PROVINCES)
_REGION_P = np.array(list(PROVINCES.values())) / sum(PROVINCES.values())
_CHANNELS = list(CHANNEL_WEIGHTS)
_CHANNEL_P = np.array(list(CHANNEL_WEIGHTS.values())) / sum(CHANNEL_WEIGHTS.values())


def day_factor(day: date) -> float:
    """Weekday rhythm, lower on holidays and lowest over Spring Festival; 调休 workdays count as workdays."""
    try:
        on_holiday, holiday_name = chinese_calendar.get_holiday_detail(day)
        workday = chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the library does not cover yet
        return WEEKDAY_FACTOR[day.weekday()]
    if on_holiday and holiday_name == chinese_calendar.Holiday.spring_festival.value:
        return SPRING_FESTIVAL_FACTOR
    if on_holiday and holiday_name:
        return HOLIDAY_FACTOR
    if workday and day.weekday() >= 5:
        return WEEKDAY_FACTOR[0]
    return WEEKDAY_FACTOR[day.weekday()]


def rate_per_minute(config: SimulatorSource, moment: datetime) -> float:
    local = moment.astimezone(SHANGHAI)
    base = config.rate_per_day / 1440.0
    return base * HOUR_PROFILE[local.hour] * day_factor(local.date())


class SimulatorCollector:
    """Generates the minutes between its cursor and now; the first run also backfills history."""

    def __init__(self, config: SimulatorSource):
        self.config = config
        self.products = product_catalogue()

    def fetch(self, cursor: str, now: datetime) -> Batch:
        now_minute = now.astimezone(UTC).replace(second=0, microsecond=0)
        if cursor:
            state = json.loads(cursor)
            anchor = datetime.fromisoformat(state["anchor"])
            since = datetime.fromisoformat(state["until"])
        else:
            anchor = now_minute
            since = now_minute - timedelta(hours=self.config.backfill_hours)
        until = min(now_minute, since + timedelta(minutes=MAX_MINUTES_PER_FETCH))
        records: list[dict[str, Any]] = []
        events = self.events_between(anchor, since, until)
        minute = since
        while minute < until:
            records.extend(self._background(minute))
            for event in events:
                records.extend(self._event_records(event, minute))
            minute += timedelta(minutes=1)
        new_cursor = json.dumps({"anchor": anchor.isoformat(), "until": until.isoformat()})
        return Batch(records=records, cursor=new_cursor, has_more=until < now_minute)

    def events_between(
        self, anchor: datetime, since: datetime, until: datetime
    ) -> list[InjectedEvent]:
        """Injected events overlapping [since, until); slot k starts near anchor + first + k*every."""
        every = self.config.event_every_minutes
        first = anchor + timedelta(minutes=self.config.first_event_after_minutes)
        k_min = math.floor((since - first).total_seconds() / 60 / every) - 3
        k_max = math.ceil((until - first).total_seconds() / 60 / every) + 1
        events = []
        for k in range(k_min, k_max + 1):
            event = self._event(k, first + timedelta(minutes=k * every))
            end = event.start + timedelta(minutes=event.minutes) if event else since
            if event and event.start < until and end > since:
                events.append(event)
        return events

    def _event(self, k: int, slot_start: datetime) -> InjectedEvent | None:
        rng = np.random.default_rng([self.config.seed, 1_000_003, k + 10_000_000])
        # The first event always happens, for the demo; history before the anchor is calmer.
        chance = 1.0 if k == 0 else (0.7 if k > 0 else 0.15)
        if rng.random() >= chance:
            return None
        kind = EVENT_KINDS[int(rng.integers(len(EVENT_KINDS)))]
        if kind == "flight_delay":
            candidates = [p for p in self.products if p.line == "旅行险"]
        else:
            candidates = list(self.products)
        product = candidates[int(rng.integers(len(candidates)))]
        offset = 0 if k == 0 else int(rng.integers(0, self.config.event_every_minutes // 3 + 1))
        return InjectedEvent(
            index=k,
            kind=kind,
            start=slot_start + timedelta(minutes=offset),
            minutes=int(rng.integers(20, 50)),
            per_minute=float(rng.uniform(*FIRST_EVENT_RATE) if k == 0 else rng.uniform(0.8, 1.6)),
            product=product,
            region=_REGIONS[int(rng.choice(len(_REGIONS), p=_REGION_P))],
        )

    def _background(self, minute: datetime) -> list[dict[str, Any]]:
        index = int(minute.timestamp() // 60)
        rng = np.random.default_rng([self.config.seed, index])
        n = int(rng.poisson(rate_per_minute(self.config, minute)))
        if n == 0:
            return []
        product_idx = rng.choice(len(self.products), size=n, p=_product_weights())
        region_idx = rng.choice(len(_REGIONS), size=n, p=_REGION_P)
        channel_idx = rng.choice(len(_CHANNELS), size=n, p=_CHANNEL_P)
        out = []
        for i in range(n):
            product = self.products[int(product_idx[i])]
            out.append(
                self._record(
                    rng,
                    external_id=f"sim-{index}-{i}",
                    at=minute + timedelta(seconds=int(rng.integers(60))),
                    product=product,
                    region=_REGIONS[int(region_idx[i])],
                    channel=_CHANNELS[int(channel_idx[i])],
                    category=_pick(rng, CATEGORY_BY_LINE[product.line]),
                )
            )
        return out

    def _event_records(self, event: InjectedEvent, minute: datetime) -> list[dict[str, Any]]:
        if not event.start <= minute < event.start + timedelta(minutes=event.minutes):
            return []
        index = int(minute.timestamp() // 60)
        rng = np.random.default_rng([self.config.seed, index, 7_777, event.index + 10_000_000])
        out = []
        for i in range(int(rng.poisson(event.per_minute))):
            product, region, event_tag, text = event.product, event.region, "", None
            channel = _CHANNELS[int(rng.choice(len(_CHANNELS), p=_CHANNEL_P))]
            category = _pick(rng, CATEGORY_BY_LINE[product.line])
            if event.kind == "product_surge":
                region = _REGIONS[int(rng.choice(len(_REGIONS), p=_REGION_P))]
                category = "理赔"
            elif event.kind == "branch_missell":
                category = "销售"
            elif event.kind == "flight_delay":
                event_tag = f"航班延误-{event.start.astimezone(SHANGHAI):%m%d}"
                category = "理赔"
            elif event.kind == "copied_text":
                category = "退保"
                text = COPIED_TEXT.format(y=2019 + int(rng.integers(5)), p=product.name)
            out.append(
                self._record(
                    rng,
                    external_id=f"sim-{index}-e{event.index}-{i}",
                    at=minute + timedelta(seconds=int(rng.integers(60))),
                    product=product,
                    region=region,
                    channel=channel,
                    category=category,
                    event_tag=event_tag,
                    text=text,
                )
            )
        return out

    def _record(
        self,
        rng: np.random.Generator,
        *,
        external_id: str,
        at: datetime,
        product: Product,
        region: str,
        channel: str,
        category: str,
        event_tag: str = "",
        text: str | None = None,
    ) -> dict[str, Any]:
        phone = f"1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}"
        returning = CAMPAIGN_RETURNING if "-e" in external_id else RETURNING  # sim-…-e<k>-…
        if returning_customer(external_id, returning):  # a customer of this product complains again
            phone = pool_phone(product.code, external_id)
        if text is None:
            templates = TEXTS[category]
            text = templates[int(rng.integers(len(templates)))].format(
                p=product.name, n=int(rng.integers(2, 40)), phone=phone
            )
        return {
            "id": external_id,
            "received_at": at.astimezone(SHANGHAI).isoformat(),
            "channel": channel,
            "product_code": product.code,
            "product_name": product.name,
            "product_line": product.line,
            "region": region,
            "branch": f"{region}分公司",
            "category": category,
            "event_tag": event_tag,
            "text": text,
            "customer_phone": phone,
        }


def returning_customer(external_id: str, share: float) -> bool:
    """Whether a complaint comes from a product's returning customers, decided from its id (so
    the random stream, and everything else generated, stays as it was)."""
    return zlib.crc32(external_id.encode()) % 10_000 < share * 10_000


def pool_phone(product_code: str, external_id: str) -> str:
    """One of a product's ``CUSTOMER_POOL`` returning customers: complaining again, or on
    another channel, they make repeat and multi-channel complaints as real ones do."""
    slot = zlib.crc32(f"slot:{external_id}".encode()) % CUSTOMER_POOL
    return f"139{zlib.crc32(f'{product_code}:{slot}'.encode()) % 10**8:08d}"


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    p = np.array(list(weights.values()))
    return names[int(rng.choice(len(names), p=p / p.sum()))]
