"""Whether an alert's pages are held back now, and why (Alertmanager's muting stages).

Silences, inhibition and mute windows each say why they hold an alert back, or None; they are
asked in that order and the first reason wins. A silence's or an inhibition's reason goes to the
alert's audit trail once; a mute window only defers (the alert is paged when it ends), so its
reason is not written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from alerts.notify.routing import muted_by
from alerts.state.inhibition import Inhibitor
from alerts.state.silences import Silences, active_silences, alert_labels
from alerts.state.transition import record_note
from config.loader import RadarConfig
from config.routes import MuteWindow
from domain.calendar import HolidayCalendar
from domain.states import EventKind
from storage.models import Alert


class Muter(Protocol):
    recorded: bool  # whether its reason goes to the alert's audit trail

    def reason(self, alert: Alert, now: datetime) -> str | None: ...


class MuteWindows:
    """The mute windows of routes.yaml: the name of the window the alert is held back by."""

    recorded = False

    def __init__(self, windows: list[MuteWindow], calendar: HolidayCalendar):
        self.windows, self.calendar = windows, calendar

    def reason(self, alert: Alert, now: datetime) -> str | None:
        return muted_by(self.windows, alert_labels(alert), now, self.calendar)


def stages(session: Session, config: RadarConfig, now: datetime) -> list[Muter]:
    """Silences, inhibition, mute windows: in the order they are asked."""
    calendar = HolidayCalendar(config.rules.calendar)
    return [
        Silences(active_silences(session, now)),
        Inhibitor(session),
        MuteWindows(config.routes.mute_windows, calendar),
    ]


def held_back(
    session: Session, muters: list[Muter], alert: Alert, now: datetime, audit: bool = True
) -> bool:
    """Whether a stage holds the alert's pages back now; the first reason is written once
    (``audit``) when its stage is recorded."""
    for muter in muters:
        reason = muter.reason(alert, now)
        if reason is None:
            continue
        if audit and muter.recorded:
            record_note(session, alert.id, EventKind.NOTIFY_SUPPRESSED, reason, now, once=True)
        return True
    return False
