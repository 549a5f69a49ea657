"""Dashboard-only settings from environment variables (prefix ``RADAR_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.settings import PROJECT_ROOT


class DashboardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RADAR_", extra="ignore")

    auth: Literal["off", "password", "oidc"] = Field(
        default="off", description="off: no sign-in (demo); password: users file; oidc: st.login"
    )
    users_file: Path = Field(default=PROJECT_ROOT / "config" / "users.yaml")
    deadline_days: Literal["calendar", "working"] = Field(
        default="calendar", description="Count regulatory deadlines in calendar or working days."
    )
    session_minutes: int = Field(
        default=480, ge=1, le=7 * 24 * 60, description="Password sign-in expires after this long."
    )
    wall_refresh_seconds: int = Field(default=5, ge=2, le=300)
    stale_source_minutes: int = Field(
        default=10, ge=1, description="A source with no successful run for this long is stale."
    )


@lru_cache(maxsize=1)
def dashboard_settings() -> DashboardSettings:
    return DashboardSettings()
