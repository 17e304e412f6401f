"""A ruling is final (DESIGN §4, issue 9 reproduction 4): after a breach is dismissed, the buyer
filing the same complaint again joins that ruling — no second claim, no auto-accept, no payment."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from carriers.choices import ComplaintType
from claims.models import Claim, Complaint
from claims.services.claims import claim_auto_accept, claim_dispute, claim_ruling
from claims.services.complaints import complaint_file, complaint_route
from claims.services.settlements import settlement_issue
from claims.services.watcher import promises_watch
from claims.tasks import claims_auto_accept_overdue
from orders.models import LedgerEntry
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.claims.test_views import prove
from tests.factories import UserFactory
from waybills.models import TrackingEvent

pytestmark = pytest.mark.django_db


def _filed_and_routed(waybill, complaint_type=ComplaintType.LOCKER_WITHOUT_CONSENT, now=None) -> Complaint:
    complaint = complaint_file(order=waybill.order, complaint_type=complaint_type)
    complaint_route(complaint_id=complaint.pk, now=now)
    complaint.refresh_from_db()
    return complaint


@pytest.fixture
def dismissed():
    """A station drop claimed on the buyer's complaint, disputed by the carrier, dismissed by an operator."""
    waybill = yinzunda_waybill()
    deliver(waybill, method="station")
    first = _filed_and_routed(waybill)
    claim = first.claim
    claim_dispute(claim_id=claim.pk, carrier=waybill.carrier, reason="买家电话同意放驿站", evidence=[])
    claim_ruling(claim_id=claim.pk, user=UserFactory(is_staff=True), uphold=False, reason="通话录音证实买家同意")
    claim.refresh_from_db()
    assert claim.status == Claim.Status.DISMISSED
    return waybill, claim


def test_refiling_after_a_dismissal_joins_the_ruling_and_opens_no_second_claim(dismissed):
    waybill, claim = dismissed
    # when: the buyer files the same complaint again
    again = _filed_and_routed(waybill)
    # then: it joins the ruling, says so, and no claim is opened
    assert Claim.objects.filter(waybill=waybill).count() == 1
    assert again.joined_claim_id == claim.pk
    assert again.status == Complaint.Status.REJECTED
    assert "最终结果" in again.decision_reason and "不会重新索赔" in again.decision_reason
    assert not hasattr(again, "claim") or again.claim is None


def test_no_payment_even_when_the_carrier_stays_silent(dismissed):
    waybill, claim = dismissed
    _filed_and_routed(waybill)
    _filed_and_routed(waybill, ComplaintType.NOT_TO_DOOR)
    # when: the carrier says nothing, long past every answer deadline, and the sweeps run
    later = timezone.now() + timedelta(days=30)
    for pending in Claim.objects.filter(status=Claim.Status.OPEN):
        claim_auto_accept(claim_id=pending.pk, now=later)
    claims_auto_accept_overdue()
    statement = settlement_issue(carrier=waybill.carrier, period_end=later)
    # then: nothing was accepted, put on a statement or paid
    assert list(Claim.objects.values_list("status", flat=True)) == [Claim.Status.DISMISSED]
    assert statement is None
    assert not LedgerEntry.objects.filter(kind="compensation").exists()


def test_a_new_locker_scan_after_the_dismissal_opens_no_claim_either(dismissed):
    waybill, claim = dismissed
    event = TrackingEvent.objects.create(
        carrier=waybill.carrier, waybill=waybill, event_id="redelivered", code="DELIVERED",
        occurred_at=timezone.now() - timedelta(minutes=5), delivery_method="locker",
    )
    assert promises_watch(waybill_ids=[event.waybill_id]) == []
    assert Claim.objects.filter(waybill=waybill).count() == 1


def test_a_complaint_on_a_parcel_with_a_live_claim_joins_it():
    waybill = yinzunda_waybill()
    deliver(waybill, method="station")
    first = _filed_and_routed(waybill)
    again = _filed_and_routed(waybill, ComplaintType.NOT_TO_DOOR)
    assert again.status == Complaint.Status.CLAIM_OPENED and again.joined_claim_id == first.claim.pk
    assert Claim.objects.filter(waybill=waybill).count() == 1


def test_the_buyer_is_told_the_ruling_is_final_in_plain_words(client, dismissed):
    waybill, _claim = dismissed
    again = _filed_and_routed(waybill)
    prove(client, waybill)
    body = client.get(reverse("buyer:complaint_status", args=[again.reference])).content.decode()
    assert "裁定是最终结果" in body and "协商售后" in body
    assert "快递公司应在" not in body  # no answer clock: no carrier has to answer this complaint


def test_an_upheld_claim_also_stands_a_refiled_complaint_pays_nothing_twice():
    waybill = yinzunda_waybill()
    deliver(waybill, method="station")
    first = _filed_and_routed(waybill)
    claim_dispute(claim_id=first.claim.pk, carrier=waybill.carrier, reason="有照片", evidence=[])
    claim_ruling(claim_id=first.claim.pk, user=UserFactory(is_staff=True), uphold=True, reason="照片不是门口")
    again = _filed_and_routed(waybill)
    assert again.joined_claim_id == first.claim.pk and Claim.objects.filter(waybill=waybill).count() == 1


def test_tracking_claim_dismissed_then_buyer_complains_joins_that_ruling():
    waybill = yinzunda_waybill()
    deliver(waybill, method="locker")
    (claim_id,) = promises_watch(waybill_ids=[waybill.pk])
    claim = Claim.objects.get(pk=claim_id)
    claim_dispute(claim_id=claim.pk, carrier=waybill.carrier, reason="买家同意", evidence=[])
    claim_ruling(claim_id=claim.pk, user=UserFactory(is_staff=True), uphold=False, reason="同意记录属实")
    complaint = _filed_and_routed(waybill)
    assert complaint.status == Complaint.Status.REJECTED and complaint.joined_claim_id == claim.pk
    assert Claim.objects.filter(waybill=waybill).count() == 1
