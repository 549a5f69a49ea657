"""This database's installation id (see ``storage.models.Installation``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Installation


def installation_id(session: Session) -> str:
    """The id made by migration 0009; a schema built without migrations gets one now.

    The oldest row wins, so two processes racing to create it still agree afterwards.
    """
    query = select(Installation.id).order_by(Installation.created_at, Installation.id).limit(1)
    found = session.scalar(query)
    if found:
        return found
    try:
        with session.begin_nested():
            session.add(Installation(id=uuid.uuid4().hex, created_at=datetime.now(UTC)))
    except IntegrityError:  # pragma: no cover - a uuid4 collision
        pass
    return session.scalar(query) or ""
