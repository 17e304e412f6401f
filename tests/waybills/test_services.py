"""Waybill number issue on PostgreSQL under concurrency: unique, consecutive, check digit valid."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from tests.factories import CarrierFactory, OrderFactory
from waybills.models import Waybill, WaybillSequence
from waybills.numbers import validate_waybill_number
from waybills.services.issue import waybill_issue, waybill_numbers_allocate


def _at_once(count: int, call) -> list:
    barrier = threading.Barrier(count)
    results: list = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            value = call()
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            value = exc
        finally:
            connection.close()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_many_connections_issuing_at_once_get_unique_valid_numbers():
    carrier = CarrierFactory(code="ZTO", waybill_prefix="ZT")
    assert not WaybillSequence.objects.filter(carrier=carrier).exists()  # the first issue races to create it

    results = _at_once(12, lambda: [n for _ in range(10) for n in waybill_numbers_allocate(carrier=carrier, count=3)])

    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    numbers = [n for batch in results for n in batch]
    assert len(numbers) == 12 * 10 * 3
    assert len(set(numbers)) == len(numbers)
    assert all(validate_waybill_number(n) == n and n.startswith("ZT") for n in numbers)
    serials = sorted(int(n[2:-1]) for n in numbers)
    assert serials == list(range(1, len(numbers) + 1))  # no gaps, no repeats
    assert WaybillSequence.objects.get(carrier=carrier).next_serial == len(numbers) + 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_waybill_issue_creates_distinct_waybills():
    carrier = CarrierFactory(code="YTO", waybill_prefix="YT")
    orders = [OrderFactory() for _ in range(8)]
    pending = list(orders)
    lock = threading.Lock()

    def issue():
        with lock:
            order = pending.pop()
        return waybill_issue(carrier=carrier, order_id=order.pk).number

    results = _at_once(8, issue)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert Waybill.objects.filter(carrier=carrier).count() == 8
    assert len(set(results)) == 8


@pytest.mark.django_db
def test_numbers_of_different_carriers_never_collide():
    zto = CarrierFactory(code="ZTO", waybill_prefix="ZT")
    yto = CarrierFactory(code="YTO", waybill_prefix="YT")
    a = waybill_numbers_allocate(carrier=zto, count=5)
    b = waybill_numbers_allocate(carrier=yto, count=5)
    assert not set(a) & set(b)
    assert [n[2:] for n in a] == [n[2:] for n in b]  # same serials, told apart by prefix
