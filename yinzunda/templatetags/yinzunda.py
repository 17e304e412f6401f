"""Template filters: CNY money with two decimals, masked personal data, the label colon."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from yinzunda.masking import mask_address, mask_free_text, mask_location, mask_name, mask_phone

register = template.Library()


@register.simple_tag
def colon() -> str:
    """The separator after a translated label: full width in Chinese, ": " in English."""
    return "：" if (get_language() or "zh").startswith("zh") else ": "


_ENGLISH_PUNCTUATION = {"（": " (", "）": ")", "，": ", ", "；": "; ", "：": ": "}


@register.simple_tag
def punct(mark: str) -> str:
    """Punctuation between values in a template: full width in Chinese, its English form otherwise
    ({% punct "（" %} is " (" in English)."""
    return mark if (get_language() or "zh").startswith("zh") else _ENGLISH_PUNCTUATION.get(mark, mark)


@register.simple_tag
def sentence_space() -> str:
    """Between two translated sentences: nothing after a Chinese 。, a space after an English full stop."""
    return "" if (get_language() or "zh").startswith("zh") else " "


@register.filter
def yuan(value) -> str:
    """¥1,234.50 — CNY, two decimals, thousands separators."""
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


register.filter("mask_phone", mask_phone)
register.filter("mask_name", mask_name)
register.filter("mask_address", mask_address)
register.filter("mask_location", mask_location)
register.filter("mask_free_text", mask_free_text)


@register.filter
def age(value) -> str:
    """A timedelta as "2 天 3 小时" / "45 分钟" (translated)."""
    if value is None:
        return ""
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d 小时 %(m)d 分钟") % {"h": hours, "m": mins}
    return _("%(m)d 分钟") % {"m": mins}


@register.filter
def owed(value) -> str:
    """What a negative balance owes, as a positive amount: -¥3.20 → ¥3.20."""
    try:
        return yuan(-Decimal(str(value))) if Decimal(str(value)) < 0 else yuan(0)
    except (InvalidOperation, ValueError):
        return ""
# The evidence types a carrier or merchant may attach (carrier API `EVIDENCE_TYPES`), as people read them.
EVIDENCE_TYPE_LABELS = {
    "photo": gettext_lazy("照片"),
    "signature": gettext_lazy("签收签名"),
    "geo": gettext_lazy("定位"),
    "buyer_consent": gettext_lazy("买家同意"),
    "call_record": gettext_lazy("通话记录"),
    "other": gettext_lazy("其他"),
}


@register.filter
def evidence_type(value) -> str:
    """An evidence type code as a readable label; an unknown code is shown as it is."""
    return str(EVIDENCE_TYPE_LABELS.get(value, value or "—"))


@register.filter
def stored_text(value) -> str:
    """A text stored in the default language (a decision reason) in the reader's language when
    it is one of the catalogue's messages; otherwise as stored."""
    return _(value) if value else ""
