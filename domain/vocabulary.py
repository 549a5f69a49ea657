"""Shared vocabularies: channels, categories, provinces, with their normalisation tables."""

from __future__ import annotations

CHANNELS: dict[str, str] = {
    "hotline": "热线",
    "web": "网页表单",
    "app": "App",
    "social": "社交媒体",
    "counter": "柜面",
    "regulator": "监管转办",
    "media": "媒体",
}

CHANNEL_ALIASES: dict[str, str] = {
    "热线": "hotline",
    "电话": "hotline",
    "95518": "hotline",
    "call": "hotline",
    "phone": "hotline",
    "网页": "web",
    "网页表单": "web",
    "官网": "web",
    "form": "web",
    "app": "app",
    "APP": "app",
    "小程序": "app",
    "社交媒体": "social",
    "微博": "social",
    "weibo": "social",
    "抖音": "social",
    "小红书": "social",
    "柜面": "counter",
    "门店": "counter",
    "监管转办": "regulator",
    "12378": "regulator",
    "监管": "regulator",
    "媒体": "media",
    "新闻": "media",
}

CATEGORIES = ["理赔", "销售", "退保", "保全", "服务", "产品", "其他"]

PRODUCT_LINES = ["车险", "意外险", "健康险", "寿险", "旅行险", "家财险", "责任险"]

# Population in millions (7th census, 2020) used to weight the simulator's regions.
PROVINCES: dict[str, float] = {
    "广东": 126.0,
    "山东": 101.5,
    "河南": 99.4,
    "江苏": 84.7,
    "四川": 83.7,
    "河北": 74.6,
    "湖南": 66.4,
    "浙江": 64.6,
    "安徽": 61.0,
    "湖北": 57.8,
    "广西": 50.1,
    "云南": 47.2,
    "江西": 45.2,
    "辽宁": 42.6,
    "福建": 41.5,
    "陕西": 39.5,
    "贵州": 38.6,
    "山西": 34.9,
    "重庆": 32.1,
    "黑龙江": 31.9,
    "新疆": 25.9,
    "甘肃": 25.0,
    "上海": 24.9,
    "内蒙古": 24.0,
    "吉林": 24.1,
    "北京": 21.9,
    "天津": 13.9,
    "海南": 10.1,
    "宁夏": 7.2,
    "青海": 5.9,
    "西藏": 3.6,
}

PROVINCE_ABBREVIATIONS: dict[str, str] = {
    "粤": "广东",
    "鲁": "山东",
    "豫": "河南",
    "苏": "江苏",
    "川": "四川",
    "蜀": "四川",
    "冀": "河北",
    "湘": "湖南",
    "浙": "浙江",
    "皖": "安徽",
    "鄂": "湖北",
    "桂": "广西",
    "滇": "云南",
    "云": "云南",
    "赣": "江西",
    "辽": "辽宁",
    "闽": "福建",
    "陕": "陕西",
    "秦": "陕西",
    "黔": "贵州",
    "贵": "贵州",
    "晋": "山西",
    "渝": "重庆",
    "黑": "黑龙江",
    "新": "新疆",
    "甘": "甘肃",
    "陇": "甘肃",
    "沪": "上海",
    "蒙": "内蒙古",
    "吉": "吉林",
    "京": "北京",
    "津": "天津",
    "琼": "海南",
    "宁": "宁夏",
    "青": "青海",
    "藏": "西藏",
}

_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


def normalise_region(value: str | None) -> str:
    """广东省 / 广东 / 粤 → 广东; anything unknown is kept as given (trimmed) so nothing is lost."""
    if not value:
        return ""
    text = str(value).strip()
    for suffix in _SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    if text in PROVINCES:
        return text
    if text in PROVINCE_ABBREVIATIONS:
        return PROVINCE_ABBREVIATIONS[text]
    for province in PROVINCES:
        if text.startswith(province):
            return province
    return text


def normalise_channel(value: str | None) -> str | None:
    """Map a source's channel label to a known channel code, or None when unknown."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in CHANNELS:
        return text.lower()
    return CHANNEL_ALIASES.get(text) or CHANNEL_ALIASES.get(text.lower())
