"""Every database constraint refuses the row it exists to refuse (DESIGN §5), even past the services.

Each test first shows that a valid row is stored, then that the bad one raises IntegrityError
naming the constraint, inside its own savepoint so the next statement still runs.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from carriers.models import (
    Carrier,
    CarrierToken,
    IdempotencyRecord,
    Tariff,
    TariffPayout,
    WebhookDelivery,
)
from claims.models import Claim, ClaimTransition, Settlement
from orders.models import LedgerEntry, Merchant, MerchantMember, YinzundaPurchase
from tests.factories import (
    CarrierFactory,
    ComplaintFactory,
    MerchantFactory,
    OrderFactory,
    UserFactory,
    WaybillFactory,
)
from waybills.models import DeliveryConsent, TrackingEvent, WaybillSequence, WaybillServiceChange
from waybills.numbers import format_waybill_number

pytestmark = pytest.mark.django_db


def refused(create, constraint: str) -> None:
    """The statement fails with IntegrityError whose message names the constraint."""
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        create()


NOW = timezone.now()


# ---- helpers: one valid row of each kind ----------------------------------------------------

def make_purchase(order=None, **fields) -> YinzundaPurchase:
    order = order or WaybillFactory().order
    tariff = Tariff.objects.filter(carrier=order.waybill.carrier).first()
    values = {"order": order, "merchant": order.merchant, "tariff": tariff, "fee": Decimal("0.80"), **fields}
    return YinzundaPurchase.objects.create(**values)


def make_settlement(carrier, **fields) -> Settlement:
    values = {
        "carrier": carrier, "reference": f"ST{uuid.uuid4().hex[:12]}", "period_start": NOW - timedelta(days=1),
        "period_end": NOW, "claim_count": 1, "total_amount": Decimal("5.00"), **fields,
    }
    return Settlement.objects.create(**values)


def claim_values(complaint=None, **fields) -> dict:
    complaint = complaint or ComplaintFactory()
    waybill = complaint.waybill
    return {
        "complaint": complaint, "trigger": Claim.Trigger.COMPLAINT, "waybill": waybill, "carrier": waybill.carrier,
        "merchant": waybill.order.merchant, "order": waybill.order, "complaint_type": complaint.complaint_type,
        "tariff": Tariff.objects.filter(carrier=waybill.carrier).first(), "amount": Decimal("5.00"),
        "deadline_at": NOW + timedelta(hours=48), **fields,
    }


def make_claim(**fields) -> Claim:
    return Claim.objects.create(**claim_values(**fields))


def make_event(waybill, **fields) -> TrackingEvent:
    values = {
        "carrier": waybill.carrier, "waybill": waybill, "event_id": uuid.uuid4().hex, "code": "PICKED_UP",
        "occurred_at": NOW, **fields,
    }
    return TrackingEvent.objects.create(**values)


# ---- carriers -------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"code": "zto"}, "carrier_code_upper"),
        ({"waybill_prefix": "Z1"}, "carrier_waybill_prefix_format"),
        ({"response_deadline_hours": 0}, "carrier_deadline_positive"),
    ],
)
def test_carrier_check_constraints_refuse_bad_values(fields, constraint):
    Carrier.objects.create(code="OK1", name="好快递", waybill_prefix="OK")
    values = {"code": "BAD", "name": "坏快递", "waybill_prefix": "BD", **fields}
    refused(lambda: Carrier.objects.create(**values), constraint)


def test_a_sandbox_carrier_has_its_live_twin_and_only_a_sandbox_has_one():
    live = CarrierFactory(code="LIVE", waybill_prefix="LV")
    refused(lambda: CarrierFactory(code="SBXA", waybill_prefix="SA", is_sandbox=True), "carrier_sandbox_has_live_twin")
    refused(lambda: CarrierFactory(code="SBXB", waybill_prefix="SB", live_carrier=live), "carrier_sandbox_has_live_twin")


def test_carrier_code_and_waybill_prefix_are_unique():
    carrier = CarrierFactory(tariff=None)
    refused(lambda: Carrier.objects.create(code=carrier.code, name="x", waybill_prefix="QQ"), "code")
    refused(lambda: Carrier.objects.create(code="QQQ", name="x", waybill_prefix=carrier.waybill_prefix), "waybill_prefix")


def test_carrier_token_hash_is_unique():
    carrier = CarrierFactory(tariff=None)
    CarrierToken.objects.create(carrier=carrier, prefix="yzd_abc", key_hash="a" * 64)
    refused(lambda: CarrierToken.objects.create(carrier=carrier, prefix="yzd_abc", key_hash="a" * 64), "key_hash")


def test_tariff_version_and_start_are_unique_per_carrier():
    carrier = CarrierFactory(tariff=None)
    Tariff.objects.create(carrier=carrier, version=1, effective_from=NOW, fee_per_order=Decimal("0.80"))
    refused(lambda: Tariff.objects.create(carrier=carrier, version=1, effective_from=NOW + timedelta(days=1),
                                          fee_per_order=Decimal("0.80")), "tariff_version_unique")
    refused(lambda: Tariff.objects.create(carrier=carrier, version=2, effective_from=NOW,
                                          fee_per_order=Decimal("0.80")), "tariff_effective_from_unique")
    # Another carrier may use the same version and start.
    Tariff.objects.create(carrier=CarrierFactory(tariff=None), version=1, effective_from=NOW, fee_per_order=Decimal("1"))


def test_tariff_fee_is_not_negative():
    carrier = CarrierFactory(tariff=None)
    Tariff.objects.create(carrier=carrier, version=1, effective_from=NOW, fee_per_order=Decimal("0.00"))
    refused(lambda: Tariff.objects.create(carrier=carrier, version=2, effective_from=NOW + timedelta(days=1),
                                          fee_per_order=Decimal("-0.01")), "tariff_fee_not_negative")


@pytest.mark.parametrize("clock", ["station_hold_hours", "hub_dwell_hours", "transit_hours", "return_pickup_hours"])
def test_tariff_promise_clocks_are_positive(clock):
    carrier = CarrierFactory(tariff=None)
    refused(lambda: Tariff.objects.create(carrier=carrier, version=1, effective_from=NOW,
                                          fee_per_order=Decimal("0.80"), **{clock: 0}), "tariff_clocks_positive")


def test_tariff_payout_is_positive_and_once_per_complaint_type():
    carrier = CarrierFactory(tariff=None)
    tariff = Tariff.objects.create(carrier=carrier, version=1, effective_from=NOW, fee_per_order=Decimal("0.80"))
    TariffPayout.objects.create(tariff=tariff, complaint_type="not_to_door", amount=Decimal("5.00"))
    refused(lambda: TariffPayout.objects.create(tariff=tariff, complaint_type="not_to_door", amount=Decimal("6.00")),
            "tariff_payout_unique")
    refused(lambda: TariffPayout.objects.create(tariff=tariff, complaint_type="lost", amount=Decimal("0.00")),
            "tariff_payout_positive")


def test_webhook_event_id_is_unique():
    carrier = CarrierFactory(tariff=None)
    WebhookDelivery.objects.create(carrier=carrier, event_id="evt_1", sequence=1, event_type="claim.opened", payload={})
    refused(lambda: WebhookDelivery.objects.create(carrier=carrier, event_id="evt_1", sequence=2,
                                                   event_type="claim.opened", payload={}), "event_id")


def test_webhook_sequence_is_unique_per_carrier():
    carrier, other = CarrierFactory(tariff=None), CarrierFactory(tariff=None)
    WebhookDelivery.objects.create(carrier=carrier, event_id="evt_1", sequence=1, event_type="claim.opened", payload={})
    WebhookDelivery.objects.create(carrier=other, event_id="evt_2", sequence=1, event_type="claim.opened", payload={})
    refused(lambda: WebhookDelivery.objects.create(carrier=carrier, event_id="evt_3", sequence=1,
                                                   event_type="claim.opened", payload={}),
            "webhook_sequence_unique_per_carrier")


def test_a_carrier_webhook_url_needs_a_generated_secret():
    carrier = CarrierFactory(tariff=None, webhook_secret="")
    refused(lambda: Carrier.objects.filter(pk=carrier.pk).update(webhook_url="https://hooks.example/"),
            "carrier_webhook_secret_when_url")
    refused(lambda: Carrier.objects.filter(pk=carrier.pk).update(webhook_url="https://hooks.example/",
                                                                 webhook_secret="typed-by-hand"),
            "carrier_webhook_secret_when_url")


def test_idempotency_key_is_unique_per_carrier():
    carrier, other = CarrierFactory(tariff=None), CarrierFactory(tariff=None)
    values = {"key": "k-1", "method": "POST", "path": "/x", "request_hash": "h"}
    IdempotencyRecord.objects.create(carrier=carrier, **values)
    IdempotencyRecord.objects.create(carrier=other, **values)
    refused(lambda: IdempotencyRecord.objects.create(carrier=carrier, **values), "idempotency_key_unique_per_carrier")


# ---- orders ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"quota_percent": Decimal("100.01")}, "merchant_quota_range"),
        ({"quota_percent": Decimal("-1")}, "merchant_quota_range"),
        ({"quota_mode": "ignore"}, "merchant_quota_mode_valid"),
    ],
)
def test_merchant_quota_constraints(fields, constraint):
    Merchant.objects.create(code="ok", name="好店", quota_percent=Decimal("100"), quota_mode="enforce")
    refused(lambda: Merchant.objects.create(code="bad", name="坏店", **fields), constraint)


def test_a_user_belongs_to_one_merchant_only():
    user = UserFactory()
    MerchantMember.objects.create(user=user, merchant=MerchantFactory())
    refused(lambda: MerchantMember.objects.create(user=user, merchant=MerchantFactory()), "user_id")


def test_order_number_is_unique():
    order = OrderFactory()
    refused(lambda: OrderFactory(order_number=order.order_number), "order_number")


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"amount": Decimal("-0.01")}, "order_amount_not_negative"),
        ({"recipient_phone": "2381234567"}, "order_recipient_phone_format"),
        ({"recipient_phone": "1381234567x"}, "order_recipient_phone_format"),
    ],
)
def test_order_check_constraints(fields, constraint):
    OrderFactory(amount=Decimal("0.00"), recipient_phone="13812345678")
    refused(lambda: OrderFactory(**fields), constraint)


def test_one_active_purchase_per_order_but_a_cancelled_one_may_be_bought_again():
    purchase = make_purchase()
    refused(lambda: make_purchase(order=purchase.order), "purchase_one_active_per_order")
    YinzundaPurchase.objects.filter(pk=purchase.pk).update(status="cancelled", cancelled_at=NOW)
    make_purchase(order=purchase.order)  # allowed again


def test_purchase_fee_is_not_negative():
    refused(lambda: make_purchase(fee=Decimal("-0.80")), "purchase_fee_not_negative")


@pytest.mark.parametrize(
    "fields", [{"status": "cancelled", "cancelled_at": None}, {"status": "active", "cancelled_at": NOW}]
)
def test_purchase_cancelled_at_matches_status(fields):
    make_purchase(status="cancelled", cancelled_at=NOW)
    refused(lambda: make_purchase(**fields), "purchase_cancelled_at_matches_status")


def test_ledger_amount_is_never_zero():
    purchase = make_purchase()
    refused(lambda: LedgerEntry.objects.create(merchant=purchase.merchant, kind="fee", amount=Decimal("0"),
                                               purchase=purchase), "ledger_amount_not_zero")


def test_ledger_kind_fixes_sign_and_reference():
    purchase = make_purchase()
    merchant = purchase.merchant
    claim = make_claim(status="settled", settlement=make_settlement(CarrierFactory()))

    def entry(**fields):
        return lambda: LedgerEntry.objects.create(merchant=merchant, **fields)

    LedgerEntry.objects.create(merchant=merchant, kind="fee", amount=Decimal("-0.80"), purchase=purchase)
    for bad in (
        entry(kind="fee", amount=Decimal("0.80"), purchase=purchase),  # a fee is a debit
        entry(kind="fee_refund", amount=Decimal("-0.80"), purchase=purchase),  # a refund is a credit
        entry(kind="fee_refund", amount=Decimal("0.80")),  # refund of nothing
        entry(kind="compensation", amount=Decimal("5.00"), claim=claim),  # without its settlement
        entry(kind="compensation", amount=Decimal("-5.00"), claim=claim, settlement=claim.settlement),
        entry(kind="reversal", amount=Decimal("0.80")),  # reverses nothing
        entry(kind="gift", amount=Decimal("1.00")),
    ):
        refused(bad, "ledger_kind_sign_and_reference")


def test_a_purchase_is_charged_once_and_refunded_once():
    purchase = make_purchase()
    merchant = purchase.merchant
    LedgerEntry.objects.create(merchant=merchant, kind="fee", amount=Decimal("-0.80"), purchase=purchase)
    LedgerEntry.objects.create(merchant=merchant, kind="fee_refund", amount=Decimal("0.80"), purchase=purchase)
    refused(lambda: LedgerEntry.objects.create(merchant=merchant, kind="fee", amount=Decimal("-0.80"),
                                               purchase=purchase), "ledger_one_fee_entry_per_purchase")
    refused(lambda: LedgerEntry.objects.create(merchant=merchant, kind="fee_refund", amount=Decimal("0.80"),
                                               purchase=purchase), "ledger_one_fee_entry_per_purchase")


def test_a_claim_is_paid_once():
    claim = make_claim(status="settled", settlement=make_settlement(CarrierFactory()))

    def pay():
        return LedgerEntry.objects.create(merchant=claim.merchant, kind="compensation", amount=claim.amount,
                                          claim=claim, settlement=claim.settlement)

    pay()
    refused(pay, "ledger_claim_paid_once")


def test_a_ledger_entry_is_reversed_once():
    purchase = make_purchase()
    entry = LedgerEntry.objects.create(merchant=purchase.merchant, kind="fee", amount=Decimal("-0.80"), purchase=purchase)

    def reverse():
        return LedgerEntry.objects.create(merchant=entry.merchant, kind="reversal", amount=Decimal("0.80"), reverses=entry)

    reverse()
    refused(reverse, "reverses_id")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL's")
def test_ledger_is_append_only_update_and_delete_are_refused():
    purchase = make_purchase()
    entry = LedgerEntry.objects.create(merchant=purchase.merchant, kind="fee", amount=Decimal("-0.80"), purchase=purchase)
    refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).update(memo="edited"), "append-only")
    refused(lambda: LedgerEntry.objects.filter(pk=entry.pk).delete(), "append-only")
    entry.refresh_from_db()
    assert entry.memo == "" and entry.amount == Decimal("-0.80")


@pytest.mark.parametrize(
    "statement",
    ["TRUNCATE orders_ledgerentry", "TRUNCATE claims_claim CASCADE", "TRUNCATE orders_yinzundapurchase CASCADE"],
)
def test_ledger_refuses_truncate_directly_or_by_cascade(statement):
    purchase = make_purchase()
    entry = LedgerEntry.objects.create(merchant=purchase.merchant, kind="fee", amount=Decimal("-0.80"), purchase=purchase)
    with pytest.raises(IntegrityError, match="TRUNCATE is refused"), transaction.atomic(), connection.cursor() as cursor:
        # The suite's own connections may empty the test database (tests/conftest.py); an
        # application session may not.
        cursor.execute("SET LOCAL yinzunda.ledger_maintenance = 'off'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred FK check of this test's rows pending
        cursor.execute(statement)
    assert LedgerEntry.objects.filter(pk=entry.pk).exists()


# ---- waybills -------------------------------------------------------------------------------

@pytest.mark.parametrize("number", ["zt00000012343", "ZT0000001234", "ZT000000123-3", "Z100000012343", "ZT000000012343"])
def test_waybill_number_format(number):
    WaybillFactory(number=format_waybill_number("ZT", 1234))
    refused(lambda: WaybillFactory(number=number), "waybill_number_format")


def test_waybill_service_change_is_added_or_removed():
    waybill = WaybillFactory()
    WaybillServiceChange.objects.create(waybill=waybill, code="SVC-WBHOMEDELIVERY", action="added")
    refused(
        lambda: WaybillServiceChange.objects.create(waybill=waybill, code="SVC-WBHOMEDELIVERY", action="renamed"),
        "waybill_service_change_action",
    )


def test_consent_grant_has_a_method_and_a_withdrawal_none():
    waybill = WaybillFactory()
    buyer = {"waybill": waybill, "source": "buyer", "channel": "buyer_page"}
    DeliveryConsent.objects.create(kind="grant", method="locker", **buyer)
    DeliveryConsent.objects.create(kind="withdraw", method="", **buyer)
    refused(lambda: DeliveryConsent.objects.create(kind="grant", method="", **buyer), "consent_grant_has_method")
    refused(lambda: DeliveryConsent.objects.create(kind="withdraw", method="locker", **buyer), "consent_grant_has_method")


def test_consent_source_matches_its_channel():
    waybill = WaybillFactory()
    DeliveryConsent.objects.create(waybill=waybill, kind="grant", method="station", source="carrier",
                                   channel="dispute", carrier=waybill.carrier)
    for fields in (
        {"source": "buyer", "channel": "scan"},
        {"source": "buyer", "channel": "buyer_page", "carrier": waybill.carrier},
        {"source": "carrier", "channel": "buyer_page", "carrier": waybill.carrier},
        {"source": "carrier", "channel": "scan"},
    ):
        refused(lambda f=fields: DeliveryConsent.objects.create(waybill=waybill, kind="grant", method="locker", **f),
                "consent_source_matches_channel")


def test_consent_records_are_append_only():
    consent = DeliveryConsent.objects.create(waybill=WaybillFactory(), kind="grant", method="locker",
                                             source="buyer", channel="buyer_page")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        DeliveryConsent.objects.filter(pk=consent.pk).update(method="station")


def test_waybill_delivered_has_method():
    WaybillFactory(delivered_at=NOW, delivery_method="door")
    refused(lambda: WaybillFactory(delivered_at=NOW, delivery_method=""), "waybill_delivered_has_method")


def test_waybill_number_unique_and_one_waybill_per_order():
    waybill = WaybillFactory()
    refused(lambda: WaybillFactory(number=waybill.number), "number")
    refused(lambda: WaybillFactory(order=waybill.order), "order_id")


def test_one_waybill_sequence_per_carrier():
    carrier = CarrierFactory(tariff=None)
    WaybillSequence.objects.create(carrier=carrier)
    refused(lambda: WaybillSequence.objects.create(carrier=carrier), "carrier_id")


def test_tracking_event_id_is_unique_per_carrier():
    waybill = WaybillFactory()
    make_event(waybill, event_id="E-1")
    make_event(WaybillFactory(), event_id="E-1")  # another carrier's own id space
    # The same scan again (same occurred_at: the partition key is part of the key; PostgreSQL
    # names the partition's index); another occurred_at is judged by the ingest's horizon check
    # (tests/waybills/test_partitioning.py).
    refused(lambda: make_event(waybill, event_id="E-1"), r"\(carrier_id, event_id, occurred_at\)=")
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, TrackingEvent._meta.db_table)
    key = constraints["tracking_event_unique_per_carrier_time"]
    assert key["unique"] and key["columns"] == ["carrier_id", "event_id", "occurred_at"]


@pytest.mark.parametrize(
    "fields",
    [
        {"code": "DELIVERED", "delivery_method": ""},
        {"code": "DELIVERED", "delivery_method": "roof"},
        {"code": "OUT_FOR_DELIVERY", "delivery_method": "door"},
    ],
)
def test_tracking_event_has_a_method_exactly_when_delivered(fields):
    waybill = WaybillFactory()
    make_event(waybill, code="DELIVERED", delivery_method="locker")
    refused(lambda: make_event(waybill, **fields), "tracking_event_method_iff_delivered")


# ---- claims ---------------------------------------------------------------------------------

def test_complaint_reference_and_submission_token_are_unique():
    token = uuid.uuid4()
    complaint = ComplaintFactory(submission_token=token)
    refused(lambda: ComplaintFactory(reference=complaint.reference), "reference")
    refused(lambda: ComplaintFactory(submission_token=token), "submission_token")


@pytest.mark.parametrize(
    "fields", [{"status": "received", "routed_at": NOW}, {"status": "forwarded", "routed_at": None}]
)
def test_complaint_routed_at_matches_status(fields):
    ComplaintFactory(status="rejected", routed_at=NOW)
    refused(lambda: ComplaintFactory(**fields), "complaint_routed_at_matches_status")


def test_a_held_complaint_has_its_recheck_time():
    ComplaintFactory(status="held", routed_at=NOW, recheck_at=NOW + timedelta(hours=1))
    refused(lambda: ComplaintFactory(status="held", routed_at=NOW), "complaint_held_has_recheck")


def test_one_complaint_opens_at_most_one_claim():
    claim = make_claim()
    refused(lambda: make_claim(complaint=claim.complaint), "complaint_id")


def test_claim_amount_is_positive():
    refused(lambda: make_claim(amount=Decimal("0.00")), "claim_amount_positive")


def test_claim_status_is_one_of_the_lifecycle():
    refused(lambda: make_claim(status="paid"), "claim_status_valid")


def test_claim_trigger_has_its_source():
    complaint = ComplaintFactory()
    # a tracking claim must name its event and no complaint; a complaint claim its complaint
    refused(lambda: Claim.objects.create(**claim_values(complaint, trigger="tracking")), "claim_trigger_has_source")
    refused(lambda: Claim.objects.create(**{**claim_values(complaint), "complaint": None}), "claim_trigger_has_source")


def test_claim_settlement_matches_status():
    settlement = make_settlement(CarrierFactory())
    make_claim(status="accepted", settlement=settlement)
    refused(lambda: make_claim(status="settled"), "claim_settlement_matches_status")  # settled off-statement
    refused(lambda: make_claim(status="open", settlement=settlement), "claim_settlement_matches_status")
    refused(lambda: make_claim(status="dismissed", settlement=settlement), "claim_settlement_matches_status")


def test_one_claim_per_waybill_and_promise_and_an_event_one_claim():
    complaint = ComplaintFactory()
    waybill = complaint.waybill
    first, second, third = (make_event(waybill, code="DELIVERED", delivery_method="station") for _ in range(3))

    def tracking_claim(event, promise="door_delivery"):
        return lambda: Claim.objects.create(**{**claim_values(complaint), "complaint": None, "trigger": "tracking",
                                               "source_event": event, "promise": promise})

    tracking_claim(first)()
    refused(tracking_claim(second), "claim_one_per_waybill_promise")
    refused(tracking_claim(first, "priority_transit"), "source_event_id")
    tracking_claim(third, "priority_transit")()  # another promise of the same parcel is another claim
    refused(lambda: make_claim(complaint=complaint, promise="door_delivery"), "claim_one_per_waybill_promise")
    make_claim(complaint=complaint)  # a claim with no promise (history before promises) is not constrained


def test_each_claim_state_is_entered_once():
    claim = make_claim()
    ClaimTransition.objects.create(claim=claim, from_status="", to_status="open", actor="system")
    refused(lambda: ClaimTransition.objects.create(claim=claim, from_status="open", to_status="open", actor="system"),
            "claim_transition_once")


def test_settlement_reference_unique_and_one_statement_per_carrier_period():
    carrier = CarrierFactory()
    settlement = make_settlement(carrier)
    refused(lambda: make_settlement(CarrierFactory(), reference=settlement.reference), "reference")
    refused(lambda: make_settlement(carrier), "settlement_one_per_carrier_period")


def test_settlement_total_positive_and_period_ordered():
    carrier = CarrierFactory()
    refused(lambda: make_settlement(carrier, total_amount=Decimal("0.00")), "settlement_total_positive")
    refused(lambda: make_settlement(carrier, period_start=NOW), "settlement_period_order")


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "paid", "paid_at": NOW, "payment_reference": ""},
        {"status": "paid", "paid_at": None, "payment_reference": "CMB1"},
        {"status": "issued", "paid_at": NOW, "payment_reference": ""},
        {"status": "issued", "paid_at": None, "payment_reference": "CMB1"},
    ],
)
def test_a_paid_settlement_has_its_payment_reference(fields):
    carrier = CarrierFactory()
    make_settlement(carrier, status="paid", paid_at=NOW, payment_reference="CMB0",
                    period_end=NOW - timedelta(days=1), period_start=NOW - timedelta(days=2))
    refused(lambda: make_settlement(carrier, **fields), "settlement_paid_has_reference")


def test_one_scorecard_row_per_carrier_and_week():
    from claims.models import CarrierWeekScore

    carrier = CarrierFactory()
    CarrierWeekScore.objects.create(carrier=carrier, week_start=NOW.date())
    refused(lambda: CarrierWeekScore.objects.create(carrier=carrier, week_start=NOW.date()), "carrier_week_score_unique")


def test_constraints_cover_every_named_constraint():
    """A new named constraint without a test here fails this list (update both together)."""
    from django.apps import apps

    names = {
        c.name
        for label in ("carriers", "orders", "waybills", "claims")
        for model in apps.get_app_config(label).get_models()
        for c in model._meta.constraints
    }
    with open(__file__, encoding="utf-8") as handle:
        source = handle.read()
    untested = sorted(name for name in names if f'"{name}"' not in source)
    assert untested == []

