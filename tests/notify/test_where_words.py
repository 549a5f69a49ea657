"""Where an alert is, in words a duty officer reads: never an internal cluster id."""

from __future__ import annotations

from alerts.notify.message import where_of


def test_a_text_cluster_is_said_by_its_text_and_products():
    where = where_of(
        {"cluster": "sim-29933112-e-94-0"},
        regions=["广东", "浙江"],
        products=["安心交强险", "守护百万医疗险", "乐享意外险", "旅行无忧险"],
        sample="代理人让我们退保再买新的，[点此](http://evil.example)领补偿",
    )
    assert "sim-29933112" not in where
    assert where.startswith("雷同文本「代理人让我们退保再买新的，")
    assert "产品 安心交强险、守护百万医疗险、乐享意外险 等 4 个" in where
    assert "地区 广东、浙江" in where
    assert "](" not in where  # the sample is made inert


def test_a_product_key_keeps_its_name_and_code():
    where = where_of({"product_code": "CAR-0101"}, "车险A", ["上海"])
    assert where == "产品 车险A（CAR-0101） · 地区 上海"
