"""Template context of every page: the platform's customer-service contact (a setting), in the reader's language."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext as _


def support_contact_text() -> str:
    """The contact line in the active language: the deployment's own line for that language,
    else the phone and hours worded by the catalogue."""
    lines = settings.YINZUNDA_SUPPORT_CONTACT
    if isinstance(lines, str):  # an older single-line setting: the platform's language only
        lines = {settings.LANGUAGE_CODE: lines}
    language = (translation.get_language() or settings.LANGUAGE_CODE).lower()
    line = lines.get(language) or lines.get(language.split("-")[0])
    if line:
        return line
    return _("平台客服热线 %(phone)s（每天 %(hours)s）") % {
        "phone": settings.YINZUNDA_SUPPORT_PHONE, "hours": settings.YINZUNDA_SUPPORT_HOURS,
    }


support_contact_lazy = lazy(support_contact_text, str)


def portal(request: HttpRequest) -> dict:
    return {"support_contact": support_contact_lazy()}
