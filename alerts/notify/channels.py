"""The channel interface, the message a channel sends, and the registry from config kind to class.

Each platform lives in its own module; secrets are read from the environment at send time, and
no error message ever contains a secret or a full URL.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Protocol

from alerts.notify.message import Notice, render_text
from config.models import LogChannel
from config.roster import Person

log = logging.getLogger("radar.notify")


# The person a message is for: a roster person; group robots @-mention them.
Recipient = Person


@dataclass(frozen=True)
class Attachment:
    """A file sent along where the channel can carry files (email); robots send text + link."""

    filename: str
    content_type: str  # e.g. "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    idempotency_key: str
    notice: Notice
    recipient: Recipient
    alerts: list[dict] = field(default_factory=list)
    attachments: tuple[Attachment, ...] = ()
    reply_code: str = ""  # set by a channel that acknowledges by SMS reply (see reply_codes)

    @property
    def title(self) -> str:
        return self.notice.title

    @property
    def text(self) -> str:
        return render_text(self.notice)


class DeliveryError(Exception):
    """The channel could not deliver; the sender retries later. Messages never contain secrets."""


class TransientError(DeliveryError):
    """Worth retrying at once with backoff: network trouble, HTTP 5xx, timeouts."""


class PermanentError(DeliveryError):
    """Retrying cannot help (a wrong signing secret, an invalid token, a missing variable, a
    refused address): the fallback channel takes the message at once instead of after
    ``fallback_after`` failures."""


class OutcomeUnknown(DeliveryError):
    """The request left but no answer came (a read timeout, a dropped connection, an SMTP session
    cut after the message data): the receiver may have it. Robots and email are not resent (a
    second page at 3 a.m.), channels that drop repeated idempotency keys are."""


class RateLimited(DeliveryError):
    """The platform (or our own limiter) says slow down; try again after ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: float = 60.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Channel(Protocol):
    name: str
    supports_idempotency: bool  # True when the receiver drops a repeated idempotency key

    def send(self, message: OutgoingMessage) -> None: ...


class LogNotifier:
    """Writes the message to the worker log; needs nothing, so it is the demo's and the last fallback."""

    supports_idempotency = False

    def __init__(self, config: LogChannel) -> None:
        self.name = config.name

    def send(self, message: OutgoingMessage) -> None:
        log.warning("NOTIFY → %s: %s", message.recipient.name, render_text(message.notice))


# END
