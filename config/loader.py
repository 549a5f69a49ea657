"""Load and validate the YAML configuration, reporting every problem with file and field path."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from config.models import ChannelsFile, RosterFile, RulesFile, SourcesFile
from config.routes import RoutesFile, routes_cross_issues
from config.rules import CalendarConfig

M = TypeVar("M", bound=BaseModel)

CONFIG_FILES: dict[str, type[BaseModel]] = {
    "sources.yaml": SourcesFile,
    "rules.yaml": RulesFile,
    "roster.yaml": RosterFile,
    "channels.yaml": ChannelsFile,
    "routes.yaml": RoutesFile,
}


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class RadarConfig:
    sources: SourcesFile
    rules: RulesFile
    roster: RosterFile
    channels: ChannelsFile
    routes: RoutesFile = dataclasses.field(default_factory=RoutesFile)


class ConfigError(Exception):
    def __init__(self, issues: list[ConfigIssue]):
        self.issues = issues
        super().__init__("invalid configuration:\n" + "\n".join(f"  {i}" for i in issues))


def load_file(path: Path, model: type[M]) -> tuple[M | None, list[ConfigIssue]]:
    """Parse one YAML file into its model; a missing file means the model's defaults."""
    name = path.name
    if not path.exists():
        return model(), []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        return None, [ConfigIssue(name, "", f"not UTF-8 text: {exc}")]
    except yaml.YAMLError as exc:
        return None, [ConfigIssue(name, "", f"YAML syntax error: {exc}")]
    except RecursionError:
        return None, [ConfigIssue(name, "", "YAML nested too deeply")]
    except ValueError as exc:  # the YAML reader builds dates itself: 2026-02-30 raises here
        return None, [ConfigIssue(name, "", f"invalid YAML value: {exc}")]
    except OSError as exc:
        return None, [ConfigIssue(name, "", f"cannot read the file: {type(exc).__name__}")]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [ConfigIssue(name, "", "top level must be a mapping")]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [
            ConfigIssue(name, _format_loc(err["loc"]), err["msg"]) for err in exc.errors()
        ]
    except RecursionError:
        return None, [ConfigIssue(name, "", "nested too deeply")]


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def check_config(config_dir: Path) -> tuple[RadarConfig | None, list[ConfigIssue]]:
    """Validate every file plus the links between them; returns the config only when it is clean."""
    loaded: dict[str, BaseModel | None] = {}
    issues: list[ConfigIssue] = []
    for filename, model in CONFIG_FILES.items():
        value, file_issues = load_file(config_dir / filename, model)
        loaded[filename] = value
        issues.extend(file_issues)
    if issues:
        return None, issues
    rules = _loaded(loaded, "rules.yaml", RulesFile)
    config = RadarConfig(
        sources=_with_source_zones(_loaded(loaded, "sources.yaml", SourcesFile), rules.calendar),
        rules=rules,
        roster=_loaded(loaded, "roster.yaml", RosterFile),
        channels=_loaded(loaded, "channels.yaml", ChannelsFile),
        routes=_loaded(loaded, "routes.yaml", RoutesFile),
    )
    issues.extend(_cross_checks(config))
    return (None if issues else config), issues


def _loaded(loaded: dict[str, BaseModel | None], filename: str, model: type[M]) -> M:
    """One file's model once every file loaded without issues."""
    value = loaded[filename]
    assert isinstance(value, model), filename
    return value


def _with_source_zones(sources: SourcesFile, calendar: CalendarConfig) -> SourcesFile:
    """Each source without a ``timezone`` of its own reads offset-less times in
    ``calendar.timezone``: filled in here, the one place that sees both files."""
    resolved = [
        s if s.timezone else s.model_copy(update={"timezone": calendar.timezone})
        for s in sources.sources
    ]
    return sources.model_copy(update={"sources": resolved})


def _cross_checks(config: RadarConfig) -> list[ConfigIssue]:
    issues = []
    channel_names = [c.name for c in config.channels.channels]
    for path, message in routes_cross_issues(config.routes, channel_names):
        issues.append(ConfigIssue("routes.yaml", path, message))
    for i, channel in enumerate(config.channels.channels):
        for field in (
            "url_env",
            "secret_env",
            "password_env",
            "access_key_id_env",
            "access_key_secret_env",
            "secret_id_env",
            "secret_key_env",
        ):
            env_name = getattr(channel, field, None)
            if channel.enabled and env_name and not os.environ.get(env_name):
                issues.append(
                    ConfigIssue(
                        "channels.yaml",
                        f"channels[{i}].{field}",
                        f"environment variable {env_name} is not set",
                    )
                )
    return issues


def load_config(config_dir: Path) -> RadarConfig:
    """Load the configuration or raise ``ConfigError`` listing every issue."""
    config, issues = check_config(config_dir)
    if config is None:
        raise ConfigError(issues)
    return config
