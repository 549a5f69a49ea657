"""Settings from the environment: defaults that stay consistent with each other."""

from __future__ import annotations

from config.settings import Settings


def test_notification_links_follow_the_dashboard_port_unless_an_address_is_set(monkeypatch):
    monkeypatch.delenv("RADAR_DASHBOARD_URL", raising=False)
    monkeypatch.setenv("RADAR_DASHBOARD_PORT", "8600")
    assert Settings().dashboard_url == "http://localhost:8600"
    monkeypatch.setenv("RADAR_DASHBOARD_URL", "https://radar.example.com")
    assert Settings().dashboard_url == "https://radar.example.com"
