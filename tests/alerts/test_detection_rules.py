"""Each rule kind on small, known streams through the in-memory reader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.detect.findings import window_text
from alerts.detect.rules.copied_text import CopiedTextEvaluator
from alerts.detect.rules.event import EventEvaluator
from alerts.detect.rules.surge import SurgeEvaluator
from alerts.detect.rules.threshold import ThresholdEvaluator
from config.rules import CopiedTextRule, EventRule, SeverityStep, SurgeRule, ThresholdRule
from tests.alerts.detection_helpers import background, complaint, reader_for, replay

START = datetime(2025, 3, 2, 16, 0, tzinfo=UTC)  # midnight Beijing, Monday 3 March 2025
PRODUCTS = {f"P{i}": rate for i, rate in enumerate([40, 20, 10, 5, 2, 1, 0.15, 0.15])}


def surge_rule(**extra) -> SurgeRule:
    return SurgeRule(name="surge", kind="surge", **extra)


def test_surge_fires_on_a_clear_surge_with_evidence():
    rows = background(START, 21, PRODUCTS, seed=3, dispersion=0.2)
    spike = START + timedelta(days=20, hours=3)
    rows += [complaint(f"s{i}", spike + timedelta(minutes=2 * i), "P3") for i in range(15)]
    reader = reader_for(rows)
    hits = replay(SurgeEvaluator(surge_rule()), reader, spike, spike + timedelta(hours=1))
    assert hits, "a 15-complaint burst on a 5-a-day product must alert"
    first_at, findings = hits[0]
    [finding] = [f for f in findings if f.key == {"product_code": "P3"}]
    assert first_at <= spike + timedelta(minutes=20)
    assert finding.count >= 6 and finding.expected < 2 and finding.score > 6
    assert {f"s{i}" for i in range(6)} <= set(finding.external_ids)


def test_over_dispersed_and_sparse_series_do_not_alert_on_noise():
    rows = background(START, 28, PRODUCTS, seed=5, dispersion=0.4)
    reader = reader_for(rows)
    evaluator = SurgeEvaluator(surge_rule())
    hits = replay(evaluator, reader, START + timedelta(days=7), START + timedelta(days=28),
                  step=timedelta(minutes=30))  # fmt: skip
    assert hits == []


def test_surge_needs_history_and_sees_nothing_after_the_clock():
    rows = background(START, 10, PRODUCTS, seed=2)
    late = START + timedelta(days=9, hours=4)
    rows += [complaint(f"late{i}", late + timedelta(minutes=i), "P5") for i in range(20)]
    reader = reader_for(rows)
    evaluator = SurgeEvaluator(surge_rule())
    before = late - timedelta(minutes=10)
    reader.advance(before)
    assert evaluator.evaluate(reader, before) == []  # the burst is in the data, not yet visible
    reader.advance(late + timedelta(minutes=30))
    assert any(
        f.key == {"product_code": "P5"}
        for f in evaluator.evaluate(reader, late + timedelta(minutes=30))
    )


def test_holiday_lull_and_rebound_are_not_surges():
    # Spring Festival 2025 (28 Jan - 4 Feb) inside the history, then the first workdays after it
    start = datetime(2025, 1, 5, 16, 0, tzinfo=UTC)
    rows = background(start, 40, PRODUCTS, seed=9, dispersion=0.2)
    holiday = {r["id"] for r in rows if datetime(2025, 1, 27, 16, tzinfo=UTC) <= r["received_at"]
               < datetime(2025, 2, 4, 16, tzinfo=UTC)}  # fmt: skip
    rows = [r for r in rows if r["id"] not in holiday or hash(r["id"]) % 4 == 0]  # 25 % volume
    reader = reader_for(rows)
    hits = replay(SurgeEvaluator(surge_rule()), reader, datetime(2025, 2, 4, 16, tzinfo=UTC),
                  datetime(2025, 2, 14, 16, tzinfo=UTC), step=timedelta(minutes=30))  # fmt: skip
    assert hits == []


def test_threshold_counts_complainants_or_falls_back_to_complaints():
    at = START + timedelta(hours=2)
    rows = [complaint(f"c{i}", at, "P1", customer_key=f"k{i % 2}") for i in range(6)]
    reader = reader_for(rows)
    assert "customer_key" in reader.columns  # this reader has the keys the other one lacks
    reader.advance(at)
    people = ThresholdRule(name="t", kind="threshold", threshold=3, count="complainants")
    reader_no_keys = reader_for([{k: v for k, v in r.items() if k != "customer_key"} for r in rows])
    reader_no_keys.advance(at)
    [fallback] = ThresholdEvaluator(people).evaluate(reader_no_keys, at)
    assert fallback.count == 6  # no customer keys in the data: complaints are counted


def test_threshold_filters_and_severity_by_spread_and_regulator():
    at = START + timedelta(hours=2)
    rows = [complaint(f"c{i}", at, "P1", region=["广东", "浙江", "江苏"][i % 3],
                      channel="regulator" if i < 2 else "social") for i in range(9)]  # fmt: skip
    rows.append(complaint("other", at, "P1", channel="hotline"))
    reader = reader_for(rows)
    reader.advance(at)
    rule = ThresholdRule(
        name="t", kind="threshold", threshold=5, filters={"channel": ["regulator", "social"]},
        escalate=[SeverityStep(min_regions=3, severity=3),
                  SeverityStep(min_count=5, min_regulator=2, severity=2)],
    )  # fmt: skip
    [finding] = ThresholdEvaluator(rule).evaluate(reader, at)
    assert finding.count == 9 and "other" not in finding.external_ids
    assert finding.severity == 2 and finding.details["regions"] == 3


def test_event_tags_across_products_and_keywords_fire_but_a_constant_tag_does_not():
    rows = background(START, 15, {"P1": 10, "P2": 10}, seed=4)
    for d in range(15):  # a tag used every day is background, not an event
        rows += [complaint(f"old{d}-{i}", START + timedelta(days=d, hours=3), "P1", event_tag="老问题")
                 for i in range(3)]  # fmt: skip
    at = START + timedelta(days=14, hours=5)
    rows += [complaint(f"t{i}", at + timedelta(minutes=i), f"P{i % 3}", event_tag="航班延误-0315")
             for i in range(8)]  # fmt: skip
    rows += [complaint(f"k{i}", at + timedelta(minutes=i), "P2", text="听说公司理财暴雷了要求退保")
             for i in range(6)]  # fmt: skip
    reader = reader_for(rows)
    rule = EventRule(name="ev", kind="event", keywords={"理财暴雷": ["暴雷"]}, min_products=1)
    now = at + timedelta(minutes=30)
    evaluator = EventEvaluator(rule)
    reader.advance(now)
    keys = {tuple(f.key.items()): f for f in evaluator.evaluate(reader, now)}
    assert (("event_tag", "航班延误-0315"),) in keys
    assert (("keyword", "理财暴雷"),) in keys
    assert (("event_tag", "老问题"),) not in keys
    assert keys[(("event_tag", "航班延误-0315"),)].details["products"] == 3
    # a day's window as people say it, not "1440 分钟"
    assert "：6 小时投诉 8 件" in keys[(("event_tag", "航班延误-0315"),)].title
    assert [window_text(m) for m in (30, 90, 180, 1440)] == [
        "30 分钟",
        "90 分钟",
        "3 小时",
        "24 小时",
    ]


def test_copied_text_wave_is_one_cluster_and_templates_are_not():
    rows = []
    templates = [
        "{p}理赔一直拖着不给处理客服电话打了很多次都没人回复",
        "{p}续保时保费无故上涨没有任何说明希望给个解释",
    ]
    for d in range(10):
        for i in range(12):
            product = f"P{i % 4}"
            text = templates[i % 2].format(p=f"安心{product}号")
            rows.append(
                complaint(
                    f"bg{d}-{i}", START + timedelta(days=d, hours=1 + i / 2), product, text=text
                )
            )
    wave = START + timedelta(days=9, hours=2)
    copied = "本人于{y}年购买{p}，销售人员存在误导销售行为，未告知犹豫期及退保损失，现要求全额退还已交保费"
    for i in range(7):
        rows.append(complaint(f"w{i}", wave + timedelta(minutes=10 * i), f"P{i % 3}",
                              region=["广东", "湖南"][i % 2], text=copied.format(y=2019 + i % 3, p=f"福佑{i}号")))  # fmt: skip
    reader = reader_for(rows)
    rule = CopiedTextRule(name="ct", kind="copied_text", min_spread=2)
    hits = replay(
        CopiedTextEvaluator(rule),
        reader,
        START,
        wave + timedelta(hours=2),
        step=timedelta(minutes=10),
    )
    clusters = {f.key["cluster"] for _, fs in hits for f in fs}
    assert clusters == {"w0"}
    last = hits[-1][1][0]
    assert set(last.external_ids) == {f"w{i}" for i in range(7)}


def test_a_tiny_expected_count_is_written_as_below_a_tenth_not_zero():
    from alerts.detect.findings import expected_text

    assert (expected_text(0.0004), expected_text(0.05), expected_text(4.26)) == (
        "<0.1",
        "0.1",
        "4.3",
    )
