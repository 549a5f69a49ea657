"""md_text: any outside string renders as exactly itself in CommonMark (issue 19 item 1)."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard.inert import JOINER, md_text
from tests.hostile.corpus import ATTACKER, MARKDOWN

MD = MarkdownIt("commonmark")


def escaped(text: str) -> str:
    """markdown-it's own escaping of text (it leaves ' alone)."""
    return html.escape(text, quote=False).replace('"', "&quot;")


def shown(markdown: str) -> str:
    """What a reader sees: the HTML of one paragraph, tags and all (the word joiner is invisible)."""
    return MD.render(markdown).replace(JOINER, "")


@pytest.mark.parametrize("value", MARKDOWN)
def test_corpus_renders_as_its_own_text(value):
    out = shown("来源 " + md_text(value))
    assert "<a " not in out and "<img" not in out and "<em>" not in out and "<strong>" not in out
    assert "<h1" not in out and "<li>" not in out and "<code>" not in out
    assert out == f"<p>来源 {escaped(' '.join(value.split(chr(10))))}</p>\n"


@settings(max_examples=3000, deadline=None)
@given(
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_characters="\r\n\u2028\u2029\x0b\x0c\x85" + JOINER
        )
    )
)
def test_property_any_line_renders_as_itself(value):
    rendered = shown("x " + md_text(value))
    expected = escaped(("x " + value).replace("\x00", "\ufffd"))
    assert rendered.removeprefix("<p>").removesuffix("</p>\n").rstrip() == expected.rstrip()


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="-+=.)0123456789 #>*[]()!:", max_size=12))
def test_property_no_block_structure_at_the_start(value):
    out = shown(md_text(value))
    assert out.startswith("<p>") or out == ""


def test_links_are_not_links():
    for value in MARKDOWN:
        assert f'href="http://{ATTACKER}' not in shown(md_text(value))


@pytest.mark.parametrize(
    "value", ["http://a.example/x", "HTTPS://A.EXAMPLE", "www.a.example", "x@a.example"]
)
def test_bare_links_are_broken_by_an_invisible_joiner(value):
    """GFM (Streamlit) autolinks bare URLs found in the text after escapes are resolved."""
    out = md_text(value)
    assert JOINER in out
    assert re.search(r"(?i)https?://|www\.|@[a-z]", out.replace("\\", "")) is None
