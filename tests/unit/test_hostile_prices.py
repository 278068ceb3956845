"""Prices are read exactly or refused: no guessed separators, nothing the column cannot hold."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kape_itops.domain.fields import PRICE_DIGITS, PRICE_SCALE, FieldError, parse_price, to_text
from kape_itops.store.models.inventory import DeviceRow
from tests.hostile.inventory_files import BAD_PRICES, GOOD_PRICES

LARGEST = Decimal(10 ** (PRICE_DIGITS - PRICE_SCALE)) - Decimal("0.01")


@pytest.mark.parametrize("text", sorted(BAD_PRICES))
def test_ambiguous_or_unholdable_prices_are_refused(text: str) -> None:
    with pytest.raises(FieldError, match=BAD_PRICES[text]):
        parse_price(text)


@pytest.mark.parametrize("text", sorted(GOOD_PRICES))
def test_unambiguous_prices_are_read_exactly(text: str) -> None:
    assert to_text(parse_price(text)) == GOOD_PRICES[text]


def test_the_column_holds_every_accepted_price_exactly() -> None:
    column = DeviceRow.__table__.c.unit_price.type
    assert column.scale == PRICE_SCALE and column.precision >= PRICE_DIGITS
    # SQLite keeps NUMERIC as a double: 15 significant digits round-trip, 16 may not
    assert PRICE_DIGITS <= 15
    assert Decimal(f"{float(LARGEST):.2f}") == LARGEST
    assert parse_price(str(LARGEST)) == LARGEST
    with pytest.raises(FieldError, match="too large"):
        parse_price(str(LARGEST + Decimal("0.01")))


@given(st.decimals(min_value=0, max_value=LARGEST, places=2))
def test_every_holdable_price_round_trips_with_or_without_separators(value: Decimal) -> None:
    assert parse_price(to_text(value)) == value
    assert parse_price(f"{value:,.2f}") == value
    assert parse_price(f"{value:,.2f}".replace(",", " ")) == value


@given(st.integers(1, 999), st.integers(1, 99))
def test_a_comma_before_one_or_two_digits_is_never_guessed(whole: int, cents: int) -> None:
    with pytest.raises(FieldError, match="comma as the decimal mark"):
        parse_price(f"{whole},{cents}")


@given(st.text(max_size=80))
def test_any_text_is_a_price_or_a_field_error(text: str) -> None:
    try:
        value = parse_price(text)
    except FieldError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 120
    else:
        assert value >= 0 and value == value.quantize(Decimal("0.01")) and value <= LARGEST
