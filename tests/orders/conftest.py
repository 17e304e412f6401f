"""Fixtures of the merchant dashboard tests: a logged-in merchant and a partner carrier."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.factories import CarrierFactory, MerchantFactory, MerchantUserFactory


@pytest.fixture
def member(db):
    return MerchantUserFactory(merchant=MerchantFactory(quota_percent=Decimal("100")))


@pytest.fixture
def shop(member):
    return member.merchant


@pytest.fixture
def merchant_client(client, member):
    client.force_login(member.user)
    return client


@pytest.fixture
def zto(db):
    return CarrierFactory(code="ZTO", name="中通快递", waybill_prefix="ZT")
