"""sources.yaml: every documented example validates; mistakes name the file and the field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from collectors.registry import COLLECTOR_KINDS, build_collector
from config.loader import check_config
from config.settings import PROJECT_ROOT

EXAMPLE_LINE = re.compile(r"^  # ( {2}|- )")


@pytest.fixture
def config_dir(tmp_path) -> Path:
    target = tmp_path / "config"
    target.mkdir()
    for name in ("sources.yaml", "rules.yaml", "roster.yaml", "channels.yaml"):
        shutil.copy(PROJECT_ROOT / "config" / name, target / name)
    return target


def uncommented_examples() -> str:
    """sources.yaml with its commented examples switched on."""
    lines = []
    for line in (PROJECT_ROOT / "config" / "sources.yaml").read_text(encoding="utf-8").splitlines():
        lines.append("  " + line[4:] if EXAMPLE_LINE.match(line) else line)
    return "\n".join(lines) + "\n"


def test_only_the_simulator_is_enabled_by_default():
    config, issues = check_config(PROJECT_ROOT / "config")
    assert issues == []
    assert config is not None
    assert [s.kind for s in config.sources.sources if s.enabled] == ["simulator"]


def test_every_commented_example_is_valid_and_builds(config_dir):
    (config_dir / "sources.yaml").write_text(uncommented_examples(), encoding="utf-8")
    config, issues = check_config(config_dir)
    assert issues == []
    assert config is not None
    kinds = {s.kind for s in config.sources.sources}
    assert kinds == set(COLLECTOR_KINDS)
    for source in config.sources.sources:
        assert build_collector(source) is not None


@pytest.mark.parametrize(
    ("change", "path", "message"),
    [
        ({"encoding": "latin-9"}, "sources[1].csv_folder.encoding", "Input should be"),
        ({"settle_seconds": -1}, "sources[1].csv_folder.settle_seconds", "greater than or equal"),
        ({"channel": "信鸽"}, "sources[1].csv_folder.channel", "unknown channel"),
        ({"colums": {}}, "sources[1].csv_folder.colums", "Extra inputs"),
        ({"columns": {"recieved_at": "受理时间"}}, "sources[1].csv_folder.columns.recieved_at", ""),
    ],
)
def test_bad_csv_source_names_file_and_field(config_dir, change, path, message):
    data = yaml.safe_load(uncommented_examples())
    data["sources"][1].update(change)
    (config_dir / "sources.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    config, issues = check_config(config_dir)
    assert config is None
    assert any(
        i.file == "sources.yaml" and i.path.startswith(path) and message in i.message
        for i in issues
    ), issues


def test_sql_source_with_password_in_url_is_refused(config_dir):
    data = yaml.safe_load(uncommented_examples())
    sql = data["sources"][2]
    sql.pop("url_env")
    sql["url"] = "postgresql+psycopg://crm:hunter2@db/crm"
    (config_dir / "sources.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    _, issues = check_config(config_dir)
    (issue,) = issues
    assert (issue.file, issue.path) == ("sources.yaml", "sources[2].sql")
    assert "password" in issue.message and "hunter2" not in str(issue)


def test_counts_source_needs_exactly_one_origin(config_dir):
    data = yaml.safe_load(uncommented_examples())
    data["sources"][5]["http"] = {"url": "http://127.0.0.1:1/x"}
    (config_dir / "sources.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
    )
    _, issues = check_config(config_dir)
    assert [(i.path, "exactly one of path and http" in i.message) for i in issues] == [
        ("sources[5].counts", True)
    ]
