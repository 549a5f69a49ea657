"""Email against a real SMTP server (aiosmtpd) in the test process."""

from __future__ import annotations

import asyncio
import socket
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from alerts.notify.channels import DeliveryError, OutcomeUnknown, TransientError
from alerts.notify.email import EmailNotifier
from config.models import EmailChannel
from tests.notify.test_robots import message


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def body_of(mail: EmailMessage, subtype: str = "plain") -> str:
    """The text of the mail's ``text/<subtype>`` part; a mail without one fails the test."""
    part = mail.get_body((subtype,))
    assert part is not None, f"no text/{subtype} part"
    return part.get_content()


def config(port: int, **kw) -> EmailChannel:
    values = {
        "name": "mail", "kind": "email", "host": "127.0.0.1", "port": port, "security": "none",
        "from_addr": "radar@example.com", "to": ["duty@example.com"], "retry_wait_seconds": 0,
    }  # fmt: skip
    return EmailChannel.model_validate(values | kw)


def test_email_has_text_and_escaped_html_and_reaches_person_and_list(smtp):
    controller, inbox = smtp
    outgoing = message()
    outgoing = type(outgoing)(
        idempotency_key="k-mail",
        notice=outgoing.notice,
        recipient=type(outgoing.recipient)(id="a", name="值班甲", email="a@example.com"),
    )
    EmailNotifier(config(controller.port)).send(outgoing)
    [(sender, recipients, raw)] = inbox.messages
    assert sender == "radar@example.com"
    assert sorted(recipients) == ["a@example.com", "duty@example.com"]
    mail = message_from_bytes(raw, policy=policy.default)
    assert (
        mail["Subject"].startswith("【Ⅰ级投诉预警】产品 P000")
        and mail["X-Idempotency-Key"] == "k-mail"
    )
    text = body_of(mail)
    html = body_of(mail, "html")
    assert "一键确认：http://radar.local/alerts?ack=token1" in text
    assert '<a href="http://radar.local/alerts?ack=token1">一键确认</a>' in html
    assert "<font" not in html and "<@all>" not in html


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_refused_connection_is_retried_then_reported(smtp):
    with pytest.raises(TransientError, match="ConnectionRefusedError"):
        EmailNotifier(config(free_port(), retries=2)).send(message())


def test_starttls_is_not_silently_skipped_when_the_server_lacks_it(smtp):
    controller, inbox = smtp
    port = controller.port
    with pytest.raises(DeliveryError):
        EmailNotifier(config(port, security="starttls")).send(message())
    assert inbox.messages == []


class SlowInbox(Inbox):
    """Queues the message, then takes a second to say so (a busy relay)."""

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        await asyncio.sleep(1.0)
        return "250 Message accepted for delivery"


def test_timeout_after_the_message_was_handed_over_is_unknown_and_not_retried():
    inbox = SlowInbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with pytest.raises(OutcomeUnknown, match="while sending; the server may have it"):
            EmailNotifier(config(controller.port, timeout_seconds=0.3, retries=3)).send(message())
        time.sleep(1.5)  # any quick retry would have been queued by now
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
