"""All configuration models, re-exported; each file's models live in their own module."""

from config.base import NAME_PATTERN, Dimension, EnvVarName, StrictModel
from config.channels import (
    AliyunSmsChannel,
    AliyunVoiceChannel,
    ChannelConfig,
    ChannelsFile,
    DingTalkChannel,
    EmailChannel,
    FeishuChannel,
    LogChannel,
    TencentSmsChannel,
    WebhookChannel,
    WeComChannel,
)
from config.roster import Override, Person, RosterFile, Shift, Team
from config.rules import RuleBase, RuleConfig, RulesFile, SeverityStep, ThresholdRule
from config.sources import SimulatorSource, SourceBase, SourceConfig, SourcesFile

__all__ = [
    "NAME_PATTERN",
    "AliyunSmsChannel",
    "AliyunVoiceChannel",
    "ChannelConfig",
    "ChannelsFile",
    "Dimension",
    "DingTalkChannel",
    "EmailChannel",
    "EnvVarName",
    "FeishuChannel",
    "LogChannel",
    "Override",
    "Person",
    "RosterFile",
    "RuleBase",
    "RuleConfig",
    "RulesFile",
    "SeverityStep",
    "Shift",
    "SimulatorSource",
    "SourceBase",
    "SourceConfig",
    "SourcesFile",
    "StrictModel",
    "Team",
    "TencentSmsChannel",
    "ThresholdRule",
    "WeComChannel",
    "WebhookChannel",
]
