"""The merchant dashboard's inbox of claim and complaint events (also e-mailed)."""
from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yinzunda.texts import render


class Notification(models.Model):
    """The merchant dashboard inbox of claim events (also e-mailed)."""

    merchant = models.ForeignKey(
        "orders.Merchant", on_delete=models.CASCADE, related_name="notifications", verbose_name=_("商家")
    )
    claim = models.ForeignKey("claims.Claim", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications")
    complaint = models.ForeignKey(
        "claims.Complaint", null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(_("标题"), max_length=200)
    # The untranslated message and its values: the inbox renders them in the reader's language.
    title_template = models.CharField(max_length=200, blank=True)
    params = models.JSONField(default=dict, blank=True)
    body = models.TextField(_("内容"), blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # Set once it was e-mailed, alone or in a daily digest (merchants who chose the digest get no
    # single e-mails; one switching to it later does not get the ones already sent again).
    digested_at = models.DateTimeField(null=True, blank=True)
    # The params key of a body the platform worded (a message of yinzunda.texts).
    BODY_PARAM = "_body"

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [models.Index(fields=["merchant", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def link_path(self) -> str:
        """Where the inbox line (and the e-mail) leads: the claim, the complaint, or the inbox."""
        if self.claim_id:
            return reverse("dashboard:claim_detail", args=[self.claim_id])
        if self.complaint_id:
            return reverse("dashboard:aftersales_detail", args=[self.complaint.reference])
        return reverse("dashboard:inbox")

    def display_body(self) -> str:
        """The body in the active language when the platform worded it; else as stored."""
        return render((self.params or {}).get(self.BODY_PARAM), fallback=self.body)

    def display_title(self) -> str:
        """The title in the active language (falls back to the stored rendering)."""
        if not self.title_template:
            return self.title
        try:
            return gettext(self.title_template) % self.params if self.params else gettext(self.title_template)
        except (KeyError, TypeError, ValueError):
            return self.title
