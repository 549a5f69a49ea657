"""Hostile input, shared by the tests that feed it through each path (issue 19).

Each list is what a hostile complainant, a compromised source or a careless operator can put in
a field; the tests that import them say which path they drive and what must hold.
"""

from __future__ import annotations

ATTACKER = "attacker.invalid"

# Markdown and Streamlit directives that must reach a page as text (item 1).
MARKDOWN = [
    f"[点此一键确认](http://{ATTACKER}/phish)",
    f"![](http://{ATTACKER}/i.png)",
    ":red[**紧急**]",
    ":material/warning: 紧急",
    f"<http://{ATTACKER}/angle>",
    f"官方退款入口 http://{ATTACKER}/auto",
    f"www.{ATTACKER}/www",
    f"退款请联系 refund@{ATTACKER}",
    "$\\x$ 与 $$\\frac{1}{0}$$",
    "# 标题\n- 列表\n> 引用",
    "`code` ~~删除~~ | 表 | 格 |",
    f"[ref]: http://{ATTACKER}/ref",
]

# Spreadsheet formulas (item 2): OWASP CSV injection, including the tab/CR prefixes.
FORMULAS = [
    f'=HYPERLINK("http://{ATTACKER}/x","点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",  # full-width: Excel does not evaluate it, but keep it in the corpus
]

# URLs in complaint text that must not become clickable in a robot message (item 10).
LINKS = [
    f"官方退款入口 https://{ATTACKER}/refund?t=1",
    f"点 http://{ATTACKER}:8080/a 领取",
    f"访问 www.{ATTACKER} 即可",
    f"ftp://{ATTACKER}/file",
    f"HTTPS://{ATTACKER.upper()}/X",
    f"hxxp://{ATTACKER}/already-defanged",
]

# Control, bidi and zero-width characters (items 6 and 3).
CONTROL = [
    "a\nERROR forged log line",
    "a\r\nERROR forged",
    "nul\x00byte",
    "bidi\u202eexe.txt",
    "zero\u200bwidth",
    "esc\x1b[31mred",
]
