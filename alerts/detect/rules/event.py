"""Event: complaints sharing an event tag, or matching configured event keywords, across products.

An event tag set by agents, or a keyword group in the text, is a key of its own. It fires when
its count in the window reaches ``min_count`` over at least ``min_products`` products and is
improbable (Poisson upper tail below ``alpha``) against the key's own daily rate over the last
``history_days``: a tag or keyword that is always there is not an event.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import datetime, timedelta

import numpy as np

from alerts.detect.findings import Finding, window_text
from alerts.detect.id_cursor import IdCursor
from alerts.detect.rules.base import (
    MAX_REFS,
    ComplaintRef,
    CountReader,
    DailyFit,
    RuleContext,
    build_finding,
    window_bounds,
)
from alerts.detect.stats import nb_upper_p
from config.rules import EventRule

DAY = timedelta(days=1)
RATE_FLOOR_PER_DAY = 0.2  # an unseen tag is not impossible: a fifth of a complaint a day


class EventEvaluator:
    def __init__(self, rule: EventRule, context: RuleContext | None = None):
        self.rule = rule
        self.name = rule.name
        self.context = context or RuleContext()
        self._texts = IdCursor()
        self._hits: dict[str, list[tuple[datetime, ComplaintRef]]] = defaultdict(list)
        self._tag_fit = DailyFit()
        self._tag_rates: dict[str, float] = {}

    def history_changed(self, before: datetime) -> None:
        """Complaints received from ``before`` on were stored late: see ``DailyFit``."""
        self._tag_fit.history_changed(before)

    def _tag_history(self, reader: CountReader, now: datetime) -> None:
        local = self.context.calendar.local(now)
        if not self._tag_fit.due(local, now):
            return
        day_start = self._tag_fit.fitted(local, now)
        days = self.rule.history_days
        keys, daily = reader.series(["event_tag"], day_start - days * DAY, day_start, 1440)
        self._tag_rates = {
            k[0]: float(row.sum()) / days for k, row in zip(keys, daily, strict=True)
        }

    def _scan_texts(self, reader: CountReader, now: datetime) -> None:
        """Match new complaints against the keyword groups; keep hits for the history horizon."""
        horizon = now - self.rule.history_days * DAY - timedelta(minutes=self.rule.window_minutes)
        rows, moved = reader.new_texts(self._texts, horizon)
        for row in rows:
            for event, words in self.rule.keywords.items():
                if any(word in row.text for word in words):
                    ref = ComplaintRef(
                        row.id, row.external_id, row.region, row.channel, row.product_code,
                        row.received_at,
                    )  # fmt: skip
                    bisect.insort(self._hits[event], (row.received_at, ref), key=lambda h: h[0])
        self._texts = moved
        for hits in self._hits.values():
            cut = bisect.bisect_left(hits, horizon, key=lambda h: h[0])
            del hits[:cut]

    def _significant(self, count: int, rate_per_day: float) -> tuple[bool, float, float]:
        rule = self.rule
        expected = max(rate_per_day, RATE_FLOOR_PER_DAY) * rule.window_minutes / 1440
        p = float(nb_upper_p(count, expected, 0.0))
        return count >= rule.min_count and p < rule.alpha, expected, p

    def evaluate(self, reader: CountReader, now: datetime) -> list[Finding]:
        rule = self.rule
        since, until = window_bounds(now, rule.window_minutes)
        findings: list[Finding] = []
        # a tag fires only with min_count complaints in the window: the per-tag totals (few keys)
        # say whether any can, before the per-product counts (one key per tagged product)
        if rule.use_tags and any(
            tag
            for (tag,) in reader.window_counts(["event_tag"], since, until, None, rule.min_count)
        ):
            self._tag_history(reader, now)
            per_product = reader.window_counts(["event_tag", "product_code"], since, until)
            tags: dict[str, list[int]] = defaultdict(list)
            for (tag, _product), n in per_product.items():
                if tag:
                    tags[tag].append(n)
            for tag, counts in tags.items():
                count = sum(counts)
                ok, expected, p = self._significant(count, self._tag_rates.get(tag, 0.0))
                if not ok or len(counts) < rule.min_products:
                    continue
                key = {"event_tag": tag}
                refs = reader.complaint_refs(key, since, until, MAX_REFS)
                findings.append(
                    self._finding(key, refs, count, expected, p, len(counts), since, until)
                )
        if rule.keywords:
            self._scan_texts(reader, now)
            history_start = since - rule.history_days * DAY
            for event, hits in self._hits.items():
                start = bisect.bisect_left(hits, since, key=lambda h: h[0])
                window = [ref for at, ref in hits[start:] if at < until]
                past = bisect.bisect_left(hits, history_start, key=lambda h: h[0])
                rate = (start - past) / rule.history_days
                ok, expected, p = self._significant(len(window), rate)
                products = len({r.product_code for r in window})
                if not ok or products < rule.min_products:
                    continue
                findings.append(
                    self._finding({"keyword": event}, window[:MAX_REFS], len(window), expected, p,
                                  products, since, until)
                )  # fmt: skip
        return findings

    def _finding(
        self,
        key: dict[str, str],
        refs: list[ComplaintRef],
        count: int,
        expected: float,
        p: float,
        products: int,
        since: datetime,
        until: datetime,
    ) -> Finding:
        label = key.get("event_tag") or key.get("keyword", "")
        return build_finding(
            self.rule, self.context, key=key, refs=refs, count=count, expected=expected,
            score=min(-np.log10(max(p, 1e-300)), 99.0),
            title=f"事件 {label}：{window_text(self.rule.window_minutes)}投诉 {count} 件，涉及 {products} 个产品",
            since=since, until=until,
            details={"window_minutes": self.rule.window_minutes, "products": products, "p_value": p},
        )  # fmt: skip
