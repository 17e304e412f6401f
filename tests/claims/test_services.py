"""Claim state machine, settlement and ledger services."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError
from django.utils import timezone

from carriers.selectors import tariff_current
from claims.errors import ClaimTransitionNotAllowed, SettlementAlreadyPaid
from claims.models import Claim, ClaimTransition
from claims.services.claims import (
    claim_accept,
    claim_auto_accept,
    claim_dispute,
    claim_open,
    claim_ruling,
)
from claims.services.ledger import ledger_totals
from claims.services.settlements import settlement_confirm_payment, settlement_issue
from orders.models import LedgerEntry
from tests.factories import CarrierFactory, ComplaintFactory
from yinzunda.errors import NotFound

pytestmark = pytest.mark.django_db


def open_claim(complaint=None, now=None) -> Claim:
    complaint = complaint or ComplaintFactory()
    waybill = complaint.waybill
    tariff = tariff_current(carrier=waybill.carrier)
    return claim_open(
        waybill=waybill, complaint=complaint, complaint_type=complaint.complaint_type,
        tariff=tariff, amount=Decimal("5.00"), now=now,
    )


def test_claim_open_records_history_and_deadline():
    claim = open_claim()
    assert claim.status == Claim.Status.OPEN
    assert claim.deadline_at - claim.opened_at == timedelta(hours=claim.carrier.response_deadline_hours)
    assert list(claim.transitions.values_list("from_status", "to_status")) == [("", "open")]


def test_claim_accept_twice_is_a_conflict():
    claim = open_claim()
    claim_accept(claim_id=claim.pk, carrier=claim.carrier)
    with pytest.raises(ClaimTransitionNotAllowed):
        claim_accept(claim_id=claim.pk, carrier=claim.carrier)
    assert ClaimTransition.objects.filter(claim=claim, to_status="accepted").count() == 1


def test_claim_accept_by_another_carrier_is_not_found():
    claim = open_claim()
    other = CarrierFactory()
    with pytest.raises(NotFound):
        claim_accept(claim_id=claim.pk, carrier=other)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.OPEN


def test_claim_auto_accept_only_after_deadline():
    claim = open_claim()
    assert claim_auto_accept(claim_id=claim.pk) is None
    later = claim.deadline_at + timedelta(seconds=1)
    assert claim_auto_accept(claim_id=claim.pk, now=later).status == Claim.Status.AUTO_ACCEPTED


def test_dispute_then_dismiss_is_final(django_user_model):
    claim = open_claim()
    staff = django_user_model.objects.create_user("ops", is_staff=True)
    claim_dispute(claim_id=claim.pk, carrier=claim.carrier, reason="已送货上门", evidence=[{"type": "photo", "url": "https://x.example/p.jpg"}])
    claim_ruling(claim_id=claim.pk, user=staff, uphold=False, reason="门口照片清晰")
    with pytest.raises(ClaimTransitionNotAllowed):
        claim_ruling(claim_id=claim.pk, user=staff, uphold=True, reason="改判")
    assert Claim.objects.get(pk=claim.pk).status == Claim.Status.DISMISSED


def test_settlement_pays_each_claim_once_and_ledger_balances():
    claim = open_claim()
    claim_accept(claim_id=claim.pk, carrier=claim.carrier)
    settlement = settlement_issue(carrier=claim.carrier, period_end=timezone.now() + timedelta(seconds=1))
    assert settlement.total_amount == Decimal("5.00")
    settlement_confirm_payment(settlement_id=settlement.pk, carrier=claim.carrier, payment_reference="PAY-1")
    with pytest.raises(SettlementAlreadyPaid):
        settlement_confirm_payment(settlement_id=settlement.pk, carrier=claim.carrier, payment_reference="PAY-2")
    assert LedgerEntry.objects.filter(claim=claim, kind="compensation").count() == 1
    totals = ledger_totals()
    assert totals["compensation_ledger"] == totals["compensation_claims"] == totals["paid_settlements"] == Decimal("5.00")


def test_one_complaint_has_at_most_one_claim():
    claim = open_claim()
    with pytest.raises(IntegrityError):
        open_claim(complaint=claim.complaint)


def test_inbox_title_follows_the_readers_language_and_mail_stays_chinese():
    from django.utils import translation

    from claims.models import Notification

    claim = open_claim()
    note = Notification.objects.filter(claim=claim).latest("id")
    # the stored rendering (used by the e-mail) is in the default language, Chinese
    assert note.title.startswith("已向")
    with translation.override("en"):
        expected = f"Claim for ¥5.00 filed with {claim.carrier.name} (order {claim.order.order_number})"
        assert note.display_title() == expected
    with translation.override("zh-hans"):
        assert note.display_title() == note.title
