"""Outside text made inert for Streamlit widgets that render Markdown.

``st.subheader``, ``st.error``, ``st.info``, ``st.caption``, metric labels and the like all parse
Markdown: a product named ``[点此一键确认](http://attacker/phish)`` would become a real link,
``![](http://attacker/i)`` a fetched image (leaking the dashboard's address in the referer) and
``:red[**紧急**]`` coloured text. Every string that came from outside (complaint fields, alert
keys, a source's error or note, operator names) goes through ``md_text`` before such a widget.
"""

from __future__ import annotations

import re

# The characters of links, images, emphasis, code, tables, HTML, Streamlit's directives
# (``:red[…]``, ``:material/icon:``), ``$…$`` LaTeX and GFM autolinks (``http:``, ``a@b.c``).
# CommonMark lets any ASCII punctuation be backslash-escaped; ``-`` and ``.`` stay readable.
_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#!|~<>$:@&])")  # & : no entities either
# Streamlit's GFM autolinks are found in the parsed text, after escapes are resolved: a bare
# ``http://``, ``www.`` or ``a@b.c`` is broken by an invisible word joiner instead.
_AUTOLINK = re.compile(r"(?i)(:(?=//)|www(?=\.)|@)")
JOINER = "\u2060"
_BLOCK_START = re.compile(r"^(\d*)([-+=.)])")  # a list item or a heading underline
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md_text(value: object) -> str:
    """``value`` as literal text inside Markdown: no links, images, formatting or directives.

    Line breaks become spaces, since a new line could open a heading, a list or a code block;
    an invisible word joiner after ``:`` of ``://``, ``www`` and ``@`` stops autolinks.
    """
    text = _PUNCTUATION.sub(r"\\\1", _LINE_BREAKS.sub(" ", "" if value is None else str(value)))
    return _BLOCK_START.sub(r"\1\\\2", _AUTOLINK.sub(r"\1" + JOINER, text))
