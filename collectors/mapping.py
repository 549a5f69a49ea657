"""Field mapping: source columns (Chinese headers, JSON paths) → the canonical record fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from config.sources import RecordField

# The record fields a source may map, as declared for sources.yaml (one list, one place).
RECORD_FIELDS: tuple[str, ...] = get_args(RecordField)

# Headers seen in Chinese call-centre and CRM exports; config ``columns`` overrides them.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "id": (
        "external_id",
        "工单号",
        "工单编号",
        "投诉编号",
        "投诉单号",
        "受理编号",
        "编号",
        "流水号",
    ),
    "received_at": ("受理时间", "投诉时间", "来电时间", "创建时间", "登记时间", "提交时间", "时间"),
    "channel": ("渠道", "投诉渠道", "受理渠道", "来源渠道"),
    "product_code": ("产品代码", "险种代码", "产品编码"),
    "product_name": ("险种", "险种名称", "产品名称", "产品"),
    "product_line": ("险类", "产品线", "业务线"),
    "region": ("地区", "省份", "所属省份", "机构", "分公司", "所属地区"),
    "category": ("投诉类别", "投诉类型", "类别", "问题类型"),
    "event_tag": ("事件标签", "事件", "热点事件"),
    "text": ("投诉内容", "内容", "诉求内容", "问题描述", "描述"),
    "customer_id": ("客户号", "客户编号", "证件号码", "身份证号"),
    "customer_phone": ("客户电话", "联系电话", "手机号", "来电号码", "电话"),
    # One header may fill both region (the province) and branch (the office itself).
    "branch": ("分支机构", "所属分公司", "分公司", "中心支公司", "支公司", "所属机构", "机构"),
}

_BLANK = re.compile(r"[\s\u3000\ufeff]+")


def header_key(header: Any) -> str:
    """Headers compare without blanks, BOMs or case: ' 受理时间 ' and '受理时间' are one column."""
    return _BLANK.sub("", str(header or "")).casefold()


def resolve_columns(headers: list[str], overrides: Mapping[str, str]) -> dict[str, str]:
    """Field → actual header present in the file: configured names first, then known aliases."""
    present = {header_key(h): h for h in headers if h is not None}
    resolved: dict[str, str] = {}
    for field in RECORD_FIELDS:
        candidates = [overrides[field]] if field in overrides else []
        candidates += [field, *HEADER_ALIASES.get(field, ())]
        for candidate in candidates:
            header = present.get(header_key(candidate))
            if header is not None:
                resolved[field] = header
                break
    return resolved


def apply_columns(row: Mapping[str, Any], columns: Mapping[str, str]) -> dict[str, Any]:
    """Pick the mapped fields out of a source row; unmapped fields are simply absent."""
    return {field: row.get(header) for field, header in columns.items()}


def get_path(document: Any, path: str) -> Any:
    """Read ``a.b.0.c`` from nested JSON; missing parts give None instead of an error."""
    if not path:
        return document
    current = document
    for part in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(part)
        elif isinstance(current, list) and part.lstrip("-").isdigit():
            index = int(part)
            current = current[index] if -len(current) <= index < len(current) else None
        else:
            return None
    return current


def map_json(item: Any, columns: Mapping[str, str]) -> dict[str, Any]:
    """A JSON object → record fields; each field reads its configured path or its own name."""
    if not isinstance(item, Mapping):
        return {"_not_an_object": item}
    out: dict[str, Any] = {}
    for field in RECORD_FIELDS:
        value = get_path(item, columns[field]) if field in columns else item.get(field)
        if value is not None:
            out[field] = value
    return out
