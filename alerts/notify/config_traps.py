"""Configuration that validates but fails people at 3 a.m.: ``check-config`` warns about it.

- Links in messages built from the default dashboard address (``http://localhost:8501``) open
  nothing on a duty manager's phone.
- A robot @-mentions by mobile (DingTalk, WeCom) or by ``feishu_id`` (Feishu), email needs an
  address: a person without them on an enabled channel gets a message that reaches nobody.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from config.loader import RadarConfig

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
# channel kind -> (person field, what is missing in Chinese)
NEEDS = {
    "dingtalk": ("phone", "手机号"),
    "wecom": ("phone", "手机号"),
    "feishu": ("feishu_id", "feishu_id"),
    "email": ("email", "邮箱"),
    "aliyun_sms": ("phone", "手机号"),
    "aliyun_voice": ("phone", "手机号"),
    "tencent_sms": ("phone", "手机号"),
}


def dashboard_url_warning(config: RadarConfig, dashboard_url: str) -> list[str]:
    """A warning when messages leave the machine with links to a local address."""
    remote = [c for c in config.channels.channels if c.enabled and c.kind != "log"]
    host = urlsplit(dashboard_url).hostname or ""
    if not remote or host not in LOCAL_HOSTS:
        return []
    return [
        f"RADAR_DASHBOARD_URL 未设置或指向本机（{dashboard_url}）：通知中的详情和一键确认链接"
        "在手机上打不开；请设为值班人员能访问的看板地址"
    ]


def unreachable_people(config: RadarConfig) -> list[str]:
    """People who would get a message on an enabled channel that cannot reach or @ them."""
    warnings = []
    for channel in config.channels.channels:
        need = NEEDS.get(channel.kind)
        if not channel.enabled or need is None:
            continue
        field, label = need
        if channel.kind == "email" and getattr(channel, "to", None):
            continue  # the list address still gets it
        for person in config.roster.people:
            if not getattr(person, field):
                warnings.append(
                    f"roster.yaml: {person.name}（{person.id}）没有{label}，"
                    f"渠道 {channel.name}（{channel.kind}）的提醒到不了此人"
                )
    return warnings
