"""Models for sources.yaml: one entry per source, discriminated by ``kind``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator, model_validator
from sqlalchemy.engine import make_url

from config.base import NAME_PATTERN, EnvVarName, StrictModel, known_zone, require_unique
from domain.calendar import DEFAULT_TIMEZONE
from domain.vocabulary import CHANNELS, normalise_channel

RecordField = Literal[
    "id",
    "received_at",
    "channel",
    "product_code",
    "product_name",
    "product_line",
    "region",
    "category",
    "event_tag",
    "text",
    "customer_id",
    "customer_phone",
    "branch",
]
CountField = Literal[
    "interval_start",
    "interval_minutes",
    "count",
    "channel",
    "product_code",
    "product_name",
    "product_line",
    "region",
    "category",
    "event_tag",
    "branch",
]


def _known_channel(value: str | None) -> str | None:
    if value is None:
        return None
    code = normalise_channel(value)
    if code is None:
        raise ValueError(f"unknown channel {value!r}; known: {', '.join(CHANNELS)}")
    return code


class SourceBase(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    enabled: bool = True
    interval_seconds: int = Field(default=60, ge=5, le=86_400)
    silent_after_minutes: int | None = Field(
        default=None, ge=1, description="Raise source_silent when nothing arrives for this long."
    )
    timezone: str | None = Field(
        default=None,
        description="IANA zone of the times this source writes without an offset "
        "(default: calendar.timezone of rules.yaml, filled in when the configuration loads).",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        return None if value is None else known_zone(value)


def source_zone(source: SourceBase) -> ZoneInfo:
    """The zone a source's offset-less times are read in. ``check_config`` fills in
    ``calendar.timezone`` for a source without its own; a model built in code without one
    falls back to the product's default zone."""
    return ZoneInfo(source.timezone or DEFAULT_TIMEZONE)


class SimulatorSource(SourceBase):
    """The built-in demo source: realistic Chinese complaints with injected group events."""

    kind: Literal["simulator"]
    rate_per_day: float = Field(default=800.0, gt=0, le=5_000_000)
    seed: int = 7
    backfill_hours: int = Field(default=72, ge=0, le=24 * 400)
    event_every_minutes: int = Field(default=30, ge=5)
    first_event_after_minutes: int = Field(default=1, ge=0)


class ProductAlias(StrictModel):
    """One product and the names sources use for it (险种名称, old codes, abbreviations)."""

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(default="", max_length=128)
    line: str = Field(default="", max_length=32)
    aliases: list[str] = Field(default_factory=list)


class MappedSource(SourceBase):
    """A source of complaint records whose fields are mapped by configuration."""

    columns: dict[RecordField, str] = Field(
        default_factory=dict,
        description="Record field → source column (or JSON path). Known Chinese headers map by default.",
    )
    products: list[ProductAlias] = Field(default_factory=list)
    channel: str | None = Field(
        default=None, description="Channel for records that carry none (e.g. hotline)."
    )

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        return _known_channel(value)


class HttpOptions(StrictModel):
    """How to talk to an HTTP server: auth from the environment, timeouts, retries."""

    url: str = Field(pattern=r"^https?://")
    headers: dict[str, str] = Field(default_factory=dict)
    auth_header: str = "Authorization"
    auth_env: EnvVarName | None = Field(
        default=None, description="Environment variable holding the auth header's full value."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    max_attempts: int = Field(default=4, ge=1, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0, le=600)
    max_backoff_seconds: float = Field(default=60.0, ge=0, le=3600)


class PaginationOptions(StrictModel):
    """How a JSON API splits a long answer into pages (shared by complaint and count sources)."""

    pagination: Literal["none", "page", "offset", "cursor"] = "none"
    page_param: str = "page"
    size_param: str = "page_size"
    page_size: int = Field(default=100, ge=1, le=10_000)
    first_page: int = Field(default=1, ge=0)
    offset_param: str = "offset"
    limit_param: str = "limit"
    cursor_param: str = "cursor"
    next_cursor_path: str = "next_cursor"


class CsvFolderSource(MappedSource):
    """A drop folder of CSV/Excel exports (hotline, call centre); files move to done/ or failed/."""

    kind: Literal["csv_folder"]
    inbox: Path
    done_dir: Path | None = None
    failed_dir: Path | None = None
    encoding: Literal["auto", "utf-8", "utf-8-sig", "gbk", "gb18030"] = "auto"
    sheet: str | None = Field(default=None, description="Excel sheet name; default the first.")
    max_file_mb: int = Field(default=200, ge=1, le=4096)
    max_rows: int = Field(
        default=200_000, ge=1, le=10_000_000, description="More rows in one file: refused."
    )
    max_unpacked_mb: int = Field(
        default=1024, ge=1, le=65_536, description="An Excel file unpacking to more: refused."
    )
    settle_seconds: float = Field(
        default=10,
        ge=0,
        le=3600,
        description="Import a file only once it has not changed for this long (slow uploads).",
    )


class SqlSource(MappedSource):
    """An incremental query on a CRM / call-centre database through any SQLAlchemy URL."""

    kind: Literal["sql"]
    url: str | None = Field(default=None, description="Only for URLs without a password.")
    url_env: EnvVarName | None = Field(default=None, description="Variable holding the URL.")
    query: str = Field(min_length=1, description="A SELECT; the collector adds the cursor filter.")
    cursor_column: str = Field(min_length=1, description="Updated-at or increasing id column.")
    id_column: str = Field(min_length=1, description="Unique id column, the tie-breaker.")
    batch_size: int = Field(default=1000, ge=1, le=100_000)

    @model_validator(mode="after")
    def _one_url(self) -> SqlSource:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("set exactly one of url and url_env")
        if self.url is not None:
            try:
                parsed = make_url(self.url)
            except Exception as exc:
                raise ValueError(f"url is not a SQLAlchemy URL: {type(exc).__name__}") from None
            if parsed.password:
                raise ValueError(
                    "url contains a password: put it in an environment variable (url_env)"
                )
        if not self.query.lstrip().lower().startswith(("select", "with")):
            raise ValueError("query must be a SELECT")
        return self


class HttpApiSource(MappedSource, HttpOptions, PaginationOptions):
    """A JSON API of complaint records (web forms, apps) with a since-parameter and pagination."""

    kind: Literal["http_api"]
    params: dict[str, str] = Field(default_factory=dict)
    records_path: str = Field(default="", description="Dot path to the list, e.g. data.items.")
    since_param: str | None = "since"
    since_field: str = Field(
        default="",
        description="Record path whose newest value is the next since (default: the time).",
    )
    initial_since: str | None = None


class FeedRule(StrictModel):
    """A post containing all of ``all_of`` and one of ``any_of`` is about this product/event."""

    all_of: list[str] = Field(default_factory=list)
    any_of: list[str] = Field(default_factory=list)
    product_code: str = ""
    product_name: str = ""
    product_line: str = ""
    category: str = ""
    event_tag: str = ""

    @model_validator(mode="after")
    def _has_words(self) -> FeedRule:
        if not self.all_of and not self.any_of:
            raise ValueError("a rule needs all_of or any_of keywords")
        return self


class FeedSource(HttpOptions, SourceBase):
    """RSS/Atom or JSON Feed (social listening, news); keyword rules map posts to products."""

    kind: Literal["feed"]
    channel: Literal["social", "media"] = "social"
    rules: list[FeedRule] = Field(default_factory=list)
    products: list[ProductAlias] = Field(default_factory=list)


class CountsSource(SourceBase, PaginationOptions):
    """A source that only reports counts per interval (CTI calls per 15 min, mentions per hour)."""

    kind: Literal["counts"]
    path: Path | None = Field(default=None, description="A CSV the source rewrites.")
    http: HttpOptions | None = None
    records_path: str = ""
    since_param: str | None = "since"
    interval_minutes: int = Field(default=15, ge=1, le=1440)
    channel: str = "hotline"
    columns: dict[CountField, str] = Field(default_factory=dict)
    products: list[ProductAlias] = Field(default_factory=list)

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str) -> str:
        return _known_channel(value) or value

    @model_validator(mode="after")
    def _one_origin(self) -> CountsSource:
        if (self.path is None) == (self.http is None):
            raise ValueError("set exactly one of path and http")
        if self.path is not None and self.pagination != "none":
            raise ValueError("pagination applies to http, not to a counts file")
        if self.interval_minutes not in (1, 5) and self.interval_minutes % 5:
            raise ValueError("interval_minutes must be 1, 5 or a multiple of 5")
        return self


SourceConfig = Annotated[
    SimulatorSource | CsvFolderSource | SqlSource | HttpApiSource | FeedSource | CountsSource,
    Field(discriminator="kind"),
]


class SourcesFile(StrictModel):
    sources: list[SourceConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesFile:
        require_unique([s.name for s in self.sources], "source")
        return self
