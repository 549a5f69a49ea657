"""The settings page and the wall show roster holes in the next Spring Festival long before it,
from a real config folder (the shipped files plus a roster with a hole)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from alerts.notify.roster_periods import spring_festival
from config.settings import PROJECT_ROOT, get_settings
from tests.dashboard.test_pages import app_env, page_script  # noqa: F401  (fixture)


@pytest.fixture
def holey_config(app_env, tmp_path, monkeypatch):  # noqa: F811
    """Everyone covered until the next Spring Festival's last two nights, then nobody."""
    today = datetime.now(UTC).date()
    festival = next(
        f
        for f in (spring_festival(today.year), spring_festival(today.year + 1))
        if f is not None and f[1] > today
    )
    folder = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", folder)
    roster = yaml.safe_load((folder / "roster.yaml").read_text(encoding="utf-8"))
    last_covered = festival[1] - timedelta(days=2)
    roster["shifts"] = [
        {"role": role, "who": roster["people"][0]["id"], "start": "2026-01-01",
         "end": last_covered.isoformat(), "from_time": "08:00", "to_time": "08:00"}
        for role in ("oncall", "manager", "head")
    ]  # fmt: skip
    roster["overrides"] = []
    (folder / "roster.yaml").write_text(yaml.safe_dump(roster, allow_unicode=True), "utf-8")
    monkeypatch.setenv("RADAR_CONFIG_DIR", str(folder))
    get_settings.cache_clear()
    yield festival
    get_settings.cache_clear()


def test_settings_page_lists_the_spring_festival_hole(holey_config):
    at = AppTest.from_string(page_script("settings_view"), default_timeout=60).run()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    hole = (holey_config[1] - timedelta(days=1)).isoformat()
    assert "排班空缺" in text and f"值班人 空缺 {hole} 08:00" in text and "春节" in text


def test_wall_warns_of_the_roster_hole_ahead(holey_config):
    at = AppTest.from_string(page_script("wall"), default_timeout=60).run()
    assert not at.exception
    assert any("排班空缺：" in w.value and "春节" in w.value for w in at.warning)
