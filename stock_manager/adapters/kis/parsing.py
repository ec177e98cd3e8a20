"""Tolerant reading of KIS JSON: keys in any case, numbers as strings, fields may be missing.

Unknown fields are ignored. A *required* field that is missing or unreadable raises
``KISValidationError`` naming it; optional ones fall back to a default.

Numbers are bounded before they are built (issue 11: ``1e500000`` became a 500,000-digit
int and froze the event loop for 11 s): at most ``MAX_NUMBER_CHARS`` characters, ASCII
digits with an optional sign, fraction and exponent, at most ``MAX_DIGITS`` significant
digits and a magnitude below ``10**MAX_DIGITS`` and not below ``10**MIN_EXPONENT``. KIS
fields are at most 19 digits wide (kis-api §4), so nothing KIS sends is refused; anything
else is a ``KISValidationError`` in microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TypeVar

from stock_manager.adapters.kis.errors import KISValidationError
from stock_manager.domain.clock import KST

_T = TypeVar("_T")

MAX_NUMBER_CHARS = 48  # a 19-digit field with commas, sign and a fraction fits easily
MAX_DIGITS = 20  # significant digits, and |x| < 10**20 (int64 has 19)
MIN_EXPONENT = -20  # rates and ratios have a handful of decimals; 1e-21 is no KIS value
MIN_YEAR, MAX_YEAR = 1900, 2999  # dates KIS can mean; beyond them datetime arithmetic fails
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)
_DIGITS = re.compile(r"\d+", re.ASCII)
_TIME_DIGITS = 12  # HHMMSS and at most six more (KIS sends six)
_SHOWN = 40  # characters of a bad value quoted in an error message


def shown(value: Any) -> str:
    """A bad value for an error message: strings and numbers cut to a few dozen characters,
    containers by type only (their repr may be huge or nested past the recursion limit)."""
    if isinstance(value, str):
        return repr(value[:_SHOWN]) + ("..." if len(value) > _SHOWN else "")
    if isinstance(value, int) and abs(value) >= 10**_SHOWN:
        return f"<int of {value.bit_length()} bits>"  # int -> str is quadratic, and capped
    if value is None or isinstance(value, int | float | Decimal):
        text = repr(value)
        return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."
    return f"<{type(value).__name__}>"


class Row(Mapping[str, Any]):
    """A read-only view of one JSON object with case-insensitive keys."""

    __slots__ = ("_data", "_what")

    def __init__(self, data: Mapping[str, Any] | None, what: str = "reply") -> None:
        if data is not None and not isinstance(data, Mapping):
            raise KISValidationError(f"{what}: expected an object, got {type(data).__name__}")
        self._data = {str(k).lower(): v for k, v in (data or {}).items()}
        self._what = what

    def __getitem__(self, key: str) -> Any:
        return self._data[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Row({self._what}, {len(self._data)} fields)"

    def _raw(self, key: str, required: bool) -> Any:
        value = self._data.get(key.lower())
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                raise KISValidationError(f"{self._what}: required field {key} is missing")
            return None
        return value

    def text(self, key: str, default: str = "") -> str:
        value = self._raw(key, False)
        return default if value is None else str(value).strip()

    def need_text(self, key: str) -> str:
        return str(self._raw(key, True)).strip()

    def num(self, key: str, default: int = 0) -> int:
        value = self._raw(key, False)
        return default if value is None else self._convert(key, value, to_int)

    def need_num(self, key: str) -> int:
        return self._convert(key, self._raw(key, True), to_int)

    def dec(self, key: str, default: Decimal = Decimal(0)) -> Decimal:
        value = self._raw(key, False)
        return default if value is None else self._convert(key, value, to_decimal)

    def flag(self, key: str, yes: str = "Y") -> bool:
        return self.text(key).upper() == yes

    def _convert(self, key: str, value: Any, convert: Callable[[Any], _T]) -> _T:
        try:
            return convert(value)
        except KISValidationError as exc:
            raise KISValidationError(f"{self._what}: {key}: {exc}") from None

    def first(self, *keys: str) -> Any:
        """The first of ``keys`` that is present and not blank, or ``None``."""
        for key in keys:
            value = self._raw(key, False)
            if value is not None:
                return value
        return None

    def rows(self, key: str) -> list[Row]:
        """A list-valued field as rows (an object is read as a list of one)."""
        value = self._data.get(key.lower())
        if isinstance(value, Mapping):
            return [Row(value, f"{self._what}.{key}")]
        if isinstance(value, list):
            return [Row(v, f"{self._what}.{key}[{i}]") for i, v in enumerate(value) if v]
        return []  # absent, blank or a scalar: KIS sends "" for an empty output

    def row(self, key: str) -> Row:
        """An object-valued field (the first element of a list) as a row; empty if absent."""
        found = self.rows(key)
        return found[0] if found else Row({}, f"{self._what}.{key}")


def to_decimal(value: Any) -> Decimal:
    """``"71,500"``, ``"+1.25"``, ``"-0.42"``, ``71500`` or ``0.42`` → Decimal.

    Raises ``KISValidationError`` for anything else, and for numbers beyond the bounds in
    the module docstring (checked before any big number is built)."""
    if isinstance(value, bool):
        raise KISValidationError(f"a boolean is not a number: {value!r}")
    if isinstance(value, Decimal):
        return _bounded(value, value)
    if isinstance(value, int):
        if abs(value) >= 10**MAX_DIGITS:  # cheap: comparing ints never converts them
            raise KISValidationError(f"number out of range: {shown(value)}")
        return Decimal(value)
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back, not the binary expansion
    if not isinstance(value, str):
        raise KISValidationError(f"not a number: {type(value).__name__}")
    return _bounded(Decimal(_number_text(value)), value)


def _number_text(value: str) -> str:
    if len(value) > MAX_NUMBER_CHARS:
        raise KISValidationError(f"number too long: {len(value)} characters")
    text = value.strip().replace(",", "")
    if text.startswith("+"):
        text = text[1:]
    if not _NUMBER.fullmatch(text):
        raise KISValidationError(f"not a number: {shown(value)}")
    return text


def _bounded(result: Decimal, value: Any) -> Decimal:
    if not result.is_finite():
        raise KISValidationError(f"not a finite number: {shown(value)}")
    significant = len(bytes(result.as_tuple().digits).rstrip(b"\0"))  # trailing zeros are free
    magnitude = result.adjusted()  # the exponent of the leading digit
    if significant > MAX_DIGITS or not MIN_EXPONENT <= magnitude < MAX_DIGITS:
        raise KISValidationError(f"number out of range: {shown(value)}")
    return result


def to_int(value: Any) -> int:
    """``"71500"``, ``"71,500"``, ``"71500.0000"`` or ``71500`` → 71500 (truncated).

    Raises ``KISValidationError`` as :func:`to_decimal` does."""
    if isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= 10**MAX_DIGITS:
            raise KISValidationError(f"number out of range: {shown(value)}")
        return value
    return int(to_decimal(value))


def parse_date(text: str) -> date:
    """``YYYYMMDD`` (ASCII digits; anything after them is ignored) → date.

    Raises ``KISValidationError`` for anything else and for years outside
    ``MIN_YEAR``..``MAX_YEAR``."""
    head = text.strip()[:8] if isinstance(text, str) else ""
    if len(head) == 8 and _DIGITS.fullmatch(head) and MIN_YEAR <= int(head[:4]) <= MAX_YEAR:
        try:
            return date(int(head[:4]), int(head[4:6]), int(head[6:]))
        except ValueError:
            pass
    raise KISValidationError(f"not a YYYYMMDD date: {shown(text)}")


def parse_time(text: str) -> time:
    """``HHMMSS``: 1 to 12 ASCII digits; fewer than six are zero-filled on the left, any
    after the sixth (fractions of a second) are ignored. Raises ``KISValidationError`` for
    anything else, a blank included (a tick without its time is not one at midnight)."""
    stripped = text.strip() if isinstance(text, str) else ""
    digits = stripped.zfill(6)[:6] if len(stripped) <= _TIME_DIGITS else ""
    if stripped and _DIGITS.fullmatch(stripped) and _DIGITS.fullmatch(digits):
        try:
            return time(int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
        except ValueError:
            pass
    raise KISValidationError(f"not a HHMMSS time: {shown(text)}")


def kst(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=KST)
