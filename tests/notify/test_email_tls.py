"""Email over TLS against a real aiosmtpd server with certificates made by openssl for the test.

STARTTLS (the server refuses mail and AUTH before it) and implicit TLS (SMTP_SSL), each with a
login whose password comes from the environment; a server certificate that does not verify must
fail clearly — before any password is sent, and without the password in the error.
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError

from alerts.notify.channels import DeliveryError
from alerts.notify.email import EmailNotifier
from config.models import EmailChannel
from tests.notify.test_email import Inbox, free_port
from tests.notify.test_robots import message

PASSWORD = "s3cret-SMTP-passw0rd"
PASSWORD_ENV = "RADAR_TEST_SMTP_PASSWORD"


@dataclass(frozen=True)
class Pki:
    ca: Path  # the CA that signed the server certificate
    other_ca: Path  # a CA that did not
    server_cert: Path  # for 127.0.0.1 and localhost
    server_key: Path
    misnamed_cert: Path  # signed by the CA too, but for mail.example.com only
    misnamed_key: Path

    def server_context(self, misnamed: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        if misnamed:
            context.load_cert_chain(self.misnamed_cert, self.misnamed_key)
        else:
            context.load_cert_chain(self.server_cert, self.server_key)
        return context


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.pem"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key.name, "-out", cert.name, "-days", "2", "-subj", f"/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    return key, cert


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    assert shutil.which("openssl"), "the openssl command (Debian package openssl) is needed"
    folder = tmp_path_factory.mktemp("pki")
    ca_key, ca = make_ca(folder, "Radar Test CA")
    _, other_ca = make_ca(folder, "Some Other CA")
    for name, names in (
        ("server", "IP:127.0.0.1,DNS:localhost"),
        ("misnamed", "DNS:mail.example.com"),
    ):
        (folder / f"{name}.ext").write_text(
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
            f"extendedKeyUsage=serverAuth\nsubjectAltName={names}\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
        )
        openssl(
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}",
            cwd=folder,
        )  # fmt: skip
        openssl(
            "x509", "-req", "-in", f"{name}.csr", "-CA", ca.name, "-CAkey", ca_key.name,
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
            cwd=folder,
        )  # fmt: skip
    return Pki(
        ca, other_ca, folder / "server.pem", folder / "server.key",
        folder / "misnamed.pem", folder / "misnamed.key",
    )  # fmt: skip


@dataclass
class Logins:
    """What reached the server's AUTH: (login, password, over TLS?) per attempt."""

    attempts: list[tuple[str, str, bool]] = field(default_factory=list)

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        over_tls = server.transport.get_extra_info("ssl_object") is not None
        self.attempts.append((login, password, over_tls))
        return AuthResult(success=(login, password) == ("radar", PASSWORD), handled=False)


@pytest.fixture
def starttls_server(pki):
    """Port with STARTTLS required before MAIL and before AUTH."""
    inbox, logins = Inbox(), Logins()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), tls_context=pki.server_context(),
        require_starttls=True, auth_required=True, auth_require_tls=True, authenticator=logins,
    )  # fmt: skip
    controller.start()
    yield controller, inbox, logins
    controller.stop()


@pytest.fixture
def ssl_server(pki):
    """Implicit TLS (the SMTPS port 465 kind): TLS from the first byte."""
    inbox, logins = Inbox(), Logins()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), ssl_context=pki.server_context(),
        auth_required=True, auth_require_tls=False, authenticator=logins,
    )  # fmt: skip
    controller.start()
    yield controller, inbox, logins
    controller.stop()


def channel(port: int, security: str, **kw) -> EmailChannel:
    values = {
        "name": "mail", "kind": "email", "host": "127.0.0.1", "port": port,
        "security": security, "username": "radar", "password_env": PASSWORD_ENV,
        "from_addr": "radar@example.com", "to": ["duty@example.com"], "retry_wait_seconds": 0,
        "timeout_seconds": 10,
    }  # fmt: skip
    return EmailChannel.model_validate(values | kw)


@pytest.fixture(autouse=True)
def smtp_password(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_tls_delivery_with_login_and_custom_ca(request, pki, security):
    controller, inbox, logins = request.getfixturevalue(f"{security}_server")
    EmailNotifier(channel(controller.port, security, ca_file=pki.ca)).send(message())
    [(sender, recipients, raw)] = inbox.messages
    assert sender == "radar@example.com" and recipients == ["duty@example.com"]
    assert message_from_bytes(raw, policy=policy.default)["Subject"].startswith(
        "【Ⅰ级投诉预警】产品 P000"
    )
    assert logins.attempts == [("radar", PASSWORD, True)]  # the password only ever over TLS


@pytest.mark.parametrize("security", ["starttls", "ssl"])
@pytest.mark.parametrize("trust", ["system", "other_ca"])
def test_untrusted_certificate_fails_clearly_before_the_password(request, pki, security, trust):
    controller, inbox, logins = request.getfixturevalue(f"{security}_server")
    extra = {"ca_file": pki.other_ca} if trust == "other_ca" else {}
    with pytest.raises(DeliveryError) as failure:
        EmailNotifier(channel(controller.port, security, **extra)).send(message())
    text = str(failure.value)
    assert text.startswith("mail: server certificate not trusted")
    assert "unable to get local issuer certificate" in text and "ca_file" in text
    assert PASSWORD not in text and PASSWORD not in repr(failure.value)
    assert logins.attempts == [] and inbox.messages == []


def test_wrong_password_is_refused_without_echoing_it(starttls_server, pki, monkeypatch):
    controller, inbox, logins = starttls_server
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    with pytest.raises(DeliveryError) as failure:
        EmailNotifier(channel(controller.port, "starttls", ca_file=pki.ca)).send(message())
    assert str(failure.value) == "mail: SMTP 535"
    assert logins.attempts and set(logins.attempts) == {("radar", "not-the-password", True)}
    assert inbox.messages == []


def test_non_ascii_password_is_a_clear_error(starttls_server, pki, monkeypatch):
    controller, inbox, logins = starttls_server
    monkeypatch.setenv(PASSWORD_ENV, "pässwort-密码")
    with pytest.raises(DeliveryError) as failure:
        EmailNotifier(channel(controller.port, "starttls", ca_file=pki.ca)).send(message())
    assert "non-ASCII" in str(failure.value) and "pässwort" not in str(failure.value)
    assert logins.attempts == [] and inbox.messages == []


def test_certificate_for_another_host_is_refused(pki):
    """Signed by the trusted CA, but for mail.example.com: connecting to 127.0.0.1 must fail."""
    inbox, logins = Inbox(), Logins()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), tls_context=pki.server_context(True),
        require_starttls=True, auth_required=True, auth_require_tls=True, authenticator=logins,
    )  # fmt: skip
    controller.start()
    try:
        with pytest.raises(DeliveryError) as failure:
            EmailNotifier(channel(controller.port, "starttls", ca_file=pki.ca)).send(message())
    finally:
        controller.stop()
    assert "not trusted (IP address mismatch" in str(failure.value)
    assert logins.attempts == [] and inbox.messages == []


def test_a_ca_file_that_is_no_certificate_is_a_clear_error(tmp_path, starttls_server):
    controller, inbox, _ = starttls_server
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(DeliveryError, match=r"mail: ca_file '.*ca\.pem' unusable: SSLError"):
        EmailNotifier(channel(controller.port, "starttls", ca_file=bogus)).send(message())
    assert inbox.messages == []


def test_ca_file_is_validated_in_the_channel_config(tmp_path, pki):
    with pytest.raises(ValidationError, match=r"ca_file .* is not a readable file"):
        channel(587, "starttls", ca_file=tmp_path / "missing.pem")
    with pytest.raises(ValidationError, match="ca_file needs security starttls or ssl"):
        channel(25, "none", ca_file=pki.ca)
    assert channel(465, "ssl", ca_file=pki.ca).ca_file == pki.ca
