"""Issue 14 item 16: the platform's notes in a claim's history follow the request's Accept-Language
(Simplified Chinese by default, as before); a carrier's own words are returned as written."""
from __future__ import annotations

import re

import pytest

from claims.services.claims import claim_open
from tests.factories import ComplaintFactory
from yinzunda.texts import message

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def test_carrier_api_history_follows_accept_language(client_a, waybill_a):
    claim = claim_open(waybill=waybill_a, complaint_type="not_to_door", tariff=waybill_a.carrier.tariffs.first(),
                       amount="5.00", complaint=ComplaintFactory(waybill=waybill_a, order=waybill_a.order),
                       reason=message("已向快递公司索赔；轨迹显示已签收，快递公司可提出申诉，由平台仲裁"))
    url = f"/api/v1/carrier/claims/{claim.pk}"
    chinese = client_a.get(url).json()["history"][0]["reason"]
    english = client_a.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["history"][0]["reason"]
    assert chinese == "已向快递公司索赔；轨迹显示已签收，快递公司可提出申诉，由平台仲裁"
    assert english and not CJK.search(english)
    client_a.post_json(f"{url}/dispute", {"reason": "已送货上门", "evidence": [{"type": "photo", "url": "https://p.example/1.jpg"}]})
    history = client_a.get(url, HTTP_ACCEPT_LANGUAGE="en").json()["history"]
    assert history[-1]["reason"] == "已送货上门"
