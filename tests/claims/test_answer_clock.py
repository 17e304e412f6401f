"""Honest clocks (issue 12 item 5): 7 calendar days by default (《快递暂行条例》 Art. 28), working
days of the official calendar as a setting, Monday–Friday with a warning for a year the calendar
does not know, the postal administration's appeal channel, and only on complaints a carrier answers."""
from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.checks import run_checks
from django.urls import reverse
from django.utils import timezone

from claims import routing
from claims.models import Complaint
from claims.selectors.complaints import answer_clock_calendar_gaps, complaint_regulation_clock
from claims.services.claims import claim_accept, claim_open
from tests.claims.test_views import prove
from tests.factories import ComplaintFactory, UserFactory, WaybillFactory
from yinzunda import workdays

SH = ZoneInfo("Asia/Shanghai")


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=SH)


# --- the clock itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filed", "working", "due"),
    [
        # National Day 2026: Oct 1–7 off, Sat Oct 10 a make-up working day
        ("2026-09-30", True, "2026-10-15"),
        ("2026-09-30", False, "2026-10-07"),
        # Spring Festival 2026: Feb 15–23 off, Sat Feb 14 and Sat Feb 28 make-up working days
        ("2026-02-13", True, "2026-03-02"),
        ("2026-02-13", False, "2026-02-20"),
    ],
)
def test_answer_due_on_the_official_calendar(filed, working, due):
    assert routing.answer_due_at(at(filed), days=7, working_days=working) == at(due)


def test_monday_to_friday_alone_would_have_said_otherwise():
    # the old rule: 2026-09-30 + 7 weekdays = 10-09, in the middle of no working week at all
    naive, moment = at("2026-09-30"), at("2026-09-30")
    for _ in range(7):
        moment += timedelta(days=1)
        while moment.weekday() >= 5:
            moment += timedelta(days=1)
    assert moment.date() == date(2026, 10, 9) != routing.answer_due_at(naive, days=7, working_days=True).date()


def test_a_year_the_calendar_does_not_know_falls_back_to_monday_to_friday_and_logs(monkeypatch, caplog):
    monkeypatch.setattr(workdays, "_warned_years", set())
    assert not workdays.calendar_knows(2099)
    with caplog.at_level(logging.WARNING, logger="yinzunda.workdays"):
        due = routing.answer_due_at(at("2099-01-02"), days=7, working_days=True)  # a Friday
        routing.answer_due_at(at("2099-01-05"), days=7, working_days=True)
    assert due == at("2099-01-13")  # Mon 5 … Fri 9, Mon 12, Tue 13
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1  # once per year and process, not per complaint


# --- operators are told ---------------------------------------------------------------------------


def test_working_day_mode_warns_operators_of_a_missing_year(settings, monkeypatch):
    settings.YINZUNDA_ANSWER_CLOCK = "working"
    monkeypatch.setattr(workdays, "calendar_knows", lambda year: year < 2027)
    assert answer_clock_calendar_gaps(today=date(2026, 12, 20)) == [2027]
    assert answer_clock_calendar_gaps(today=date(2026, 11, 20)) == []
    monkeypatch.setattr(workdays, "calendar_knows", lambda year: False)
    messages = [m for m in run_checks() if m.id == "claims.W001"]
    assert len(messages) == 1 and str(timezone.localdate().year) in messages[0].msg


def test_calendar_day_mode_needs_no_holiday_calendar(settings, monkeypatch):
    settings.YINZUNDA_ANSWER_CLOCK = "calendar"
    monkeypatch.setattr(workdays, "calendar_knows", lambda year: False)
    assert answer_clock_calendar_gaps() == []
    assert not [m for m in run_checks() if m.id.startswith("claims.")]


def test_an_unknown_clock_mode_is_a_check_error(settings):
    settings.YINZUNDA_ANSWER_CLOCK = "lunar"
    assert [m.id for m in run_checks() if m.id.startswith("claims.")] == ["claims.E001"]


@pytest.mark.django_db
def test_the_staff_page_shows_the_missing_year(client, settings, monkeypatch):
    settings.YINZUNDA_ANSWER_CLOCK = "working"
    monkeypatch.setattr(workdays, "calendar_knows", lambda year: False)
    client.force_login(UserFactory(is_staff=True))
    for query in ({}, {"status": "all"}):
        body = client.get(reverse("staff:claim_list"), query).content.decode()
        assert 'id="calendar-gap"' in body and str(timezone.localdate().year) in body
    settings.YINZUNDA_ANSWER_CLOCK = "calendar"
    assert 'id="calendar-gap"' not in client.get(reverse("staff:claim_list")).content.decode()


# --- what the buyer sees ---------------------------------------------------------------------------


def _complaint(status, **kwargs):
    routed = None if status == Complaint.Status.RECEIVED else timezone.now()
    return ComplaintFactory(waybill=WaybillFactory(), status=status, routed_at=routed, **kwargs)


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Complaint.Status.RECEIVED, Complaint.Status.FORWARDED, Complaint.Status.REJECTED])
def test_no_clock_on_complaints_no_carrier_has_to_answer(client, status):
    complaint = _complaint(status)
    assert complaint_regulation_clock(complaint=complaint) is None
    prove(client, complaint.waybill)
    body = client.get(reverse("buyer:complaint_status", args=[complaint.reference])).content.decode()
    assert 'id="answer-clock"' not in body


@pytest.mark.django_db
def test_a_complaint_that_opened_a_claim_shows_seven_days_and_the_postal_appeal_channel(client):
    complaint = _complaint(Complaint.Status.CLAIM_OPENED)
    clock = complaint_regulation_clock(complaint=complaint)
    assert clock.due_at == timezone.localtime(complaint.created_at) + timedelta(days=7) and not clock.overdue
    prove(client, complaint.waybill)
    body = client.get(reverse("buyer:complaint_status", args=[complaint.reference])).content.decode()
    assert 'id="answer-clock"' in body
    assert "《快递暂行条例》" in body and "7 日内" in body
    assert "国家邮政局邮政业用户申诉" in body and "https://sswz.spb.gov.cn/" in body
    assert "12305" not in body


@pytest.mark.django_db
def test_the_english_status_page_has_ascii_colons_and_a_space_between_sentences(client):
    complaint = _complaint(Complaint.Status.CLAIM_OPENED)
    prove(client, complaint.waybill)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get(reverse("buyer:complaint_status", args=[complaint.reference])).content.decode()
    assert "Status: <span" in body and "：" not in body.split("<main>")[1].split("</main>")[0]
    assert re.search(r"\d\d:\d\d\)\. \S", body)  # "…(before 02:15). If …"


@pytest.mark.django_db
def test_working_day_mode_and_another_channel_are_settings(client, settings):
    settings.YINZUNDA_ANSWER_CLOCK = "working"
    settings.YINZUNDA_ESCALATION_CHANNEL = "浙江省邮政管理局申诉"
    settings.YINZUNDA_ESCALATION_URL = "https://zj.spb.gov.cn/"
    complaint = _complaint(Complaint.Status.CLAIM_OPENED, created_at=at("2026-09-30"))
    clock = complaint_regulation_clock(complaint=complaint, now=at("2026-10-14"))
    assert clock.due_at == at("2026-10-15") and clock.working_days and not clock.overdue
    prove(client, complaint.waybill)
    body = client.get(reverse("buyer:complaint_status", args=[complaint.reference])).content.decode()
    assert "7 个工作日内（2026-10-15 10:00 前）" in body
    assert "浙江省邮政管理局申诉" in body and "https://zj.spb.gov.cn/" in body


@pytest.mark.django_db
def test_an_answered_claim_is_not_overdue(client):
    complaint = _complaint(Complaint.Status.CLAIM_OPENED, created_at=timezone.now() - timedelta(days=10))
    waybill = complaint.waybill
    claim = claim_open(
        waybill=waybill, complaint=complaint, complaint_type=complaint.complaint_type,
        tariff=waybill.carrier.tariffs.first(), amount="5.00",
    )
    complaint.refresh_from_db()
    assert complaint_regulation_clock(complaint=complaint).overdue
    claim_accept(claim_id=claim.pk, carrier=waybill.carrier)
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert not complaint_regulation_clock(complaint=complaint).overdue


@pytest.mark.django_db
def test_the_clock_reads_in_english(client, settings):
    complaint = _complaint(Complaint.Status.CLAIM_OPENED)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    prove(client, complaint.waybill)
    body = client.get(reverse("buyer:complaint_status", args=[complaint.reference])).content.decode()
    assert "Interim Regulations on Express Delivery" in body and "postal" in body.lower()
