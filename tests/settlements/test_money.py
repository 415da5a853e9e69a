from decimal import Decimal

import pytest

from fusionprime.errors import ValidationError
from fusionprime.money import format_amount, from_base_units, parse_amount, to_base_units


@pytest.mark.parametrize(
    ("raw", "decimals", "expected"),
    [
        ("1250.50", 2, Decimal("1250.50")),
        ("1", 2, Decimal("1")),
        ("0.000001", 6, Decimal("0.000001")),
        ("123456789012345678.123456789012345678", 18, Decimal("123456789012345678.123456789012345678")),
    ],
)
def test_parse_amount_accepts_plain_decimal_strings(raw, decimals, expected):
    assert parse_amount(raw, decimals=decimals) == expected


@pytest.mark.parametrize(
    ("raw", "decimals", "code"),
    [
        (1250.5, 2, "amount_not_string"),
        (1250, 2, "amount_not_string"),
        (None, 2, "amount_not_string"),
        ("0", 2, "amount_not_positive"),
        ("0.00", 2, "amount_not_positive"),
        ("-1.00", 2, "amount_invalid"),
        ("1e3", 2, "amount_invalid"),
        (" 1.00", 2, "amount_invalid"),
        ("1,00", 2, "amount_invalid"),
        ("NaN", 2, "amount_invalid"),
        ("01.00", 2, "amount_invalid"),
        ("1.", 2, "amount_invalid"),
        ("1.001", 2, "amount_too_precise"),
        ("0.1234567", 6, "amount_too_precise"),
    ],
)
def test_parse_amount_rejects_with_a_specific_code(raw, decimals, code):
    with pytest.raises(ValidationError) as exc:
        parse_amount(raw, decimals=decimals)
    assert exc.value.code == code
    assert exc.value.param == "amount"


def test_format_and_base_units_round_trip_exactly():
    assert format_amount(Decimal("1250.5"), decimals=2) == "1250.50"
    assert format_amount(Decimal("0.5"), decimals=18) == "0.500000000000000000"
    assert to_base_units(Decimal("1.5"), decimals=18) == 1_500_000_000_000_000_000
    assert from_base_units(1_500_000, decimals=6) == Decimal("1.5")
    with pytest.raises(ValidationError):
        to_base_units(Decimal("0.001"), decimals=2)
