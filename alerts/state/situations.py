"""One situation, one alert: alerts of several rules about the same complaints are linked.

A surge on one product makes the product rule, the product × category rule, the product ×
region rule and the channel × product rule fire together, and an event wave contains the
product surges inside it. People should get one alert for the situation: the first alert of a
situation leads, later ones are attached to it (``parent_alert_id``), keep their own evidence
and audit trail, and are not paged on their own. The live engine links after each tick
(``link_new_alerts``); the backtest applies the same test to its firings (``situation_ids``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

# share of the newer alert's complaints that must be the older one's (an event wave holding a
# product surge, a copied text whose complaints are one product's surge)
MIN_SHARED = 0.5
SAME_VALUE_DIMENSIONS = ("product_code", "event_tag")


@dataclass(frozen=True)
class AlertView:
    """What the situation test needs of an alert, live or replayed."""

    id: int
    key: Mapping[str, str]
    complaint_ids: frozenset
    parent_id: int | None = None


def same_situation(new: AlertView, old: AlertView) -> bool:
    """True when ``new`` is about the complaints ``old`` is about.

    The same product or the same event tag (whatever the other dimensions), or at least half of
    ``new``'s complaints among ``old``'s (count-only sources name no complaints: keys decide).
    """
    for dim in SAME_VALUE_DIMENSIONS:
        value = new.key.get(dim)
        if value and old.key.get(dim) == value:
            return True
    if not new.complaint_ids:
        return False
    shared = len(new.complaint_ids & old.complaint_ids)
    return shared / len(new.complaint_ids) >= MIN_SHARED


def lead_for(new: AlertView, active: Sequence[AlertView]) -> int | None:
    """The id of the situation ``new`` joins among the older ``active`` alerts (their lead,
    oldest first), or None when it starts a situation of its own."""
    by_id = {a.id: a for a in active}
    for old in sorted(active, key=lambda a: a.id):
        if old.id < new.id and same_situation(new, old):
            lead = old
            while lead.parent_id is not None and lead.parent_id in by_id:
                lead = by_id[lead.parent_id]
            return lead.id
    return None


@dataclass(frozen=True)
class Firing:
    """One replayed alert's life: created, resolved (None: still active at the end)."""

    id: int
    created: datetime
    resolved: datetime | None
    key: Mapping[str, str]
    complaint_ids: frozenset


def situation_ids(firings: Sequence[Firing]) -> dict[int, int]:
    """Each replayed alert's situation (the lead's id), as the live engine links them: an alert
    joins the situation of an alert that was active when it was created."""
    lead: dict[int, int] = {}
    active: list[Firing] = []  # created earlier and not resolved yet: few at any time
    for firing in sorted(firings, key=lambda f: (f.created, f.id)):
        active = [o for o in active if o.resolved is None or o.resolved > firing.created]
        views = [
            AlertView(o.id, o.key, o.complaint_ids, lead[o.id] if lead[o.id] != o.id else None)
            for o in active
        ]
        joined = lead_for(AlertView(firing.id, firing.key, firing.complaint_ids), views)
        lead[firing.id] = lead[joined] if joined is not None else firing.id
        active.append(firing)
    return lead
