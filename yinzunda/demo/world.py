"""The demo world of `manage.py seed_demo`: carriers, merchants, orders, tracking, complaints, claims.

Deterministic: one `random.Random(DEMO_SEED)` drives every choice, and times are offsets from
"now", so two builds on the same day have the same shape. Claims move through the real
services (claims.services) so the ledger balances exactly as in production; the history is
then dated back to when the scenario says it happened.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from carriers.choices import ComplaintType
from carriers.models import Carrier, CarrierToken, Tariff, TariffPayout
from carriers.services import carrier_token_create, carrier_token_revoke
from claims.models import Claim, ClaimTransition, Complaint, Notification, Settlement
from claims.services.claims import (
    claim_accept,
    claim_auto_accept,
    claim_dispute,
    claim_open,
    claim_ruling,
)
from claims.services.settlements import settlement_confirm_payment, settlement_issue
from orders.models import LedgerEntry, Merchant, MerchantMember, Order, YinzundaPurchase
from waybills.models import EVENT_STATUS, EventCode, TrackingEvent, Waybill
from waybills.services.issue import waybill_numbers_allocate
from yinzunda.money import money

DEMO_SEED = 20261125
DEMO_PASSWORD = "yinzunda-demo-2026"  # noqa: S105 - printed demo login, never for production
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-demo-2026"  # noqa: S105 - printed demo login, never for production
DEMO_TOKEN_NAME = "demo"  # noqa: S105 - a label, not a secret
TARIFF_EFFECTIVE_FROM = datetime(2025, 1, 1, tzinfo=timezone.get_fixed_timezone(8 * 60))
SVC = settings.YINZUNDA_SERVICE_CODE

# (code, name, English name, waybill prefix, partner, share of orders)
CARRIERS = [
    ("ZTO", "中通快递", "ZTO Express", "ZT", True, 35),
    ("YTO", "圆通速递", "YTO Express", "YT", True, 30),
    ("YUNDA", "韵达快递", "Yunda Express", "YD", True, 25),
    ("STO", "申通快递", "STO Express", "ST", False, 10),
]
# Yinzunda's promises pay ¥5.00 (DESIGN §1); the other types are priced for carriers that cover them.
PAYOUTS = {
    ComplaintType.NOT_TO_DOOR: Decimal("5.00"),
    ComplaintType.LOCKER_WITHOUT_CONSENT: Decimal("5.00"),
    ComplaintType.RETURN_PICKUP_MISSED: Decimal("5.00"),
    ComplaintType.NO_CALL: Decimal("5.00"),
    ComplaintType.STUCK_IN_TRANSIT: Decimal("3.00"),
    ComplaintType.COURIER_CONDUCT: Decimal("2.00"),
    ComplaintType.DAMAGED: Decimal("10.00"),
    ComplaintType.LOST: Decimal("20.00"),
}


@dataclass(frozen=True)
class DemoMerchant:
    code: str
    name: str
    username: str
    city: str
    share: int
    price_range: tuple[int, int]
    quota_mode: str


MERCHANTS = [
    DemoMerchant("demo-beauty", "花间集美妆旗舰店", "demo-beauty", "杭州市", 45, (59, 699), "warn"),
    DemoMerchant("demo-digital", "极客数码专营店", "demo-digital", "深圳市", 30, (99, 4999), "enforce"),
    DemoMerchant("demo-snacks", "山野零食小铺", "demo-snacks", "长沙市", 25, (19, 199), "warn"),
]

# (province, city, districts, transit hub)
CITIES = [
    ("浙江省", "杭州市", ["西湖区", "余杭区", "滨江区", "拱墅区"], "杭州转运中心"),
    ("上海市", "上海市", ["浦东新区", "闵行区", "徐汇区", "静安区"], "上海青浦转运中心"),
    ("广东省", "广州市", ["天河区", "白云区", "番禺区"], "广州白云转运中心"),
    ("广东省", "深圳市", ["南山区", "福田区", "宝安区", "龙岗区"], "深圳转运中心"),
    ("北京市", "北京市", ["朝阳区", "海淀区", "丰台区"], "北京顺义转运中心"),
    ("湖北省", "武汉市", ["武昌区", "洪山区", "江汉区"], "武汉转运中心"),
    ("四川省", "成都市", ["武侯区", "高新区", "锦江区"], "成都双流转运中心"),
    ("江苏省", "南京市", ["鼓楼区", "江宁区", "秦淮区"], "南京转运中心"),
    ("湖南省", "长沙市", ["岳麓区", "雨花区", "开福区"], "长沙转运中心"),
    ("陕西省", "西安市", ["雁塔区", "未央区"], "西安转运中心"),
]
STREETS = ["文三路", "学院路", "人民路", "中山路", "解放路", "建设路", "长江路", "科技园路", "振华路", "东风路"]
COMMUNITIES = ["阳光花园", "翠苑小区", "金色家园", "幸福里", "锦绣华庭", "东方名苑", "万科城", "绿城桂花园"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "杰", "娟", "涛", "明", "超", "秀英",
         "丽", "强", "婷", "雪", "晨", "思远", "子涵", "欣怡", "浩然", "雨桐", "梓萱", "一诺", "俊杰"]
PHONE_PREFIXES = ["138", "139", "135", "136", "137", "150", "151", "152", "158", "159",
                  "186", "187", "188", "130", "131", "132", "155", "156", "177", "180", "181", "189", "199"]

# Routing's own wording for the decisions it writes (claims.routing), so the demo reads the same.
REASON_NOT_COVERED = "此类问题不属于音尊达赔付范围，已转商家处理售后"
REASON_NOT_PURCHASED = "该订单未购买音尊达服务，已转商家处理"
REASON_NOT_DELIVERED = "物流轨迹显示包裹尚未签收；签收后如有问题可再次投诉"
REASON_TOO_LATE = "已超过签收后 7 天的投诉期限，不予受理"
REASON_RETURN_DONE = "物流轨迹显示退货已上门取件"


@dataclass(frozen=True)
class ClaimScenario:
    """One claim's story: carrier, breach, how the parcel was delivered and what happened next."""

    carrier: str
    complaint_type: str | None  # None: opened by tracking evidence, no complaint
    method: str  # how the parcel was delivered
    filed_days_ago: float
    steps: tuple[tuple[str, float], ...] = ()  # (action, hours after the claim opened)


# ZTO is paid up to 5 days ago, YTO has an unpaid statement up to 2 days ago, Yunda none yet.
SCENARIOS = [
    ClaimScenario("ZTO", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 12, (("accept", 20),)),
    ClaimScenario("ZTO", ComplaintType.NOT_TO_DOOR, "station", 14, (("auto", 49),)),
    ClaimScenario("ZTO", ComplaintType.NOT_TO_DOOR, "door", 16, (("dispute", 20), ("uphold", 60))),
    ClaimScenario("ZTO", ComplaintType.NO_CALL, "locker", 9, (("accept", 30),)),
    ClaimScenario("ZTO", ComplaintType.NOT_TO_DOOR, "reception", 10, (("dispute", 22), ("dismiss", 70))),
    ClaimScenario("ZTO", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 3, (("accept", 18),)),
    ClaimScenario("ZTO", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 0.5),
    ClaimScenario("YTO", ComplaintType.RETURN_PICKUP_MISSED, "door", 8, (("accept", 26),)),
    ClaimScenario("YTO", ComplaintType.NOT_TO_DOOR, "station", 6, (("auto", 49),)),
    ClaimScenario("YTO", ComplaintType.NOT_TO_DOOR, "door", 9, (("dispute", 20), ("uphold", 80))),
    ClaimScenario("YTO", ComplaintType.NOT_TO_DOOR, "door", 2, (("dispute", 12),)),
    ClaimScenario("YTO", None, "station", 0.8),
    ClaimScenario("YUNDA", None, "station", 4, (("accept", 24),)),
    ClaimScenario("YUNDA", ComplaintType.LOCKER_WITHOUT_CONSENT, "locker", 1),
    ClaimScenario("YUNDA", ComplaintType.NOT_TO_DOOR, "station", 5, (("auto", 50),)),
    ClaimScenario("YUNDA", ComplaintType.NOT_TO_DOOR, "door", 7, (("dispute", 20), ("dismiss", 50))),
    ClaimScenario("YUNDA", ComplaintType.NO_CALL, "door", 3, (("dispute", 20),)),
]
SETTLEMENTS = {"ZTO": ("paid", 5), "YTO": ("issued", 2)}  # carrier: (state, period end days ago)


@dataclass(frozen=True)
class EventRow:
    code: str
    at: datetime
    location: str
    method: str = ""
    proof_type: str = ""
    proof_url: str = ""
    note: str = ""


@dataclass
class Plan:
    """One order to create, with its waybill and tracking history."""

    merchant: Merchant
    created_at: datetime
    city: tuple
    district: str
    name: str
    phone: str
    address: str
    amount: Decimal
    carrier: Carrier | None = None
    platform: bool = True
    events: list[EventRow] = field(default_factory=list)
    purchased: bool = False
    cancelled: bool = False
    scenario: ClaimScenario | None = None
    complaint: tuple[str, str, str, datetime] | None = None  # type, status, reason, filed at
    order: Order | None = None
    waybill: Waybill | None = None
    tracking: list[TrackingEvent] = field(default_factory=list)
    purchase: YinzundaPurchase | None = None


@dataclass
class DemoSummary:
    created: bool
    orders: int
    logins: list[tuple[str, str, str]]  # (role, username, password)
    tokens: list[tuple[str, str]]  # (carrier code, raw token)


def demo_world_exists() -> bool:
    return Order.objects.filter(merchant__code=MERCHANTS[0].code).exists()


def demo_buyer_samples(*, limit: int = 3) -> list[tuple[str, str, str]]:
    """Demo orders a visitor can complain about as a buyer: (order number, phone last 4, what happened).

    Yinzunda parcels delivered within the complaint window come first (a covered complaint opens
    a claim); orders without the tier follow (their complaints go to the merchant).
    """
    delivered = Order.objects.filter(
        merchant__code__in=[m.code for m in MERCHANTS],
        waybill__delivered_at__gte=timezone.now() - timedelta(days=settings.YINZUNDA_COMPLAINT_WINDOW_DAYS),
        complaints__isnull=True,
        claims__isnull=True,
    )
    with_tier = delivered.filter(purchases__status=YinzundaPurchase.Status.ACTIVE)
    without_tier = delivered.exclude(purchases__status=YinzundaPurchase.Status.ACTIVE)
    samples = []
    for queryset, label in ((with_tier, "音尊达"), (without_tier, "未购买音尊达")):
        rows = queryset.order_by("order_number").values_list("order_number", "recipient_phone", "waybill__delivery_method")
        samples += [(number, phone[-4:], f"{label} · {method}") for number, phone, method in rows[:limit]]
    return samples


def demo_world_build(*, orders: int = 3000, now: datetime | None = None) -> DemoSummary:
    """Build the demo world once; a rerun only refreshes the printed logins and carrier tokens."""
    now = now or timezone.now()
    # The demo world e-mails nobody: notifications stay in the dashboard inbox.
    dummy_mail = override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend")
    with dummy_mail, _quiet_eager_tasks(), transaction.atomic():
        carriers = _carriers()
        merchants = _merchants()
        logins = _logins(merchants)
        created = False
        if not demo_world_exists():
            _World(random.Random(DEMO_SEED), now, carriers, merchants).build(orders)
            created = True
        tokens = _tokens(carriers)
    count = Order.objects.filter(merchant__code__in=[m.code for m in MERCHANTS]).count()
    return DemoSummary(created=created, orders=count, logins=logins, tokens=tokens)


@contextmanager
def _quiet_eager_tasks() -> Iterator[None]:
    """Eager Celery (no broker) logs a line per notification task: not news during a seed."""
    loggers = [logging.getLogger(name) for name in ("celery.app.trace", "kombu.connection")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _carriers() -> dict[str, Carrier]:
    carriers = {}
    for code, name, name_en, prefix, partner, _share in CARRIERS:
        carrier, _ = Carrier.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "waybill_prefix": prefix, "is_partner": partner,
                      "response_deadline_hours": 48, "webhook_url": ""},
        )
        if partner:
            tariff, made = Tariff.objects.get_or_create(
                carrier=carrier, version=1,
                defaults={"effective_from": TARIFF_EFFECTIVE_FROM, "fee_per_order": Decimal("0.80")},
            )
            if made:
                TariffPayout.objects.bulk_create(
                    TariffPayout(tariff=tariff, complaint_type=t, amount=a) for t, a in PAYOUTS.items()
                )
        carriers[code] = carrier
    return carriers


def _merchants() -> dict[str, Merchant]:
    merchants = {}
    for spec in MERCHANTS:
        merchant, _ = Merchant.objects.get_or_create(
            code=spec.code,
            defaults={"name": spec.name, "email": f"{spec.code}@shop.yinzunda.example", "quota_mode": spec.quota_mode},
        )
        merchants[spec.code] = merchant
    return merchants


def _logins(merchants: dict[str, Merchant]) -> list[tuple[str, str, str]]:
    User = get_user_model()
    logins = []
    admin, made = User.objects.get_or_create(username=ADMIN_USERNAME, defaults={"is_staff": True, "is_superuser": True})
    if made:
        admin.set_password(ADMIN_PASSWORD)
        admin.save(update_fields=["password"])
    logins.append(("平台运营（后台 /admin/，仲裁）", ADMIN_USERNAME, ADMIN_PASSWORD))
    for spec in MERCHANTS:
        user, made = User.objects.get_or_create(username=spec.username)
        if made:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        MerchantMember.objects.get_or_create(user=user, defaults={"merchant": merchants[spec.code]})
        logins.append((f"商家 {spec.name}", spec.username, DEMO_PASSWORD))
    return logins


def _tokens(carriers: dict[str, Carrier]) -> list[tuple[str, str]]:
    """A fresh demo token per carrier on every run (raw tokens are never stored); old ones are revoked."""
    tokens = []
    for code, carrier in carriers.items():
        for old in CarrierToken.objects.filter(carrier=carrier, name=DEMO_TOKEN_NAME, revoked_at__isnull=True):
            carrier_token_revoke(token=old)
        _token, raw = carrier_token_create(carrier=carrier, name=DEMO_TOKEN_NAME)
        tokens.append((code, raw))
    return tokens


class _World:
    def __init__(self, rng: random.Random, now: datetime, carriers: dict[str, Carrier], merchants: dict[str, Merchant]):
        self.rng = rng
        self.now = now
        self.carriers = carriers
        self.merchants = merchants
        self.tariffs = {t.carrier_id: t for t in Tariff.objects.filter(carrier__in=carriers.values(), version=1)}
        self.admin = get_user_model().objects.get(username=ADMIN_USERNAME)
        self.event_serial = dict.fromkeys(carriers, 0)

    # ---- people and places -------------------------------------------------------------
    def _plan(self, merchant_spec: DemoMerchant, created_at: datetime) -> Plan:
        rng = self.rng
        city = rng.choice(CITIES)
        province, city_name, districts, _hub = city
        district = rng.choice(districts)
        prefix = province if province == city_name else province + city_name
        address = (
            f"{prefix}{district}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
            f"{rng.choice(COMMUNITIES)}{rng.randint(1, 30)}栋{rng.randint(1, 4)}单元{rng.randint(1, 33)}{rng.randint(1, 4):02d}"
        )
        low, high = merchant_spec.price_range
        return Plan(
            merchant=self.merchants[merchant_spec.code], created_at=created_at, city=city, district=district,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            phone=rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}",
            address=address,
            amount=Decimal(f"{rng.randint(low, high)}.{rng.choice(['00', '90', '80', '50'])}"),
        )

    # ---- tracking ----------------------------------------------------------------------
    def _hours(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.randint(int(low * 60), int(high * 60)))

    def _timeline(
        self, plan: Plan, *, method: str, delay_days: int = 0, failed_first: bool = False,
        refused: bool = False, return_flow: str | None = None,
    ) -> list[EventRow]:
        """A parcel's whole story of scans, from pickup to delivery and maybe a return."""
        rng = self.rng
        origin = next(c for c in CITIES if c[1] == _spec(plan.merchant).city)
        dest = plan.city
        district = plan.district
        courier = rng.choice(SURNAMES) + "师傅"
        mobile = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        rows = []
        t = plan.created_at + self._hours(2, 20)
        rows.append(EventRow(EventCode.PICKED_UP, t, f"{origin[1]}{origin[2][0]}揽收网点"))
        hubs = [origin[3]] if origin[3] == dest[3] else [origin[3], dest[3]]
        delayed_hub = rng.randrange(len(hubs)) if delay_days else -1
        for index, hub in enumerate(hubs):
            t += self._hours(3, 8) if index == 0 else self._hours(8, 30)
            rows.append(EventRow(EventCode.ARRIVED_AT_HUB, t, hub))
            t += self._hours(1, 4)
            note = ""
            if index == delayed_hub:
                t += timedelta(days=delay_days) + self._hours(0, 10)
                note = "转运中心爆仓，包裹滞留后已发出"
            rows.append(EventRow(EventCode.DEPARTED_HUB, t, hub, note=note))
        station = f"{dest[1]}{district}{rng.choice(COMMUNITIES)}营业部"
        t += self._hours(3, 10)
        rows.append(EventRow(EventCode.ARRIVED_AT_STATION, t, station))
        t += self._hours(1, 6)
        rows.append(EventRow(EventCode.OUT_FOR_DELIVERY, t, station, note=f"快递员 {courier}（{mobile}）正在派送"))
        if failed_first or refused:
            t += self._hours(1, 4)
            note = rng.choice(["电话无人接听，改日派送", "收件人不在家，已约次日派送", "地址不详，已联系收件人"])
            rows.append(EventRow(EventCode.DELIVERY_FAILED, t, plan.address[:60], note=note))
            t += self._hours(16, 26)
            rows.append(EventRow(EventCode.OUT_FOR_DELIVERY, t, station, note=f"快递员 {courier}（{mobile}）再次派送"))
        if refused:
            t += self._hours(24, 72)
            rows.append(EventRow(EventCode.RETURNED_TO_SENDER, t, origin[3], note="收件人拒收，已退回寄件人"))
            return rows
        t += self._hours(1, 4)
        rows.append(self._delivery(plan, t, method, station, courier))
        if return_flow:
            t += self._hours(20, 60)
            rows.append(EventRow(EventCode.RETURN_PICKUP_SCHEDULED, t, station, note="买家申请退货，已预约上门取件"))
            if return_flow == "picked":
                t += self._hours(6, 30)
                rows.append(EventRow(EventCode.RETURN_PICKED_UP, t, plan.address[:60], note=f"快递员 {courier} 已上门取件"))
        return rows

    def _delivery(self, plan: Plan, at: datetime, method: str, station: str, courier: str) -> EventRow:
        carrier_host = (plan.carrier.code if plan.carrier else "carrier").lower()
        proof_type = proof_url = ""
        if method == "door":
            note = "已送货上门，本人签收"
            if self.rng.random() < 0.7:
                proof_type = "photo"
                proof_url = f"https://proof.{carrier_host}.example/pod/{self.rng.randrange(16**12):012x}.jpg"
        elif method == "locker":
            note = f"已放入{plan.city[1]}{self.rng.choice(COMMUNITIES)}丰巢快递柜，取件码 {self.rng.randint(100000, 999999)}"
        elif method == "station":
            note = f"已放至{station.removesuffix('营业部')}菜鸟驿站，请凭取件码领取"
        elif method == "reception":
            note = "已由门卫/前台代收"
            proof_type = "signature"
            proof_url = f"https://proof.{carrier_host}.example/sign/{self.rng.randrange(16**12):012x}.png"
        else:
            note = "收件人已到网点自提"
        return EventRow(EventCode.DELIVERED, at, plan.address[:60] if method in {"door", "reception"} else station,
                        method=method, proof_type=proof_type, proof_url=proof_url, note=note)

    def _random_timeline(self, plan: Plan) -> list[EventRow]:
        rng = self.rng
        roll = rng.random()
        method = ("door" if roll < 0.55 else "locker" if roll < 0.73 else "station" if roll < 0.88
                  else "reception" if roll < 0.95 else "self_pickup")
        if plan.purchased:  # the promise kept (a locker/station drop would have opened a claim)
            method = "door" if rng.random() < 0.93 else "reception"
        delay = rng.randint(2, 5) if rng.random() < 0.08 else 0
        refused = rng.random() < 0.01
        failed = rng.random() < 0.08
        return_roll = rng.random()
        return_flow = "picked" if return_roll < 0.04 else "missed" if return_roll < 0.055 else None
        rows = self._timeline(plan, method=method, delay_days=delay, failed_first=failed,
                              refused=refused, return_flow=return_flow)
        return [r for r in rows if r.at <= self.now]  # what has happened so far

    # ---- the build ---------------------------------------------------------------------
    def build(self, count: int) -> None:
        plans = self._random_plans(count)
        repeat = max(1, count // 1000)
        scenario_plans = [self._scenario_plan(s) for _ in range(repeat) for s in SCENARIOS]
        complaint_plans = self._complaint_plans(plans, repeat)
        plans.extend(scenario_plans)
        plans.sort(key=lambda p: p.created_at)
        self._save_orders(plans)
        self._save_waybills(plans)
        self._save_events(plans)
        self._save_purchases(plans)
        self._save_complaints(complaint_plans)
        claims = [self._play_scenario(p) for p in scenario_plans]
        self._settle(claims)

    def _random_plans(self, count: int) -> list[Plan]:
        rng = self.rng
        weights = [m.share for m in MERCHANTS]
        carrier_codes = [c[0] for c in CARRIERS]
        carrier_weights = [c[5] for c in CARRIERS]
        plans = []
        for _ in range(count):
            spec = rng.choices(MERCHANTS, weights)[0]
            created_at = self.now - timedelta(seconds=rng.randint(0, 30 * 86400))
            plan = self._plan(spec, created_at)
            age = self.now - created_at
            if age < timedelta(hours=30) and rng.random() < 0.3:
                plans.append(plan)  # not shipped yet: no waybill
                continue
            plan.carrier = self.carriers[rng.choices(carrier_codes, carrier_weights)[0]]
            plan.platform = rng.random() > 0.05
            plan.purchased = plan.carrier.is_partner and plan.platform and rng.random() < 0.025
            plan.cancelled = plan.purchased and rng.random() < 0.05
            plan.events = self._random_timeline(plan)
            plans.append(plan)
        # At least two refunded purchases, whatever the size.
        for plan in [p for p in plans if p.purchased][:2]:
            plan.cancelled = True
        return plans

    def _scenario_plan(self, scenario: ClaimScenario) -> Plan:
        """An order whose delivery leads, filed_days_ago days ago, to the scenario's claim."""
        spec = self.rng.choice(MERCHANTS)
        filed_at = self.now - timedelta(days=scenario.filed_days_ago) + self._hours(-3, 3)
        filed_at = min(filed_at, self.now - timedelta(minutes=30))
        plan = self._plan(spec, filed_at - timedelta(days=4))
        plan.carrier = self.carriers[scenario.carrier]
        plan.purchased = True
        plan.scenario = scenario
        return_flow = "missed" if scenario.complaint_type == ComplaintType.RETURN_PICKUP_MISSED else None
        events = self._timeline(plan, method=scenario.method, return_flow=return_flow)
        # Shift the story so its last scan lands a few hours before the complaint.
        anchor = events[-1].at if scenario.complaint_type else next(e.at for e in events if e.code == EventCode.DELIVERED)
        if not scenario.complaint_type:
            target = filed_at
        elif return_flow:  # the buyer waited for the courier who never came
            target = filed_at - self._hours(30, 50)
        else:
            target = filed_at - self._hours(3, 20)
        shift = target - anchor
        plan.created_at += shift
        plan.events = [EventRow(**{**e.__dict__, "at": e.at + shift}) for e in events if e.at + shift <= self.now]
        plan.complaint = (scenario.complaint_type, "", "", filed_at) if scenario.complaint_type else None
        return plan

    def _complaint_plans(self, plans: list[Plan], repeat: int) -> list[Plan]:
        """Complaints that open no claim: forwarded to the merchant, rejected, or not yet routed."""
        rng = self.rng
        now = self.now
        shipped = [p for p in plans if p.carrier and p.events and not p.cancelled]
        delivered = [p for p in shipped if any(e.code == EventCode.DELIVERED for e in p.events)]
        chosen: list[Plan] = []

        def pick(candidates: list[Plan], complaint_type: str, status: str, reason: str, *, days_after: int = 0) -> None:
            free = [p for p in candidates if p.complaint is None]
            if not free:
                return
            plan = rng.choice(free)
            filed = plan.events[-1].at + timedelta(days=days_after) + self._hours(2, 40)
            plan.complaint = (complaint_type, status, reason, min(filed, now - timedelta(minutes=20)))
            chosen.append(plan)

        delivered_recent = [p for p in delivered if p.events[-1].at > now - timedelta(days=6)]
        for _ in range(repeat):
            pick(delivered_recent, ComplaintType.DAMAGED, Complaint.Status.FORWARDED, REASON_NOT_COVERED)
            pick(delivered_recent, ComplaintType.COURIER_CONDUCT, Complaint.Status.FORWARDED, REASON_NOT_COVERED)
            pick([p for p in delivered_recent if any(e.note.startswith("转运中心") for e in p.events)] or delivered_recent,
                 ComplaintType.STUCK_IN_TRANSIT, Complaint.Status.FORWARDED, REASON_NOT_COVERED)
            pick([p for p in delivered_recent if not p.purchased and p.events[-1].method in {"locker", "station"}],
                 ComplaintType.NOT_TO_DOOR, Complaint.Status.FORWARDED, REASON_NOT_PURCHASED)
            pick([p for p in delivered_recent if not p.purchased], ComplaintType.LOCKER_WITHOUT_CONSENT,
                 Complaint.Status.FORWARDED, REASON_NOT_PURCHASED)
            pick([p for p in shipped if p.purchased and not any(e.code == EventCode.DELIVERED for e in p.events)],
                 ComplaintType.NOT_TO_DOOR, Complaint.Status.REJECTED, REASON_NOT_DELIVERED)
            pick([p for p in delivered if p.purchased and p.events[-1].code == EventCode.DELIVERED
                  and p.events[-1].at < now - timedelta(days=12)],
                 ComplaintType.NOT_TO_DOOR, Complaint.Status.REJECTED, REASON_TOO_LATE, days_after=8)
            pick([p for p in delivered if p.events[-1].code == EventCode.RETURN_PICKED_UP],
                 ComplaintType.RETURN_PICKUP_MISSED, Complaint.Status.REJECTED, REASON_RETURN_DONE)
        # Two just filed: the router (or its sweep) has not reached them yet.
        for minutes in (5, 12):
            free = [p for p in delivered_recent if p.complaint is None]
            if free:
                plan = rng.choice(free)
                plan.complaint = (ComplaintType.NOT_TO_DOOR, Complaint.Status.RECEIVED, "", now - timedelta(minutes=minutes))
                chosen.append(plan)
        return chosen

    def _save_orders(self, plans: list[Plan]) -> None:
        serial_by_day: dict[str, int] = {}
        orders = []
        for plan in plans:
            day = timezone.localtime(plan.created_at).strftime("%Y%m%d")
            serial_by_day[day] = serial_by_day.get(day, 0) + 1
            plan.order = Order(
                merchant=plan.merchant, order_number=f"DY{day}{serial_by_day[day]:06d}",
                recipient_name=plan.name, recipient_phone=plan.phone, recipient_address=plan.address,
                amount=plan.amount, created_at=plan.created_at,
            )
            orders.append(plan.order)
        Order.objects.bulk_create(orders, batch_size=500)

    def _save_waybills(self, plans: list[Plan]) -> None:
        waybills = []
        for code, carrier in self.carriers.items():
            mine = [p for p in plans if p.carrier and p.carrier.code == code]
            platform = [p for p in mine if p.platform]
            numbers = iter(waybill_numbers_allocate(carrier=carrier, count=len(platform)) if platform else [])
            for plan in mine:
                number = next(numbers) if plan.platform else f"{carrier.waybill_prefix}7{self.rng.randrange(10**10):010d}"
                plan.waybill = Waybill(
                    number=number, carrier=carrier, order=plan.order, is_platform_issued=plan.platform,
                    service_codes=[SVC] if plan.purchased and not plan.cancelled else [],
                    created_at=plan.created_at + timedelta(minutes=10),
                )
                _apply_status(plan.waybill, plan.events)
                waybills.append(plan.waybill)
        Waybill.objects.bulk_create(waybills, batch_size=500)

    def _save_events(self, plans: list[Plan]) -> None:
        events = []
        for plan in plans:
            if not plan.waybill:
                continue
            code = plan.carrier.code
            rows = []
            for row in plan.events:
                self.event_serial[code] += 1
                rows.append(TrackingEvent(
                    carrier=plan.carrier, waybill=plan.waybill, event_id=f"{code}-EV{self.event_serial[code]:09d}",
                    code=row.code, occurred_at=row.at, location=row.location, delivery_method=row.method,
                    proof_type=row.proof_type, proof_url=row.proof_url, note=row.note,
                    received_at=row.at + timedelta(minutes=self.rng.randint(1, 15)),
                ))
            plan.tracking = rows
            events.extend(rows)
        TrackingEvent.objects.bulk_create(events, batch_size=1000)

    def _save_purchases(self, plans: list[Plan]) -> None:
        buyers = {m.merchant_id: m.user for m in MerchantMember.objects.select_related("user")
                  .filter(merchant__in=self.merchants.values())}
        purchases = []
        for plan in plans:
            if not plan.purchased:
                continue
            purchased_at = plan.created_at + self._hours(0.2, 1)
            cancelled_at = purchased_at + timedelta(minutes=20) if plan.cancelled else None
            plan.purchase = YinzundaPurchase(
                order=plan.order, merchant=plan.merchant, tariff=self.tariffs[plan.carrier.pk],
                fee=money(self.tariffs[plan.carrier.pk].fee_per_order), purchased_at=purchased_at,
                purchased_by=buyers.get(plan.merchant.pk),
                status=YinzundaPurchase.Status.CANCELLED if plan.cancelled else YinzundaPurchase.Status.ACTIVE,
                cancelled_at=cancelled_at,
            )
            purchases.append(plan)
        YinzundaPurchase.objects.bulk_create([p.purchase for p in purchases], batch_size=500)
        # The same invariants as orders.services.purchase_create / purchase_cancel, in bulk.
        entries = []
        for plan in purchases:
            purchase = plan.purchase
            entries.append(LedgerEntry(
                merchant=plan.merchant, kind=LedgerEntry.Kind.FEE, amount=-purchase.fee, purchase=purchase,
                memo=f"音尊达服务费 {plan.order.order_number}", created_at=purchase.purchased_at,
            ))
            if plan.cancelled:
                entries.append(LedgerEntry(
                    merchant=plan.merchant, kind=LedgerEntry.Kind.FEE_REFUND, amount=purchase.fee, purchase=purchase,
                    memo=f"取消音尊达退款 {plan.order.order_number}", created_at=purchase.cancelled_at,
                ))
        LedgerEntry.objects.bulk_create(entries, batch_size=500)

    def _complaint_reference(self, filed: datetime) -> str:
        self.complaint_serial = getattr(self, "complaint_serial", 0) + 1
        return f"TS{timezone.localtime(filed):%y%m%d}{self.complaint_serial:05d}"

    def _save_complaints(self, plans: list[Plan]) -> None:
        complaints = []
        for plan in plans:
            kind, status, reason, filed = plan.complaint
            routed = None if status == Complaint.Status.RECEIVED else filed + timedelta(seconds=self.rng.randint(2, 40))
            complaints.append(Complaint(
                reference=self._complaint_reference(filed), order=plan.order, waybill=plan.waybill,
                complaint_type=kind, description=_description(kind), status=status,
                decision_reason=reason, created_at=filed, routed_at=routed,
            ))
        Complaint.objects.bulk_create(complaints, batch_size=500)

    # ---- claims through the real services, then dated back ------------------------------
    def _play_scenario(self, plan: Plan) -> Claim:
        scenario = plan.scenario
        carrier = plan.carrier
        tariff = self.tariffs[carrier.pk]
        delivered = next(e for e in plan.tracking if e.code == EventCode.DELIVERED)
        complaint = None
        if scenario.complaint_type:
            kind, _status, _reason, filed = plan.complaint
            opened_at = filed + timedelta(seconds=self.rng.randint(2, 40))
            complaint = Complaint.objects.create(
                reference=self._complaint_reference(filed), order=plan.order, waybill=plan.waybill,
                complaint_type=kind, description=_description(kind), status=Complaint.Status.CLAIM_OPENED,
                decision_reason="物流轨迹显示包裹被放至快递柜或驿站，已向快递公司索赔"
                if delivered.delivery_method in {"locker", "station"} else "已向快递公司索赔，快递公司将在答复时限内答复",
                created_at=filed, routed_at=opened_at,
            )
            reason = complaint.decision_reason
            amount = PAYOUTS[kind]
        else:
            opened_at = delivered.received_at + timedelta(seconds=30)
            reason = "轨迹显示音尊达包裹被放至快递柜或驿站（未送货上门），系统自动索赔"
            amount = PAYOUTS[ComplaintType.LOCKER_WITHOUT_CONSENT]
        claim = claim_open(
            waybill=plan.waybill, complaint_type=scenario.complaint_type or ComplaintType.LOCKER_WITHOUT_CONSENT,
            tariff=tariff, amount=amount, complaint=complaint,
            source_event=None if complaint else delivered, reason=reason, now=opened_at,
        )
        moments = {Claim.Status.OPEN: opened_at}
        for action, hours in scenario.steps:
            at = opened_at + timedelta(hours=hours) + self._hours(0, 1)
            if action == "accept":
                claim = claim_accept(claim_id=claim.pk, carrier=carrier, reason="核实属实，同意赔付")
            elif action == "auto":
                claim = claim_auto_accept(claim_id=claim.pk, now=max(at, claim.deadline_at + timedelta(minutes=5)))
                at = claim.updated_at
            elif action == "dispute":
                evidence = [{"type": e.proof_type, "url": e.proof_url} for e in [delivered] if e.proof_url] or [
                    {"type": "note", "text": "快递员称已电话联系买家并获同意"}]
                claim = claim_dispute(claim_id=claim.pk, carrier=carrier,
                                      reason="已按约送货上门，附签收凭证", evidence=evidence)
            elif action in {"uphold", "dismiss"}:
                uphold = action == "uphold"
                claim = claim_ruling(
                    claim_id=claim.pk, user=self.admin, uphold=uphold,
                    reason="凭证照片无法证明送货上门，支持赔付" if uphold else "签收凭证清晰，确认已送货上门，驳回索赔",
                )
            moments[claim.status] = at
        self._date_back(claim, moments)
        return claim

    def _date_back(self, claim: Claim, moments: dict[str, datetime]) -> None:
        """The services stamp "now"; the story happened earlier. The ledger is not touched."""
        for status, at in moments.items():
            ClaimTransition.objects.filter(claim=claim, to_status=status).update(created_at=at)
        last = max(moments.values())
        resolved = last if claim.status not in {Claim.Status.OPEN, Claim.Status.DISPUTED} else None
        Claim.objects.filter(pk=claim.pk).update(updated_at=last, resolved_at=resolved)
        Notification.objects.filter(claim=claim).update(created_at=last)
        claim.refresh_from_db()

    def _settle(self, claims: list[Claim]) -> None:
        for code, (state, days_ago) in SETTLEMENTS.items():
            carrier = self.carriers[code]
            period_end = self.now - timedelta(days=days_ago)
            settlement = settlement_issue(carrier=carrier, period_end=period_end)
            if settlement is None:
                continue
            Settlement.objects.filter(pk=settlement.pk).update(
                issued_at=period_end + timedelta(hours=2), updated_at=period_end + timedelta(hours=2)
            )
            if state == "paid":
                # Paid today: the compensation ledger entries are dated now, like the payment.
                settlement_confirm_payment(settlement_id=settlement.pk, carrier=carrier,
                                           payment_reference=f"CMB{self.rng.randrange(10**12):012d}")


def _spec(merchant: Merchant) -> DemoMerchant:
    return next(m for m in MERCHANTS if m.code == merchant.code)


def _description(kind: str) -> str:
    return {
        ComplaintType.NOT_TO_DOOR: "买了送货上门服务，快递员没有送到家门口，直接放在楼下驿站，也没打电话。",
        ComplaintType.LOCKER_WITHOUT_CONSENT: "没有经过我同意就放进了快递柜，我在外地出差取不了。",
        ComplaintType.RETURN_PICKUP_MISSED: "预约了上门取件退货，等了两天没人来取。",
        ComplaintType.STUCK_IN_TRANSIT: "包裹在转运中心好几天没有动静。",
        ComplaintType.NO_CALL: "派送前没有打电话，直接放门卫了。",
        ComplaintType.COURIER_CONDUCT: "快递员态度很差，让我自己下楼拿。",
        ComplaintType.DAMAGED: "外箱破损，里面的瓶子碎了。",
        ComplaintType.LOST: "显示已签收但是我没有收到。",
    }[kind]




def _apply_status(waybill: Waybill, events: list[EventRow]) -> None:
    """The waybill shows its latest scan; a delivery scan also records method and time."""
    if not events:
        return
    latest = max(events, key=lambda e: e.at)
    waybill.status = EVENT_STATUS[latest.code]
    waybill.status_at = latest.at
    delivered = [e for e in events if e.code == EventCode.DELIVERED]
    if delivered:
        waybill.delivery_method = delivered[-1].method
        waybill.delivered_at = delivered[-1].at
