"""Why is this surging? What sets an alert's complaints apart from the same key's usual ones.

- Distinctive words: complaint texts cut into words with jieba, each word counted once per
  complaint, and scored by the weighted log-odds ratio with an informative Dirichlet prior
  (Monroe, Colaresi & Quinn 2008, "Fightin' Words"): the alert's complaints against the key's
  baseline complaints, the prior from both together. A z-score, so a word three complaints use
  is not ranked above one thirty use merely by being rarer elsewhere.
- Over-represented labels: categories, regions, channels and branches whose share among the
  alert's complaints is well above their share in the baseline (with the expected share shown).
- A suggested category for complaints whose source gives none, from a keyword lexicon with the
  matched words and a confidence; the source's own value is never overwritten.

Pure functions over texts and labels; ``alerts/detect/why_data.py`` loads them from the database.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

PRIOR_STRENGTH = 500.0  # α0: how many pseudo-complaints' worth of words the prior holds
MIN_ALERT_DOCS = 3  # a word in fewer of the alert's complaints is not a finding
MIN_LIFT = 2.0  # a label's share must be at least twice its usual share …
MIN_LABEL_COUNT = 3  # … over at least this many complaints
_WORD = re.compile(r"^[\u4e00-\u9fffA-Za-z][\u4e00-\u9fffA-Za-z0-9]+$")
STOP_WORDS = frozenset(
    [
        "我们",
        "你们",
        "他们",
        "她们",
        "自己",
        "什么",
        "怎么",
        "这个",
        "那个",
        "一个",
        "没有",
        "不是",
        "就是",
        "还是",
        "但是",
        "因为",
        "所以",
        "如果",
        "已经",
        "现在",
        "时候",
        "可以",
        "需要",
        "要求",
        "问题",
        "情况",
        "工作人员",
        "客户",
        "本人",
        "公司",
        "保险",
        "保险公司",
        "投诉",
        "反映",
        "处理",
        "进行",
        "表示",
        "之后",
        "之前",
        "以及",
        "并且",
        "而且",
        "然后",
        "这样",
        "那样",
        "对于",
        "关于",
        "还有",
        "一直",
        "今天",
        "昨天",
        "非常",
        "多次",
        "希望",
        "请求",
        "联系",
        "电话",
        "回复",
        "告知",
        "说明",
        "其中",
        "目前",
        "至今",
        "仍然",
        "相关",
        "方面",
    ]
)
# Categories insurers use and words that point to them: a transparent lexicon, shown with
# the words it matched (理赔 / 销售 / 服务 / 产品 …, dashboard vocabulary).
CATEGORY_WORDS: dict[str, tuple[str, ...]] = {
    "理赔": ("理赔", "定损", "赔付", "赔款", "报案", "查勘", "拒赔", "核赔", "出险", "赔偿"),
    "销售": ("代理人", "业务员", "销售", "误导", "承诺", "推销", "夸大", "隐瞒", "代签", "返佣"),
    "退保": ("退保", "退费", "退还保费", "犹豫期", "现金价值", "全额退"),
    "保全": ("保全", "变更", "受益人", "续期", "复效", "借款", "扣款", "缴费"),
    "服务": ("态度", "客服", "热线", "等待", "推诿", "不接", "打不通", "服务"),
    "产品": ("条款", "免责", "责任范围", "保障", "产品", "收益", "分红"),
}


@dataclass(frozen=True)
class Term:
    text: str
    count: int  # alert complaints using it
    baseline: int  # baseline complaints using it
    z: float


@dataclass(frozen=True)
class Share:
    dimension: str
    value: str
    count: int
    share: float
    expected: float  # its share in the baseline


@dataclass(frozen=True)
class CategoryGuess:
    category: str
    confidence: float
    words: tuple[str, ...]


@dataclass(frozen=True)
class Why:
    complaints: int
    baseline: int
    terms: list[Term] = field(default_factory=list)
    over: list[Share] = field(default_factory=list)
    guess: CategoryGuess | None = None  # for complaints without a category


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)  # it announces its dictionary on every first load
    return jieba


def words(text: str) -> set[str]:
    """The words of one complaint, once each: no stop words, numbers or masked digits."""
    if not text:
        return set()
    return {w for w in _jieba().lcut(text) if _WORD.match(w) and w not in STOP_WORDS}


def distinctive_terms(
    alert_texts: Sequence[str], baseline_texts: Sequence[str], top: int = 5
) -> list[Term]:
    """The words most characteristic of the alert's complaints, by weighted log-odds z."""
    alert_docs = Counter(w for text in alert_texts for w in words(text))
    base_docs = Counter(w for text in baseline_texts for w in words(text))
    n_a, n_b = sum(alert_docs.values()), sum(base_docs.values())
    if not n_a:
        return []
    if not n_b:  # a key with no history: nothing to compare with, so its commonest words
        common = [(w, y) for w, y in alert_docs.most_common() if y >= MIN_ALERT_DOCS]
        return [Term(w, y, 0, 0.0) for w, y in common[:top]]
    total = alert_docs + base_docs
    n = n_a + n_b
    terms = []
    for word, y_a in alert_docs.items():
        if y_a < MIN_ALERT_DOCS:
            continue
        y_b = base_docs.get(word, 0)
        alpha = PRIOR_STRENGTH * total[word] / n
        delta = _log_odds(y_a, n_a, alpha) - _log_odds(y_b, n_b, alpha)
        z = delta / math.sqrt(1 / (y_a + alpha) + 1 / (y_b + alpha))
        if z > 1.96:  # distinctive at the 5 % level, one word at a time
            terms.append(Term(word, y_a, y_b, z))
    terms.sort(key=lambda t: (-t.z, t.text))
    return terms[:top]


def _log_odds(y: float, n: float, alpha: float) -> float:
    """log of the word's odds in one corpus under the prior; the rest never below a sliver
    (a corpus made of that one word only)."""
    return math.log((y + alpha) / max(n + PRIOR_STRENGTH - y - alpha, 1e-9))


def over_represented(
    alert_labels: Mapping[str, Sequence[str]],
    baseline_labels: Mapping[str, Sequence[str]],
    top: int = 4,
) -> list[Share]:
    """Label values whose share among the alert's complaints is ≥ ``MIN_LIFT`` times their
    share in the baseline (add-one smoothed, so a value never seen before counts as rare)."""
    out = []
    for dimension, values in alert_labels.items():
        present = [v for v in values if v]
        counts = Counter(present)
        base = Counter(v for v in baseline_labels.get(dimension, ()) if v)
        n, n_base = len(present), sum(base.values())
        if not n:
            continue
        kinds = len(set(counts) | set(base)) or 1
        for value, count in counts.items():
            share = count / n
            expected = (base.get(value, 0) + 1) / (n_base + kinds)
            if count >= MIN_LABEL_COUNT and share >= MIN_LIFT * expected and share >= 0.3:
                out.append(Share(dimension, value, count, share, expected))
    out.sort(key=lambda s: (-s.share / s.expected, s.dimension, s.value))
    return out[:top]


def guess_category(
    texts: Iterable[str], lexicon: Mapping[str, Sequence[str]] = CATEGORY_WORDS
) -> CategoryGuess | None:
    """A category suggested from the texts: the lexicon entry with most complaints using its
    words; confidence = its share of the complaints any entry matched."""
    hits: Counter[str] = Counter()
    matched: dict[str, Counter[str]] = {}
    for text in texts:
        for category, keys in lexicon.items():
            found = [k for k in keys if k in text]
            if found:
                hits[category] += 1
                matched.setdefault(category, Counter()).update(found)
    if not hits:
        return None
    category, count = hits.most_common(1)[0]
    top_words = tuple(w for w, _ in matched[category].most_common(3))
    return CategoryGuess(category, count / sum(hits.values()), top_words)


def explain(
    alert_rows: Sequence[Mapping[str, str]],
    baseline_rows: Sequence[Mapping[str, str]],
    dimensions: Sequence[str] = ("category", "region", "channel", "branch"),
) -> Why:
    """The why of one alert; rows are complaints as mappings with ``text`` and the labels."""
    terms = distinctive_terms(
        [r.get("text", "") for r in alert_rows], [r.get("text", "") for r in baseline_rows]
    )
    over = over_represented(
        {d: [r.get(d, "") for r in alert_rows] for d in dimensions},
        {d: [r.get(d, "") for r in baseline_rows] for d in dimensions},
    )
    uncategorised = [r.get("text", "") for r in alert_rows if not r.get("category")]
    guess = guess_category(uncategorised) if uncategorised else None
    return Why(len(alert_rows), len(baseline_rows), terms, over, guess)


LABEL_NAMES = {"category": "类别", "region": "地区", "channel": "渠道", "branch": "机构"}


def summary_line(why: Why, channel_names: Mapping[str, str] | None = None) -> str:
    """The few words a notification carries: 主要 理赔 · 广州 · "定损金额" ×14."""
    names = channel_names or {}
    parts = [names.get(s.value, s.value) if s.dimension == "channel" else s.value for s in why.over]
    parts += [f"“{t.text}”×{t.count}" for t in why.terms[:2]]
    if why.guess is not None and not any(s.dimension == "category" for s in why.over):
        parts.append(f"疑似{why.guess.category}")
    return " · ".join(parts)
