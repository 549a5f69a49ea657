"""Models for rules.yaml: one entry per rule, discriminated by ``kind``, plus the holiday calendar."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, cast

from pydantic import Field, field_validator, model_validator

from config.base import NAME_PATTERN, Dimension, StrictModel, known_zone, require_unique
from domain.calendar import DEFAULT_TIMEZONE
from domain.vocabulary import CHANNELS


class SeverityStep(StrictModel):
    """Raise the alert to ``severity`` (1 = Ⅰ特别重大 … 4 = Ⅳ一般) when every given condition holds.

    Conditions: the count, how many regions and channels the complaints span, how many came
    through the regulator (监管转办) or the media channels configured in ``severity_channels``.
    """

    severity: int = Field(ge=1, le=4)
    min_count: int | None = Field(default=None, ge=1)
    min_regions: int | None = Field(default=None, ge=1)
    min_channels: int | None = Field(default=None, ge=1)
    min_regulator: int | None = Field(default=None, ge=1)
    min_media: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _some_condition(self) -> SeverityStep:
        fields = (self.min_count, self.min_regions, self.min_channels)
        if all(v is None for v in (*fields, self.min_regulator, self.min_media)):
            raise ValueError("give at least one of min_count, min_regions, min_channels, "
                             "min_regulator, min_media")  # fmt: skip
        return self


def _whole_buckets(value: int) -> int:
    if value % 5:
        raise ValueError("must be a multiple of 5 (counts are kept in 5-minute buckets)")
    return value


class RuleBase(StrictModel):
    name: str = Field(pattern=NAME_PATTERN)
    enabled: bool = True
    description: str = ""
    severity: int = Field(default=4, ge=1, le=4, description="Severity when the rule first fires.")
    escalate: list[SeverityStep] = Field(default_factory=list)
    for_minutes: int = Field(default=0, ge=0, description="Stay pending this long before firing.")
    resolve_after_minutes: int = Field(
        default=30, ge=0, description="Resolve after the condition stays false this long."
    )


class ThresholdRule(RuleBase):
    """Fires when the count over a sliding window reaches a fixed number, per group key."""

    kind: Literal["threshold"]
    group_by: list[Dimension] = Field(
        default_factory=lambda: cast("list[Dimension]", ["product_code"]), min_length=1
    )
    window_minutes: int = Field(default=60, ge=5, le=60 * 24 * 31)
    threshold: int = Field(ge=1)
    filters: dict[Dimension, list[str]] = Field(default_factory=dict)
    count: Literal["complaints", "complainants"] = Field(
        default="complaints",
        description="complainants = distinct hashed customer keys (falls back to complaints "
        "when the data has no customer key, as in a backtest CSV)",
    )

    _window = field_validator("window_minutes")(_whole_buckets)


class SurgeRule(RuleBase):
    """Fires when a key's recent count is improbably high against its own expected level."""

    kind: Literal["surge"]
    group_by: list[Dimension] = Field(
        default_factory=lambda: cast("list[Dimension]", ["product_code"]), min_length=1
    )
    filters: dict[Dimension, list[str]] = Field(default_factory=dict)
    windows_minutes: list[int] = Field(default_factory=lambda: [60, 360], min_length=1)
    history_days: int = Field(default=28, ge=2, le=365)
    min_history_days: int = Field(default=3, ge=1)
    min_count: int = Field(default=6, ge=1, description="Never fire below this many complaints.")
    min_excess: float = Field(default=4.0, ge=0, description="count - expected must reach this.")
    alpha: float = Field(default=1e-6, gt=0, lt=0.5, description="NB upper-tail p-value cut-off.")
    min_ratio: float = Field(default=3.0, ge=1.0, description="count / expected must reach this.")
    nowcast_minutes: int = Field(default=180, ge=5, le=1440)
    local_level_hours: int = Field(
        default=0, ge=0, le=48, description="Learn the key's level today from its own count "
        "over up to this many hours before each window, same local day only (gamma-Poisson "
        "update); 0 turns it off."
    )  # fmt: skip
    local_dispersion: float = Field(
        default=0.05, ge=0, le=3, description="Least NB dispersion kept after the local update."
    )  # fmt: skip
    downweight_threshold: float = Field(
        default=2.58, gt=0, description="Noufaily et al. 2013: Anscombe residual above this "
        "marks a past day as a possible outbreak and down-weights it."
    )  # fmt: skip
    share_of: list[Dimension] = Field(
        default_factory=list, description="Also test each key's share of its parent key "
        "(these dimensions of group_by) in the window against its usual share (beta-binomial, "
        "alerts.detect.rules.surge.share_tail_p); empty turns it off."
    )  # fmt: skip
    cusum: bool = Field(default=True, description="Also run the CUSUM stage for slow rises.")
    cusum_days: int = Field(default=5, ge=2, le=30)
    cusum_min_history_days: int = Field(default=7, ge=1)
    cusum_guard_days: int = Field(default=7, ge=1, le=60)
    cusum_k: float = Field(default=1.5, ge=0)
    cusum_h: float = Field(default=10.0, gt=0)
    cusum_min_daily: int = Field(default=8, ge=1)
    cusum_min_ratio: float = Field(default=2.0, ge=1.0)

    @model_validator(mode="after")
    def _share_parent(self) -> SurgeRule:
        if self.share_of and (
            not set(self.share_of) < set(self.group_by)
            or len(set(self.share_of)) < len(self.share_of)
        ):
            raise ValueError("share_of must be some, not all, of the group_by dimensions")
        return self

    @field_validator("windows_minutes")
    @classmethod
    def _windows(cls, value: list[int]) -> list[int]:
        for window in value:
            if window < 5 or window > 24 * 60:
                raise ValueError("each window must be between 5 and 1440 minutes")
            _whole_buckets(window)
        return sorted(set(value))


class EventRule(RuleBase):
    """Complaints sharing an event tag, or matching configured keywords, across products."""

    kind: Literal["event"]
    window_minutes: int = Field(default=360, ge=5, le=60 * 24 * 7)
    use_tags: bool = True
    keywords: dict[str, list[str]] = Field(
        default_factory=dict, description="event name → keywords; any keyword in the text counts"
    )
    min_count: int = Field(default=5, ge=1)
    min_products: int = Field(default=1, ge=1)
    history_days: int = Field(default=14, ge=1, le=365)
    alpha: float = Field(default=1e-4, gt=0, lt=0.5)

    _window = field_validator("window_minutes")(_whole_buckets)

    @field_validator("keywords")
    @classmethod
    def _nonempty_keywords(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for name, words in value.items():
            if not words or any(not w.strip() for w in words):
                raise ValueError(f"event {name!r} needs non-empty keywords")
        return value


class CopiedTextRule(RuleBase):
    """Near-duplicate texts (MinHash/LSH on character shingles), one alert per cluster."""

    kind: Literal["copied_text"]
    window_minutes: int = Field(default=1440, ge=5, le=60 * 24 * 7)
    similarity: float = Field(default=0.6, gt=0.0, lt=1.0, description="Jaccard threshold")
    shingle: int = Field(default=3, ge=1, le=10)
    num_perm: int = Field(default=64, ge=16, le=512)
    min_chars: int = Field(default=15, ge=1)
    min_size: int = Field(default=5, ge=2)
    min_spread: int = Field(
        default=1,
        ge=1,
        description="Distinct products plus regions the cluster must span, minus 1.",
    )
    history_days: int = Field(default=7, ge=1, le=60)
    fold: float = Field(
        default=3.0, ge=1.0, description="Window count must exceed fold × the cluster's past rate."
    )

    _window = field_validator("window_minutes")(_whole_buckets)


class SourceSilentRule(RuleBase):
    """A source that delivered nothing for longer than its ``silent_after_minutes`` (sources.yaml)."""

    kind: Literal["source_silent"]
    default_silent_after_minutes: int | None = Field(
        default=None, ge=1, description="For sources without silent_after_minutes; None = skip."
    )


RuleConfig = Annotated[
    ThresholdRule | SurgeRule | EventRule | CopiedTextRule | SourceSilentRule,
    Field(discriminator="kind"),
]


class HolidayEntry(StrictModel):
    """One configured day (or range): a public holiday, or a 调休 make-up workday."""

    start: date
    end: date | None = None
    kind: Literal["holiday", "workday"] = "holiday"
    name: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> HolidayEntry:
        if self.end is not None and self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class CalendarConfig(StrictModel):
    """Local time zone and holidays for years the chinesecalendar library does not cover yet."""

    timezone: str = DEFAULT_TIMEZONE
    holidays: list[HolidayEntry] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_zone(value)


class SeverityChannels(StrictModel):
    """Which channels count as regulator-referred and as media for severity steps."""

    regulator: list[str] = Field(default_factory=lambda: ["regulator"])
    media: list[str] = Field(default_factory=lambda: ["media"])


# The channel ladder of an upgraded complaint (the same person, a higher channel) and the weight
# each channel carries in a branch's monthly score; insurers set both in their own rules.
DEFAULT_CHANNEL_LEVELS = {
    "counter": 1,
    "hotline": 1,
    "web": 1,
    "app": 1,
    "social": 2,
    "regulator": 3,
    "media": 4,
}
DEFAULT_CHANNEL_WEIGHTS = {
    "counter": 1.0,
    "hotline": 1.0,
    "web": 1.0,
    "app": 1.0,
    "social": 2.0,
    "regulator": 5.0,
    "media": 8.0,
}


class AccountabilityConfig(StrictModel):
    """A branch's monthly accountability cycle: the cases received from ``cycle_start_day`` of
    one month to the day before it in the next (default 21st–20th; 1 = calendar month)."""

    cycle_start_day: int = Field(default=21, ge=1, le=28)
    upgrade_window_days: int = Field(default=30, ge=1, le=366)
    channel_levels: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_CHANNEL_LEVELS))
    weights: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_CHANNEL_WEIGHTS))

    @field_validator("channel_levels", "weights")
    @classmethod
    def _known_channels(cls, value: dict) -> dict:
        unknown = sorted(set(value) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel(s) {unknown}; known: {', '.join(CHANNELS)}")
        if any(v < 0 for v in value.values()):
            raise ValueError("levels and weights must not be negative")
        return value


class RulesFile(StrictModel):
    evaluation_interval_seconds: int = Field(default=60, ge=5, le=3600)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    severity_channels: SeverityChannels = Field(default_factory=SeverityChannels)
    accountability: AccountabilityConfig = Field(default_factory=AccountabilityConfig)
    rules: list[RuleConfig] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self) -> RulesFile:
        require_unique([r.name for r in self.rules], "rule")
        return self
