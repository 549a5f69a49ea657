from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.loader import ConfigError, check_config, load_config
from config.settings import PROJECT_ROOT
from tests.config.test_weak_secrets import STRONG as STRONG_SECRETS


@pytest.fixture
def config_dir(tmp_path) -> Path:
    target = tmp_path / "config"
    target.mkdir()
    for name in ("sources.yaml", "rules.yaml", "roster.yaml", "channels.yaml"):
        shutil.copy(PROJECT_ROOT / "config" / name, target / name)
    return target


def run_check(config_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            str(PROJECT_ROOT / "manage.py"),
            "check-config",
            "--config-dir",
            str(config_dir),
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
        # real keys: with the shipped demo keys check-config fails (tests/config/test_weak_secrets.py)
        env={**os.environ, **STRONG_SECRETS},
    )


def test_shipped_configuration_is_valid():
    config, issues = check_config(PROJECT_ROOT / "config")
    assert issues == [] and config is not None
    assert any(s.kind == "simulator" for s in config.sources.sources)


def test_cli_accepts_shipped_configuration(config_dir):
    result = run_check(config_dir)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_cli_names_file_and_field_of_every_error(config_dir):
    (config_dir / "rules.yaml").write_text(
        "rules:\n  - name: r1\n    kind: threshold\n    threshold: 0\n    window_minutes: 7\n",
        encoding="utf-8",
    )
    (config_dir / "sources.yaml").write_text(
        "sources:\n  - name: s1\n    kind: simulator\n    interval_seconds: 1\n", encoding="utf-8"
    )
    result = run_check(config_dir)
    assert result.returncode == 1
    assert "rules.yaml: rules[0].threshold.threshold" in result.stderr
    assert "rules.yaml: rules[0].threshold.window_minutes" in result.stderr
    assert "sources.yaml: sources[0].simulator.interval_seconds" in result.stderr


def test_unknown_key_is_an_error_not_ignored(config_dir):
    (config_dir / "rules.yaml").write_text(
        "rules:\n  - name: r1\n    kind: threshold\n    threshold: 5\n    treshold: 6\n",
        encoding="utf-8",
    )
    _, issues = check_config(config_dir)
    assert [(i.file, i.path) for i in issues] == [("rules.yaml", "rules[0].threshold.treshold")]


def test_yaml_syntax_error_is_reported_with_file(config_dir):
    (config_dir / "roster.yaml").write_text("people: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_config(config_dir)
    assert excinfo.value.issues[0].file == "roster.yaml"
    assert "YAML syntax error" in excinfo.value.issues[0].message


def test_duplicate_names_are_rejected(config_dir):
    (config_dir / "rules.yaml").write_text(
        "rules:\n"
        "  - {name: r1, kind: threshold, threshold: 5}\n"
        "  - {name: r1, kind: threshold, threshold: 6}\n",
        encoding="utf-8",
    )
    _, issues = check_config(config_dir)
    assert any("duplicate rule name 'r1'" in i.message for i in issues)
