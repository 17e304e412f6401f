"""Tariffs as versions: a version in use is never edited, a change is a new version, claims keep
theirs; config history says who changed carriers, tariffs, tokens and merchant quotas."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from carriers.models import Carrier, Tariff, TariffPayout
from carriers.selectors import tariff_current
from carriers.services import tariff_version_create
from claims import routing
from claims.models import Claim
from orders.models import Merchant
from tests.claims.test_views import disputed_claim
from tests.factories import CarrierFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(client):
    user = UserFactory(is_staff=True, is_superuser=True, username="op-li")
    client.force_login(user)
    return client


def test_new_version_copies_fee_and_payouts_and_leaves_open_claims_on_theirs():
    claim = disputed_claim()
    old = claim.tariff
    new = tariff_version_create(tariff=old, effective_from=timezone.now() + timedelta(hours=1))
    assert new.version == old.version + 1 and new.carrier_id == old.carrier_id
    assert new.fee_per_order == old.fee_per_order
    assert {(p.complaint_type, p.amount) for p in new.payouts.all()} == {
        (p.complaint_type, p.amount) for p in old.payouts.all()
    }
    assert Claim.objects.get(pk=claim.pk).tariff_id == old.pk
    assert tariff_current(carrier=old.carrier) == old  # not effective yet
    assert tariff_current(carrier=old.carrier, at=timezone.now() + timedelta(hours=2)) == new


def test_admin_refuses_to_edit_a_tariff_in_use_and_offers_a_new_version(operator):
    claim = disputed_claim()
    tariff = claim.tariff
    page = operator.get(f"/admin/carriers/tariff/{tariff.pk}/change/")
    assert page.status_code == 200 and "不能修改" in page.content.decode()
    operator.post(f"/admin/carriers/tariff/{tariff.pk}/change/", {"fee_per_order": "9.99", "version": "7"})
    tariff.refresh_from_db()
    assert tariff.fee_per_order != Decimal("9.99")
    response = operator.post("/admin/carriers/tariff/", {"action": "new_version", "_selected_action": [tariff.pk]})
    assert response.status_code == 302
    new = Tariff.objects.get(carrier=tariff.carrier, version=tariff.version + 1)
    assert not new.is_in_use()
    assert operator.get(f"/admin/carriers/tariff/{new.pk}/change/").status_code == 200


def test_config_history_records_who_changed_a_carrier_and_a_merchant_quota(operator):
    carrier = disputed_claim().carrier
    merchant = Merchant.objects.first()
    form = operator.get(f"/admin/carriers/carrier/{carrier.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    created = timezone.localtime(carrier.created_at)
    data.update({"created_at_0": created.strftime("%Y-%m-%d"), "created_at_1": created.strftime("%H:%M:%S")})
    data.update({"name": "改名快递", "tokens-TOTAL_FORMS": "0", "tokens-INITIAL_FORMS": "0"})
    response = operator.post(f"/admin/carriers/carrier/{carrier.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Carrier.objects.get(pk=carrier.pk).name == "改名快递"
    latest = carrier.history.order_by("-history_date").first()
    assert latest.name == "改名快递" and latest.history_user.username == "op-li"
    assert latest.prev_record is not None and latest.prev_record.name != "改名快递"
    merchant.quota_percent = Decimal("5")
    merchant.save()
    assert merchant.history.order_by("-history_date").first().quota_percent == Decimal("5.00")
    assert operator.get(f"/admin/carriers/carrier/{carrier.pk}/history/").status_code == 200


def test_admin_flags_a_tariff_that_leaves_a_promise_unpaid_or_pays_for_what_no_rule_claims(operator):
    tariff = CarrierFactory().tariffs.get()
    TariffPayout.objects.filter(tariff=tariff, complaint_type="no_call").delete()
    TariffPayout.objects.update_or_create(tariff=tariff, complaint_type="damaged", defaults={"amount": Decimal("3.00")})
    listing = operator.get("/admin/carriers/tariff/").content.decode()
    assert "⚠" in listing
    page = operator.get(f"/admin/carriers/tariff/{tariff.pk}/change/").content.decode()
    assert "无法获赔" in page and "派送前未电话联系" in page
    assert "无效配置" in page and "包裹破损" in page
    clean = CarrierFactory().tariffs.get()
    TariffPayout.objects.filter(tariff=clean).exclude(complaint_type__in=routing.COVERED_TYPES).delete()
    page = operator.get(f"/admin/carriers/tariff/{clean.pk}/change/").content.decode()
    assert "无法获赔" not in page and "无效配置" not in page
