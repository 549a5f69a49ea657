"""Shared pieces of the configuration models."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

Dimension = Literal[
    "source", "channel", "product_code", "product_line", "region", "category", "event_tag", "branch"
]
# Values to keep per dimension: a rule's filters are keyed by Dimension, other callers' by str
# (a Mapping is invariant in its key type, so the two spellings need the union).
DimensionFilters = Mapping[Dimension, Sequence[str]] | Mapping[str, Sequence[str]]
NAME_PATTERN = r"^[a-z0-9][a-z0-9_\-]{0,62}$"
EnvVarName = Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]


class StrictModel(BaseModel):
    """Unknown keys are errors, so a typo is reported by check-config instead of ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def known_zone(value: str) -> str:
    """``value`` if it names an IANA time zone; a ValueError that check-config shows otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # 'Asia' is a folder, not a zone
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai or Europe/London"
        ) from None
    return value


def require_unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what} name {name!r}")
        seen.add(name)
