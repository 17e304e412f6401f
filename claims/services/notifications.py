"""The merchant's inbox: entries written by claim and complaint events, e-mailed after commit."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from orders.models import Merchant
from yinzunda.dispatch import task_enqueue_on_commit
from yinzunda.errors import NotFound
from yinzunda.texts import Message, render, render_platform

from ..models import Claim, Complaint, Notification


def notification_create(
    *, merchant_id: int, claim: Claim | None, title: str, params: dict | None = None, body: str = "",
    complaint: Complaint | None = None, body_message: Message | None = None,
    now: datetime | None = None,
) -> Notification:
    """Inbox entry for the merchant; the e-mail goes out after commit (see claims.tasks).

    `title` is an untranslated message (gettext_noop) with %-placeholders: the inbox shows it
    in each reader's language; the stored `title` is the rendering in the default language.
    `body_message` (yinzunda.texts), when the platform words the body, is kept the same way.
    """
    params = {key: str(value) if isinstance(value, Decimal) else value for key, value in (params or {}).items()}
    if body_message:
        params[Notification.BODY_PARAM] = body_message
        body = render_platform(body_message)
    with translation.override(settings.LANGUAGE_CODE):
        rendered = _(title) % params if params else _(title)
    note = Notification.objects.create(
        merchant_id=merchant_id, claim=claim, complaint=complaint, title=rendered[:200], title_template=title[:200],
        params=params, body=body, created_at=now or timezone.now(),
    )
    task_enqueue_on_commit("claims.tasks.notification_email", note.pk)
    return note


def notifications_create_many(*, items: list[dict]) -> list[Notification]:
    """notification_create for many entries in one INSERT; each item holds its keyword arguments."""
    notes = []
    with translation.override(settings.LANGUAGE_CODE):
        for item in items:
            params = {k: str(v) if isinstance(v, Decimal) else v for k, v in (item.get("params") or {}).items()}
            body = item.get("body", "")
            if item.get("body_message"):
                params[Notification.BODY_PARAM] = item["body_message"]
                body = render(item["body_message"])  # the platform's language is active here
            title = item["title"]
            rendered = _(title) % params if params else _(title)
            notes.append(Notification(
                merchant_id=item["merchant_id"], claim=item.get("claim"), title=rendered[:200],
                title_template=title[:200], params=params, body=body,
            ))
    Notification.objects.bulk_create(notes)
    if notes:
        task_enqueue_on_commit("claims.tasks.notifications_email", [note.pk for note in notes])
    return notes


def notification_mark_read(*, merchant: Merchant, notification_id: int | None = None, now=None) -> int:
    """Mark one inbox entry (or all of them) read; a conditional update, so repeating is harmless."""
    qs = Notification.objects.filter(merchant=merchant, read_at__isnull=True)
    if notification_id is not None:
        if not Notification.objects.filter(merchant=merchant, pk=notification_id).exists():
            raise NotFound(_("通知不存在"))
        qs = qs.filter(pk=notification_id)
    return qs.update(read_at=now or timezone.now())


def notifications_mark_digested(*, notification_ids: list[int], now=None) -> int:
    """These entries were e-mailed (alone or in a digest): the next digest starts after them."""
    return Notification.objects.filter(pk__in=notification_ids, digested_at__isnull=True).update(
        digested_at=now or timezone.now()
    )
