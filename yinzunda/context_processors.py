"""Template context of every page: the platform's customer-service contact (a setting)."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict:
    return {"support_contact": settings.YINZUNDA_SUPPORT_CONTACT}
