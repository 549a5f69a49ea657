"""The two signing keys, their shipped demo values, and whether the running process may use them.

``RADAR_ACK_SECRET`` signs one-click acknowledge links and ``RADAR_PII_SALT`` keys the customer
hashes. Their demo values are in this public source: with them anyone can forge an acknowledge
link, and the customer key of every mobile is reversed by hashing the whole number space. The
demo (``manage.py demo``, which sets ``RADAR_DEMO=1``) may run with them; anything else is told
loudly, ``check-config`` fails, and with ``RADAR_ENV=production`` the worker refuses to start.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEMO_ACK_SECRET = "complaint-radar-dev-ack-secret"
DEMO_PII_SALT = "complaint-radar-demo-salt"
DEMO_VALUES = {"RADAR_ACK_SECRET": DEMO_ACK_SECRET, "RADAR_PII_SALT": DEMO_PII_SALT}
MIN_LENGTH = 16  # 16 random characters: far beyond a brute force over the key


@dataclass(frozen=True)
class WeakSecret:
    name: str
    reason_zh: str
    reason_en: str

    def __str__(self) -> str:
        return f"{self.name}: {self.reason_zh} / {self.reason_en}"


def weak_secrets(environ: Mapping[str, str] | None = None) -> list[WeakSecret]:
    """Every signing key that is unset, the shipped demo value, or too short to resist guessing."""
    env = os.environ if environ is None else environ
    found = []
    for name, demo in DEMO_VALUES.items():
        value = env.get(name, "")
        if not value:
            found.append(
                WeakSecret(
                    name, "未设置，正在使用公开的演示值", "not set: the public demo value is used"
                )
            )
        elif value == demo:
            found.append(WeakSecret(name, "是公开的演示值", "is the public demo value"))
        elif len(value) < MIN_LENGTH:
            found.append(
                WeakSecret(
                    name, f"少于 {MIN_LENGTH} 个字符", f"shorter than {MIN_LENGTH} characters"
                )
            )
    return found


def demo_mode(environ: Mapping[str, str] | None = None) -> bool:
    """True inside ``manage.py demo`` (it sets ``RADAR_DEMO=1`` for itself and its children)."""
    env = os.environ if environ is None else environ
    return env.get("RADAR_DEMO") == "1"


def production_mode(environ: Mapping[str, str] | None = None) -> bool:
    """``RADAR_ENV=production``: weak keys stop the worker instead of being only reported."""
    env = os.environ if environ is None else environ
    return env.get("RADAR_ENV", "").lower() in {"prod", "production"}


def ack_links_trusted(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a valid acknowledge link proves anything: not when its key is public (outside
    the demo anyone can sign one with the demo key from this repository)."""
    env = os.environ if environ is None else environ
    weak = any(w.name == "RADAR_ACK_SECRET" for w in weak_secrets(env))
    return demo_mode(env) or not weak
