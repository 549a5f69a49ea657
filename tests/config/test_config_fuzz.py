"""Fuzzed configuration files through the real loader: check_config never raises, and every
problem is reported with the file and the field path a person has to fix."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.loader import CONFIG_FILES, check_config
from config.settings import PROJECT_ROOT

FILES = sorted(CONFIG_FILES)
SHIPPED = {
    name: yaml.safe_load((PROJECT_ROOT / "config" / name).read_text("utf-8")) for name in FILES
}
FUZZ = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A value no field of any config model accepts: not a scalar, a list of strings or a label map.
NEVER_VALID = {"\x00bad": [{"nested": None}]}

hostile_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "\x00",
            "\x1b[31m",
            "\u202e",
            "😀",
            "Asia",
            "Asia/Nowhere",
            "../../etc/passwd",
            "x" * 100_000,
            "0001-01-01",
            "9999-12-31",
            "2026-02-30",
            "-1",
            "1e999",
            "yes",
            "~",
        ]
    ),
    st.dates().map(str),
)
hostile_value = st.recursive(
    hostile_scalar,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def write_config(root: Path, name: str, content: bytes) -> Path:
    target = root / "config"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir()
    for other in FILES:
        shutil.copy(PROJECT_ROOT / "config" / other, target / other)
    (target / name).write_bytes(content)
    return target


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a YAML document (keys and list indexes)."""
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += paths(value, (*prefix, index))
    return out


def replaced(document: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, dict):
        return {**document, head: replaced(document[head], rest, value)}
    copy = list(document)
    copy[head] = replaced(document[head], rest, value)
    return copy


def tokens(path: str) -> list[str]:
    return [t for t in re.split(r"[.\[\]]+", path) if t]


def names_field(issue_path: str, mutated: tuple) -> bool:
    """The issue's path leads to the mutated field: it walks the same first steps (pydantic adds
    the discriminator, e.g. ``sources[0].csv_folder.columns``, and a before-validator reports a
    label map as a whole)."""
    wanted = [str(p) for p in mutated]
    found = [t for t in tokens(issue_path) if t in wanted]
    need = min(2, len(wanted))
    return len(found) >= need and found[:need] == wanted[:need]


def assert_reported(config, issues, name: str) -> None:
    assert (config is None) == bool(issues)
    for issue in issues:
        assert issue.file in CONFIG_FILES and str(issue).startswith(issue.file)
        assert issue.message.strip()


@FUZZ
@given(data=st.data(), name=st.sampled_from(FILES), value=hostile_value)
def test_any_value_anywhere_is_reported_not_raised(tmp_path, data, name, value):
    document = SHIPPED[name] or {}
    path = data.draw(st.sampled_from(paths(document)), label="path")
    mutated = replaced(document, path, value)
    content = yaml.safe_dump(mutated, allow_unicode=True).encode("utf-8")
    config, issues = check_config(write_config(tmp_path, name, content))
    assert_reported(config, issues, name)


@FUZZ
@given(data=st.data(), name=st.sampled_from(FILES))
def test_a_value_of_the_wrong_type_is_named_by_file_and_field(tmp_path, data, name):
    document = SHIPPED[name] or {}
    path = data.draw(st.sampled_from([p for p in paths(document) if p]), label="path")
    mutated = replaced(document, path, NEVER_VALID)
    content = yaml.safe_dump(mutated, allow_unicode=True).encode("utf-8")
    config, issues = check_config(write_config(tmp_path, name, content))
    assert_reported(config, issues, name)
    mine = [i for i in issues if i.file == name]
    assert any(names_field(i.path, path) for i in mine), (path, [str(i) for i in issues])


@FUZZ
@given(
    data=st.data(),
    name=st.sampled_from(FILES),
    key=st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True),
)
def test_an_unknown_key_is_named_by_file_and_field(tmp_path, data, name, key):
    document = SHIPPED[name] or {}
    mappings = [p for p in paths(document) if isinstance(_at(document, p), dict)]
    path = data.draw(st.sampled_from(mappings), label="path")
    node = _at(document, path)
    if key in node:
        key = key + "_typo"
    mutated = replaced(document, path, {**node, key: NEVER_VALID})
    content = yaml.safe_dump(mutated, allow_unicode=True).encode("utf-8")
    config, issues = check_config(write_config(tmp_path, name, content))
    assert_reported(config, issues, name)
    assert any(names_field(i.path, (*path, key)) for i in issues if i.file == name), [
        str(i) for i in issues
    ]


def _at(document: Any, path: tuple) -> Any:
    for part in path:
        document = document[part]
    return document


RAW_DOCUMENTS = [
    b"\xff\xfe\x00s\x00o",  # UTF-16 bytes
    b"sources:\n  - name: \xc3\x28\n",  # broken UTF-8
    "sources:\n  - name: 投诉\n".encode("gbk"),
    b"\x00\x01\x02",
    b"!!python/object/apply:os.system ['echo pwned']\n",
    b"rules: !!python/name:os.system\n",
    b"a: &a [*a]\n",
    b"a: &x [1]\nb: [*x, *x, *x, *x]\n",
    b"[" * 5_000 + b"]" * 5_000,
    b"{a: " * 3_000 + b"1" + b"}" * 3_000,
    b"- 1\n- 2\n",
    b"just text",
    b"key: value\n\tbad: tab\n",
    b"? [complex, key]\n: value\n",
    b"{1: one, 2.5: two, null: three, true: four}\n",
    b"calendar: {timezone: Asia}\n",
    b"calendar: {timezone: " + b"a" * 5_000 + b"}\n",
    b"calendar: {timezone: ../../../etc/passwd}\n",
    b"x: 2026-02-30\n",
    b"---\na: 1\n---\nb: 2\n",
    b"",
]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("content", RAW_DOCUMENTS, ids=range(len(RAW_DOCUMENTS)))
def test_raw_bytes_are_reported_with_the_file(tmp_path, name, content):
    """Broken encodings, unsafe tags, alias loops, deep nesting, odd keys: an issue, no exception."""
    config, issues = check_config(write_config(tmp_path, name, content))
    assert_reported(config, issues, name)
    assert content == b"" or any(i.file == name for i in issues) or config is not None


@FUZZ
@given(
    name=st.sampled_from(FILES),
    content=st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
)
def test_random_bytes_are_reported_with_the_file(tmp_path, name, content):
    config, issues = check_config(write_config(tmp_path, name, content))
    assert_reported(config, issues, name)
