"""Operator tools: `carrier_token` command, admin token rotate/revoke showing the new token once."""
from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command

from carriers.models import CarrierToken, hash_token
from tests.factories import UserFactory

from .conftest import CarrierClient

pytestmark = pytest.mark.django_db


def test_carrier_token_command_prints_a_working_token_once_and_stores_its_hash(carrier_a):
    out, err = StringIO(), StringIO()
    call_command("carrier_token", "zto", "--name", "生产环境", stdout=out, stderr=err)
    raw = out.getvalue().strip()
    token = CarrierToken.objects.get(carrier=carrier_a)
    assert token.key_hash == hash_token(raw) and raw not in str(token.__dict__)
    assert token.name == "生产环境"
    assert CarrierClient(carrier_a, raw).get("/api/v1/carrier/claims").status_code == 200


def test_carrier_token_command_refuses_an_unknown_code(carrier_a):
    with pytest.raises(CommandError, match="NOPE"):
        call_command("carrier_token", "NOPE", stdout=StringIO(), stderr=StringIO())
    assert not CarrierToken.objects.exists()


@pytest.fixture
def operator(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _token_from_messages(response) -> str:
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    (text,) = [t for t in texts if "yzd_" in t]
    return text[text.index("yzd_"):].strip()


def test_admin_rotate_revokes_the_old_token_and_shows_the_new_one_once(operator, carrier_a):
    from carriers.services import carrier_token_create

    old, old_raw = carrier_token_create(carrier=carrier_a)
    response = operator.post("/admin/carriers/carriertoken/", {"action": "rotate", "_selected_action": [old.pk]})
    assert response.status_code == 302
    new_raw = _token_from_messages(response)
    old.refresh_from_db()
    assert old.revoked_at is not None
    assert CarrierClient(carrier_a, old_raw).get("/api/v1/carrier/claims").status_code == 401
    assert CarrierClient(carrier_a, new_raw).get("/api/v1/carrier/claims").status_code == 200
    # shown on the page after the action, then never again
    assert new_raw in operator.get("/admin/carriers/carriertoken/").content.decode()
    assert new_raw not in operator.get("/admin/carriers/carriertoken/").content.decode()


def test_admin_revoke_and_issue(operator, carrier_a):
    response = operator.post("/admin/carriers/carrier/", {"action": "issue_token", "_selected_action": [carrier_a.pk]})
    raw = _token_from_messages(response)
    token = CarrierToken.objects.get(key_hash=hash_token(raw))
    operator.post("/admin/carriers/carriertoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert CarrierClient(carrier_a, raw).get("/api/v1/carrier/claims").status_code == 401


def test_admin_carrier_rotate_revokes_every_active_token_and_issues_one(operator, carrier_a):
    from carriers.services import carrier_token_create

    old = [carrier_token_create(carrier=carrier_a)[1] for _ in range(2)]
    response = operator.post("/admin/carriers/carrier/", {"action": "rotate_tokens", "_selected_action": [carrier_a.pk]})
    new_raw = _token_from_messages(response)
    assert all(CarrierClient(carrier_a, raw).get("/api/v1/carrier/claims").status_code == 401 for raw in old)
    assert CarrierClient(carrier_a, new_raw).get("/api/v1/carrier/claims").status_code == 200
    operator.post("/admin/carriers/carrier/", {"action": "revoke_tokens", "_selected_action": [carrier_a.pk]})
    assert CarrierClient(carrier_a, new_raw).get("/api/v1/carrier/claims").status_code == 401


@pytest.mark.parametrize(
    "url",
    [
        "/admin/carriers/carrier/", "/admin/carriers/carriertoken/", "/admin/carriers/tariff/",
        "/admin/carriers/webhookdelivery/", "/admin/carriers/idempotencyrecord/",
        "/admin/waybills/waybill/", "/admin/waybills/trackingevent/",
    ],
)
def test_admin_pages_render(operator, waybill_a, url):
    assert operator.get(url).status_code == 200


def test_admin_carrier_and_waybill_change_pages_render(operator, carrier_a, waybill_a):
    assert operator.get(f"/admin/carriers/carrier/{carrier_a.pk}/change/").status_code == 200
    assert operator.get(f"/admin/waybills/waybill/{waybill_a.pk}/change/").status_code == 200
    assert operator.get(f"/admin/carriers/tariff/{carrier_a.tariffs.get().pk}/change/").status_code == 200
