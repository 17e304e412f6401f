"""Money is CNY in Decimal with two places: the one quantizer every app uses."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value: Decimal | str | int) -> Decimal:
    """Quantize to CNY cents; floats are refused so no binary rounding ever touches money."""
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
