"""The operator's carrier scorecard: per carrier and week, ranked, with a trend, drill-down by
place and a CSV export. Reads the `CarrierWeekScore` rollup; "refresh now" recomputes it."""
from __future__ import annotations

import csv
from datetime import date, timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from carriers.choices import ComplaintType
from yinzunda.dispatch import task_enqueue_on_commit

from ..selectors.scorecard import (
    scorecard_carrier_week,
    scorecard_freshness,
    scorecard_rows_for_export,
    scorecard_trend,
    scorecard_week,
    scorecard_weeks_available,
)
from ..services.scorecard import week_start_of
from .access import carrier_or_404, staff_only
from .charts import trend_chart


def _week(request: HttpRequest) -> date:
    """?week=YYYY-MM-DD (any day of it), else the current week; a bad value is the current week."""
    raw = request.GET.get("week", "")
    try:
        day = date.fromisoformat(raw) if raw.isascii() and raw else None
    except ValueError:
        day = None
    this_week = week_start_of(timezone.now())
    if day is None or not date(2000, 1, 1) <= day <= this_week + timedelta(days=6):
        return this_week
    return day - timedelta(days=day.weekday())


def _context(week: date) -> dict:
    return {
        "week": week, "week_end": week + timedelta(days=6),
        "previous_week": week - timedelta(weeks=1), "next_week": week + timedelta(weeks=1),
        "is_current": week == week_start_of(timezone.now()),
        "weeks": scorecard_weeks_available(), "fresh_at": scorecard_freshness(),
        "refresh_minutes": settings.YINZUNDA_SCORECARD_REFRESH_MINUTES,
    }


@staff_only
@require_GET
def scorecard(request: HttpRequest) -> HttpResponse:
    week = _week(request)
    rows = scorecard_week(week_start=week)
    context = _context(week) | {
        "rows": rows,
        "worst": rows[0] if rows and rows[0].door_breaches else None,
        "chart": trend_chart(
            series=scorecard_trend(week_start=week), title=_("送货上门承诺违约率（每千件）"), unit="‰"
        ),
        "nav": "scorecard",
    }
    return render(request, "claims/staff/scorecard.html", context)


@staff_only
@require_GET
def scorecard_carrier(request: HttpRequest, carrier_id: int) -> HttpResponse:
    carrier = carrier_or_404(carrier_id)
    week = _week(request)
    row = scorecard_carrier_week(carrier_id=carrier.pk, week_start=week)
    places = row.score.places if row else {}
    context = _context(week) | {
        "carrier": carrier, "row": row,
        "cities": sorted((places.get("city") or {}).items(), key=lambda kv: -kv[1]),
        "stations": sorted((places.get("station") or {}).items(), key=lambda kv: -kv[1]),
        "chart": trend_chart(
            series=scorecard_trend(week_start=week, carrier_id=carrier.pk),
            title=_("送货上门承诺违约率（每千件）"), unit="‰",
        ),
    }
    return render(request, "claims/staff/scorecard_carrier.html", context)


@staff_only
@require_POST
def scorecard_refresh_now(request: HttpRequest) -> HttpResponse:
    task_enqueue_on_commit("claims.tasks.scorecard_refresh")
    messages.success(request, _("已开始重新计算评分，稍后刷新页面即可看到最新数据。"))
    return redirect("staff:scorecard")


def _cell(value) -> str:
    return "" if value is None else str(value)


@staff_only
@require_GET
def scorecard_csv(request: HttpRequest) -> HttpResponse:
    week = _week(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="carrier-scorecard-{week:%Y%m%d}.csv"'
    response.write("\ufeff")  # Excel opens UTF-8 CSV with Chinese correctly only with a BOM
    writer = csv.writer(response)
    types = ComplaintType.choices
    writer.writerow([
        _("周起始"), _("快递代码"), _("快递"), _("音尊达包裹（本周签收）"), _("送货上门率 %"), _("投诉率 %"),
        _("送货上门承诺违约（每千件）"), *[f"{label}（{_('每千件')}）" for _value, label in types],
        _("发起索赔"), _("接受"), _("超时自动接受"), _("申诉"), _("仲裁支持"), _("仲裁驳回"),
        _("答复时长中位数（小时）"), _("答复时长 P90（小时）"), _("接受到付款中位数（小时）"),
        _("回调成功率 %"), _("回调延迟中位数（秒）"), _("计算时间"),
    ])
    for row in scorecard_rows_for_export(until=week):
        s = row.score
        writer.writerow([
            s.week_start.isoformat(), row.carrier.code, row.carrier.name, s.parcels, _cell(row.door_rate),
            _cell(row.complaint_rate), _cell(row.door_breach_rate), *[_cell(rate) for _l, _n, rate in row.breach_rates],
            s.claims_opened, s.claims_accepted, s.claims_auto_accepted, s.claims_disputed, s.claims_upheld,
            s.claims_dismissed, _cell(s.response_p50_hours and round(s.response_p50_hours, 1)),
            _cell(s.response_p90_hours and round(s.response_p90_hours, 1)),
            _cell(s.payment_p50_hours and round(s.payment_p50_hours, 1)), _cell(row.webhook_success),
            _cell(s.webhook_lag_p50_seconds and round(s.webhook_lag_p50_seconds, 1)),
            timezone.localtime(s.computed_at).strftime("%Y-%m-%d %H:%M"),
        ])
    return response
