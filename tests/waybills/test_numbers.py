"""Platform waybill numbers: check digit and validation."""
import pytest
from django.core.exceptions import ValidationError

from waybills.numbers import format_waybill_number, validate_waybill_number


def test_issued_number_validates():
    number = format_waybill_number("ZT", 1234)
    assert validate_waybill_number(number.lower()) == number


@pytest.mark.parametrize("position", range(2, 13))
def test_any_single_digit_typo_is_caught(position):
    number = format_waybill_number("YT", 987654321)
    wrong = str((int(number[position]) + 3) % 10)
    typo = number[:position] + wrong + number[position + 1:]
    with pytest.raises(ValidationError) as exc:
        validate_waybill_number(typo)
    assert exc.value.code == "waybill_check_digit"


def test_bad_format_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_waybill_number("ZT12")
    assert exc.value.code == "waybill_format"
