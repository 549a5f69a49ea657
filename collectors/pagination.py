"""Pagination of JSON APIs (page, offset and cursor styles), shared by complaint and count sources.

A walk through the pages keeps its place in a small dict (``page``, ``offset`` or ``token``) that
the collector stores in its cursor after each page is committed, so a crash re-reads one page.
"""

from __future__ import annotations

from typing import Any

from collectors.http_client import SourceUnavailable
from collectors.mapping import get_path
from config.sources import PaginationOptions

# Longer tokens do not fit a URL that servers and proxies accept (8 KB request lines are common).
MAX_TOKEN_CHARS = 4096


def page_params(options: PaginationOptions, state: dict[str, Any]) -> dict[str, Any]:
    """The query parameters that ask for the page ``state`` points at (the first when empty)."""
    if options.pagination == "page":
        return {
            options.page_param: state.get("page", options.first_page),
            options.size_param: options.page_size,
        }
    if options.pagination == "offset":
        return {
            options.offset_param: state.get("offset", 0),
            options.limit_param: options.page_size,
        }
    if options.pagination == "cursor" and state.get("token"):
        return {options.cursor_param: state["token"]}
    return {}


def next_page(
    options: PaginationOptions, state: dict[str, Any], document: Any, n: int
) -> dict[str, Any] | None:
    """Where the next page starts, or None when this page (``n`` items) was the last one."""
    if options.pagination == "page" and n >= options.page_size:
        return {"page": state.get("page", options.first_page) + 1}
    if options.pagination == "offset" and n >= options.page_size:
        return {"offset": state.get("offset", 0) + n}
    if options.pagination == "cursor":
        token = get_path(document, options.next_cursor_path)
        if token not in (None, "") and n > 0 and str(token) != str(state.get("token")):
            return {"token": _usable_token(str(token), options.next_cursor_path)}
    return None


def _usable_token(token: str, path: str) -> str:
    """Refuse the page, not the rest of the walk: a token we cannot send would strand the cursor."""
    if len(token) > MAX_TOKEN_CHARS:
        raise SourceUnavailable(
            f"next-page token at {path!r} is {len(token):,} characters, "
            f"more than the {MAX_TOKEN_CHARS:,} a request URL can carry"
        )
    return token
