"""Exact money. Amounts are Decimals in major units beside their asset; never floats."""

import re
from decimal import Decimal, InvalidOperation

from fusionprime.errors import ValidationError

# Digits only: no sign, no exponent, no whitespace — what an integrator sends is what we store.
_AMOUNT_RE = re.compile(r"^(0|[1-9]\d{0,23})(\.\d{1,18})?$")
MAX_DIGITS = 38
MAX_DECIMAL_PLACES = 18


def parse_amount(raw: object, *, decimals: int, param: str = "amount") -> Decimal:
    """Parses a decimal string in major units and checks it against the asset's decimals."""
    if not isinstance(raw, str):
        raise ValidationError(
            'Amount must be a decimal string such as "1250.50"; JSON numbers lose precision.',
            param=param,
            code="amount_not_string",
        )
    if not _AMOUNT_RE.match(raw):
        raise ValidationError(f"'{raw[:40]}' is not a plain decimal amount.", param=param, code="amount_invalid")
    try:
        amount = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise ValidationError("Amount is not a decimal.", param=param, code="amount_invalid") from exc
    if amount <= 0:
        raise ValidationError("Amount must be greater than zero.", param=param, code="amount_not_positive")
    places = -amount.as_tuple().exponent if "." in raw else 0
    if places > decimals:
        raise ValidationError(
            f"Amount has {places} decimal places; the asset allows {decimals}.",
            param=param,
            code="amount_too_precise",
        )
    return amount


def format_amount(amount: Decimal, *, decimals: int) -> str:
    """The canonical string: exactly the asset's decimals, e.g. USD 1250.5 → "1250.50"."""
    return f"{amount.quantize(Decimal(1).scaleb(-decimals)):f}"


def to_base_units(amount: Decimal, *, decimals: int) -> int:
    scaled = amount.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValidationError("Amount has more decimal places than the asset allows.", code="amount_too_precise")
    return int(scaled)


def from_base_units(units: int, *, decimals: int) -> Decimal:
    return Decimal(units).scaleb(-decimals)
