"""The loaded configuration as readable rows for the 配置 page: localised labels and values.

A JSON dump shows field names (``resolve_after_minutes``), raw codes (``product_code``) and
nested brackets; a person on duty reads a table of 设置项 and 值 instead. No Streamlit here.

Secrets never appear: the configuration holds only environment variable *names* for them
(``*_env``), shown with whether they are set, never their value; HTTP headers and parameters
(where a token may be typed by hand) show their names only; URLs lose user info and query.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel

from dashboard.i18n import Lang, channel_name
from domain.dimensions import KEY_NAMES
from domain.severity import SEVERITY_SHORT

Row = tuple[str, str]

# Field names in Chinese and English; an unknown field falls back to its own words.
LABELS: dict[str, tuple[str, str]] = {
    "enabled": ("启用", "Enabled"),
    "description": ("说明", "Description"),
    "severity": ("初始级别", "Initial severity"),
    "escalate": ("升级条件", "Escalation steps"),
    "for_minutes": ("持续多久才告警（分钟）", "Pending before firing (min)"),
    "resolve_after_minutes": ("条件消失多久后解除（分钟）", "Resolve after quiet (min)"),
    "group_by": ("分组", "Grouped by"),
    "share_of": ("占比检验的上级", "Share tested within"),
    "filters": ("筛选", "Filters"),
    "window_minutes": ("统计窗口（分钟）", "Window (min)"),
    "windows_minutes": ("统计窗口（分钟）", "Windows (min)"),
    "threshold": ("阈值（件）", "Threshold (complaints)"),
    "count": ("计数方式", "Counting"),
    "history_days": ("基线天数", "Baseline days"),
    "min_history_days": ("最少基线天数", "Least baseline days"),
    "min_count": ("最少件数", "Least complaints"),
    "min_excess": ("最少超出件数", "Least excess"),
    "alpha": ("显著性水平", "Significance level"),
    "min_ratio": ("最少倍数（相对基线）", "Least ratio to baseline"),
    "nowcast_minutes": ("近期修正（分钟）", "Nowcast (min)"),
    "local_level_hours": ("当日水平学习（小时）", "Same-day level (h)"),
    "local_dispersion": ("当日离散度下限", "Same-day dispersion floor"),
    "downweight_threshold": ("异常日降权阈值", "Outlier-day down-weight"),
    "cusum": ("缓慢上升检测（CUSUM）", "Slow-rise detection (CUSUM)"),
    "cusum_days": ("CUSUM 天数", "CUSUM days"),
    "cusum_min_history_days": ("CUSUM 最少基线天数", "CUSUM least baseline days"),
    "cusum_guard_days": ("CUSUM 间隔天数", "CUSUM guard days"),
    "cusum_k": ("CUSUM k", "CUSUM k"),
    "cusum_h": ("CUSUM h", "CUSUM h"),
    "cusum_min_daily": ("CUSUM 每日最少件数", "CUSUM least per day"),
    "cusum_min_ratio": ("CUSUM 最少倍数", "CUSUM least ratio"),
    "use_tags": ("使用事件标签", "Use event tags"),
    "keywords": ("关键词", "Keywords"),
    "min_products": ("最少产品数", "Least products"),
    "similarity": ("文本相似度", "Text similarity"),
    "shingle": ("分片长度", "Shingle length"),
    "num_perm": ("哈希个数", "Hash permutations"),
    "min_chars": ("最少字数", "Least characters"),
    "min_size": ("最少相似投诉数", "Least similar complaints"),
    "min_spread": ("最少分布", "Least spread"),
    "fold": ("倍数", "Fold"),
    "default_silent_after_minutes": ("默认静默告警（分钟）", "Silent after (min), default"),
    "evaluation_interval_seconds": ("检测间隔（秒）", "Evaluation interval (s)"),
    "timezone": ("时区", "Time zone"),
    "holidays": ("节假日", "Holidays"),
    "regulator": ("监管渠道", "Regulator channels"),
    "media": ("媒体渠道", "Media channels"),
    "cycle_start_day": ("考核周期起始日", "Cycle starts on day"),
    "upgrade_window_days": ("升级投诉判定天数", "Upgrade window (days)"),
    "channel_levels": ("渠道层级", "Channel levels"),
    "weights": ("渠道权重", "Channel weights"),
    "fallback": ("失败后改用", "Fallback channel"),
    "fallback_after": ("连续失败几次后改用", "Fallback after failures"),
    "timeout_seconds": ("超时（秒）", "Timeout (s)"),
    "retries": ("重试次数", "Retries"),
    "retry_wait_seconds": ("重试间隔（秒）", "Retry wait (s)"),
    "url": ("地址", "URL"),
    "url_env": ("地址（环境变量）", "URL (environment variable)"),
    "secret_env": ("签名密钥（环境变量）", "Signing secret (environment variable)"),
    "password_env": ("密码（环境变量）", "Password (environment variable)"),
    "access_key_id_env": ("AccessKey ID（环境变量）", "AccessKey ID (environment variable)"),
    "access_key_secret_env": (
        "AccessKey Secret（环境变量）",
        "AccessKey secret (environment variable)",
    ),
    "secret_id_env": ("SecretId（环境变量）", "SecretId (environment variable)"),
    "secret_key_env": ("SecretKey（环境变量）", "SecretKey (environment variable)"),
    "auth_env": ("认证信息（环境变量）", "Credentials (environment variable)"),
    "host": ("服务器", "Server"),
    "port": ("端口", "Port"),
    "security": ("加密方式", "Security"),
    "username": ("用户名", "User name"),
    "from_addr": ("发件人", "From"),
    "to": ("抄送", "Always to"),
    "ca_file": ("CA 证书文件", "CA file"),
    "sign_name": ("短信签名", "SMS signature"),
    "template_code": ("模板编号", "Template"),
    "template_id": ("模板编号", "Template"),
    "ack_template_id": ("可回复确认的模板", "Reply-to-acknowledge template"),
    "tts_code": ("语音模板", "Voice template"),
    "called_show_number": ("主叫号码", "Calling number"),
    "play_times": ("播放次数", "Plays"),
    "sdk_app_id": ("应用 ID", "SDK app id"),
    "variable_limit": ("变量长度上限", "Variable length limit"),
    "endpoint": ("接口地址", "Endpoint"),
    "region_id": ("地域", "Region"),
    "region": ("地域", "Region"),
    "per_number_per_minute": ("每号码每分钟上限", "Per number per minute"),
    "per_number_per_30_seconds": ("每号码每 30 秒上限", "Per number per 30 s"),
    "per_number_per_hour": ("每号码每小时上限", "Per number per hour"),
    "interval_seconds": ("采集间隔（秒）", "Poll interval (s)"),
    "silent_after_minutes": ("多久无数据告警（分钟）", "Silent after (min)"),
    "rate_per_day": ("每日模拟件数", "Simulated per day"),
    "seed": ("随机种子", "Random seed"),
    "backfill_hours": ("回填小时数", "Backfill (h)"),
    "event_every_minutes": ("模拟事件间隔（分钟）", "Simulated event every (min)"),
    "first_event_after_minutes": ("首个模拟事件（分钟后）", "First simulated event after (min)"),
    "columns": ("字段对应", "Column mapping"),
    "products": ("产品别名", "Product aliases"),
    "channel": ("渠道", "Channel"),
    "path": ("路径", "Path"),
    "done_dir": ("导入后移至", "Move done files to"),
    "failed_dir": ("失败文件移至", "Move failed files to"),
    "encoding": ("编码", "Encoding"),
    "sheet": ("工作表", "Sheet"),
    "max_file_mb": ("文件上限（MB）", "Largest file (MB)"),
    "max_rows": ("行数上限", "Most rows"),
    "max_unpacked_mb": ("解压上限（MB）", "Largest unpacked (MB)"),
    "settle_seconds": ("文件稳定等待（秒）", "Settle time (s)"),
    "query": ("查询语句", "Query"),
    "cursor_column": ("游标列", "Cursor column"),
    "id_column": ("编号列", "Id column"),
    "batch_size": ("每批行数", "Batch size"),
    "headers": ("请求头", "Headers"),
    "auth_header": ("认证请求头", "Auth header"),
    "max_attempts": ("最多尝试次数", "Most attempts"),
    "backoff_seconds": ("退避（秒）", "Backoff (s)"),
    "max_backoff_seconds": ("最长退避（秒）", "Longest backoff (s)"),
    "pagination": ("分页方式", "Pagination"),
    "page_param": ("页码参数", "Page parameter"),
    "size_param": ("页大小参数", "Page size parameter"),
    "page_size": ("每页条数", "Page size"),
    "first_page": ("首页页码", "First page"),
    "offset_param": ("偏移参数", "Offset parameter"),
    "limit_param": ("条数参数", "Limit parameter"),
    "cursor_param": ("游标参数", "Cursor parameter"),
    "next_cursor_path": ("下一游标位置", "Next cursor path"),
    "params": ("请求参数", "Parameters"),
    "records_path": ("记录位置", "Records path"),
    "since_param": ("起始时间参数", "Since parameter"),
    "since_field": ("起始时间字段", "Since field"),
    "initial_since": ("首次起始时间", "Initial since"),
    "rules": ("识别规则", "Rules"),
    "http": ("HTTP 设置", "HTTP settings"),
    "interval_minutes": ("计数间隔（分钟）", "Count interval (min)"),
    "receiver": ("接收人", "Receiver"),
    "receivers": ("接收组", "Receivers"),
    "channels": ("通知渠道", "Channels"),
    "match": ("匹配条件", "Matches"),
    "active": ("生效时段", "Active windows"),
    "continue_": ("匹配后继续", "Continue after match"),
    "routes": ("子路由", "Sub-routes"),
    "days": ("日期类型", "Days"),
    "from_time": ("开始时间", "From"),
    "to_time": ("结束时间", "To"),
    "escalation_minutes": ("未确认升级（分钟，按级别）", "Escalate unacknowledged (min, by level)"),
    "group_wait_seconds": ("合并等待（秒）", "Group wait (s)"),
    "repeat_minutes": ("未确认重复提醒（分钟）", "Repeat while firing (min)"),
    "acknowledged_repeat_minutes": (
        "已确认未解除提醒（分钟）",
        "Remind acknowledged (min)",
    ),
    "mute_windows": ("免打扰时段", "Mute windows"),
    "inhibit_rules": ("抑制规则", "Inhibit rules"),
    "source_match": ("来源告警匹配", "Source alert matches"),
    "target_match": ("被抑制告警匹配", "Target alert matches"),
    "equal": ("须相同的标签", "Equal labels"),
    "min_overlap": ("最少重叠比例", "Least overlap"),
    "accountability": ("月度考核", "Monthly accountability"),
    "calendar": ("日历", "Calendar"),
    "severity_channels": ("定级渠道", "Severity channels"),
    "default_channel": ("默认渠道", "Default channel"),
    "default_receiver": ("默认接收人", "Default receiver"),
}

KINDS: dict[str, tuple[str, str]] = {
    # rules
    "threshold": ("固定阈值", "Fixed threshold"),
    "surge": ("自适应激增", "Adaptive surge"),
    "event": ("事件关键词", "Event keywords"),
    "copied_text": ("相似文本（群体模板）", "Copied text"),
    "source_silent": ("数据源静默", "Source silent"),
    # channels
    "log": ("日志", "Log"),
    "webhook": ("Webhook", "Webhook"),
    "wecom": ("企业微信机器人", "WeCom robot"),
    "dingtalk": ("钉钉机器人", "DingTalk robot"),
    "feishu": ("飞书机器人", "Feishu robot"),
    "email": ("邮件", "Email"),
    "aliyun_sms": ("阿里云短信", "Alibaba Cloud SMS"),
    "aliyun_voice": ("阿里云语音", "Alibaba Cloud voice"),
    "tencent_sms": ("腾讯云短信", "Tencent Cloud SMS"),
    # sources
    "simulator": ("模拟器", "Simulator"),
    "csv_folder": ("文件夹（CSV/Excel）", "Folder (CSV/Excel)"),
    "sql": ("数据库查询", "Database query"),
    "http_api": ("HTTP 接口", "HTTP API"),
    "feed": ("舆情订阅", "Social/media feed"),
    "counts": ("计数文件", "Counts"),
}

ROLES = {"oncall": ("值班人", "On call"), "manager": ("值班经理", "Duty manager"),
         "head": ("部门负责人", "Head of department")}  # fmt: skip
WORDS = {
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "none": ("—", "—"),
    "set": ("已设置", "set"),
    "unset": ("未设置", "not set"),
    "env": ("环境变量", "environment variable"),
    "hidden": ("值不显示", "value hidden"),
    "items": ("{n} 项", "{n} items"),
    "complaints": ("投诉件数", "complaints"),
    "complainants": ("投诉人数", "complainants"),
    "holiday": ("假日", "holiday"),
    "workday": ("调休上班", "make-up workday"),
}
STEP_TERMS = {
    "min_count": ("件数", "count"),
    "min_regions": ("地区数", "regions"),
    "min_channels": ("渠道数", "channels"),
    "min_regulator": ("监管转办", "regulator"),
    "min_media": ("媒体", "media"),
}
# Shown in the summary columns, not again among the details.
SUMMARY_FIELDS = ("name", "kind", "enabled", "description")


def _pick(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh" else pair[1]


def word(key: str, lang: Lang) -> str:
    return _pick(WORDS[key], lang)


def label(field: str, lang: Lang) -> str:
    """A field's name for people: from ``LABELS``, else its own words (``max_rows`` → max rows)."""
    pair = LABELS.get(field)
    return _pick(pair, lang) if pair else field.strip("_").replace("_", " ")


def kind_name(kind: str, lang: Lang) -> str:
    pair = KINDS.get(kind)
    return _pick(pair, lang) if pair else kind


def _join(values: Iterable[str], lang: Lang) -> str:
    return ("、" if lang == "zh" else ", ").join(values) or word("none", lang)


def env_text(name: str | None, lang: Lang, environ: Mapping[str, str] | None = None) -> str:
    """An environment variable's name and whether it is set; its value never leaves here."""
    if not name:
        return word("none", lang)
    env = os.environ if environ is None else environ
    state = word("set" if env.get(name) else "unset", lang)
    return f"{word('env', lang)} {name}（{state}）" if lang == "zh" else f"{name} ({state})"


def safe_url(url: str) -> str:
    """Scheme, host, port and path only: user info and query strings may carry tokens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _dimension(code: str, lang: Lang) -> str:
    pair = KEY_NAMES.get(code)
    return _pick(pair, lang) if pair else code


def _step_text(step: BaseModel, lang: Lang) -> str:
    """One escalation step as a condition: 件数 ≥ 20 → Ⅲ."""
    terms = [
        f"{_pick(STEP_TERMS[f], lang)} ≥ {getattr(step, f)}"
        for f in STEP_TERMS
        if getattr(step, f, None) is not None
    ]
    joined = (" 且 " if lang == "zh" else " and ").join(terms)
    return f"{joined} → {SEVERITY_SHORT.get(int(getattr(step, 'severity', 4)), '?')}"


def value_text(field: str, value: Any, lang: Lang) -> str:
    """One value as text a person reads; secrets by name only (see the module docstring)."""
    if field.endswith("_env"):
        return env_text(value, lang)
    if field in ("headers", "params") and isinstance(value, Mapping):
        return _join((f"{k}（{word('hidden', lang)}）" for k in value), lang)
    if field in ("url", "endpoint") and isinstance(value, str):
        return safe_url(value)
    if value is None or value == "" or value == [] or value == {}:
        return word("none", lang)
    if isinstance(value, bool):
        return word("yes" if value else "no", lang)
    if field == "severity" and isinstance(value, int):
        return SEVERITY_SHORT.get(value, str(value))
    if field == "escalate":
        return "；".join(_step_text(s, lang) for s in value)
    if field == "count" and value in ("complaints", "complainants"):
        return word(value, lang)
    if field in ("group_by", "equal", "share_of"):
        return _join((_dimension(str(v), lang) for v in value), lang)
    if field in ("regulator", "media") and isinstance(value, list):
        return _join((channel_name(str(v), lang) for v in value), lang)
    if field in ("channel_levels", "weights") and isinstance(value, Mapping):
        return _join(
            (f"{channel_name(str(k), lang)} {_flat(v, lang)}" for k, v in value.items()), lang
        )
    if field == "escalation_minutes" and isinstance(value, Mapping):
        return _join((f"{SEVERITY_SHORT.get(int(k), k)} {v}" for k, v in value.items()), lang)
    if isinstance(value, BaseModel):
        return "；".join(f"{a}：{b}" for a, b in detail_rows(value, lang))
    if isinstance(value, Mapping):
        entries = (f"{_dimension(str(k), lang)}：{_flat(v, lang)}" for k, v in value.items())
        return ("；" if lang == "zh" else "; ").join(entries)
    if isinstance(value, (list, tuple)):
        if value and isinstance(value[0], BaseModel):
            return _pick(WORDS["items"], lang).format(n=len(value))
        return _join((_flat(v, lang) for v in value), lang)
    return _flat(value, lang)


def _flat(value: Any, lang: Lang) -> str:
    if isinstance(value, bool):
        return word("yes" if value else "no", lang)
    if isinstance(value, (list, tuple)):
        return _join((_flat(v, lang) for v in value), lang)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, Path):
        return str(value)
    return str(value)


def detail_rows(model: BaseModel, lang: Lang, skip: Iterable[str] = SUMMARY_FIELDS) -> list[Row]:
    """Every setting of one configured item as (label, value), in the model's field order."""
    skipped = set(skip)
    rows: list[Row] = []
    for field in type(model).model_fields:
        if field in skipped:
            continue
        value = getattr(model, field)
        if isinstance(value, BaseModel):  # a section of its own: one row per setting
            name = label(field, lang)
            rows += [(f"{name} · {a}", b) for a, b in detail_rows(value, lang, ())]
        else:
            rows.append((label(field, lang), value_text(field, value, lang)))
    return rows


def summary_row(model: BaseModel, lang: Lang, headers: Mapping[str, str]) -> dict[str, str]:
    """Name, kind, enabled and description of one rule, channel or source, under ``headers``."""
    return {
        headers["name"]: str(getattr(model, "name", "")),
        headers["kind"]: kind_name(str(getattr(model, "kind", "")), lang),
        headers["enabled"]: value_text("enabled", getattr(model, "enabled", True), lang),
        headers["description"]: str(getattr(model, "description", "") or ""),
    }


def role_name(role: str, lang: Lang) -> str:
    pair = ROLES.get(role)
    return _pick(pair, lang) if pair else role


def shift_rows(roster: Any, lang: Lang, headers: Mapping[str, str]) -> list[dict[str, str]]:
    """The roster's shifts: role, who (or the rotation), dates and daily hours, note."""
    names = {p.id: p.name for p in roster.people}
    teams = {t.id: t.name or t.id for t in roster.teams}
    rows = []
    for shift in roster.shifts:
        if shift.who:
            who = names.get(shift.who, shift.who)
        elif isinstance(shift.rotate, str):
            who = teams.get(shift.rotate, shift.rotate)
        else:
            who = _join((names.get(p, p) for p in shift.rotate or []), lang)
        until = shift.end.isoformat() if shift.end else ("长期" if lang == "zh" else "open")
        rows.append(
            {
                headers["role"]: role_name(shift.role, lang),
                headers["who"]: who,
                headers["dates"]: f"{shift.start.isoformat()} – {until}",
                headers["hours"]: f"{shift.from_time:%H:%M} – {shift.to_time:%H:%M}",
                headers["note"]: shift.note,
            }
        )
    return rows


MATCH_KEYS = {"severity": ("级别", "severity"), "rule": ("规则", "rule"),
              "rule_kind": ("规则类型", "rule kind"), "state": ("状态", "state")}  # fmt: skip


def match_text(match: Mapping[str, list[str]], lang: Lang, everything: str) -> str:
    """Matchers as words: 级别 Ⅰ、Ⅱ；产品 P-1 (``everything`` when there are none)."""
    if not match:
        return everything
    parts = []
    for key, values in match.items():
        name = _pick(MATCH_KEYS[key], lang) if key in MATCH_KEYS else _dimension(key, lang)
        if key == "severity":
            shown = [SEVERITY_SHORT.get(int(v), v) if str(v).isdigit() else v for v in values]
        elif key == "channel":
            shown = [channel_name(str(v), lang) for v in values]
        else:
            shown = [str(v) for v in values]
        parts.append(f"{name} {_join(shown, lang)}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def route_rows(route: Any, lang: Lang, everything: str, depth: int = 0) -> list[Row]:
    """The routing tree, one (matches, receiver) row per route, children indented."""
    if route is None:
        return []
    text = ("　" * depth) + match_text(route.match, lang, everything)
    if route.active:
        windows = _join((f"{w.from_time:%H:%M}–{w.to_time:%H:%M}" for w in route.active), lang)
        text += f"（{label('active', lang)} {windows}）"
    receiver = route.receiver or word("none", lang)
    if route.continue_:
        receiver += f"（{label('continue_', lang)}）"
    rows = [(text, receiver)]
    for child in route.routes:
        rows += route_rows(child, lang, everything, depth + 1)
    return rows
