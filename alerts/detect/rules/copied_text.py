"""Copied text: near-duplicate complaint texts (organised campaigns, 代理退保) as one cluster.

Texts are normalised (whitespace, punctuation and digit runs removed), cut into character
shingles, and indexed with MinHash LSH (datasketch; Broder 1997, Indyk & Motwani 1998). Each new
text joins the clusters of the texts it is similar to (union-find), incrementally, so the cost
per tick is the new texts only. A cluster alerts when it has ``min_size`` texts in the window,
spans ``min_spread`` products or regions, and has at least ``fold`` times its own past rate:
templated wording that is always there (form letters, app presets) is not a campaign.

Exact duplicates (same normalised text) share one LSH entry, and a text that already has
``MAX_NEIGHBOURS`` similar indexed texts joins their cluster without being indexed itself: a
campaign of thousands of identical or near-identical texts costs a bounded amount per text
instead of growing LSH buckets that every later query must walk (quadratic).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from alerts.detect.findings import Finding
from alerts.detect.id_cursor import IdCursor
from alerts.detect.rules.base import (
    MAX_REFS,
    ComplaintRef,
    CountReader,
    RuleContext,
    build_finding,
    window_bounds,
)
from alerts.detect.rules.text_signatures import SCHEME, SignatureMaker
from config.rules import CopiedTextRule

DAY = timedelta(days=1)
MAX_NEIGHBOURS = 32  # indexed similar texts beyond which a new text is not indexed itself
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")


def normalise(text: str) -> str:
    """Drop what copy-paste campaigns vary or agents mask: spacing, punctuation, numbers."""
    return _NOISE.sub("", _DIGITS.sub("0", text or "")).lower()


def shingles(text: str, size: int) -> set[str]:
    if len(text) <= size:
        return {text} if text else set()
    return {text[i : i + size] for i in range(len(text) - size + 1)}


@dataclass
class Cluster:
    """Members of one near-duplicate cluster, oldest first (times and evidence refs)."""

    times: list[datetime] = field(default_factory=list)
    refs: list[ComplaintRef] = field(default_factory=list)

    def add(self, at: datetime, ref: ComplaintRef) -> None:
        i = bisect.bisect_right(self.times, at)
        self.times.insert(i, at)
        self.refs.insert(i, ref)

    def merge(self, other: Cluster) -> None:
        for at, ref in zip(other.times, other.refs, strict=True):
            self.add(at, ref)

    def prune(self, horizon: datetime) -> None:
        cut = bisect.bisect_left(self.times, horizon)
        del self.times[:cut], self.refs[:cut]

    def between(self, since: datetime, until: datetime) -> tuple[int, int]:
        return bisect.bisect_left(self.times, since), bisect.bisect_left(self.times, until)


class CopiedTextEvaluator:
    def __init__(self, rule: CopiedTextRule, context: RuleContext | None = None):
        self.rule = rule
        self.name = rule.name
        self.context = context or RuleContext()
        self._texts = IdCursor()
        # imported here: datasketch pulls in scipy.integrate (0.3 s), which only this rule needs;
        # a backtest sharing the rules out imports it in the one process that runs this rule
        from datasketch import LeanMinHash, MinHashLSH

        self._lean_minhash = LeanMinHash
        self._lsh = MinHashLSH(threshold=rule.similarity, num_perm=rule.num_perm)
        self._indexed: list[tuple[datetime, int, int]] = []  # (received_at, id, node), oldest first
        self._digests: dict[bytes, int] = {}  # normalised text digest -> its node (first row id)
        self._node_digest: dict[int, bytes] = {}
        self._live: dict[int, int] = {}  # node -> rows of that text still in the horizon
        self._in_lsh: set[int] = set()
        self.lsh_inserts = 0  # work counters: bounded per text, whatever the campaign's size
        self.lsh_queries = 0
        self._parent: dict[int, int] = {}
        self._clusters: dict[int, Cluster] = {}
        self._watch: set[int] = set()
        self._names: dict[int, str] = {}  # cluster root id -> external id of its first text
        self._signatures = SignatureMaker(rule.num_perm, seed=1)  # a batch of texts at a time
        self._all_times: list[datetime] = []  # every indexed text: the volume to compare with
        self._first_seen: datetime | None = None

    def _find(self, node: int) -> int:
        root = node
        while self._parent[root] != root:
            root = self._parent[root]
        while self._parent[node] != root:
            self._parent[node], node = root, self._parent[node]
        return root

    def _union(self, a: int, b: int) -> int:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return ra
        keep, drop = min(ra, rb), max(ra, rb)  # the oldest id names the cluster: a stable key
        self._parent[drop] = keep
        self._clusters[keep].merge(self._clusters.pop(drop))
        self._watch.discard(drop)
        self._names.pop(drop, None)
        return keep

    def _new_signatures(self, texts: list[tuple[str, bytes]]) -> dict[bytes, np.ndarray]:
        """MinHash signatures of the batch's texts not indexed yet, computed together."""
        todo: dict[bytes, str] = {}
        for text, digest in texts:
            if digest not in self._digests and digest not in todo:
                todo[digest] = text
        if not todo:
            return {}
        size = self.rule.shingle
        rows = self._signatures.signatures([shingles(t, size) for t in todo.values()])
        return dict(zip(todo, rows, strict=True))

    def _node_for(self, digest: bytes, signature: np.ndarray | None, row_id: int) -> int:
        """The node of this exact text: an existing one (no LSH work) or a new, linked one."""
        node = self._digests.get(digest)
        if node is not None:
            return node
        assert signature is not None
        node = row_id
        self._digests[digest], self._node_digest[node] = node, digest
        self._parent[node] = node
        self._clusters[node] = Cluster()
        mh = self._lean_minhash(seed=1, hashvalues=signature, scheme=SCHEME)
        self.lsh_queries += 1
        candidates = self._lsh.query(mh)
        parent = self._parent  # compressed paths: most candidates point at their root
        for other_root in {parent[c] for c in candidates}:
            self._union(node, other_root)
        if len(candidates) < MAX_NEIGHBOURS:
            self._lsh.insert(node, mh)
            self._in_lsh.add(node)
            self.lsh_inserts += 1
        return node

    def _ingest(self, reader: CountReader, now: datetime) -> None:
        rule = self.rule
        horizon = now - rule.history_days * DAY - timedelta(minutes=rule.window_minutes)
        rows, moved = reader.new_texts(self._texts, horizon)
        texts: list[tuple[str, bytes] | None] = []
        for row in rows:
            text = normalise(row.text)
            if len(text) < rule.min_chars:
                texts.append(None)
            else:
                digest = hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
                texts.append((text, digest))
        signatures = self._new_signatures([t for t in texts if t is not None])
        for row, text in zip(rows, texts, strict=True):
            if text is None:
                continue
            ref = ComplaintRef(
                row.id, row.external_id, row.region, row.channel, row.product_code, row.received_at
            )
            node = self._node_for(text[1], signatures.get(text[1]), row.id)
            self._live[node] = self._live.get(node, 0) + 1
            root = self._find(node)
            self._names.setdefault(root, row.external_id)
            self._clusters[root].add(row.received_at, ref)
            bisect.insort(self._indexed, (row.received_at, row.id, node))
            bisect.insort(self._all_times, row.received_at)
            if self._first_seen is None or row.received_at < self._first_seen:
                self._first_seen = row.received_at
            self._watch.add(root)
        self._texts = moved
        cut = bisect.bisect_left(self._indexed, (horizon, -1, -1))
        for _, _, node in self._indexed[:cut]:
            self._live[node] -= 1
            if self._live[node] == 0:  # the last copy of this text left the horizon
                del self._live[node], self._digests[self._node_digest.pop(node)]
                if node in self._in_lsh:
                    self._in_lsh.discard(node)
                    self._lsh.remove(node)
        del self._indexed[:cut]
        del self._all_times[: bisect.bisect_left(self._all_times, horizon)]
        for root in list(self._watch):
            self._clusters[root].prune(horizon)

    def evaluate(self, reader: CountReader, now: datetime) -> list[Finding]:
        rule = self.rule
        self._ingest(reader, now)
        since, until = window_bounds(now, rule.window_minutes)
        history_start = since - rule.history_days * DAY
        if self._first_seen is None or self._first_seen > since - DAY:
            return []  # no day of history yet: every template would look new
        volume_now = len(self._all_times) - bisect.bisect_left(self._all_times, since)
        volume_past = bisect.bisect_left(self._all_times, since) - bisect.bisect_left(
            self._all_times, history_start
        )
        # the cluster's past share of the other texts, applied to the other texts in this window:
        # a busy Monday after Spring Festival raises every template's count, not a campaign's
        # share; the cluster's own texts are left out, or a fast-growing campaign would raise its
        # own expected count (its texts inflating the window's volume) and hide itself
        findings = []
        for root in list(self._watch):
            cluster = self._clusters[root]
            lo, hi = cluster.between(since, until)
            count = hi - lo
            if count < rule.min_size:
                if count == 0:
                    self._watch.discard(root)
                continue
            past = lo - bisect.bisect_left(cluster.times, history_start)
            expected = past * (volume_now - count + 1) / (volume_past - past + 1)
            if count < rule.fold * expected + rule.min_size - 1:
                continue  # before the spread: an everyday template fails here, tick after tick
            refs = cluster.refs[lo:hi]
            spread = max(len({r.product_code for r in refs}), len({r.region for r in refs}))
            if spread < rule.min_spread:
                continue
            products, regions = len({r.product_code for r in refs}), len({r.region for r in refs})
            findings.append(
                build_finding(
                    rule, self.context, key={"cluster": self._names[root]}, refs=refs[:MAX_REFS],
                    count=count, expected=expected, score=count / max(expected, 1.0),
                    title=f"相似文本 {count} 件，涉及 {products} 个产品、{regions} 个地区",
                    since=since, until=until,
                    details={"window_minutes": rule.window_minutes, "similarity": rule.similarity},
                )
            )  # fmt: skip
        return findings
