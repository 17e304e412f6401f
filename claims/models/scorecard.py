"""The carriers' weekly scorecard: one rollup row per carrier and week."""
from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CarrierWeekScore(models.Model):
    """One carrier's platform-wide figures for one week (from Monday 00:00 Beijing time).

    A rollup written by `claims.tasks.scorecard_refresh` every few minutes for the current and
    the previous week, so the operator's scorecard reads a handful of rows whatever the volume.
    Rates are computed on the page from these counts.
    """

    carrier = models.ForeignKey("carriers.Carrier", on_delete=models.CASCADE, related_name="week_scores")
    week_start = models.DateField(_("周起始"))
    parcels = models.PositiveIntegerField(_("音尊达包裹（本周签收）"), default=0)
    door = models.PositiveIntegerField(_("送货上门"), default=0)
    complaints = models.PositiveIntegerField(_("投诉"), default=0)
    breaches = models.JSONField(_("违约（按承诺）"), default=dict)
    claims_opened = models.PositiveIntegerField(default=0)
    claims_accepted = models.PositiveIntegerField(default=0)
    claims_auto_accepted = models.PositiveIntegerField(default=0)
    claims_disputed = models.PositiveIntegerField(default=0)
    claims_upheld = models.PositiveIntegerField(default=0)
    claims_dismissed = models.PositiveIntegerField(default=0)
    response_p50_hours = models.FloatField(null=True)
    response_p90_hours = models.FloatField(null=True)
    payment_p50_hours = models.FloatField(null=True)
    webhooks_total = models.PositiveIntegerField(default=0)
    webhooks_delivered = models.PositiveIntegerField(default=0)
    webhook_lag_p50_seconds = models.FloatField(null=True)
    places = models.JSONField(_("违约地点"), default=dict)  # {"city": {name: n}, "station": {name: n}}
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-week_start", "carrier_id"]
        verbose_name = _("快递周评分")
        verbose_name_plural = _("快递周评分")
        constraints = [models.UniqueConstraint(fields=["carrier", "week_start"], name="carrier_week_score_unique")]

    def __str__(self) -> str:
        return f"{self.carrier_id} {self.week_start}"
