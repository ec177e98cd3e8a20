"""Tolerant reading of KIS JSON: keys in any case, numbers as strings, fields may be missing.

Unknown fields are ignored. A *required* field that is missing or unreadable raises
``KISValidationError`` naming it; optional ones fall back to a default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from stock_manager.adapters.kis.errors import KISValidationError
from stock_manager.domain.clock import KST

_T = TypeVar("_T")


class Row(Mapping[str, Any]):
    """A read-only view of one JSON object with case-insensitive keys."""

    __slots__ = ("_data", "_what")

    def __init__(self, data: Mapping[str, Any] | None, what: str = "reply") -> None:
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
        except ValueError:
            raise KISValidationError(f"{self._what}: {key}={value!r} is not a number") from None

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
        return []

    def row(self, key: str) -> Row:
        """An object-valued field (the first element of a list) as a row; empty if absent."""
        found = self.rows(key)
        return found[0] if found else Row({}, f"{self._what}.{key}")


def _number_text(value: Any) -> str:
    text = str(value).strip().replace(",", "")
    if text.startswith("+"):
        text = text[1:]
    return text


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("boolean is not a number")
    try:
        result = Decimal(_number_text(value))
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def to_int(value: Any) -> int:
    """``"71500"``, ``"71,500"``, ``"71500.0000"`` or ``71500`` → 71500 (truncated)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return int(to_decimal(value))


def parse_date(text: str) -> date:
    """``YYYYMMDD`` → date."""
    try:
        return datetime.strptime(text.strip()[:8], "%Y%m%d").date()  # noqa: DTZ007  # a date only
    except ValueError:
        raise KISValidationError(f"not a YYYYMMDD date: {text!r}") from None


def parse_time(text: str) -> time:
    """``HHMMSS`` (or ``HHMM``) → time; tolerate missing leading zeros."""
    digits = text.strip().zfill(6)[:6]
    try:
        return time(int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        raise KISValidationError(f"not a HHMMSS time: {text!r}") from None


def kst(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=KST)
