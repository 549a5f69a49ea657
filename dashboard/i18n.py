"""User-facing strings, Chinese first with an English switch; one table, looked up by key."""

from __future__ import annotations

import math
from typing import Any, Literal

from domain.severity import SEVERITY_LABELS

Lang = Literal["zh", "en"]

STRINGS: dict[str, tuple[str, str]] = {
    "app_title": ("投诉雷达", "Complaint Radar"),
    "page_wall": ("值班大屏", "Wall screen"),
    "wall_kiosk_hint": (
        "电视上全屏显示：在地址后加 ?kiosk=1",
        "Full screen on a TV: add ?kiosk=1 to the address",
    ),
    "page_alerts": ("告警处置", "Alert console"),
    "page_weekly": ("趋势周报", "Weekly trends"),
    "page_ledger": ("投诉台账", "Complaint ledger"),
    "page_sources": ("数据源", "Sources"),
    "page_settings": ("配置", "Settings"),
    "language": ("语言 / Language", "Language / 语言"),
    "today": ("今日投诉", "Complaints today"),
    "last_hour": ("近1小时", "Last hour"),
    "vs_last_week": ("较上周同期", "vs same time last week"),
    "active_alerts": ("活动告警", "Active alerts"),
    "no_active_alerts": ("当前无活动告警", "No active alerts"),
    "trend_by_channel": ("各渠道实时趋势（5分钟）", "Live trend by channel (5 min)"),
    "top_products": ("24小时投诉最多产品", "Top products, last 24 h"),
    "top_events": ("24小时热点事件", "Top events, last 24 h"),
    "province_grid": ("投诉最多地区（24小时）", "Top regions (24 h)"),
    "source_health": ("数据源健康", "Source health"),
    "on_duty": ("当前值班", "On duty now"),
    "nobody_on_duty": ("排班空缺！", "Roster gap!"),
    "stale_sources": ("数据源中断", "Sources stale"),
    "all_sources_ok": ("所有数据源正常", "All sources healthy"),
    "worker_down": ("后台任务无心跳", "Worker heartbeat missing"),
    "updated_at": ("更新于", "Updated"),
    "severity": ("级别", "Severity"),
    "title": ("告警", "Alert"),
    "state": ("状态", "State"),
    "age": ("持续", "Age"),
    "handler": ("处置人", "Handled by"),
    "count": ("数量", "Count"),
    # the wall's alert table: headers and a state that fit its narrow columns
    "wall_severity": ("级别", "Sev."),
    "wall_handler": ("处置人", "Owner"),
    "wall_count": ("件数", "Count"),
    "wall_acknowledged": ("已确认", "Ack'd"),
    "expected": ("基线/阈值", "Expected"),
    "filters": ("筛选", "Filters"),
    "states": ("状态", "States"),
    "rules": ("规则", "Rules"),
    "period_days": ("时间范围（天）", "Period (days)"),
    "choose_alert": ("选择告警", "Choose an alert"),
    "evidence": ("证据", "Evidence"),
    "trend_around": ("告警前后趋势", "Trend around the alert"),
    "samples": ("投诉样本（已脱敏）", "Sample complaints (masked)"),
    "regions": ("涉及地区", "Regions"),
    "channels": ("涉及渠道", "Channels"),
    "audit": ("处置记录", "Audit trail"),
    "acknowledge": ("确认", "Acknowledge"),
    "resolve": ("解除", "Resolve"),
    "escalate_now": ("立即升级", "Escalate now"),
    "escalate_now_help": (
        "不等升级时限，立即通知上一级（值班经理，再按一次通知负责人）",
        "Page the next level now instead of after the escalation minutes",
    ),
    "merge": ("并入告警", "Merge into"),
    "owner": ("负责人", "Owner"),
    "reassign": ("转交", "Reassign"),
    "reassign_to": ("转交给", "Hand over to"),
    "reassign_help": (
        "交给值班表中的某人负责：立即通知他，之后的提醒也发给他，不再发给值班人",
        "Hand the alert to someone on the roster: they are paged now and get the reminders "
        "instead of the on-call",
    ),
    "add_responder": ("加派人员", "Add responder"),
    "add_responder_who": ("再通知", "Also page"),
    "pick_person": ("选择人员", "Choose a person"),
    "merge_into": ("并入的告警编号 #", "Alert number to merge into #"),
    "resolve_help": (
        "若告警条件仍成立，下一次评估会重新打开同一告警（第 2 次触发）；不想再收到通知请用静默",
        "If the condition still holds, the next evaluation reopens this alert (its 2nd firing); "
        "to stop hearing of it, silence it",
    ),
    "add_note": ("添加备注", "Add note"),
    "note": ("备注", "Note"),
    "silence": ("静默", "Silence"),
    "silence_minutes": ("静默时长（分钟）", "Silence for (minutes)"),
    "silence_help": (
        "记录但不通知；静默一个情况的主告警时，同一情况的其他告警一并静默",
        "Recorded, not paged; silencing a situation's lead silences its other alerts too",
    ),
    "done": ("已完成", "Done"),
    "ack_link_ok": ("已通过链接确认告警", "Alert acknowledged from the link"),
    "ack_link_bad": ("确认链接无效或已过期", "The acknowledge link is invalid or has expired"),
    "ack_link_state": ("告警无法确认", "The alert cannot be acknowledged"),
    "no_permission_act": ("您的角色只能查看，不能处置告警", "Your role can view but not act"),
    "no_alerts_found": ("没有符合条件的告警", "No alerts match"),
    "operator": ("操作人", "Operator"),
    "week": ("选择周（周一）", "Week (Monday)"),
    "this_week": ("本周", "This week"),
    "prev_week": ("上周", "Previous week"),
    "last_year": ("去年同期", "Same week last year"),
    "total": ("投诉总量", "Total complaints"),
    "by_category": ("按类别", "By category"),
    "by_channel": ("按渠道", "By channel"),
    "by_product_line": ("按险种", "By product line"),
    "by_region": ("按地区", "By region"),
    "repeat": ("重复投诉", "Repeat complaints"),
    "multichannel": ("多渠道投诉", "Multi-channel complaints"),
    "alerts_raised": ("触发告警", "Alerts raised"),
    "ack_time": ("确认用时中位数（分钟）", "Median time to acknowledge (min)"),
    "download_excel": ("下载 Excel", "Download Excel"),
    "download_pdf": ("下载 PDF（含图表）", "Download PDF (charts)"),
    "download_png": ("下载 PNG 图表", "Download PNG charts"),
    "download_csv": ("导出 CSV", "Export CSV"),
    "no_data": ("无数据", "No data"),
    "n_minutes": ("{n} 分钟", "{n} min"),
    "received_at": ("受理时间", "Received"),
    "due_at": ("处理决定期限", "Decision due"),
    "overdue": ("已超期", "Overdue"),
    "due_soon": ("48小时内到期", "Due within 48 h"),
    "due_status": ("期限状态", "Deadline"),
    "due_overdue": ("已超期", "Overdue"),
    "due_due_soon": ("48小时内到期", "Due within 48 h"),
    "due_ok": ("未到期", "On time"),
    "due_done": ("已作出决定", "Decided"),
    "complaint_open": ("处理中", "Open"),
    "complaint_closed": ("已办结", "Closed"),
    "time_limit": ("时限", "Time limit"),
    "days": ("{n} 天", "{n} days"),
    "channel": ("渠道", "Channel"),
    "product": ("产品", "Product"),
    "region": ("地区", "Region"),
    "category": ("类别", "Category"),
    "branch": ("分支机构", "Branch"),
    "text": ("内容", "Text"),
    "complaint_no": ("编号", "No."),
    "col_name": ("名称", "Name"),
    "col_last_sent_at": ("最近发出", "Last sent"),
    "col_sent_24h": ("24小时发出", "Sent (24 h)"),
    "col_failed_24h": ("24小时失败", "Failed (24 h)"),
    "channels_health": ("通知渠道", "Notification channels"),
    "failing_channels": ("通知渠道故障", "Notification channel failing"),
    "channel_ok": ("正常", "ok"),
    "channel_failing": ("🔴 发送失败", "🔴 failing"),
    "col_kind": ("类型", "Kind"),
    "col_status": ("状态", "Status"),
    "col_last_success_at": ("最近成功", "Last success"),
    "col_lag_minutes": ("数据延迟（分钟）", "Lag (min)"),
    "col_consecutive_failures": ("连续失败", "Failures in a row"),
    "col_records_last_run": ("上次入库", "Stored last run"),
    "col_total_records": ("累计入库", "Stored in all"),
    "col_last_error": ("最近错误", "Last error"),
    "col_note": ("说明", "Note"),
    "col_host": ("主机", "Host"),
    "col_pid": ("进程号", "PID"),
    "col_started_at": ("启动时间", "Started"),
    "col_beat_at": ("最近心跳", "Last heartbeat"),
    "col_id": ("ID", "ID"),
    "col_source": ("数据源", "Source"),
    "col_external_id": ("原始编号", "Source id"),
    "col_reason": ("隔离原因", "Reason"),
    "col_payload": ("原始内容（已脱敏）", "Payload (masked)"),
    "col_quarantined_at": ("隔离时间", "Quarantined"),
    "worker_running": ("运行中", "Running"),
    "worker_stopped": ("已停止", "Stopped"),
    "unacknowledged": ("{n} 未确认", "{n} unacknowledged"),
    "source_ok": ("✅ 正常", "✅ OK"),
    "source_failing": ("🟠 失败重试中", "🟠 Failing, retrying"),
    "source_stale": ("🔴 中断", "🔴 Stale"),
    "source_never": ("⚪ 未运行", "⚪ Never ran"),
    "started": ("开始", "Started"),
    "silenced": ("静默", "Silenced"),
    "no_last_year": ("去年同期无数据", "No data for the same week last year"),
    "top_products_week": ("本周投诉最多产品", "Top products this week"),
    "related_alerts": ("（另 {n} 条相关）", " (+{n} related)"),
    "situation_lead": (
        "同一情况的另 {n} 条告警并入本告警，由本告警统一通知：",
        "{n} more alerts of the same situation are attached here and paged through this one:",
    ),
    "situation_member": (
        "本告警与 #{lead} 属同一情况，由 #{lead} 统一通知：",
        "This alert belongs to the situation of #{lead}, which pages for it:",
    ),
    "ledger_capped": (
        "表中为最先到期的 {shown:,} 条，共 {total:,} 条（上方数字含全部）；缩小日期范围或按状态筛选可查看其余，导出 CSV 含日期内全部投诉（至多 200,000 条）。",
        "The table shows the {shown:,} complaints due first of {total:,} (the figures above count"
        " all); narrow the dates or filter by status to see the rest; the CSV export holds every"
        " complaint of the dates (200,000 at most).",
    ),
    "ledger_no_urgent": (
        "没有已超期或 48 小时内到期的投诉",
        "No complaints overdue or due within 48 hours",
    ),
    "ledger_export_help": (
        "导出 CSV 含日期内全部投诉（至多 200,000 条），不受“已超期 / 48小时内到期”开关影响",
        "The CSV export holds every complaint of the dates (200,000 at most), whatever the"
        " overdue / due-soon switch shows",
    ),
    "status": ("状态", "Status"),
    "complex": ("复杂", "Complex"),
    "yes": ("是", "Yes"),
    "no": ("否", "No"),
    "deadline_mode": ("期限计算", "Deadline days"),
    "calendar": ("自然日", "calendar days"),
    "working": ("工作日（含调休）", "working days (with 调休)"),
    "quarantine": ("隔离记录", "Quarantined records"),
    "throughput": ("每小时入库量（24小时）", "Records per hour (24 h)"),
    "last_error": ("最近错误", "Last error"),
    "lag": ("延迟（分钟）", "Lag (min)"),
    "heartbeats": ("后台任务心跳", "Worker heartbeats"),
    "config_ok": ("配置检查通过", "Configuration is valid"),
    "config_bad": ("配置有错误", "Configuration has errors"),
    "failed_with_id": (
        "生成失败，已记录日志，请把错误编号告诉管理员",
        "This could not be built; it is logged: give the administrator the error id",
    ),
    "ack_link_disabled": (
        "一键确认链接已停用：RADAR_ACK_SECRET 未设置或为演示值，请在告警处置页确认",
        "One-click links are off: RADAR_ACK_SECRET is unset or the demo value; acknowledge here",
    ),
    "weak_secrets": (
        "密钥不安全：一键确认链接可被伪造、客户哈希可被反推。请设置随机密钥（见 docs/SECURITY.md）",
        "Weak secrets: acknowledge links can be forged and customer keys reversed. "
        "Set random keys (see docs/SECURITY.md)",
    ),
    "roster": ("排班", "Roster"),
    "roster_check_ok": (
        "排班检查通过（未来 30 天、已配置节假日、下一个春节）",
        "Roster covers the next 30 days, configured holidays and the next Spring Festival",
    ),
    "roster_gaps_ahead": ("排班空缺", "Roster gaps ahead"),
    "routes": ("通知渠道", "Notification channels"),
    "cfg_name": ("名称", "Name"),
    "cfg_kind": ("类型", "Kind"),
    "cfg_enabled": ("启用", "Enabled"),
    "cfg_description": ("说明", "Description"),
    "cfg_setting": ("设置项", "Setting"),
    "cfg_value": ("值", "Value"),
    "cfg_general": ("通用设置", "General"),
    "cfg_dashboard": ("看板设置（环境变量）", "Dashboard (environment variables)"),
    "cfg_auth": ("登录方式", "Sign-in"),
    "cfg_auth_off": ("不登录（演示）", "off (demo)"),
    "cfg_auth_password": ("账号密码", "password"),
    "cfg_auth_oidc": ("单点登录（OIDC）", "single sign-on (OIDC)"),
    "cfg_deadlines": ("处理时限计算", "Deadlines counted in"),
    "cfg_wall_refresh": ("大屏刷新（秒）", "Wall refresh (s)"),
    "cfg_session": ("登录有效期（分钟）", "Session length (min)"),
    "cfg_stale": ("数据源中断判定（分钟）", "Source stale after (min)"),
    "cfg_details": ("全部设置", "All settings"),
    "cfg_people": ("人员", "People"),
    "cfg_teams": ("班组", "Teams"),
    "cfg_members": ("成员", "Members"),
    "cfg_shifts": ("班次", "Shifts"),
    "cfg_overrides": ("临时调班", "Overrides"),
    "cfg_role": ("角色", "Role"),
    "cfg_who": ("人员", "Who"),
    "cfg_dates": ("日期", "Dates"),
    "cfg_hours": ("每日时段", "Daily hours"),
    "cfg_note": ("备注", "Note"),
    "cfg_phone": ("电话", "Phone"),
    "cfg_email": ("邮箱", "Email"),
    "cfg_id": ("编号", "Id"),
    "cfg_receivers": ("接收组", "Receivers"),
    "cfg_routing": ("通知路由", "Routing"),
    "cfg_route_all": ("所有告警", "every alert"),
    "cfg_none": ("未配置", "none configured"),
    "sign_in": ("登录", "Sign in"),
    "sign_out": ("退出登录", "Sign out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong username or password"),
    "too_many_logins": (
        "登录失败次数过多，请 {minutes} 分钟后再试",
        "Too many failed sign-ins; try again in {minutes} min",
    ),
    "texts_hidden": ("您的角色不显示投诉原文", "Complaint texts are hidden for your role"),
    "role": ("角色", "Role"),
}

CHANNEL_NAMES: dict[str, tuple[str, str]] = {
    "hotline": ("热线", "Hotline"),
    "web": ("网页表单", "Web form"),
    "app": ("App", "App"),
    "social": ("社交媒体", "Social media"),
    "counter": ("柜面", "Counter"),
    "regulator": ("监管转办", "Regulator"),
    "media": ("媒体", "Media"),
}

STATE_NAMES: dict[str, tuple[str, str]] = {
    "pending": ("待触发", "Pending"),
    "firing": ("告警中", "Firing"),
    "acknowledged": ("已确认", "Acknowledged"),
    "resolved": ("已解除", "Resolved"),
}

# The alert console: one alert per link, who acts, the timeline.
STRINGS |= {
    "alert_missing": ("告警 #{id} 不存在", "Alert #{id} does not exist"),
    "alert_resolved_banner": (
        "告警 #{id} 已于 {at} 由 {by} 解除，以下为其记录。",
        "Alert #{id} was resolved at {at} by {by}; its record is below.",
    ),
    "alert_outside_filter": (
        "告警 #{id} 不在当前筛选结果中，仍显示它（链接指向它）。",
        "Alert #{id} is outside the current filters; it is shown because the link names it.",
    ),
    "next_open_alert": ("下一条未处理告警", "Next open alert"),
    "operator_needed": (
        "请先填写操作人姓名，处置记录需要写明是谁。",
        "Type your name as operator first: the audit trail records who acted.",
    ),
    "operator_placeholder": ("您的姓名", "Your name"),
    "timeline": ("经过", "Timeline"),
    "alert_list": ("告警列表", "Alerts"),
    "evidence_chart": (
        "每 {w} 投诉数与基线（同一口径）",
        "Complaints per {w} against the expected level",
    ),
    "filter_all": ("全部", "All"),
    "silences": ("静默管理", "Silences"),
    "no_silences": ("没有生效或近期结束的静默。", "No active or recent silences."),
    "silence_matchers": ("匹配", "Matches"),
    "silence_from": ("开始", "From"),
    "silence_until": ("结束", "Until"),
    "silence_status": ("状态", "Status"),
    "silence_active": ("生效中", "Active"),
    "silence_pending": ("未开始", "Pending"),
    "silence_ended": ("已结束", "Ended"),
    "silence_by": ("设置人", "Set by"),
    "silence_reason": ("原因", "Reason"),
    "silence_end_which": ("提前结束静默", "End a silence early"),
    "silence_end_now": ("立即结束", "End now"),
    "silence_new": ("新建静默", "New silence"),
    "silence_preview": (
        "将静默 {n} 条活动告警：{ids}",
        "It would silence {n} active alert(s): {ids}",
    ),
    "silence_create": ("创建静默", "Create silence"),
    "silenced_until": ("已静默至 {at}（{who}）", "Silenced until {at} ({who})"),
    "label_rule": ("规则", "Rule"),
    "label_event": ("事件", "Event"),
    "label_source": ("来源", "Source"),
    "label_cluster": ("文本簇", "Text cluster"),
    "why_title": ("为何激增", "Why is this surging?"),
    "why_caption": (
        "本次 {n} 件与该对象近四周 {base} 件相比：",
        "Its {n} complaints against the key's {base} of the last four weeks:",
    ),
    "why_nothing": (
        "本次 {n} 件与近四周 {base} 件相比，没有明显不同的词语或分布。",
        "Its {n} complaints do not differ clearly from the key's {base} of the last four weeks.",
    ),
    "why_word": ("词语", "Word"),
    "why_now": ("本次件数", "In this alert"),
    "why_usual": ("近四周件数", "Last four weeks"),
    "why_label": ("维度", "Label"),
    "why_value": ("值", "Value"),
    "why_share": ("本次占比", "Share now"),
    "why_expected_share": ("平时占比", "Usual share"),
    "why_guess": (
        "来源未给类别的投诉，按关键词推测为「{category}」（置信度 {confidence}，命中：{words}）；不改动来源的值。",
        "Complaints without a category read as “{category}” by keywords ({confidence}, matched: {words}); the source's value is not changed.",
    ),
    "date_from": ("起", "From"),
    "date_to": ("止", "To"),
}

# The weekly report's exports (dashboard/report.py).
STRINGS |= {
    "weekly_title": (
        "投诉雷达周报 {start} 至 {end}",
        "Complaint Radar weekly report {start} to {end}",
    ),
    "summary": ("汇总", "Summary"),
    "metric": ("指标", "Metric"),
    "item": ("项目", "Item"),
    "wow": ("环比", "Week over week"),
    "product_code": ("产品代码", "Product code"),
    "product_line": ("险种", "Product line"),
    "alert_summary_line": (
        "本周触发告警 {raised} 条{levels}，确认用时中位数 {ack}",
        "Alerts raised this week: {raised}{levels}; median time to acknowledge {ack}",
    ),
    "week_empty": (
        "这一周没有投诉数据。最近一次投诉在 {day} 所在的周。",
        "No complaints in this week. The newest complaint is in the week of {day}.",
    ),
}

# The monthly accountability report (dashboard/pages/monthly.py, dashboard/monthly_report.py).
STRINGS |= {
    "page_monthly": ("月度考核", "Monthly accountability"),
    "m_title": (
        "投诉雷达月度考核 {name}（{start} 至 {end}）",
        "Complaint Radar month {name} ({start} to {end})",
    ),
    "m_cycle": ("考核周期", "Cycle"),
    "m_branch": ("分支机构", "Branch"),
    "m_received": ("受理", "Received"),
    "m_counted": ("计入考核", "Counted"),
    "m_upgraded": ("升级投诉", "Upgraded"),
    "m_overdue": ("逾期未决", "Overdue decisions"),
    "m_score": ("加权分", "Weighted score"),
    "m_weight": ("权重", "Weight"),
    "m_prev": ("上期", "Previous cycle"),
    "m_last_year": ("去年同期", "Same cycle last year"),
    "m_mom": ("环比", "vs previous"),
    "m_yoy": ("同比", "vs last year"),
    "m_total": ("合计", "Total"),
    "m_no_branch": ("未标注机构", "No branch given"),
    "m_sheet_summary": ("机构汇总", "Branches"),
    "m_sheet_channels": ("机构×渠道", "Branch x channel"),
    "m_sheet_weights": ("渠道权重", "Channel weights"),
    "m_empty": ("本考核周期没有投诉。", "No complaints in this cycle."),
    "m_by_channel": ("各机构分渠道计入件数", "Counted complaints per branch and channel"),
    "m_text_totals": (
        "受理 {received} 件，计入考核 {counted} 件，升级投诉 {upgraded} 件，逾期未决 {overdue} 件；环比 {mom}，同比 {yoy}",
        "{received} received, {counted} counted, {upgraded} upgraded, {overdue} overdue; {mom} vs previous, {yoy} vs last year",
    ),
    "m_text_top": ("加权分最高：", "Highest weighted scores: "),
    "m_rules": (
        "计入规则：同一客户同一产品在同一渠道只计一次；升到更高渠道（升级投诉）或换渠道各计一次；满意与否都计入。权重见配置 rules.yaml → accountability。",
        "Counting: one customer and product counts once per channel; each higher channel (upgraded) or other channel counts again, satisfied or not. Weights: rules.yaml → accountability.",
    ),
    "m_as_of_live": (
        "数字截至 {now}（实时统计）。",
        "Figures as of {now} (counted live).",
    ),
    "m_as_of_open": (
        "受理、计入、升级及环比、同比数字为 {frozen} 的统计（后台每 5 分钟重算）；逾期数截至 {now}，实时统计。",
        "Received, counted, upgraded and the changes as counted at {frozen} (recounted every 5 minutes in the background); overdue as of {now}, counted live.",
    ),
    "m_as_of_frozen": (
        "受理、计入、升级及环比、同比数字取自周期结束后 {frozen} 生成的快照（与月报发送时一致，迟到的投诉会使其重算）；逾期数截至 {now}，实时统计。",
        "Received, counted, upgraded and the changes are from the snapshot made after the cycle closed, at {frozen} (as in the report sent; a late complaint makes it recount); overdue as of {now}, counted live.",
    ),
    "m_download_xlsx": ("下载 Excel", "Download Excel"),
    "m_download_pdf": ("下载 PDF", "Download PDF"),
}

# The wall's playlist (?playlist=60): the views it rotates through and their parts.
STRINGS |= {
    "playlist_view_wall": ("值班大屏", "Wall"),
    "playlist_view_alerts": ("告警列表", "Alert list"),
    "playlist_view_regions": ("地区排行", "Regions"),
    "playlist_indicator": (
        "▶ {index}/{count} {name} · 下一页 {seconds} 秒",
        "▶ {index}/{count} {name} · next in {seconds} s",
    ),
    "playlist_toggle": ("轮播（每 {seconds} 秒）", "Rotate views (every {seconds} s)"),
    "playlist_invalid": (
        "轮播参数无效（需 10–3600 秒），未启用轮播",
        "Playlist value not valid (10–3600 s needed); not rotating",
    ),
    "open_alerts_title": ("活动告警（每个事件一行）", "Open alerts (one line per situation)"),
    "alerts_firing": ("告警中", "Firing"),
    "alerts_acknowledged": ("已确认", "Acknowledged"),
    "severity_count": ("{level}级", "Level {level}"),
    "alerts_not_shown": (
        "另有 {n} 条未显示，请到告警处置页查看",
        "{n} more: see the alert console",
    ),
    "regions_today_title": (
        "各地区今日投诉（括号内为较上周同期）",
        "Complaints by region today (change vs same time last week)",
    ),
    "region_new": ("新增", "new"),
}

# The four levels of China's emergency classification (domain.severity names them in Chinese).
_SEVERITY_EN = {1: "Ⅰ extremely serious", 2: "Ⅱ major", 3: "Ⅲ serious", 4: "Ⅳ general"}
SEVERITY_NAMES: dict[int, tuple[str, str]] = {
    level: (label, _SEVERITY_EN[level]) for level, label in SEVERITY_LABELS.items()
}

ROLE_NAMES: dict[str, tuple[str, str]] = {
    "duty_manager": ("值班经理", "Duty manager"),
    "on_call": ("值班员", "On-call"),
    "executive": ("管理层", "Executive"),
    "admin": ("管理员", "Administrator"),
}


def t(key: str, lang: Lang = "zh") -> str:
    """The string for ``key``; an unknown key shows itself so a missing entry is visible, not fatal."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[0] if lang == "zh" else pair[1]


def missing(value: Any) -> bool:
    """No figure at all (None or NaN), as opposed to a real 0."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def figure(value: float | None, lang: Lang = "zh", spec: str = ",", unit: str = "") -> str:
    """A figure as text, the same on pages, in workbooks and in PDFs: 无数据 / No data, without
    a unit, when there is none; otherwise the number, a real 0 too, with its unit (``unit``: a
    key whose text holds {n}, as "n_minutes": "3 分钟" / "3 min")."""
    if missing(value):
        return t("no_data", lang)
    text = format(value, spec)
    return t(unit, lang).format(n=text) if unit else text


def sheet_value(value: Any, lang: Lang = "zh") -> Any:
    """A figure for a spreadsheet cell: the number itself, or 无数据 / No data where there is
    none (never an empty cell, never a fake 0)."""
    return t("no_data", lang) if missing(value) else value


def _name(table: dict[str, tuple[str, str]], code: str, lang: Lang) -> str:
    pair = table.get(code)
    if pair is None:
        return code
    return pair[0] if lang == "zh" else pair[1]


def channel_name(code: str, lang: Lang = "zh") -> str:
    return _name(CHANNEL_NAMES, code, lang)


def state_name(code: str, lang: Lang = "zh") -> str:
    return _name(STATE_NAMES, code, lang)


def severity_name(level: int, lang: Lang = "zh") -> str:
    pair = SEVERITY_NAMES.get(int(level))
    if pair is None:
        return str(level)
    return pair[0] if lang == "zh" else pair[1]


def role_name(code: str, lang: Lang = "zh") -> str:
    return _name(ROLE_NAMES, code, lang)
