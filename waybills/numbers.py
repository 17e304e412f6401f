"""Platform e-waybill numbers: two-letter carrier prefix, ten-digit serial, one Luhn check digit.

Example: prefix ``ZT``, serial ``0000001002``, check digit ``5`` → ``ZT00000010025``. The check digit catches every
single-digit typo and most adjacent transpositions before any database lookup.
"""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

SERIAL_DIGITS = 10
WAYBILL_NUMBER_RE = re.compile(rf"^[A-Z]{{2}}\d{{{SERIAL_DIGITS + 1}}}$")


def luhn_check_digit(digits: str) -> int:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # the digit next to the (future) check digit is doubled
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def format_waybill_number(prefix: str, serial: int) -> str:
    body = f"{serial:0{SERIAL_DIGITS}d}"
    if len(body) > SERIAL_DIGITS:
        raise ValueError("waybill serial overflow")
    return f"{prefix}{body}{luhn_check_digit(body)}"


def normalize_waybill_number(value: str) -> str:
    return "".join(str(value).split()).upper()


def validate_waybill_number(value: str) -> str:
    """Return the normalised number or raise ValidationError saying what is wrong."""
    number = normalize_waybill_number(value)
    if not WAYBILL_NUMBER_RE.match(number):
        raise ValidationError(
            _("面单号格式应为两位大写字母加 %(n)d 位数字，例如 ZT00000010025。") % {"n": SERIAL_DIGITS + 1},
            code="waybill_format",
        )
    body, check = number[2:-1], int(number[-1])
    if luhn_check_digit(body) != check:
        raise ValidationError(_("面单号校验位不正确，请检查是否输错。"), code="waybill_check_digit")
    return number
