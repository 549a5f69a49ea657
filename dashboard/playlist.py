"""The wall's optional playlist: which view a TV shows, from the wall clock alone.

``/?playlist=60`` rotates the wall, the open-alert list and the regions view every 60 s. The
view is ``floor(epoch / period) % n``: every TV in the room shows the same view, and nothing is
kept between refreshes. Pure: no Streamlit and no database here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from dashboard.i18n import Lang, t
from domain.severity import SEVERITY_SHORT

# The views, in the order they are shown; each has an i18n name "playlist_view_<name>".
VIEWS = ("wall", "alerts", "regions")
MIN_PERIOD, MAX_PERIOD = 10, 3600


@dataclass(frozen=True)
class PlaylistChoice:
    """``period`` in seconds, or None (no playlist); ``invalid`` when a value was given but refused."""

    period: int | None
    invalid: bool = False


def parse_period(value: str | None) -> PlaylistChoice:
    """The ``playlist`` query parameter: whole seconds from 10 to 3600, else no playlist.

    Absent or empty: no playlist, nothing to say. Anything else outside the range (a word, a
    fraction, 5, 86400, "nan"): no playlist, and ``invalid`` so the wall can say so.
    """
    if value is None or not str(value).strip():
        return PlaylistChoice(None)
    text = str(value).strip()
    try:
        seconds = float(text)
    except ValueError:
        return PlaylistChoice(None, invalid=True)
    if not math.isfinite(seconds) or seconds != int(seconds):
        return PlaylistChoice(None, invalid=True)
    period = int(seconds)
    if not MIN_PERIOD <= period <= MAX_PERIOD:
        return PlaylistChoice(None, invalid=True)
    return PlaylistChoice(period)


@dataclass(frozen=True)
class Slot:
    """The view shown at one instant: its index, its name and the seconds until the next."""

    index: int
    view: str
    seconds_left: int


def current_slot(epoch: float, period: int, views: tuple[str, ...] = VIEWS) -> Slot:
    """``floor(epoch / period) % len(views)``, and how long until the next one (1..period)."""
    if period <= 0:
        raise ValueError(f"period must be positive, not {period}")
    if not views:
        raise ValueError("a playlist needs at least one view")
    turn = math.floor(epoch / period)
    index = turn % len(views)
    left = math.ceil((turn + 1) * period - epoch)
    return Slot(index, views[index], max(1, min(period, left)))


def indicator(slot: Slot, lang: Lang, count: int = len(VIEWS)) -> str:
    """'2/3 告警列表 · 下一页 37 秒': where the rotation is, in one short line."""
    name = t(f"playlist_view_{slot.view}", lang)
    return t("playlist_indicator", lang).format(
        index=slot.index + 1, count=count, name=name, seconds=slot.seconds_left
    )


@dataclass(frozen=True)
class AlertTally:
    """The alert list's headline: open alerts, how many still firing, acknowledged, per level."""

    total: int
    firing: int
    acknowledged: int
    by_severity: dict[int, int]


def alert_tally(alerts: pd.DataFrame) -> AlertTally:
    """Counts over every open alert (not one per situation); pending counts as firing, as on
    the wall: nobody has acknowledged it yet. ``by_severity`` has all four levels, 0 included."""
    if alerts.empty:
        return AlertTally(0, 0, 0, dict.fromkeys(SEVERITY_SHORT, 0))
    acknowledged = int((alerts["state"] == "acknowledged").sum())
    levels = alerts["severity"].astype(int).value_counts()
    by_severity = {level: int(levels.get(level, 0)) for level in SEVERITY_SHORT}
    return AlertTally(len(alerts), len(alerts) - acknowledged, acknowledged, by_severity)
