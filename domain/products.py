"""The product alias table: the many names of one product (险种名称, old codes, nicknames) → its code."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_SPACES = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    line: str


def alias_key(value: Any) -> str:
    """Case, full-width spaces and blanks do not distinguish product names."""
    return _SPACES.sub("", str(value or "")).casefold()


class ProductTable:
    """Lookup from any alias, name or code to the canonical product."""

    def __init__(self, entries: Iterable[Any] = ()) -> None:
        self._by_alias: dict[str, Product] = {}
        for entry in entries:
            product = Product(entry.code, entry.name or "", entry.line or "")
            for alias in (entry.code, entry.name, *entry.aliases):
                if alias:
                    self._by_alias.setdefault(alias_key(alias), product)

    def __bool__(self) -> bool:
        return bool(self._by_alias)

    def lookup(self, *candidates: Any) -> Product | None:
        """The first candidate (code, then name) that names a known product."""
        for candidate in candidates:
            key = alias_key(candidate)
            if key and key in self._by_alias:
                return self._by_alias[key]
        return None

    def resolve(self, code: str, name: str, line: str) -> tuple[str, str, str]:
        """Canonical (code, name, line); unknown products are kept as delivered, never dropped."""
        product = self.lookup(code, name)
        if product is None:
            return code, name, line
        return product.code, product.name or name, product.line or line
