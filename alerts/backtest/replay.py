"""Replay a complaint CSV through the live rule evaluators and lifecycle on a simulated clock.

Each tick the in-memory reader is advanced to the clock (nothing received later is visible), every
enabled rule is evaluated, and ``apply_findings``/``step`` run exactly as in the worker. Each time
an alert starts firing, one JSON line is written, with the situation it belongs to
(``alerts.state.situations``: the alert it would be attached to live, or its own number).
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import pandas as pd
from tqdm import tqdm

from alerts.detect.evaluators import EvaluatorSet
from alerts.detect.memory_reader import MemoryReader
from alerts.detect.rules.base import MAX_REFS
from alerts.state.lifecycle import apply_findings
from alerts.state.situations import Firing, situation_ids
from alerts.state.transition import Transition
from config.rules import RulesFile
from domain.states import AlertState, EventKind
from storage.models import Alert


class MemoryAlertStore:
    """Alerts and their transitions in memory (the backtest has no database)."""

    def __init__(self) -> None:
        self.active: dict[str, dict[str, Alert]] = {}
        self.alerts: list[Alert] = []
        self.events: list[tuple[int, str, datetime]] = []
        self.resolved: dict[tuple[str, str], Alert] = {}  # the latest per (rule, fingerprint)

    def active_for_rule(self, rule: str) -> Iterable[Alert]:
        return list(self.active.get(rule, {}).values())

    def last_resolved(self, rule: str, fingerprint: str) -> Alert | None:
        return self.resolved.get((rule, fingerprint))

    def add(self, alert: Alert) -> None:
        alert.id = len(self.alerts) + 1
        self.alerts.append(alert)
        self.active.setdefault(alert.rule, {})[alert.fingerprint] = alert

    def record(self, alert: Alert, transition: Transition, now: datetime) -> None:
        self.events.append((alert.id, transition.kind, now))
        if transition.to_state == AlertState.RESOLVED:
            self.active.get(alert.rule, {}).pop(alert.fingerprint, None)
            self.resolved[(alert.rule, alert.fingerprint)] = alert
        elif transition.kind == EventKind.REOPENED:
            self.active.setdefault(alert.rule, {})[alert.fingerprint] = alert


def parse_tick(value: str) -> timedelta:
    """'5m', '1h', '30s', '1d' or plain minutes; must be a positive whole number of seconds."""
    text = value.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "m")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ValueError(f"bad --tick {value!r}: use e.g. 5m, 1h, 30s, 1d") from None
    if seconds < 1:
        raise ValueError(f"bad --tick {value!r}: must be at least 1s")
    return timedelta(seconds=int(seconds))


def alert_line(alert: Alert, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    evidence = alert.evidence or {}
    return {
        "rule": alert.rule,
        "kind": alert.rule_kind,
        "key": dict(alert.key),
        "severity": alert.severity,
        "fired_at": now.astimezone(tz).isoformat(),
        "count": alert.count,
        "expected": alert.expected,
        "score": alert.score,
        "complaint_ids": list(evidence.get("external_ids", []))[:MAX_REFS],
        "title": alert.title,
        "since": evidence.get("since"),
        "until": evidence.get("until"),
    }


@dataclass
class BacktestSummary:
    complaints: int = 0
    ticks: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    failed_rules: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    start: datetime | None = None
    end: datetime | None = None


def clock_ticks(first: datetime, last: datetime, tick: timedelta) -> list[datetime]:
    """Tick times aligned to the tick size, from the first complaint to one tick past the last."""
    step = int(tick.total_seconds())
    start = int(first.timestamp()) // step * step + step
    stop = int(last.timestamp()) // step * step + 2 * step
    origin = datetime.fromtimestamp(0, tz=first.tzinfo)
    return [origin + timedelta(seconds=s) for s in range(start, stop, step)]


# rough relative CPU of one rule over a replay (seconds, one process, one BLAS thread, the 1x
# bench stream, 2026-12-05, docs/PERFORMANCE.md): a surge with a local level spends it on the
# per-tick test of its many candidates, about the same for product and product x category; one
# without, on its daily refresh of hourly series, more the more dimensions its keys have, except
# that a rule keyed by channel fits no repost threads
def rule_weight(rule: Any) -> float:
    kind = getattr(rule, "kind", "")
    if kind == "surge":
        group_by = getattr(rule, "group_by", ())
        if getattr(rule, "local_level_hours", None):
            return 4.3
        weight = 1.3 if "channel" in group_by else 2.3 * max(len(group_by), 1)
        # a filtered rule counts a fraction of the rows: branch-missell (sales complaints only)
        # replays in 1.1 s against 3.3 s for the same key unfiltered (2026-12-05)
        return weight * 0.3 if getattr(rule, "filters", None) else weight
    return {"copied_text": 1.35, "event": 0.5, "threshold": 1.0}.get(kind, 0.1)


def share_rules(count: int, weights: list[float], jobs: int) -> list[list[int]]:
    """Positions 0..count-1 in ``jobs`` groups of about equal weight, each group in rule order.

    Two groups (the usual case): the best of every split of up to 16 rules; otherwise the
    heaviest rule first, each to the lightest group so far. Empty groups are dropped.
    """
    jobs = max(1, min(jobs, count))
    if jobs == 2 and count <= 16:
        total = sum(weights)
        best, best_load = 0, float("inf")
        for mask in range(1 << (count - 1)):  # rule count-1 always in the second group
            first = sum(w for i, w in enumerate(weights) if mask >> i & 1)
            load = max(first, total - first)
            if load < best_load - 1e-9:
                best, best_load = mask, load
        groups: list[list[int]] = [[i for i in range(count) if best >> i & 1],
                                   [i for i in range(count) if not best >> i & 1]]  # fmt: skip
        return [g for g in groups if g]
    groups = [[] for _ in range(jobs)]
    loads = [0.0] * jobs
    for pos in sorted(range(count), key=lambda i: -weights[i]):
        lightest = loads.index(min(loads))
        groups[lightest].append(pos)
        loads[lightest] += weights[pos]
    return [sorted(g) for g in groups if g]


@dataclass
class _Fired:
    """One firing of the replay: its place (tick, rule position, order), its line, and the tick
    time its alert resolved (None: still active at the end)."""

    t: int
    pos: int
    seq: int
    line: dict[str, Any]
    resolved: datetime | None = None

    @property
    def order(self) -> tuple[int, int, int]:
        return self.t, self.pos, self.seq


@dataclass
class _Part:
    """One process's share of the replay: its firings and failures."""

    lines: list[_Fired] = field(default_factory=list)
    fired: Counter[str] = field(default_factory=Counter)
    failed: list[tuple[int, int, str, str]] = field(default_factory=list)


def _replay(
    reader: MemoryReader,
    rules: RulesFile,
    enabled: list[tuple[int, Any]],
    ticks: list[datetime],
    tz: ZoneInfo,
    progress: bool,
) -> _Part:
    """Every tick, the given (position, rule)s in order; each firing is kept in the part."""
    part = _Part()
    fired: dict[int, _Fired] = {}  # id() of a firing alert -> its firing
    evaluators = EvaluatorSet()
    store = MemoryAlertStore()
    failed: set[str] = set()
    seq = 0
    for t, now in enumerate(
        tqdm(ticks, disable=not progress, file=sys.stderr, unit="tick", mininterval=0.5)
    ):
        reader.advance(now)
        for pos, rule in enabled:
            if rule.name in failed:
                continue
            try:
                findings = evaluators.get(rule, rules).evaluate(reader, now)
                if not findings and not store.active.get(rule.name):
                    continue  # nothing to create, step or resolve: apply_findings would do nothing
                changes = apply_findings(store, rule, findings, now)
            except Exception as exc:  # one broken rule must not hide the others' results
                failed.add(rule.name)
                part.failed.append((t, pos, rule.name, f"{type(exc).__name__}: {exc}"))
                continue
            for alert, transition in changes:
                if transition.kind == EventKind.FIRED:
                    fired[id(alert)] = _Fired(t, pos, seq, alert_line(alert, now, tz))
                    part.lines.append(fired[id(alert)])
                    seq += 1
                    part.fired[rule.name] += 1
                elif transition.kind == EventKind.RESOLVED and id(alert) in fired:
                    fired.pop(id(alert)).resolved = now
    return part


def write_lines(firings: list[_Fired], out: IO[str]) -> None:
    """The firings in the order one process makes them, numbered, each with its situation."""
    ordered = sorted(firings, key=lambda f: f.order)
    lives = [
        Firing(n, datetime.fromisoformat(f.line["fired_at"]), f.resolved, f.line["key"],
               frozenset(f.line["complaint_ids"]))
        for n, f in enumerate(ordered, start=1)
    ]  # fmt: skip
    situation = situation_ids(lives)
    for life, firing in zip(lives, ordered, strict=True):
        line = {**firing.line, "alert": life.id, "situation": situation[life.id]}
        out.write(json.dumps(line, ensure_ascii=False) + "\n")


def _replay_child(connection: Any, *args: Any) -> None:
    try:
        # args are _replay's positional parameters, all before progress
        part = _replay(*args, progress=False)  # type: ignore[misc]
        connection.send(part)
    except BaseException as exc:  # the parent reports it; a child must not print a traceback
        connection.send(RuntimeError(f"backtest worker failed: {type(exc).__name__}: {exc}"))
    finally:
        connection.close()


def default_jobs() -> int:
    """Processes for a replay: RADAR_BACKTEST_JOBS, else up to 2 (the rules split two ways)."""
    value = os.environ.get("RADAR_BACKTEST_JOBS", "").strip()
    if value.isdigit() and int(value) >= 1:
        return int(value)
    return min(2, os.cpu_count() or 1)


def run_backtest(
    frame: pd.DataFrame,
    rules: RulesFile,
    out: IO[str],
    tick: timedelta = timedelta(minutes=5),
    progress: bool = True,
    jobs: int = 1,
) -> BacktestSummary:
    """Replay ``frame`` (see backtest_io.load_complaints) and write one line per firing.

    With ``jobs`` > 1 the rules are shared out between forked processes, each replaying every
    tick for its own rules (the rules share no state, only the read-only complaints). Lines are
    written at the end, by tick and then rule order, once every firing's situation is known.
    """
    started = time.perf_counter()
    summary = BacktestSummary(complaints=len(frame))
    if frame.empty:
        return summary
    reader = MemoryReader(frame)
    tz = ZoneInfo(rules.calendar.timezone)
    first = reader.received_at(0)
    last = reader.received_at(len(reader) - 1)
    summary.start, summary.end = first, last
    ticks = clock_ticks(first, last, tick)
    enabled = [(pos, r) for pos, r in enumerate(r for r in rules.rules if r.enabled)]
    groups = [list(range(len(enabled)))]
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        groups = share_rules(len(enabled), [rule_weight(r) for _, r in enabled], jobs)
    with few_collections():
        parts = _replay_parts(reader, rules, enabled, groups, ticks, tz, progress)
    write_lines([firing for part in parts for firing in part.lines], out)
    for part in parts:
        summary.fired.update(part.fired)
    for _, _, name, error in sorted(f for part in parts for f in part.failed):
        summary.failed_rules[name] = error
    summary.ticks = len(ticks)
    summary.seconds = time.perf_counter() - started
    return summary


@contextmanager
def few_collections() -> Iterator[None]:
    """A replay makes millions of short-lived tuples and lists beside a heap of complaints that
    lives throughout. At its default thresholds CPython's collector walked that heap again and
    again: 8 of 57 s of the 10x bench. Freeze what exists, collect less often; then restore."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _replay_parts(
    reader: MemoryReader,
    rules: RulesFile,
    enabled: list[tuple[int, Any]],
    groups: list[list[int]],
    ticks: list[datetime],
    tz: ZoneInfo,
    progress: bool,
) -> list[_Part]:
    """Each group of rules replayed in its own process (the first in this one)."""
    if len(groups) == 1:
        parts = [_replay(reader, rules, enabled, ticks, tz, progress)]
    else:
        context = multiprocessing.get_context("fork")
        children = []
        for group in groups[1:]:
            receive, send = context.Pipe(duplex=False)
            args = (reader, rules, [enabled[i] for i in group], ticks, tz)
            child = context.Process(target=_replay_child, args=(send, *args), daemon=True)
            child.start()
            send.close()
            children.append((child, receive))
        parts = [_replay(reader, rules, [enabled[i] for i in groups[0]], ticks, tz, progress)]
        for child, receive in children:
            try:
                result = receive.recv()
            except EOFError:
                result = RuntimeError(f"backtest worker exited with code {child.exitcode}")
            child.join()
            if isinstance(result, BaseException):
                raise result
            parts.append(result)
    return parts
