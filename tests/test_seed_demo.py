"""`manage.py seed_demo` builds a coherent, deterministic demo world and is safe to rerun."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from carriers.models import Carrier, CarrierToken, Tariff
from claims.models import Claim, ClaimTransition, Complaint, Settlement
from claims.services.ledger import ledger_totals
from orders.models import LedgerEntry, Merchant, Order, YinzundaPurchase
from waybills.models import EVENT_STATUS, TrackingEvent, Waybill
from waybills.numbers import validate_waybill_number
from yinzunda.demo.reference import ADMIN_PASSWORD, DEMO_PASSWORD
from yinzunda.demo.world import demo_world_build

pytestmark = pytest.mark.django_db

SMALL = 150


def seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", orders=SMALL, force=True, stdout=out, **options)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Carrier, Tariff, Merchant, Order, Waybill, TrackingEvent, YinzundaPurchase, LedgerEntry,
              Complaint, Claim, ClaimTransition, Settlement]
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def seeded() -> str:
    return seed()


def test_seed_demo_twice_duplicates_nothing(seeded):
    # given a seeded world
    before = counts()
    # when it is seeded again
    output = seed()
    # then nothing was added and the rerun says so
    assert counts() == before
    assert "已存在" in output
    assert before["Order"] >= SMALL


def test_seed_demo_prints_logins_that_work(seeded, client):
    assert "demo-beauty" in seeded and DEMO_PASSWORD in seeded
    assert "admin" in seeded and ADMIN_PASSWORD in seeded
    for username, password in (("demo-beauty", DEMO_PASSWORD), ("admin", ADMIN_PASSWORD)):
        client.logout()
        response = client.post("/accounts/login/", {"username": username, "password": password})
        assert response.status_code == 302, username
        assert client.session["_auth_user_id"]
    assert client.get("/admin/").status_code == 200  # the last one is staff


def test_seed_demo_prints_a_working_token_per_carrier_and_revokes_the_last_run(seeded):
    second = seed()
    for code in ("ZTO", "YTO", "YUNDA", "STO"):
        assert code in second
    assert CarrierToken.objects.filter(name="demo", revoked_at__isnull=True).count() == 4
    assert CarrierToken.objects.filter(name="demo", revoked_at__isnull=False).count() == 4
    raw = next(line.split()[1] for line in second.splitlines() if line.strip().startswith("ZTO "))
    from carriers.models import hash_token

    token = CarrierToken.objects.get(key_hash=hash_token(raw))
    assert token.carrier.code == "ZTO" and token.revoked_at is None


def test_seed_demo_has_the_partners_and_a_non_partner():
    seed()
    partners = set(Carrier.objects.filter(is_partner=True).values_list("code", flat=True))
    assert partners == {"ZTO", "YTO", "YUNDA"}
    assert Carrier.objects.get(code="STO").is_partner is False
    assert not Carrier.objects.exclude(webhook_url="").exists()  # the demo calls nobody


def test_seed_demo_has_claims_in_every_state_and_complaints_in_every_status(seeded):
    assert set(Claim.objects.values_list("status", flat=True)) == set(Claim.Status.values)
    assert set(Complaint.objects.values_list("status", flat=True)) == set(Complaint.Status.values)
    assert Claim.objects.filter(trigger=Claim.Trigger.TRACKING, source_event__code="DELIVERED").exists()
    # every claim is on a Yinzunda purchase of its order, as the routing rule demands
    for claim in Claim.objects.all():
        assert claim.order.purchases.filter(status="active").exists()


def test_seed_demo_has_a_paid_and_an_issued_settlement_and_the_ledger_balances(seeded):
    paid = Settlement.objects.get(status=Settlement.Status.PAID)
    issued = Settlement.objects.get(status=Settlement.Status.ISSUED)
    assert paid.payment_reference and paid.paid_at
    assert set(paid.claims.values_list("status", flat=True)) == {Claim.Status.SETTLED}
    assert issued.claims.exists() and not issued.claims.filter(status=Claim.Status.SETTLED).exists()
    for settlement in (paid, issued):
        assert settlement.total_amount == sum(c.amount for c in settlement.claims.all())
    balance = ledger_totals()
    assert balance["compensation_ledger"] == balance["compensation_claims"] == balance["paid_settlements"] > 0
    assert balance["fees_ledger"] == balance["fees_purchases"] > 0
    assert balance["refunds_ledger"] == balance["refunds_purchases"] > 0


def test_seed_demo_waybills_show_their_latest_scan(seeded):
    for waybill in Waybill.objects.prefetch_related("events"):
        events = list(waybill.events.all())
        if not events:
            assert waybill.status == Waybill.Status.CREATED
            continue
        latest = max(events, key=lambda e: (e.occurred_at, e.pk))
        assert waybill.status == EVENT_STATUS[latest.code]
        assert waybill.status_at == latest.occurred_at
        delivered = [e for e in events if e.code == "DELIVERED"]
        assert (waybill.delivered_at is not None) == bool(delivered)
        if waybill.is_platform_issued:
            validate_waybill_number(waybill.number)
    methods = set(Waybill.objects.exclude(delivery_method="").values_list("delivery_method", flat=True))
    assert {"door", "locker", "station"} <= methods
    codes = set(TrackingEvent.objects.values_list("code", flat=True))
    assert {"DELIVERY_FAILED", "RETURN_PICKUP_SCHEDULED", "RETURN_PICKED_UP"} <= codes


def test_seed_demo_orders_span_the_last_30_days_with_masked_buyers(seeded):
    now = timezone.now()
    oldest = Order.objects.order_by("created_at").first().created_at
    assert now - timedelta(days=31) < oldest < now - timedelta(days=15)
    assert Order.objects.filter(created_at__gt=now).count() == 0
    assert TrackingEvent.objects.filter(occurred_at__gt=now).count() == 0
    assert Order.objects.values("merchant").distinct().count() == 3


def test_seed_demo_is_deterministic_for_a_given_now():
    now = timezone.now()

    def fingerprint() -> list:
        demo_world_build(orders=60, now=now)
        return [
            list(Order.objects.order_by("order_number").values_list(
                "order_number", "recipient_name", "recipient_phone", "amount", "waybill__number", "waybill__status")),
            list(Claim.objects.order_by("opened_at").values_list("waybill__number", "status", "amount")),
            list(Complaint.objects.order_by("reference").values_list("reference", "status", "complaint_type")),
        ]

    class Rollback(Exception):
        pass

    shapes = []
    for _ in range(2):
        with pytest.raises(Rollback), transaction.atomic():
            shapes.append(fingerprint())
            raise Rollback
    assert shapes[0] == shapes[1]
    assert len(shapes[0][0]) >= 60


def test_seed_demo_refuses_production_without_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", orders=10, stdout=StringIO())
    assert not Order.objects.exists()


def test_every_yinzunda_parcel_dropped_at_a_locker_or_station_has_its_claim(seeded):
    # the tracking rule would have opened one: the demo world does not contradict it
    dropped = Waybill.objects.filter(
        order__purchases__status="active", delivery_method__in=["locker", "station"]
    )
    assert dropped.exists()
    assert not dropped.filter(claims__isnull=True).exists()


def test_seed_demo_prints_buyer_orders_that_prove_and_can_be_complained_about(seeded, client):
    # given the sample buyer orders printed by the seed
    lines = seeded.split("demo buyer orders")[1].strip().splitlines()[1:]
    samples = [line.split()[:2] for line in lines if line.startswith("  DY")]
    assert samples
    for number, last4 in samples:
        # when a visitor proves the order with the printed digits
        response = client.post(reverse("buyer:complaint_start"), {"number": number, "phone_last4": last4})
        # then the complaint form opens for it
        assert response.status_code == 302 and response.url == reverse("buyer:complaint_new")
        client.cookies.clear()


def test_make_run_path_works_on_sqlite_with_no_services(tmp_path):
    """README's first command: with no DATABASE_URL/REDIS_URL the portal migrates and seeds on
    a SQLite file (every migration and every service the demo uses must work there)."""
    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"  # the default, in a throwaway place
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo", "--orders", str(SMALL)]):
        done = subprocess.run([sys.executable, "manage.py", *command], cwd=root, env=env, capture_output=True,  # noqa: S603
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    assert "demo-beauty" in done.stdout and "yzd_" in done.stdout
    # then every page and API call a first-time user makes answers (no SQLite-only server error)
    smoke = subprocess.run([sys.executable, "-m", "tests.support.sqlite_smoke"], cwd=root, env=env,  # noqa: S603
                           capture_output=True, text=True, timeout=600)
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
