"""The merchant's after-sales work: answering forwarded/refused complaints, answering carrier disputes."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import Merchant
from yinzunda.errors import NotFound
from yinzunda.images import CleanImage

from ..errors import AfterSalesNotAllowed, ClaimAnswerNotAllowed, PhotoInvalid
from ..models import Claim, ClaimMerchantAnswer, Complaint
from .photos import answer_photo_store

MAX_ANSWERS_PER_CLAIM = 5
MAX_PHOTOS_PER_ANSWER = 3


@transaction.atomic
def complaint_aftersales_update(
    *, merchant: Merchant, reference: str, state: str, reply: str = "", now: datetime | None = None
) -> Complaint:
    """Move a complaint of this merchant's after-sales queue to `state`, with an optional reply
    the buyer reads on the status page (an empty reply keeps the one given before)."""
    now = now or timezone.now()
    complaint = (
        Complaint.objects.select_for_update(of=("self",))
        .filter(reference=reference, order__merchant=merchant)
        .first()
    )
    if complaint is None:
        raise NotFound(_("投诉不存在"))
    if complaint.status not in Complaint.AFTERSALES_STATUSES:
        raise AfterSalesNotAllowed(_("该投诉不在售后队列中（已转快递索赔或尚未处理）"), field="state")
    if state not in Complaint.AfterSales.values:
        raise AfterSalesNotAllowed(_("售后状态无效"), field="state")
    fields = ["aftersales_state"]
    complaint.aftersales_state = state
    reply = reply.strip()
    if reply:
        complaint.merchant_reply = reply[:1000]
        complaint.merchant_replied_at = now
        fields += ["merchant_reply", "merchant_replied_at"]
    complaint.save(update_fields=fields)
    return complaint


@transaction.atomic
def claim_merchant_answer_add(
    *,
    merchant: Merchant,
    claim_id: int,
    note: str,
    evidence_url: str = "",
    photos: Sequence[CleanImage] = (),
    user=None,
    now: datetime | None = None,
) -> ClaimMerchantAnswer:
    """The merchant's counter-evidence to a carrier's dispute, while the operator has not ruled:
    a note, a link and up to three photos (already re-encoded), stored all together or not at all."""
    now = now or timezone.now()
    if len(photos) > MAX_PHOTOS_PER_ANSWER:
        raise PhotoInvalid(_("最多上传 %(n)d 张照片") % {"n": MAX_PHOTOS_PER_ANSWER}, field="photos")
    claim = Claim.objects.select_for_update().filter(pk=claim_id, merchant=merchant).first()
    if claim is None:
        raise NotFound(_("索赔不存在"))
    if claim.status != Claim.Status.DISPUTED:
        raise ClaimAnswerNotAllowed(_("只有快递公司申诉中、平台尚未仲裁的索赔可以答辩"), field="claim")
    if claim.merchant_answers.count() >= MAX_ANSWERS_PER_CLAIM:
        raise ClaimAnswerNotAllowed(
            _("每个索赔最多提交 %(n)d 次答辩") % {"n": MAX_ANSWERS_PER_CLAIM}, field="note"
        )
    answer = ClaimMerchantAnswer.objects.create(
        claim=claim, note=note.strip(), evidence_url=evidence_url, created_by=user, created_at=now
    )
    for photo in photos:
        answer_photo_store(answer=answer, photo=photo)
    return answer
