"""The operator console: each carrier's onboarding checklist, and the alerts that need a human."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from carriers.models import Carrier, CarrierToken, Tariff, WebhookDelivery

from .. import routing
from ..errors import LedgerOutOfBalance
from ..models import Claim
from ..services.ledger import ledger_balance_verify
from ..services.scorecard import week_start_of
from .arbitration import arbitration_target
from .scorecard import scorecard_week

NEAR_DEADLINE = timedelta(hours=6)
FAILING_AFTER_ATTEMPTS = 3
BREACH_JUMP_PER_THOUSAND = 5.0  # a week-on-week rise of the door-promise breach rate worth a look
LEDGER_CHECK_TTL = 600


@dataclass(frozen=True)
class ChecklistItem:
    label: str
    ok: bool
    detail: str = ""


@dataclass
class Checklist:
    carrier: Carrier
    items: list[ChecklistItem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(item.ok for item in self.items)


def _local(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def carrier_checklist(*, carrier: Carrier, now: datetime | None = None) -> Checklist:
    """What a carrier needs before it goes live: a tariff paying every promise, a token, a verified
    webhook endpoint, the sandbox used, scans arriving."""
    return carriers_checklists(carriers=[carrier], now=now)[0]


def carriers_checklists(*, carriers: list[Carrier], now: datetime | None = None) -> list[Checklist]:
    """carrier_checklist for many carriers in three queries, however many there are."""
    now = now or timezone.now()
    ids = [c.pk for c in carriers]
    current: dict[int, Tariff] = {}
    tariffs = (
        Tariff.objects.filter(carrier_id__in=ids, effective_from__lte=now)
        .order_by("carrier_id", "-effective_from").distinct("carrier_id")
        if connection.vendor == "postgresql"
        else Tariff.objects.filter(carrier_id__in=ids, effective_from__lte=now).order_by("carrier_id", "-effective_from")
    )
    for tariff in tariffs.prefetch_related("payouts"):
        current.setdefault(tariff.carrier_id, tariff)
    tokens: dict[int, list[tuple[str, datetime | None]]] = {}
    for carrier_id, prefix, used in CarrierToken.objects.filter(carrier_id__in=ids, revoked_at__isnull=True).values_list(
        "carrier_id", "prefix", "last_used_at"
    ):
        tokens.setdefault(carrier_id, []).append((prefix, used))
    return [_checklist(carrier, current.get(carrier.pk), tokens.get(carrier.pk, [])) for carrier in carriers]


def _checklist(carrier: Carrier, tariff: Tariff | None, tokens: list[tuple[str, datetime | None]]) -> Checklist:
    paid = {payout.complaint_type for payout in tariff.payouts.all()} if tariff else set()
    missing = sorted(str(t.label) for t in routing.COVERED_TYPES if t not in paid)
    live_tokens = [t for t in tokens if not t[0].startswith("yzd_test")]
    sandbox_used = any(prefix.startswith("yzd_test") and used is not None for prefix, used in tokens)
    last_scan = carrier.last_scan_at
    items = [
        ChecklistItem(
            _("有效资费覆盖每项承诺"), tariff is not None and not missing,
            (_("v%(v)d，缺少赔付：%(m)s") % {"v": tariff.version, "m": "、".join(missing)} if missing else f"v{tariff.version}")
            if tariff else _("没有生效的资费"),
        ),
        ChecklistItem(_("已签发 API 令牌"), bool(live_tokens), _("%(n)d 个有效令牌") % {"n": len(live_tokens)}),
        ChecklistItem(
            _("回调地址已通过签名测试"), carrier.webhook_is_verified(),
            _("%(at)s 验证通过") % {"at": _local(carrier.webhook_verified_at)} if carrier.webhook_is_verified()
            else (_("尚未填写回调地址") if not carrier.webhook_url else _("请发送测试回调")),
        ),
        ChecklistItem(
            _("已在沙箱中联调"), sandbox_used,
            _("测试令牌已使用") if sandbox_used else _("测试令牌（yzd_test_…）尚未调用过 API"),
        ),
        ChecklistItem(
            _("已收到物流扫描"), last_scan is not None,
            _("最近一次 %(at)s") % {"at": _local(last_scan)} if last_scan else _("尚未收到扫描"),
        ),
    ]
    return Checklist(carrier=carrier, items=items)


@dataclass
class Alerts:
    near_deadline: list[Claim]
    near_deadline_count: int
    disputes_over_target: int
    failing_endpoints: list[dict]
    breach_jumps: list
    ledger_problem: str
    checked_at: datetime

    @property
    def count(self) -> int:
        return (
            self.near_deadline_count + self.disputes_over_target + len(self.failing_endpoints)
            + len(self.breach_jumps) + (1 if self.ledger_problem else 0)
        )


def _ledger_problem() -> str:
    """The ledger balance check, at most every 10 minutes (it reads every entry)."""
    cached = cache.get("console:ledger-problem")
    if cached is not None:
        return cached
    try:
        ledger_balance_verify()
        problem = ""
    except LedgerOutOfBalance as exc:
        problem = exc.message
    cache.set("console:ledger-problem", problem, LEDGER_CHECK_TTL)
    return problem


def console_alerts(*, now: datetime | None = None) -> Alerts:
    now = now or timezone.now()
    soon = Claim.objects.filter(status=Claim.Status.OPEN, deadline_at__lte=now + NEAR_DEADLINE)
    failing = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, attempt_count__gte=FAILING_AFTER_ATTEMPTS)
        .order_by().values("carrier_id", "carrier__name").annotate(n=Count("id"))
    )
    jumps = [
        r for r in scorecard_week(week_start=week_start_of(now))
        if r.trend is not None and r.trend >= BREACH_JUMP_PER_THOUSAND
    ]
    return Alerts(
        near_deadline=list(soon.select_related("carrier").order_by("deadline_at")[:10]),
        near_deadline_count=soon.count(),
        disputes_over_target=Claim.objects.filter(
            status=Claim.Status.DISPUTED, updated_at__lte=now - arbitration_target()
        ).count(),
        failing_endpoints=failing,
        breach_jumps=jumps,
        ledger_problem=_ledger_problem() if settings.YINZUNDA_CONSOLE_LEDGER_CHECK else "",
        checked_at=now,
    )
