"""What the events table checks, and what the ingest path checks instead (issue 15 item 3).

The two foreign keys of waybills_trackingevent are no database constraints (waybills 0009): the
ingest path stores only ids of the carrier's own waybills it holds locked, voiding takes the same
lock and refuses a waybill with scans, and the ORM keeps PROTECT and CASCADE. The proof URL's
fast path accepts nothing Django's URLValidator would refuse.
"""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from orders.shipping import shipment_void
from tests.factories import WaybillFactory
from waybills.models import TrackingEvent, Waybill
from waybills.services import tracking_validation
from waybills.services.tracking import tracking_events_ingest
from yinzunda.errors import DomainError

_VALIDATOR = URLValidator(schemes=["https"])


def _accepted_by_django(url: str) -> bool:
    try:
        _VALIDATOR(url)
    except ValidationError:
        return False
    return True


def _accepted_by_ingest(url: str) -> bool:
    try:
        tracking_validation._proof_check("photo", url)
    except tracking_validation.EventInvalid:
        return False
    return True


@hypothesis_settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.from_regex(tracking_validation._URL_PLAIN, fullmatch=True))
def test_every_url_the_fast_path_takes_is_one_urlvalidator_accepts(url):
    if len(url) <= tracking_validation._URL_PLAIN_MAX:
        assert _accepted_by_django(url), url


@pytest.mark.parametrize(
    "url",
    [
        "https://proof.zto.example/8812345.jpg",
        "https://PROOF.Example.COM:8443/a/b?x=1#frag",
        "https://例子.测试/签收.jpg",  # IDN host and a non-ASCII path: the slow path
        "https://203.0.113.7/x.jpg",
        "https://[2001:db8::1]/x.jpg",
        "https://user:pw@proof.example/x.jpg",
        "https://localhost/x.jpg",
        "https://" + "a" * 63 + "." + ("b" * 63 + ".") * 3 + "com/x.jpg",  # a host over 253 characters
        "https://-bad.example/x.jpg",
        "https://bad-.example/x.jpg",
        "https://host/x.jpg",
        "https://a.b/x.jpg",
        "https://exa mple.com/x.jpg",
        "https://proof.example/x y.jpg",
        "https://proof.example:123456/x.jpg",
        "https://proof.example/x\n.jpg",
        "https://",
    ],
)
def test_the_proof_url_check_agrees_with_urlvalidator(url):
    assert _accepted_by_ingest(url) == _accepted_by_django(url)


def _scan(waybill, event_id, minutes_ago=5):
    return {"event_id": event_id, "waybill_number": waybill.number, "code": "PICKED_UP",
            "occurred_at": (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()}


def _orphans() -> int:
    return TrackingEvent.objects.exclude(waybill_id__in=Waybill.objects.values("pk")).count()


@pytest.mark.django_db
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_events_table_and_its_partitions_keep_no_foreign_key_checks():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname FROM pg_constraint c JOIN pg_partition_tree('waybills_trackingevent') t"
            " ON t.relid = c.conrelid WHERE c.contype = 'f'"
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT count(*) FROM pg_partition_tree('waybills_trackingevent')")
        assert cursor.fetchone()[0] > 2


@pytest.mark.django_db
def test_an_event_is_stored_only_for_the_carriers_own_existing_waybill():
    mine, theirs = WaybillFactory(), WaybillFactory()
    ghost = WaybillFactory(carrier=mine.carrier)
    ghost_scan = _scan(ghost, "ghost-1")
    Waybill.objects.filter(pk=ghost.pk).delete()
    result = tracking_events_ingest(carrier=mine.carrier, events=[_scan(mine, "ok-1"), _scan(theirs, "x-1"), ghost_scan])
    assert result.accepted == 1
    assert [(r.index, r.code) for r in result.rejected] == [(1, "unknown_waybill"), (2, "unknown_waybill")]
    assert list(TrackingEvent.objects.values_list("waybill_id", flat=True)) == [mine.pk]


@pytest.mark.django_db
def test_the_orm_still_cascades_a_waybills_events_and_protects_a_carrier_with_events():
    waybill = WaybillFactory()
    tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "c-1"), _scan(waybill, "c-2", 3)])
    with pytest.raises(ProtectedError):
        waybill.carrier.delete()
    waybill.delete()
    assert not TrackingEvent.objects.exists()


def _in_thread(target) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(target())
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@pytest.mark.django_db(transaction=True)
def test_a_void_racing_a_scan_batch_waits_for_it_and_is_refused():
    waybill = WaybillFactory()
    merchant, order_id = waybill.order.merchant, waybill.order_id
    stored = threading.Event()

    def ingest():
        with transaction.atomic():
            result = tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "race-1")])
            stored.set()
            time.sleep(0.5)  # the void arrives while this batch still holds the waybill's lock
        return result

    thread, outcome = _in_thread(ingest)
    assert stored.wait(10)
    with pytest.raises(DomainError, match="已揽收"):
        shipment_void(merchant=merchant, order_id=order_id)
    thread.join(10)
    assert outcome[0].accepted == 1
    assert Waybill.objects.filter(pk=waybill.pk).exists() and _orphans() == 0


@pytest.mark.django_db(transaction=True)
def test_a_scan_batch_racing_a_void_waits_for_it_and_finds_no_waybill():
    waybill = WaybillFactory()
    merchant, order_id = waybill.order.merchant, waybill.order_id
    voided = threading.Event()

    def void():
        with transaction.atomic():
            shipment_void(merchant=merchant, order_id=order_id)
            voided.set()
            time.sleep(0.5)  # the batch arrives while the void still holds the waybill's lock
        return "voided"

    thread, outcome = _in_thread(void)
    assert voided.wait(10)
    result = tracking_events_ingest(carrier=waybill.carrier, events=[_scan(waybill, "race-2")])
    thread.join(10)
    assert outcome == ["voided"]
    assert result.accepted == 0 and [r.code for r in result.rejected] == ["unknown_waybill"]
    assert not TrackingEvent.objects.exists() and _orphans() == 0
