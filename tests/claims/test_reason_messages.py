"""Issue 14 item 16: decision reasons and the platform's history notes are stored as messages and
read in each reader's language (buyer page, merchant dashboard, operator console, carrier API,
evidence export); rows written before are converted where their wording is recognised."""
from __future__ import annotations

import importlib
import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone, translation

from claims.models import Claim, ClaimTransition, Complaint
from claims.services import complaints as services
from claims.services.claims import claim_auto_accept, claim_dispute
from claims.services.watcher import promises_watch
from tests.claims.test_routing import deliver, yinzunda_waybill
from tests.factories import ComplaintFactory, MerchantUserFactory, WaybillFactory

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
migration = importlib.import_module("claims.migrations.0014_reasons_as_messages")


def _english(fn):
    with translation.override("en"):
        return fn()


def test_a_claimed_complaint_keeps_its_reason_as_a_message_read_in_english():
    # given a covered parcel left at a station without consent
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill, order=waybill.order)
    # when the complaint is routed
    services.complaint_route(complaint_id=complaint.pk)
    complaint.refresh_from_db()
    # then the platform-language text is kept and the message renders in English
    assert "放至驿站/代收点，买家未同意" in complaint.decision_reason
    assert complaint.decision_reason_msg["p"]["clock"]["p"]["method"] == {"t": "驿站/代收点"}
    english = _english(complaint.decision_reason_text)
    assert not CJK.search(english), english
    opening = ClaimTransition.objects.get(claim__complaint=complaint, to_status="open")
    assert "买家未同意" in opening.reason and not CJK.search(_english(opening.reason_text))


def test_watcher_and_auto_accept_notes_read_in_english():
    waybill = yinzunda_waybill()
    deliver(waybill, "locker")
    (claim_id,) = promises_watch(waybill_ids=[waybill.pk])
    Claim.objects.filter(pk=claim_id).update(deadline_at=timezone.now() - timedelta(minutes=1))
    claim_auto_accept(claim_id=claim_id)
    notes = list(ClaimTransition.objects.filter(claim_id=claim_id).order_by("id"))
    assert [t.to_status for t in notes] == ["open", "auto_accepted"]
    assert "系统根据物流轨迹自动索赔" in notes[0].reason
    for note in notes:
        assert note.reason_msg and not CJK.search(_english(note.reason_text)), note.reason


def test_a_persons_words_stay_as_written():
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    (claim_id,) = promises_watch(waybill_ids=[waybill.pk])
    claim_dispute(claim_id=claim_id, carrier=waybill.carrier, reason="已放驿站并电话告知", evidence=[{"type": "note"}])
    note = ClaimTransition.objects.get(claim_id=claim_id, to_status="disputed")
    assert note.reason_msg is None and _english(note.reason_text) == "已放驿站并电话告知"


def test_buyer_status_page_shows_the_refusal_in_english(client):
    waybill = WaybillFactory()  # no Yinzunda: forwarded to the merchant
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill, order=waybill.order)
    services.complaint_route(complaint_id=complaint.pk)
    client.post(reverse("buyer:complaint_start"),
                {"number": waybill.order.order_number, "phone_last4": waybill.order.recipient_phone[-4:]})
    url = reverse("buyer:complaint_status", args=[complaint.reference])
    chinese = client.get(url).content.decode()
    assert "该订单未购买音尊达服务" in chinese
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    reason = re.search(r'<p id="decision-reason">(.*?)</p>', english, re.S).group(1)
    assert reason.strip() and not CJK.search(reason), reason


def test_merchant_and_operator_pages_show_reasons_in_english(client, django_user_model):
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill, order=waybill.order)
    services.complaint_route(complaint_id=complaint.pk)
    claim = Claim.objects.get(complaint=complaint)
    member = MerchantUserFactory(merchant=waybill.order.merchant)
    client.force_login(member.user)
    page = client.get(reverse("dashboard:claim_detail", args=[claim.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Left at" in page or "left at" in page.lower()
    assert "买家未同意" not in page
    staff = django_user_model.objects.create_user("op", password="x", is_staff=True)
    client.force_login(staff)
    page = client.get(reverse("staff:claim_detail", args=[claim.pk]), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "买家未同意" not in page


# --- the data migration ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "放至驿站/代收点，买家未同意：已向快递公司索赔，快递公司将在答复时限内答复",
    "驿站滞留 26 小时 5 分钟，超过 24 小时时限：已向快递公司索赔，快递公司将在答复时限内答复",
    "已超过投诉期限（到达驿站后 7 天）；如仍有问题请联系商家",
    "同一包裹已有索赔 #42，本投诉并入该索赔，不重复赔付",
    "您已在平台同意放至快递柜，这不属于违约；如需撤回同意，可在订单页操作",
    "包裹已在驿站 3 小时；如 24 小时时限到仍未送货上门，平台将自动索赔，无需再次投诉",
])
def test_migration_recognises_the_platforms_wordings_and_renders_them_back(text):
    msg = migration.recognise(text, migration.COMPLAINT_REASONS)
    assert msg is not None
    from yinzunda.texts import render

    with translation.override("zh-hans"):
        assert render(msg) == text
    assert not CJK.search(_english(lambda: render(msg)))


def test_migration_converts_old_rows_and_keeps_what_it_cannot_word():
    waybill = yinzunda_waybill()
    deliver(waybill, "station")
    complaint = ComplaintFactory(waybill=waybill, order=waybill.order)
    services.complaint_route(complaint_id=complaint.pk)
    claim = Claim.objects.get(complaint=complaint)
    other = ComplaintFactory(waybill=waybill, order=waybill.order)
    # rows as they were before: text only
    Complaint.objects.filter(pk=complaint.pk).update(decision_reason_msg=None)
    Complaint.objects.filter(pk=other.pk).update(decision_reason="运营手工备注：已电话联系", decision_reason_msg=None,
                                                 status="forwarded", routed_at=timezone.now())
    ClaimTransition.objects.filter(claim=claim).update(reason_msg=None)
    claim_dispute(claim_id=claim.pk, carrier=waybill.carrier, reason="已送货上门", evidence=[{"type": "note"}])
    migration.forwards(apps, None)
    complaint.refresh_from_db()
    other.refresh_from_db()
    assert complaint.decision_reason_msg and not CJK.search(_english(complaint.decision_reason_text))
    assert other.decision_reason_msg is None and _english(other.decision_reason_text) == "运营手工备注：已电话联系"
    opening = ClaimTransition.objects.get(claim=claim, to_status="open")
    assert opening.reason_msg and not CJK.search(_english(opening.reason_text))
    assert ClaimTransition.objects.get(claim=claim, to_status="disputed").reason_msg is None


def test_inbox_bodies_the_platform_worded_read_in_english(client):
    from claims.models import Notification

    forwarded = WaybillFactory()  # no Yinzunda: forwarded, the inbox line carries type, words and reason
    deliver(forwarded, "station")
    complaint = ComplaintFactory(waybill=forwarded, order=forwarded.order, complaint_type="damaged", description="箱子破了")
    services.complaint_route(complaint_id=complaint.pk)
    watched = yinzunda_waybill()
    deliver(watched, "locker")
    promises_watch(waybill_ids=[watched.pk])
    for note in Notification.objects.filter(body__gt=""):
        assert CJK.search(note.body)  # the stored rendering is the platform's language
        english = _english(note.display_body)
        assert not CJK.search(english.replace("箱子破了", "")), english
    member = MerchantUserFactory(merchant=forwarded.order.merchant)
    client.force_login(member.user)
    inbox = client.get(reverse("dashboard:inbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "箱子破了" in inbox and "已转商家" not in inbox
