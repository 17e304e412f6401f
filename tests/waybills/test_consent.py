"""Consent to a drop: the buyer records and withdraws it, a carrier asserts it with a scan or a
dispute; every record is append-only, announced (consent.recorded) and shown to every party."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from carriers.models import WebhookDelivery
from claims.selectors.dossier import order_dossier
from claims.services.watcher import promises_watch
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.claims.test_views import prove
from tests.factories import OrderFactory
from waybills.models import DeliveryConsent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _hooked(waybill):
    waybill.carrier.webhook_url = "https://carrier.example/hook"
    waybill.carrier.save()
    return waybill


def test_buyer_gives_consent_on_the_order_page_and_the_carrier_is_told(client):
    waybill = _hooked(yinzunda_waybill())
    prove(client, waybill)
    until = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("buyer:consent"), {"action": "grant", "method": "station", "place": "东门驿站",
                                                       "valid_until": until})
    assert response.status_code == 302
    consent = DeliveryConsent.objects.get()
    assert (consent.source, consent.channel, consent.kind, consent.method, consent.place) == (
        "buyer", "buyer_page", "grant", "station", "东门驿站")
    hook = WebhookDelivery.objects.get(event_type="consent.recorded")
    assert hook.payload["data"]["waybill_number"] == waybill.number and hook.payload["data"]["method"] == "station"
    page = client.get(reverse("buyer:complaint_new")).content.decode()
    assert "东门驿站" in page and "撤回同意" in page


def test_a_drop_the_buyer_consented_to_opens_no_claim_and_withdrawal_restores_the_promise(client):
    waybill = yinzunda_waybill()
    prove(client, waybill)
    client.post(reverse("buyer:consent"), {"action": "grant", "method": "locker"})
    deliver(waybill, "locker", at=timezone.now() + timedelta(seconds=1))
    assert promises_watch(waybill_ids=[waybill.pk]) == []

    other = yinzunda_waybill()
    client.post(reverse("buyer:complaint_start"), {"number": other.order.order_number,
                                                   "phone_last4": other.order.recipient_phone[-4:]})
    client.post(reverse("buyer:consent"), {"action": "grant", "method": "locker"})
    client.post(reverse("buyer:consent"), {"action": "withdraw"})
    assert list(DeliveryConsent.objects.filter(waybill=other).values_list("kind", flat=True)) == ["grant", "withdraw"]
    deliver(other, "locker", at=timezone.now() + timedelta(seconds=1))
    assert len(promises_watch(waybill_ids=[other.pk])) == 1


@pytest.mark.parametrize(("data", "field"), [
    ({"action": "grant", "method": "door"}, "method"),
    ({"action": "grant", "method": "locker", "valid_until": "2020-01-01T10:00"}, "valid_until"),
    ({"action": "grant", "method": "locker", "valid_until": "not a date"}, "valid_until"),
    ({"action": "grant", "method": "locker", "place": "x" * 101}, "place"),
])
def test_bad_consent_is_a_400_naming_the_field_and_records_nothing(client, data, field):
    waybill = yinzunda_waybill()
    prove(client, waybill)
    response = client.post(reverse("buyer:consent"), data)
    assert response.status_code == 400
    assert field in response.context["consent_form"].errors
    assert not DeliveryConsent.objects.exists()


def test_consent_needs_a_proven_order_with_a_waybill(client):
    assert client.post(reverse("buyer:consent"), {"action": "withdraw"}).status_code == 302  # prove first
    order = OrderFactory()
    client.post(reverse("buyer:complaint_start"), {"number": order.order_number, "phone_last4": order.recipient_phone[-4:]})
    assert client.post(reverse("buyer:consent"), {"action": "withdraw"}).status_code == 404


def test_the_merchant_sees_consents_and_promises_on_the_order_timeline():
    waybill = yinzunda_waybill()
    DeliveryConsent.objects.create(waybill=waybill, kind="grant", method="station", source="buyer",
                                   channel="buyer_page", place="驿站 A")
    deliver(waybill, "locker")
    promises_watch(waybill_ids=[waybill.pk])
    dossier = order_dossier(merchant=waybill.order.merchant, order_id=waybill.order_id)
    assert [i.kind for i in dossier.timeline if i.kind == "consent"] == ["consent"]
    (drop,) = [p for p in dossier.promises if p.rule == "drop"]
    assert drop.state == "broken" and "买家未同意" in drop.text()
    assert "买家未同意" in dossier.claims[0].breach_text


def test_a_failed_consent_says_so_at_the_top_with_plain_field_messages(client):
    waybill = yinzunda_waybill()
    prove(client, waybill)
    too_late = (timezone.localtime() + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(reverse("buyer:consent"), {"action": "grant", "method": "locker", "place": "x" * 101,
                                                       "valid_until": too_late})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="consent-not-recorded"' in page and 'href="#consent"' in page
    assert page.index("consent-not-recorded") < page.index("订单信息")  # above everything else
    assert "地点最多 100 个字" in page and "确保该变量" not in page
    response = client.post(reverse("buyer:consent"), {"action": "grant", "method": "locker", "valid_until": too_late})
    assert response.context["consent_form"].errors["valid_until"] == ["有效期最长一年，请选择一年以内的时间"]
    assert not DeliveryConsent.objects.exists()


def test_get_on_the_consent_address_goes_to_the_order_page(client):
    response = client.get(reverse("buyer:consent"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("buyer:complaint_new"))
