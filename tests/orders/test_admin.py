"""Operator admin of merchants and orders: the ledger and purchases are read-only there."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import LedgerEntry
from tests.factories import UserFactory
from tests.orders.world import buy, shipped_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_operator_sees_merchants_orders_and_ledger(admin_client, shop, zto):
    order = shipped_order(merchant=shop, carrier=zto)
    buy(order)
    for name in (
        "orders_merchant",
        "orders_order",
        "orders_yinzundapurchase",
        "orders_ledgerentry",
    ):
        response = admin_client.get(reverse(f"admin:{name}_changelist"))
        assert response.status_code == 200, name
    assert (
        order.order_number
        in admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    )
    assert (
        admin_client.get(reverse("admin:orders_merchant_change", args=[shop.pk])).status_code == 200
    )


def test_ledger_entry_cannot_be_added_changed_or_deleted_in_admin(admin_client, shop, zto):
    buy(shipped_order(merchant=shop, carrier=zto))
    entry = LedgerEntry.objects.get()
    assert admin_client.get(reverse("admin:orders_ledgerentry_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:orders_ledgerentry_delete", args=[entry.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    # the change page is view-only: a POST changes nothing
    admin_client.post(
        reverse("admin:orders_ledgerentry_change", args=[entry.pk]),
        {"amount": "100.00", "kind": "fee"},
    )
    entry.refresh_from_db()
    assert str(entry.amount) == "-0.80"
