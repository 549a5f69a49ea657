"""Sign-in and roles. Off by default (the demo needs no setup); ``password`` checks bcrypt hashes
from a users file; ``oidc`` uses Streamlit's ``st.login`` and maps the signed-in e-mail to a role.

Roles: duty_manager, on_call, executive, admin. Executives see trends, not complaint texts;
only on-call staff and above act on alerts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import bcrypt
import yaml
from pydantic import Field

from config.base import StrictModel

Role = Literal["duty_manager", "on_call", "executive", "admin"]
ACTING_ROLES: frozenset[str] = frozenset({"on_call", "duty_manager", "admin"})
TEXT_ROLES: frozenset[str] = frozenset({"on_call", "duty_manager", "admin"})
ADMIN_ROLES: frozenset[str] = frozenset({"duty_manager", "admin"})
# Pages each role may open (keys are page ids in streamlit_app.py).
PAGES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "admin": ("wall", "alerts", "weekly", "monthly", "ledger", "sources", "settings"),
    "duty_manager": ("wall", "alerts", "weekly", "monthly", "ledger", "sources", "settings"),
    "on_call": ("wall", "alerts", "ledger", "sources"),
    "executive": ("wall", "weekly", "monthly"),
}
# A valid hash of a random password: unknown users cost the same time as known ones.
_DUMMY_HASH = b"$2b$12$C6UzMDM.H6dfI/f/IKcEeO3bVAoIq3w8K5RNKM1sORWIN3o5gvU2y"


class UserEntry(StrictModel):
    username: str = Field(min_length=1, max_length=64)
    name: str = ""
    role: Role
    password_hash: str = Field(default="", description="bcrypt hash; empty for OIDC-only users")
    email: str = ""


class UsersFile(StrictModel):
    users: list[UserEntry] = Field(default_factory=list)


@dataclass(frozen=True)
class User:
    username: str
    name: str
    role: str

    @property
    def can_act(self) -> bool:
        return self.role in ACTING_ROLES

    @property
    def can_read_texts(self) -> bool:
        return self.role in TEXT_ROLES

    @property
    def pages(self) -> tuple[str, ...]:
        return PAGES_BY_ROLE.get(self.role, ("wall",))


def load_users(path: Path) -> UsersFile:
    """The configured users; a missing file means nobody can sign in with a password."""
    if not path.exists():
        return UsersFile()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return UsersFile.model_validate(data)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def verify_password(users: UsersFile, username: str, password: str) -> User | None:
    """The user when the password matches its bcrypt hash, else None (same cost either way)."""
    entry = next((u for u in users.users if u.username == username), None)
    stored = entry.password_hash.encode() if entry and entry.password_hash else _DUMMY_HASH
    try:
        ok = bcrypt.checkpw(password.encode(), stored)
    except ValueError:  # a malformed hash in the file never lets anyone in
        ok = False
    if entry is None or not entry.password_hash or not ok:
        return None
    return User(entry.username, entry.name or entry.username, entry.role)


def user_for_email(users: UsersFile, email: str) -> User | None:
    """Role for an OIDC identity; unknown identities get no role at all."""
    entry = next((u for u in users.users if u.email and u.email.lower() == email.lower()), None)
    if entry is None:
        return None
    return User(entry.username, entry.name or entry.username, entry.role)


def anonymous(operator: str) -> User:
    """With sign-in off everyone acts as admin; the audit trail records the typed operator name
    (empty until typed: the console then asks for it rather than log a made-up name)."""
    name = operator.strip()[:64]
    return User(name, name, "admin")


def session_expired(signed_in_at: datetime | None, now: datetime, minutes: int) -> bool:
    """A password session lasts one shift by default; a missing start time counts as expired."""
    return signed_in_at is None or now - signed_in_at >= timedelta(minutes=minutes)
