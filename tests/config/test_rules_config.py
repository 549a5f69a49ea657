"""check-config on rules.yaml: every bad rule reported with file and field path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from config.loader import load_file
from config.rules import RulesFile
from config.settings import PROJECT_ROOT


def issues_for(tmp_path: Path, document: dict) -> list[str]:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _, issues = load_file(path, RulesFile)
    return [str(i) for i in issues]


def test_every_shipped_rule_kind_loads():
    rules, issues = load_file(PROJECT_ROOT / "config" / "rules.yaml", RulesFile)
    assert issues == []
    assert rules is not None
    kinds = {r.kind for r in rules.rules}
    assert kinds >= {"surge", "event", "copied_text", "source_silent"}


def test_bad_surge_window_and_unknown_field_are_located(tmp_path):
    found = issues_for(tmp_path, {"rules": [
        {"name": "s", "kind": "surge", "windows_minutes": [7]},
        {"name": "t", "kind": "threshold", "threshold": 3, "treshold_typo": 1},
    ]})  # fmt: skip
    assert any(
        i.startswith("rules.yaml: rules[0].surge.windows_minutes") and "multiple of 5" in i
        for i in found
    )
    assert any("rules[1].threshold.treshold_typo" in i for i in found)


def test_bad_local_level_settings_are_located(tmp_path):
    found = issues_for(tmp_path, {"rules": [
        {"name": "s", "kind": "surge", "local_level_hours": -1, "local_dispersion": 5},
    ]})  # fmt: skip
    assert any(i.startswith("rules.yaml: rules[0].surge.local_level_hours") for i in found)
    assert any(i.startswith("rules.yaml: rules[0].surge.local_dispersion") for i in found)


def test_bad_kind_severity_step_holiday_and_timezone(tmp_path):
    found = issues_for(tmp_path, {
        "calendar": {"timezone": "Mars/Olympus", "holidays": [{"start": "2027-02-10", "end": "2027-02-06"}]},
        "rules": [
            {"name": "x", "kind": "magic"},
            {"name": "e", "kind": "event", "escalate": [{"severity": 2}], "keywords": {"k": []}},
        ],
    })  # fmt: skip
    text = "\n".join(found)
    assert "calendar.timezone" in text and "unknown time zone" in text
    assert "calendar.holidays[0]" in text and "end must not be before start" in text
    assert "rules[0]" in text and "magic" in text
    assert "rules[1].event.escalate[0]" in text and "at least one of" in text
    assert "rules[1].event.keywords" in text


def test_duplicate_rule_names_are_rejected(tmp_path):
    found = issues_for(tmp_path, {"rules": [{"name": "a", "kind": "source_silent"}] * 2})
    assert any("duplicate rule name 'a'" in i for i in found)


def test_cli_check_config_fails_on_a_bad_rule(tmp_path):
    for name in ("sources.yaml", "roster.yaml", "channels.yaml"):
        source = PROJECT_ROOT / "config" / name
        if source.exists():
            (tmp_path / name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "rules.yaml").write_text(
        "rules:\n  - {name: s, kind: surge, alpha: 2}\n", encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "manage.py"), "check-config", "--config-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1
    assert "rules.yaml: rules[0].surge.alpha" in result.stderr
