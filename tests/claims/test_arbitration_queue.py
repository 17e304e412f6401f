"""The operator's arbitration queue: oldest dispute first, search, filters, keyset pages, age vs target."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from claims.models import Claim
from claims.selectors.arbitration import arbitration_queue
from tests.claims.test_views import disputed_claim
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _aged(claim: Claim, hours: float) -> Claim:
    Claim.objects.filter(pk=claim.pk).update(updated_at=timezone.now() - timedelta(hours=hours))
    claim.refresh_from_db()
    return claim


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_staff=True))
    return client


def _queue(client, **params):
    return client.get(reverse("staff:claim_list"), params)


def test_queue_lists_disputed_claims_oldest_first_with_age_against_the_target(operator):
    young, old = _aged(disputed_claim(), 2), _aged(disputed_claim(), 60)
    accepted = disputed_claim()
    Claim.objects.filter(pk=accepted.pk).update(status=Claim.Status.UPHELD)
    page = _queue(operator)
    assert page.status_code == 200
    ids = [c.pk for c in page.context["page"].items]
    assert ids == [old.pk, young.pk]
    old_row, young_row = page.context["page"].items
    assert old_row.queue_age.over_target and old_row.queue_age.hours == 60
    assert not young_row.queue_age.over_target
    assert "已超时限" in page.content.decode()


def test_queue_search_finds_a_claim_by_its_number_order_number_or_waybill_number(operator):
    wanted, _other = disputed_claim(), disputed_claim()
    for term in (str(wanted.pk), f"#{wanted.pk}", wanted.order.order_number, wanted.waybill.number.lower()):
        assert [c.pk for c in _queue(operator, q=term).context["page"].items] == [wanted.pk], term


def test_queue_filters_by_carrier_merchant_type_and_age(operator):
    a, b = _aged(disputed_claim(), 1), _aged(disputed_claim(), 100)
    assert [c.pk for c in _queue(operator, carrier=b.carrier_id).context["page"].items] == [b.pk]
    assert [c.pk for c in _queue(operator, merchant=a.merchant_id).context["page"].items] == [a.pk]
    assert [c.pk for c in _queue(operator, age="over_target").context["page"].items] == [b.pk]
    assert [c.pk for c in _queue(operator, age="within_target").context["page"].items] == [a.pk]
    assert len(_queue(operator, complaint_type=a.complaint_type).context["page"].items) == 2
    assert _queue(operator, complaint_type="lost").context["page"].items == []


def test_queue_bad_filter_is_a_form_error_naming_the_field(operator):
    response = _queue(operator, carrier="999999999", age="forever")
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"carrier", "age"}


def test_queue_pages_by_keyset_in_order(operator, settings):
    claims = [_aged(disputed_claim(), 100 - n) for n in range(5)]
    first = arbitration_queue(page_size=2)
    second = arbitration_queue(page_size=2, cursor=first.next_cursor)
    third = arbitration_queue(page_size=2, cursor=second.next_cursor)
    assert [c.pk for c in first.items + second.items + third.items] == [c.pk for c in claims]
    assert third.next_cursor is None


def test_queue_query_count_does_not_grow_with_the_queue(operator, django_assert_max_num_queries):
    for _ in range(3):
        disputed_claim()
    with django_assert_max_num_queries(8):
        assert _queue(operator).status_code == 200
    for _ in range(6):
        disputed_claim()
    with django_assert_max_num_queries(8):
        assert _queue(operator).status_code == 200
