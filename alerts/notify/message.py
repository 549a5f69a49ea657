"""Short Chinese alert messages: what, how many, where, since when, severity, and the links.

A ``Notice`` is built once from the alerts and rendered per platform (plain text, markdown, HTML),
each within a byte limit. Everything that comes from complaint data (titles, product names, texts)
passes through ``plain`` or ``html.escape`` so hostile text cannot inject markup, links or @all.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from alerts.detect.findings import expected_text
from domain.calendar import zone_name
from domain.dimensions import KEY_NAMES_ZH
from domain.severity import SEVERITY_LABELS

STATE_NAMES = {"firing": "告警中", "acknowledged": "已确认未恢复", "resolved": "已恢复"}
# Characters that start markup on some platform, replaced by their full-width look-alikes.
_NEUTRAL = str.maketrans(
    {
        "<": "＜",
        ">": "＞",
        "@": "＠",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "*": "＊",
        "_": "＿",
        "#": "＃",
        "`": "｀",
        "!": "！",
        "|": "｜",
        "~": "～",
        "&": "＆",
        "\\": "＼",
        "$": "＄",
    }
)
_SPACES = re.compile(r"\s+")
# Robots make plain URLs and host names clickable: outside text gets them defanged, the usual
# way (hxxps://evil[.]example), so a complaint cannot put a phishing link in a duty message.
_SCHEME = re.compile(r"(?i)(?<![a-z])(h)tt(ps?)(:)(?=//)|(?<![a-z])(f)t(p)(:)(?=//)")
_HOST_DOT = re.compile(r"(?i)(?<=[a-z0-9-])\.(?=(?:[a-z0-9-]+\.)*[a-z]{2,63}(?![a-z0-9-]))")
_IPV4 = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.])")


def defang(text: str) -> str:
    """``https://evil.example/x`` → ``hxxps://evil[.]example/x``; dots of host names and IPs too."""
    text = _SCHEME.sub(lambda m: f"{m[1]}xx{m[2]}:" if m[1] else f"{m[4]}x{m[5]}:", text)
    text = _IPV4.sub(lambda m: m[0].replace(".", "[.]"), text)
    return _HOST_DOT.sub("[.]", text)


def _visible(text: str) -> str:
    """Without control and format characters (NUL, ESC, bidi overrides, zero-width marks): text
    that did not pass ingest (a title, a test message) must not reorder or hide a message."""
    return "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf"))


def plain(text: str, limit: int = 200) -> str:
    """Untrusted text made inert on every platform: one line, no markup characters, no live
    links, no control or format characters, bounded length."""
    flat = defang(_visible(_SPACES.sub(" ", str(text)).strip())).translate(_NEUTRAL)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class NoticeItem:
    """One alert in a message. ``title``, ``where`` and ``sample`` are untrusted text."""

    alert_id: int
    state: str
    severity: int
    title: str
    count: int
    expected: float
    where: str
    since: datetime
    detail_url: str
    ack_url: str = ""
    reason: str = ""  # 首次通知 / 升级 / 提醒
    sample: str = ""
    why: str = ""  # alerts.detect.why.summary_line: 广州 · “定损金额”×14 (outside words)
    expected_label: str = "预期"  # 阈值 for a fixed threshold: never call a threshold a baseline
    # the other alerts of its situation (alerts.state.situations): (id, untrusted title), how many
    related: tuple[tuple[int, str], ...] = ()
    related_total: int = 0


@dataclass(frozen=True)
class Notice:
    """A message for one receiver: one or more alerts grouped together."""

    items: list[NoticeItem]
    dashboard_url: str
    receiver_name: str = ""
    note: str = ""
    test: bool = False
    mention_phones: list[str] = field(default_factory=list)
    headline: str = ""  # a trusted title for a message without alerts (the weekly report)

    @property
    def title(self) -> str:
        """A short, trusted headline (no complaint text), used as subject and markdown title."""
        if self.headline:
            return self.headline
        if self.test:
            return "【测试】投诉雷达通知测试"
        if not self.items:
            return "【投诉雷达】"
        # The first line is all a phone shows: what and where of the most severe alert.
        worst = min(self.items, key=lambda i: (i.severity, i.alert_id))
        more = f"（共 {len(self.items)} 条）" if len(self.items) > 1 else ""
        if all(i.state == "resolved" for i in self.items):
            return f"【投诉预警已恢复】{plain(worst.title, 40)}{more}"
        level = SEVERITY_LABELS.get(worst.severity, str(worst.severity)).split()[0]
        return f"【{level}投诉预警】{plain(worst.title, 40)}{more}"

    @property
    def resolved_only(self) -> bool:
        """A recovery notice: nobody needs to act, so nobody is asked to."""
        return bool(self.items) and all(i.state == "resolved" for i in self.items)


def where_of(
    key: dict,
    product_name: str = "",
    regions: list[str] | None = None,
    products: list[str] | None = None,
    sample: str = "",
) -> str:
    """The alert key as readable Chinese: 产品 车险A（CAR-0101） · 地区 上海. The product's name
    and the complaints' regions come from the complaints when the key has only the code. A text
    cluster's key is an internal id: it is said in words (an excerpt of the text, the products)."""
    parts = []
    for k, v in key.items():
        if k == "cluster":
            parts.append(f"雷同文本「{plain(sample, 20)}」" if sample else "雷同文本")
            if products:
                extra = f" 等 {len(products)} 个" if len(products) > 3 else ""
                parts.append(f"产品 {'、'.join(plain(p, 20) for p in products[:3])}{extra}")
        elif k == "product_code" and product_name and product_name != v:
            parts.append(f"产品 {product_name}（{v}）")
        else:
            parts.append(f"{KEY_NAMES_ZH.get(k, k)} {v or '—'}")
    if regions and "region" not in key:
        extra = f" 等 {len(regions)} 地" if len(regions) > 3 else ""
        parts.append(f"地区 {'、'.join(regions[:3])}{extra}")
    return " · ".join(parts)


def _since(item: NoticeItem) -> str:
    """The start in the local time zone the builder gave ``since`` (see ``delivery._item``)."""
    return f"{item.since:%m-%d %H:%M}（{zone_name(item.since.tzinfo or UTC)}）"


def _level(item: NoticeItem) -> str:
    return SEVERITY_LABELS.get(item.severity, str(item.severity))


def _item_lines(item: NoticeItem, link: Callable[[str, str], str]) -> list[str]:
    value = f"{item.expected:g}" if item.expected_label == "阈值" else expected_text(item.expected)
    expected = f"（{item.expected_label} {value}）" if item.expected else ""
    reason = f"{item.reason}·" if item.reason else ""
    lines = [
        f"[{_level(item)}] {plain(item.title, 80)}",
        f"数量：{item.count} 件{expected}；范围：{plain(item.where, 80)}",
        f"开始：{_since(item)}；状态：{reason}{STATE_NAMES.get(item.state, item.state)}",
    ]
    if item.related:
        parts = "；".join(f"#{i} {plain(title, 40)}" for i, title in item.related)
        lines.append(f"同一情况另有 {item.related_total} 条告警：{parts}")
    if item.why:
        lines.append(f"特征：{plain(item.why, 80)}")
    if item.sample:
        lines.append(f"样例：{plain(item.sample, 60)}")
    links = [link("详情", item.detail_url)]
    if item.ack_url:
        links.append(link("一键确认", item.ack_url))
    lines.append(" ".join(links))
    return lines


def _fit(
    head: list[str],
    blocks: list[list[str]],
    tail: list[str],
    limit: int,
    more: Callable[[int], str],
) -> str:
    """Join as many whole blocks as fit in ``limit`` UTF-8 bytes; say how many were left out."""
    joined = "\n".join
    kept: list[list[str]] = []
    for i, block in enumerate(blocks):
        trial = [*head, *(line for b in [*kept, block] for line in b)]
        rest = len(blocks) - i - 1
        extra = [more(rest)] if rest else []
        if len(joined([*trial, *extra, *tail]).encode()) > limit:
            break
        kept.append(block)
    left = len(blocks) - len(kept)
    lines = [*head, *(line for b in kept for line in b), *([more(left)] if left else []), *tail]
    text = joined(lines)
    data = text.encode()
    if len(data) <= limit:
        return text
    tail_text = joined(tail)
    room = max(limit - len(tail_text.encode()) - 4, 0)
    return data[:room].decode(errors="ignore") + "…\n" + tail_text


def render_text(notice: Notice, limit: int = 4000) -> str:
    """Plain text (email text part, WeCom/Feishu text, log)."""
    head = [notice.title]
    if notice.note:
        head.append(notice.note)
    if notice.test:
        head.append("这是一条测试消息，收到即说明通道可用。")
    blocks = [_item_lines(i, lambda label, url: f"{label}：{url}") for i in notice.items]
    tail = [f"看板：{notice.dashboard_url}"]
    return _fit(head, blocks, tail, limit, lambda n: f"……另有 {n} 条告警未列出，请到看板查看。")


def render_markdown(notice: Notice, limit: int = 4096, mention: str = "") -> str:
    """Markdown for WeCom and DingTalk robots; ``mention`` is appended (e.g. "@138…" on DingTalk)."""
    head = [f"### {notice.title}"]
    if notice.note:
        head.append(f"> {notice.note}")
    if notice.test:
        head.append("这是一条测试消息，收到即说明通道可用。")
    blocks = [
        [f"- {line}" if n == 0 else f"  {line}" for n, line in enumerate(lines)]
        for lines in (_item_lines(i, lambda label, url: f"[{label}]({url})") for i in notice.items)
    ]
    tail = [f"[打开看板]({notice.dashboard_url})"]
    if mention:
        tail.append(mention)
    return _fit(head, blocks, tail, limit, lambda n: f"- ……另有 {n} 条告警未列出，请到看板查看")


def render_html(notice: Notice) -> str:
    """HTML for email; every piece of text is escaped."""
    esc = html.escape
    rows = []
    for item in notice.items:
        lines = _item_lines(item, lambda label, url: f"\x00{label}\x01{url}\x02")
        parts = []
        for line in lines:
            escaped = esc(line)
            escaped = re.sub(
                "\x00(.*?)\x01(.*?)\x02", lambda m: f'<a href="{m[2]}">{m[1]}</a>', escaped
            )
            parts.append(escaped)
        rows.append("<li>" + "<br>".join(parts) + "</li>")
    note = f"<p>{esc(notice.note)}</p>" if notice.note else ""
    test = "<p>这是一条测试消息，收到即说明通道可用。</p>" if notice.test else ""
    return (
        f"<html><body><h3>{esc(notice.title)}</h3>{note}{test}<ul>{''.join(rows)}</ul>"
        f'<p><a href="{esc(notice.dashboard_url)}">打开看板</a></p></body></html>'
    )
