"""Email over SMTP (smtplib): HTML with a plain-text part, STARTTLS, SSL or plain on a trusted relay."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from alerts.notify.channels import (
    DeliveryError,
    OutcomeUnknown,
    OutgoingMessage,
    PermanentError,
    TransientError,
)
from alerts.notify.http import env_value, quick_retries
from alerts.notify.message import render_html, render_text
from config.models import EmailChannel


def build_email(config: EmailChannel, message: OutgoingMessage) -> EmailMessage:
    """The MIME message; the idempotency key rides along as a header for dedupe by mail rules."""
    to = [a for a in [message.recipient.email, *config.to] if a]
    if not to:
        raise PermanentError(f"{config.name}: no address for {message.recipient.id} and no 'to'")
    mail = EmailMessage()
    mail["Subject"] = message.notice.title
    mail["From"] = config.from_addr
    mail["To"] = ", ".join(dict.fromkeys(to))
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(domain=config.from_addr.rpartition("@")[2] or None)
    mail["X-Idempotency-Key"] = message.idempotency_key
    mail.set_content(render_text(message.notice, 100_000))
    mail.add_alternative(render_html(message.notice), subtype="html")
    for attachment in message.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        mail.add_attachment(
            attachment.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    return mail


def tls_context_for(config: EmailChannel) -> ssl.SSLContext:
    """A verifying TLS context; a CA file that cannot be loaded is a clear delivery error."""
    if config.ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(config.ca_file))
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError: not a PEM certificate
        raise PermanentError(
            f"{config.name}: ca_file {str(config.ca_file)!r} unusable: {type(exc).__name__}"
        ) from None


def tls_failure(name: str, exc: ssl.SSLError) -> str:
    """Why TLS failed, for the operator: the certificate check says what did not verify."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = exc.verify_message or exc.reason or "verify failed"
        return (
            f"{name}: server certificate not trusted ({reason}); "
            "nothing was sent, no password was given; set ca_file for an internal CA"
        )
    return f"{name}: TLS failed ({exc.reason or type(exc).__name__})"


def login(smtp: smtplib.SMTP, name: str, username: str, password: str) -> None:
    """smtplib sends credentials as ASCII: say so instead of a UnicodeEncodeError mid-session."""
    try:
        smtp.login(username, password)
    except UnicodeEncodeError:
        raise PermanentError(
            f"{name}: SMTP username or password has non-ASCII characters, which smtplib cannot send"
        ) from None


class EmailNotifier:
    supports_idempotency = False

    def __init__(self, config: EmailChannel, tls_context: ssl.SSLContext | None = None) -> None:
        self.name = config.name
        self.config = config
        self._tls_context = tls_context

    @property
    def tls_context(self) -> ssl.SSLContext:
        """Verifies the server against the system CAs, or only ``ca_file`` when configured."""
        if self._tls_context is None:
            self._tls_context = tls_context_for(self.config)
        return self._tls_context

    def send(self, message: OutgoingMessage) -> None:
        config = self.config
        mail = build_email(config, message)
        password = env_value(config.password_env, "SMTP password") if config.password_env else ""
        quick_retries(config)(lambda: self._deliver(mail, password))()

    def _deliver(self, mail: EmailMessage, password: str) -> None:
        """One SMTP session. Trouble before the message is handed over is transient; trouble while
        handing it over is ``OutcomeUnknown`` (the server may already have queued it, so a quick
        retry could mail everyone twice); trouble after it was accepted (QUIT) is ignored."""
        config = self.config
        smtp_class = smtplib.SMTP_SSL if config.security == "ssl" else smtplib.SMTP
        kwargs: dict[str, Any] = {"context": self.tls_context} if config.security == "ssl" else {}
        stage = "connect"
        try:
            smtp = smtp_class(config.host, config.port, timeout=config.timeout_seconds, **kwargs)
            try:
                if config.security == "starttls":
                    smtp.starttls(context=self.tls_context)
                if config.username:
                    login(smtp, self.name, config.username, password)
                stage = "send"
                smtp.send_message(mail)
                stage = "sent"
            finally:
                _close_quietly(smtp, quit_=stage == "sent")
        except (
            ConnectionError,
            TimeoutError,
            smtplib.SMTPConnectError,
            smtplib.SMTPServerDisconnected,
        ) as exc:
            if stage == "send":
                raise OutcomeUnknown(
                    f"{self.name}: {type(exc).__name__} while sending; the server may have it"
                ) from None
            raise TransientError(f"{self.name}: {type(exc).__name__}") from None
        except smtplib.SMTPResponseException as exc:  # 5xx: refused for good (auth, address)
            error = PermanentError if exc.smtp_code >= 500 else DeliveryError
            raise error(f"{self.name}: SMTP {exc.smtp_code}") from None
        except smtplib.SMTPRecipientsRefused:
            raise PermanentError(f"{self.name}: every recipient refused") from None
        except ssl.SSLError as exc:  # a certificate that does not verify is no passing glitch
            raise PermanentError(tls_failure(self.name, exc)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{self.name}: {type(exc).__name__}") from None


def _close_quietly(smtp: smtplib.SMTP, quit_: bool) -> None:
    """Say QUIT after a delivered message (its failure changes nothing), else just close."""
    try:
        if quit_:
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()
