"""The merchant's inbox: entries newest first and the unread count."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orders.models import Merchant

from ..models import Notification

ZERO = Decimal("0.00")


def notification_list(
    *, merchant: Merchant, unread_only: bool = False, limit: int | None = None
) -> QuerySet[Notification]:
    qs = (
        Notification.objects.filter(merchant=merchant)
        .select_related("claim", "complaint")
        .order_by("-created_at", "-id")
    )
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs[:limit] if limit else qs


def notification_unread_count(*, merchant: Merchant) -> int:
    return Notification.objects.filter(merchant=merchant, read_at__isnull=True).count()


DIGEST_LOOKBACK = timedelta(days=2)


def notification_email_subject(note: Notification) -> str:
    """The e-mail subject, in the merchant's e-mail language."""
    with translation.override(note.merchant.email_language):
        return _("[音尊达] %(title)s") % {"title": note.display_title()}


def notification_email_text(note: Notification) -> str:
    """The e-mail body in the merchant's e-mail language: the title, the details and a link to
    the claim or complaint."""
    with translation.override(note.merchant.email_language):
        lines = [note.display_title(), ""]
        body = note.display_body()
        if body:
            lines += [body, ""]
        lines += [_("查看详情：%(url)s") % {"url": settings.YINZUNDA_SITE_URL + note.link_path()}]
        lines += ["", _("在商家后台“设置”中可改为每天一封汇总邮件。")]
        return "\n".join(lines)


def merchants_for_digest() -> QuerySet[Merchant]:
    return Merchant.objects.filter(email_digest=True).exclude(email="").order_by("pk")


@dataclass(frozen=True)
class Digest:
    subject: str
    text: str
    notification_ids: list[int]


def notification_digest(*, merchant: Merchant, now: datetime | None = None) -> Digest | None:
    """The day's digest of the inbox entries not yet sent (None when there is nothing new)."""
    now = now or timezone.now()
    notes = list(
        Notification.objects.filter(
            merchant=merchant, digested_at__isnull=True, created_at__gte=now - DIGEST_LOOKBACK, created_at__lte=now
        )
        .select_related("complaint")
        .order_by("created_at", "id")[:200]
    )
    if not notes:
        return None
    with translation.override(merchant.email_language):
        subject = _("[音尊达] 今日汇总：%(n)d 条新消息") % {"n": len(notes)}
        lines = [subject, ""]
        for note in notes:
            when = timezone.localtime(note.created_at).strftime("%m-%d %H:%M")
            lines.append(f"- {when} {note.display_title()}")
            lines.append(f"  {settings.YINZUNDA_SITE_URL}{note.link_path()}")
        lines += ["", _("全部消息：%(url)s") % {"url": settings.YINZUNDA_SITE_URL + "/dashboard/inbox/"}]
    return Digest(subject=subject, text="\n".join(lines), notification_ids=[n.pk for n in notes])
