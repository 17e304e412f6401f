"""The carrier API's vocabularies of errors and the OpenAPI post-processing that declares them.

Every `error.code` the API can answer and every per-event rejection code is listed here; the
schema publishes them as enums and a test checks that no answer carries a code outside them.
"""
from __future__ import annotations

from django.conf import settings

from carriers.choices import BreachRule, ComplaintType, Promise
from claims.models import Claim, ClaimTransition
from waybills.choices import ConsentMethod
from waybills.models import DeliveryConsent, EventCode, Waybill

from .promises import PROMISE_STATES

ERROR_CODES: dict[str, str] = {
    "malformed_request": "请求体不是合法的 JSON",
    "authentication_failed": "令牌无效或已吊销，或 Authorization 头格式不对",
    "not_authenticated": "缺少 Authorization 头",
    "not_found": "不存在，或不属于你的快递公司",
    "method_not_allowed": "该路径不支持此 HTTP 方法",
    "not_acceptable": "无法按 Accept 头给出应答",
    "unsupported_media_type": "Content-Type 不是 application/json",
    "throttled": "超出该令牌的请求频率，见 Retry-After",
    "invalid": "字段校验未通过，见 fields",
    "payload_too_large": "请求体超过上限",
    "idempotency_key_reused": "同一 Idempotency-Key 用于了不同的请求体",
    "idempotency_request_in_flight": "同一 Idempotency-Key 的首个请求仍在处理",
    "claim_transition_not_allowed": "索赔当前状态不允许该操作",
    "settlement_already_paid": "结算单已确认付款",
    "payment_amount_mismatch": "amount 与结算单 total_amount 不符",
    "server_error": "服务器内部错误，可重试",
}

# `rejected[].code` of POST /events: why one event of a batch was refused.
REJECTION_CODES: dict[str, str] = {
    "required": "必填字段缺失",
    "invalid_type": "类型不对（例如数字代替字符串，或事件不是对象）",
    "null_character": "包含 NUL 字符",
    "invalid_unicode": "包含无效的 Unicode 字符",
    "max_length": "超出长度上限",
    "invalid": "取值无效（例如 event_id 含非 ASCII 字符）",
    "invalid_datetime": "不是 ISO 8601 时间",
    "naive_datetime": "时间没有时区偏移",
    "invalid_offset": "时区偏移超出 ±14:00",
    "out_of_range": "时间超出范围",
    "too_old": "发生时间过早",
    "before_issue": "发生时间早于面单开出",
    "future_datetime": "发生时间晚于当前时间",
    "unknown_code": "未知的事件代码、签收方式或凭证类型",
    "waybill_format": "面单号格式不对",
    "waybill_check_digit": "面单号校验位不对（多半是输错）",
    "unknown_waybill": "面单号不存在或不属于你的快递公司",
    "not_allowed": "只有 DELIVERED 事件可以带签收方式",
    "invalid_url": "不是 https 链接",
}

ERROR_CODE_VALUES = list(ERROR_CODES)
REJECTION_CODE_VALUES = list(REJECTION_CODES)
COMPLAINT_TYPE_VALUES = list(ComplaintType.values)
# ENUM_NAME_OVERRIDES (settings): each vocabulary of the API under one stable component name.
WaybillStatusEnum_VALUES = list(Waybill.Status.values)
EventCodeEnum_VALUES = list(EventCode.values)
ServiceCodeEnum_VALUES = [settings.YINZUNDA_SERVICE_CODE]
ErrorCodeEnum_VALUES = ERROR_CODE_VALUES
RejectionCodeEnum_VALUES = REJECTION_CODE_VALUES
ComplaintTypeEnum_VALUES = COMPLAINT_TYPE_VALUES
ClaimTriggerEnum_VALUES = list(Claim.Trigger.values)
TransitionActorEnum_VALUES = list(ClaimTransition.Actor.values)
PromiseEnum_VALUES = list(Promise.values)
BreachRuleEnum_VALUES = list(BreachRule.values)
PromiseStateEnum_VALUES = list(PROMISE_STATES)
ConsentKindEnum_VALUES = list(DeliveryConsent.Kind.values)
ConsentSourceEnum_VALUES = list(DeliveryConsent.Source.values)
ConsentChannelEnum_VALUES = list(DeliveryConsent.Channel.values)
ConsentMethodEnum_VALUES = list(ConsentMethod.values)

NULL_REF = "#/components/schemas/NullEnum"


def _header(description: str, schema: dict) -> dict:
    return {"description": description, "schema": schema}


HEADERS = {
    "RateLimit-Policy": _header(
        '该令牌的配额（IETF draft-ietf-httpapi-ratelimit-headers）：`"carrier";q=<次数>;w=<秒>`',
        {"type": "string", "example": '"carrier";q=600;w=60'},
    ),
    "RateLimit": _header(
        '当前窗口剩余：`"carrier";r=<剩余次数>;t=<窗口重置前的秒数>`', {"type": "string", "example": '"carrier";r=599;t=60'}
    ),
    "Retry-After": _header("多少秒后再试", {"type": "integer", "minimum": 1}),
    "X-Request-ID": _header(
        "本次请求的编号（请求带合法的 X-Request-ID 时原样返回，否则由平台生成）；联系平台排查问题时请提供",
        {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,64}$"},
    ),
    "Idempotent-Replayed": _header(
        "为 true 表示这是同一 Idempotency-Key 的首个应答的重放，未再次执行", {"type": "string", "enum": ["true"]}
    ),
}


def _nullable_strict(node) -> None:
    """Nullable written so strict OpenAPI 3.0 validators and linters accept it.

    `nullable` applies only next to `type` in 3.0, so `{"allOf": [{"$ref"}], "nullable": true}`
    refused `complaint: null` and `{"nullable": true, "oneOf": [enum, NullEnum]}` is a lint error:
    both become `{"oneOf": [..., {"$ref": NullEnum}]}`, whose null branch says it plainly.
    """
    if isinstance(node, dict):
        if node.get("nullable") and "type" not in node:
            if len(node.get("allOf", [])) == 1 and "$ref" in node["allOf"][0]:
                node["oneOf"] = [node.pop("allOf")[0], {"$ref": NULL_REF}]
            if "oneOf" in node:
                node.pop("nullable")
        for value in node.values():
            _nullable_strict(value)
    elif isinstance(node, list):
        for value in node:
            _nullable_strict(value)


def _table(rows: dict[str, str]) -> str:
    return "\n".join(f"| `{code}` | {text} |" for code, text in rows.items())


def contract_description() -> str:
    """The parts of the docs that come from code: number format, limits, headers, every code."""
    limits = settings.YINZUNDA_API_BODY_LIMITS
    return f"""

## 面单号 / Waybill numbers

`^[A-Z]{{2}}[0-9]{{11}}$`：两位大写字母的快递公司前缀 + 10 位序号 + 1 位校验位，例如 `ZT00000010025`。
校验位为 10 位序号的 **Luhn**（模 10）校验位：从序号最右一位起，奇数位（第 1、3、5…位）乘 2，
乘积大于 9 减 9，与其余各位相加得 s，校验位 = (10 − s mod 10) mod 10。
例：序号 `0000001002` → 2×2=4, 0, 0×2=0, 1, 0, … 之和 5 → 校验位 5 → `ZT00000010025`。
它能发现任何一位输错和绝大多数相邻两位对调；校验位不对的面单号被拒（`waybill_check_digit`）。

## 沙箱 / Sandbox

测试令牌（`yzd_test_…`，运营用 `python manage.py carrier_token <CODE> --test` 生成）作用于该快递公司的沙箱
副本：它有自己的面单前缀、面单、索赔与结算单，看不到任何正式数据；沙箱里不发生资金往来（结算确认付款不给商家入账），
回调的 `livemode` 为 false。用 `POST /api/v1/carrier/sandbox/waybills {{"count": 3, "with_tier": true}}`
生成测试面单，然后按正式流程推送扫描、同步面单、处理索赔、确认付款：本文档的示例都可以在沙箱里原样运行。

## 请求体上限 / Body limits

`POST /events` 最多 {limits["events"] // (1024 * 1024)} MiB，其余请求 {limits["default"] // 1024} KiB（设置 `YINZUNDA_API_BODY_LIMITS`）；
超出返回 413 `payload_too_large`，请求体不会被读取。1000 个事件、每个字段都取文档上限时约 5.1 MiB。

## 应答头 / Response headers

- `RateLimit-Policy: "carrier";q=<次数>;w=<秒>` 与 `RateLimit: "carrier";r=<剩余>;t=<秒>`（IETF
  draft-ietf-httpapi-ratelimit-headers）：每个带令牌的应答都有；429 另有 `Retry-After`（秒）。
- `Idempotent-Replayed: true`：带 `Idempotency-Key` 的请求被重放时。
- `X-Request-ID`：每个应答都有（请求带合法的 `X-Request-ID` 时原样返回）；联系平台时请提供。

## 错误代码 / Error codes (`error.code`)

| code | 含义 |
|---|---|
{_table(ERROR_CODES)}

## 事件拒收代码 / Event rejection codes (`rejected[].code` of `POST /events`)

| code | 含义 |
|---|---|
{_table(REJECTION_CODES)}

版本与变更记录见仓库 `docs/API_CHANGELOG.md`：v1 内只做向后兼容的增加（新字段、新枚举值、新端点）。
"""


def postprocess(result: dict, generator, request, public) -> dict:
    """drf-spectacular hook: response headers declared on every operation, nullable refs made strict-validator safe."""
    info = result.setdefault("info", {})
    info["description"] = info.get("description", "") + contract_description()
    components = result.setdefault("components", {})
    components.setdefault("headers", {}).update(HEADERS)
    ratelimit = {name: {"$ref": f"#/components/headers/{name}"} for name in ("RateLimit-Policy", "RateLimit")}
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/v1/carrier"):
            continue
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                response.setdefault("headers", {})["X-Request-ID"] = {"$ref": "#/components/headers/X-Request-ID"}
            if "401" not in operation.get("responses", {}):
                continue  # public (e.g. a signed photo URL): no token, so no quota
            idempotent = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
            for status, response in operation.get("responses", {}).items():
                if status == "401":
                    continue  # refused before a token is known: no quota to report
                headers = response.setdefault("headers", {})
                headers.update(ratelimit)
                if status == "429":
                    headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
                if idempotent and status.startswith(("2", "4")) and status != "429":
                    headers["Idempotent-Replayed"] = {"$ref": "#/components/headers/Idempotent-Replayed"}
    components.setdefault("schemas", {}).setdefault("NullEnum", {"enum": [None]})
    _nullable_strict(result)
    return result
