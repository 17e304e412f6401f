"""`python -m tests.support.sqlite_smoke` on the `make run` database (SQLite, eager tasks, after
seed_demo): every page and API call a first-time user makes answers without a server error.
Prints one line per failure and exits non-zero if there was any (tests/test_seed_demo.py runs it)."""
from __future__ import annotations

import os
import sys
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yinzunda.settings.base")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from carriers.models import Carrier  # noqa: E402
from carriers.services import carrier_token_create  # noqa: E402
from orders.models import Merchant  # noqa: E402
from waybills.models import Waybill  # noqa: E402

failures: list[str] = []


def check(client: Client, method: str, url: str, expect: int = 200, **kwargs) -> object:
    response = getattr(client, method)(url, **kwargs)
    if response.status_code != expect:
        failures.append(f"{method.upper()} {url}: {response.status_code} (expected {expect})")
    return response


carrier = Carrier.objects.get(code="ZTO")
_, token = carrier_token_create(carrier=carrier, name="sqlite smoke")
api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
number = Waybill.objects.filter(carrier=carrier, is_platform_issued=True).values_list("number", flat=True).first()
scan_at = (timezone.now() - timedelta(hours=30)).isoformat()
check(api, "post", "/api/v1/carrier/events", content_type="application/json", data={"events": [
    {"event_id": "sqlite-smoke-1", "waybill_number": number, "code": "ARRIVED_AT_STATION", "occurred_at": scan_at}]})
for url in ("/api/v1/carrier/waybills", "/api/v1/carrier/waybills?service=SVC-WBHOMEDELIVERY",
            f"/api/v1/carrier/waybills/{number}", "/api/v1/carrier/claims?status=open,disputed",
            "/api/v1/carrier/settlements", "/api/v1/carrier/webhook-events?after_sequence=0", "/api/schema/"):
    check(api, "get", url)

merchant_user = Merchant.objects.get(code="demo-beauty").members.first().user
web = Client()
web.force_login(merchant_user)
for url in ("/dashboard/", "/dashboard/orders/", "/dashboard/orders/?yinzunda=eligible", "/dashboard/claims/",
            "/dashboard/ledger/", "/dashboard/inbox/", "/dashboard/aftersales/", "/dashboard/exports/orders.csv",
            "/dashboard/exports/claims.csv", "/dashboard/exports/ledger.csv"):
    check(web, "get", url)
# The overview's figures come from rollups kept by PostgreSQL triggers; on SQLite they are read
# from the rows themselves and must still agree with them.
from django.db.models import Sum  # noqa: E402

from claims.selectors.money import money_summary  # noqa: E402
from orders.models import LedgerEntry, Order  # noqa: E402
from orders.selectors.rollups import orders_since  # noqa: E402

demo = Merchant.objects.get(code="demo-beauty")
since = timezone.now() - timedelta(days=30)
if orders_since(merchant=demo, since=since) != Order.objects.filter(merchant=demo, created_at__gte=since).count():
    failures.append("30-day order count differs from the orders")
credited = LedgerEntry.objects.filter(merchant=demo, kind="compensation").aggregate(t=Sum("amount"))["t"] or 0
if money_summary(merchant=demo).compensation_received != credited:
    failures.append(f"compensation received differs from the ledger ({credited})")
if not credited:
    failures.append("the demo merchant has no compensation credited: the figure check proves nothing")
staff = Client()
staff.force_login(get_user_model().objects.get(username="admin"))
for url in ("/staff/", "/staff/claims/", "/staff/scorecard/", "/admin/"):
    check(staff, "get", url)
check(Client(), "get", "/complaint/")

for failure in failures:
    print(failure)
sys.exit(1 if failures else 0)
