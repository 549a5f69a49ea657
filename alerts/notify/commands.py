"""The notification commands behind manage.py: who-is-on-call, test-notify, roster checks."""

from __future__ import annotations

import uuid
from datetime import datetime, tzinfo

from alerts.notify.channels import DeliveryError, OutgoingMessage, Recipient
from alerts.notify.message import Notice
from alerts.notify.registry import build_channel
from alerts.notify.roster import on_call, receiver_for, roster_gaps
from alerts.notify.roster_periods import check_periods, merged, names_of
from config.loader import RadarConfig
from config.roster import ROLE_LABELS, ROLES
from domain.calendar import HolidayCalendar, zone_name


def parse_when(text: str | None, now: datetime, tz: tzinfo) -> datetime:
    """``--at``: ISO date-time, local time in ``tz`` unless an offset is given; default now."""
    if not text:
        return now
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"--at {text!r}: use a date-time like 2027-02-06T00:30") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def who_is_on_call(config: RadarConfig, at: datetime) -> str:
    """Who holds each role at ``at``, with phone numbers, and what happens on a gap."""
    tz = HolidayCalendar(config.rules.calendar).tz
    lines = [f"{at.astimezone(tz):%Y-%m-%d %H:%M}（{zone_name(tz)}）值班："]
    for role in ROLES:
        person = on_call(config.roster, at, tz, role)
        label = ROLE_LABELS[role]
        if person is None:
            lines.append(f"  {label}：无人值班")
        else:
            phone = f" {person.phone}" if person.phone else ""
            lines.append(f"  {label}：{person.name}（{person.id}）{phone}")
    person, gap = receiver_for(config.roster, at, tz, 0)
    if gap:
        who = f"默认接收人 {person.name}" if person else "无人（请配置 default_receiver）"
        lines.append(f"  值班表空缺，告警将发给：{who}")
    return "\n".join(lines)


def roster_findings(config: RadarConfig, now: datetime) -> tuple[list[str], list[str]]:
    """(errors, warnings) over the next 30 days, every configured holiday period ahead and the
    whole next Spring Festival (see ``alerts.notify.roster_periods``): an on-call gap is a warning when
    a default receiver covers it, an error when nobody would be told; manager/head gaps warn."""
    errors: list[str] = []
    warnings: list[str] = []
    periods = check_periods(config.rules.calendar, now)
    tz = HolidayCalendar(config.rules.calendar).tz
    for role in ROLES:
        for span_start, span_end in merged(periods):
            for start, stop in roster_gaps(config.roster, span_start, span_end, tz, role):
                names = names_of(periods, start, stop)
                during = f"（{'、'.join(names)}）" if names else ""
                text = (
                    f"roster.yaml: {ROLE_LABELS[role]} 空缺 {start:%Y-%m-%d %H:%M} – "
                    f"{stop:%Y-%m-%d %H:%M}{during}"
                )
                if role == "oncall" and not config.roster.default_receiver:
                    errors.append(f"{text}（无 default_receiver，告警将无人接收）")
                else:
                    warnings.append(text)
    return errors, warnings


def send_test(config: RadarConfig, channel_name: str, now: datetime, dashboard_url: str) -> str:
    """Send a test message through one channel to whoever is on call; raises DeliveryError."""
    channel_config = config.channels.get(channel_name)
    if channel_config is None:
        names = ", ".join(c.name for c in config.channels.channels)
        raise DeliveryError(f"unknown channel {channel_name!r}; declared: {names}")
    person, _ = receiver_for(config.roster, now, HolidayCalendar(config.rules.calendar).tz, 0)
    recipient = person or Recipient(id="test", name="测试接收人")
    notice = Notice(items=[], dashboard_url=dashboard_url, receiver_name=recipient.name, test=True)
    key = f"test:{channel_name}:{now.isoformat()}:{uuid.uuid4().hex}"  # never one of a page
    build_channel(channel_config).send(
        OutgoingMessage(idempotency_key=key, notice=notice, recipient=recipient)
    )
    return f"测试消息已通过 {channel_name} 发出（接收人 {recipient.name}）"
