"""Decision reasons and the platform's history notes kept as messages (yinzunda.texts), so each
reader gets them in their own language; existing rows are converted where their text is one of
the platform's own wordings (a person's words, and anything not recognised, stay as written).

The wordings are copied here as they were when this migration was written: a migration must
not change when the code's messages do.
"""
from __future__ import annotations

import re

from django.db import migrations, models

DURATIONS = ["%(h)d 小时 %(m)d 分钟", "%(m)d 分钟", "%(h)d 小时"]
METHODS = ["送货上门", "快递柜", "驿站/代收点", "前台/门卫代收", "自提"]
FROMS = ["签收", "到达驿站", "转运时限到期", "预约退货取件"]
CLOCKS = [
    "已送货上门",
    "按买家在平台的同意放至%(method)s",
    "放至%(method)s，买家未在平台同意；快递公司称已获同意，可提出申诉",
    "放至%(method)s，买家未同意",
    "驿站滞留 %(held)s，超过 %(clock)d 小时时限",
    "驿站已滞留 %(held)s，%(clock)d 小时时限还剩 %(left)s",
    "到站 %(held)s 后签收，未超过 %(clock)d 小时时限",
    "转运中心滞留 %(held)s，超过 %(clock)d 小时时限",
    "转运中心已停留 %(held)s，%(clock)d 小时时限还剩 %(left)s",
    "转运中心停留 %(held)s，未超过 %(clock)d 小时时限",
    "揽收后 %(held)s 未开始派送，超过 %(clock)d 小时时限",
    "揽收已 %(held)s，%(clock)d 小时时限还剩 %(left)s",
    "揽收后 %(held)s 开始派送，未超过 %(clock)d 小时时限",
    "预约退货后 %(held)s 未上门取件，超过 %(clock)d 小时时限",
    "预约退货已 %(held)s，%(clock)d 小时时限还剩 %(left)s",
    "预约退货后 %(held)s 上门取件，未超过 %(clock)d 小时时限",
]
COMPLAINT_REASONS = [
    "订单尚未发货，没有物流信息；已转商家处理，商家会联系您",
    "此类问题不属于音尊达赔付范围；已转商家按售后处理，商家会联系您",
    "该订单未购买音尊达服务；已转商家处理，商家会联系您",
    "平台此前已核实过这个包裹的同一问题：快递公司提供的证据成立，裁定不予赔付。"
    "这个裁定是最终结果，再次投诉不会重新索赔。如包裹仍有问题，请联系商家协商售后。",
    "同一包裹已有索赔 #%(id)s，本投诉并入该索赔，不重复赔付",
    "该快递的资费不含此类赔付；已转商家处理，商家会联系您",
    "已超过投诉期限（%(from)s后 %(days)d 天）；如仍有问题请联系商家",
    "%(clock)s：已向快递公司索赔，快递公司将在答复时限内答复",
    "包裹已在驿站 %(held)s；如 %(clock)d 小时时限到仍未送货上门，平台将自动索赔，无需再次投诉",
    "包裹尚未签收，现在还无法判断；平台会在派送后自动重新判断，无需再次投诉",
    "您已在平台同意放至%(method)s，这不属于违约；如需撤回同意，可在订单页操作",
    "已向快递公司索赔；轨迹显示已签收，快递公司可提出申诉，由平台仲裁",
    "包裹尚未签收，现在还无法判断；签收后平台会自动重新判断，无需再次投诉",
    "已向快递公司索赔；快递公司可凭通话记录申诉，由平台仲裁",
    "退货取件时限还没到，现在还无法判断；时限到后平台会自动重新判断，无需再次投诉",
    "包裹仍在运输中、转运时限还没到，现在还无法判断；时限到后平台会自动重新判断，无需再次投诉",
    "物流轨迹显示退货已在时限内上门取件；如有疑问请联系商家",
    "物流轨迹显示包裹在转运时限内已开始派送，没有超时；如有疑问请联系商家",
    "物流数据长时间无法判断；已转商家核实处理，商家会联系您",
]
SYSTEM_REASONS = [*COMPLAINT_REASONS, "%(clock)s；系统根据物流轨迹自动索赔", "快递公司未在答复时限内答复，系统自动接受"]
SETTLED_REASONS = ["结算单 %(ref)s 付款 %(pay)s"]
# The "%(clock)s" of a watcher's claim is a clock text; of a complaint's reason, too.
NESTED = {"clock": CLOCKS, "method": METHODS, "held": DURATIONS, "left": DURATIONS, "from": FROMS}
_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")
_PATTERNS: dict[str, re.Pattern] = {}


def _pattern(template: str) -> re.Pattern:
    if template not in _PATTERNS:
        out, pos = [], 0
        for m in _PLACEHOLDER.finditer(template):
            out.append(re.escape(template[pos:m.start()]))
            name, kind = m.groups()
            out.append(rf"(?P<{name}>\d+)" if kind == "d" else rf"(?P<{name}>.*?)")
            pos = m.end()
        out.append(re.escape(template[pos:]))
        _PATTERNS[template] = re.compile("".join(out) + r"\Z", re.S)
    return _PATTERNS[template]


def recognise(text: str, templates: list[str]) -> dict | None:
    """The message whose wording `text` is, or None."""
    for template in templates:
        match = _pattern(template).match(text)
        if match is None:
            continue
        params, ok = {}, True
        for name, value in match.groupdict().items():
            if f"%({name})d" in template:
                params[name] = int(value)
            elif name in NESTED and value:
                nested = recognise(value, NESTED[name])
                if nested is None:
                    ok = False
                    break
                params[name] = nested
            else:
                params[name] = value
        if ok:
            return {"t": template, "p": params} if params else {"t": template}
    return None


def forwards(apps, schema_editor):
    Complaint = apps.get_model("claims", "Complaint")
    ClaimTransition = apps.get_model("claims", "ClaimTransition")
    batch = []
    for row in Complaint.objects.filter(decision_reason_msg__isnull=True).exclude(decision_reason="").only(
        "pk", "decision_reason"
    ).iterator(chunk_size=2000):
        msg = recognise(row.decision_reason, COMPLAINT_REASONS)
        if msg is not None:
            row.decision_reason_msg = msg
            batch.append(row)
        if len(batch) >= 2000:
            Complaint.objects.bulk_update(batch, ["decision_reason_msg"])
            batch = []
    Complaint.objects.bulk_update(batch, ["decision_reason_msg"])
    batch = []
    # Only the platform's own notes: the opening and auto-acceptance (system) and the settlement;
    # a carrier's or an operator's words are theirs and stay as written.
    rows = ClaimTransition.objects.filter(reason_msg__isnull=True).exclude(reason="").filter(
        models.Q(actor="system") | models.Q(to_status="settled")
    ).only("pk", "reason", "actor", "to_status")
    for row in rows.iterator(chunk_size=2000):
        msg = recognise(row.reason, SYSTEM_REASONS if row.actor == "system" else SETTLED_REASONS)
        if msg is not None:
            row.reason_msg = msg
            batch.append(row)
        if len(batch) >= 2000:
            ClaimTransition.objects.bulk_update(batch, ["reason_msg"])
            batch = []
    ClaimTransition.objects.bulk_update(batch, ["reason_msg"])


class Migration(migrations.Migration):

    dependencies = [
        ("claims", "0013_merchant_answer_photos"),
    ]

    operations = [
        migrations.AddField(
            model_name="complaint",
            name="decision_reason_msg",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="claimtransition",
            name="reason_msg",
            field=models.JSONField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
