"""Property tests: numbers, dates, times and reply rows from anything KIS (or not) can send.

Only a valid result or ``KISValidationError`` may come out, within the ``PROPERTY`` deadline;
and the drift KIS really does (commas, plus signs, decimals, padding, case) still reads.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stock_manager.adapters.kis.errors import KISValidationError
from stock_manager.adapters.kis.parsing import (
    MAX_DIGITS,
    MAX_YEAR,
    MIN_YEAR,
    Row,
    parse_date,
    parse_time,
    to_decimal,
    to_int,
)
from tests.unit.hostile import HOSTILE_NUMBERS, PROPERTY, cpu_bounded, json_values, scalars

ANYTHING = scalars | json_values()
KIS_INTS = st.integers(min_value=-(10**19) + 1, max_value=10**19 - 1)


@PROPERTY
@given(ANYTHING)
@cpu_bounded
def test_to_decimal_gives_a_bounded_number_or_a_typed_error(value: Any) -> None:
    try:
        result = to_decimal(value)
    except KISValidationError:
        return
    assert result.is_finite() and abs(result) < 10**MAX_DIGITS


@PROPERTY
@given(ANYTHING)
@cpu_bounded
def test_to_int_gives_a_bounded_int_or_a_typed_error(value: Any) -> None:
    try:
        result = to_int(value)
    except KISValidationError:
        return
    assert isinstance(result, int) and abs(result) < 10**MAX_DIGITS


@pytest.mark.parametrize("text", HOSTILE_NUMBERS)
def test_every_hostile_number_is_refused(text: str) -> None:
    with pytest.raises(KISValidationError):
        to_int(text)


@PROPERTY
@given(KIS_INTS, st.sampled_from(["{:d}", "{:,d}", "{:+d}", "{:+,d}", " {:d} ", "{:d}.0000"]))
@cpu_bounded
def test_integers_as_kis_writes_them_read_back(number: int, form: str) -> None:
    assert to_int(form.format(number)) == number
    assert to_int(number) == number


@PROPERTY
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=4, allow_nan=False))
@cpu_bounded
def test_rates_and_prices_with_decimals_read_back(number: Decimal) -> None:
    assert to_decimal(f"{number:f}") == number
    assert to_decimal(f"{number:,f}") == number
    assert to_int(f"{number:f}") == int(number)  # truncated toward zero


@PROPERTY
@given(scalars | st.text(max_size=20))
@cpu_bounded
def test_parse_date_gives_a_date_or_a_typed_error(value: Any) -> None:
    try:
        day = parse_date(value)
    except KISValidationError:
        return
    assert MIN_YEAR <= day.year <= MAX_YEAR


@PROPERTY
@given(st.dates(min_value=date(MIN_YEAR, 1, 1), max_value=date(MAX_YEAR, 12, 31)), st.text())
@cpu_bounded
def test_dates_read_back_whatever_follows_them(day: date, tail: str) -> None:
    assert parse_date(f"{day:%Y%m%d}{tail}") == day


@PROPERTY
@given(scalars | st.text(max_size=20))
@cpu_bounded
def test_parse_time_gives_a_time_or_a_typed_error(value: Any) -> None:
    try:
        at = parse_time(value)
    except KISValidationError:
        return
    assert isinstance(at, time)


@PROPERTY
@given(st.times().map(lambda t: t.replace(microsecond=0)))
@cpu_bounded
def test_times_read_back(at: time) -> None:
    assert parse_time(f"{at:%H%M%S}") == at
    assert parse_time(f"{at:%H%M%S}"[1:] if at.hour < 10 else f"{at:%H%M%S}") == at


FIELDS = st.sampled_from(["stck_prpr", "STCK_PRPR", "odno", "output", "Output1", "ord_dt", "x"])


@PROPERTY
@given(st.dictionaries(FIELDS, json_values(FIELDS), max_size=6), FIELDS)
@cpu_bounded
def test_every_row_accessor_gives_a_value_or_a_typed_error(data: dict[str, Any], key: str) -> None:
    row = Row(data, "fuzz")
    for read in (
        row.text,
        row.need_text,
        row.num,
        row.need_num,
        row.dec,
        row.flag,
        row.first,
        row.rows,
        row.row,
    ):
        try:
            read(key)
        except KISValidationError as exc:
            message = str(exc)
        else:
            continue
        assert "fuzz" in message  # the message says which reply it was
    assert repr(row) == f"Row(fuzz, {len(row)} fields)"


@PROPERTY
@given(json_values())
@cpu_bounded
def test_a_row_of_something_other_than_an_object_is_a_typed_error(value: Any) -> None:
    try:
        row = Row(value, "fuzz")
    except KISValidationError:
        assert value is not None and not isinstance(value, dict)
        return
    assert value is None or isinstance(value, dict)
    assert len(row) == len(value or {})
