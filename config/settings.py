"""Process settings from environment variables (prefix ``RADAR_``); secrets never live in YAML."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RADAR_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'data' / 'radar.db'}",
        description="Any SQLAlchemy URL; PostgreSQL (postgresql+psycopg://...) in production.",
    )
    config_dir: Path = Field(default=PROJECT_ROOT / "config")
    dashboard_url: str = Field(
        default="", description="Base of the links in notifications (default: localhost:port)."
    )
    dashboard_port: int = 8501
    worker_name: str = ""
    worker_sources: str = Field(
        default="", description="Comma-separated sources this worker collects; empty means all."
    )
    log_level: str = "INFO"
    text_retention_days: int = Field(
        default=0, ge=0, description="Blank complaint texts older than this (0 keeps them)."
    )

    @model_validator(mode="after")
    def _links_follow_the_port(self) -> Settings:
        """A dashboard moved to another port keeps its acknowledge links working."""
        if not self.dashboard_url:
            self.dashboard_url = f"http://localhost:{self.dashboard_port}"
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
