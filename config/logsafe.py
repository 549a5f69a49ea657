"""Log lines that outside values cannot forge.

A dropped file named ``a.csv\\n2026-12-03 06:00:00 ERROR forged`` (or a source error, a
complaint id, a product name) would otherwise write a line of its own into the worker log, and
an escape sequence or a bidi override would redraw what an operator reads in a terminal. The
formatter escapes control characters in the message, so every record starts one line of its
own; traceback lines are indented, so an exception message cannot forge one either.
"""

from __future__ import annotations

import logging
import re

# C0 controls except tab, DEL, C1 controls, line/paragraph separators, bidi embeddings,
# overrides and isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def escape_controls(text: str) -> str:
    """``text`` on one line: each unsafe character as a visible escape (``\\n``, ``\\x1b``, ``\\u202e``)."""
    return _UNSAFE.sub(lambda m: _NAMED.get(m[0]) or m[0].encode("unicode_escape").decode(), text)


class SafeFormatter(logging.Formatter):
    """A formatter whose message part is always one line of visible characters."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        """Traceback lines indented by four spaces (and escaped but for the line breaks): an
        exception message carrying outside text cannot start a line that looks like a record."""
        text = super().formatException(ei)
        return "\n".join("    " + escape_controls(line) for line in text.split("\n"))

    def formatStack(self, stack_info: str) -> str:
        return "\n".join("    " + escape_controls(line) for line in stack_info.split("\n"))


def install(level: str, fmt: str) -> None:
    """``logging.basicConfig`` with the safe formatter on the root handler."""
    logging.basicConfig(level=level.upper(), format=fmt)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(SafeFormatter(fmt))
