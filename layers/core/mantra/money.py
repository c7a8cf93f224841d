"""Prices are integer paise inside the platform; rupees as Decimal only at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

PAISE_PER_RUPEE = 100


def to_paise(rupees: Decimal | str | int) -> int:
    """Exact rupees -> paise; refuses fractions of a paisa rather than rounding money silently."""
    try:
        value = Decimal(str(rupees))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {rupees!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {rupees!r}")
    paise = value * PAISE_PER_RUPEE
    if paise != paise.to_integral_value():
        raise ValueError(f"{rupees} has more than 2 decimal places")
    return int(paise)


def to_rupees(paise: int) -> Decimal:
    return (Decimal(paise) / PAISE_PER_RUPEE).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
