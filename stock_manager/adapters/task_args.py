"""The boundary of every Celery task: a message's arguments are checked before anything is
read or sent, so a crafted message (``celery call``, a forged broker message) meets the same
rules as the scan's own.

Each function takes the task's raw JSON arguments and returns them typed, or raises
:class:`InvalidTaskArguments` naming the task and every argument that is wrong. Booleans
are not integers here, floats are not integers, strings are not numbers: JSON gives each
its own type and a sender that mixes them is not ours.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, NamedTuple

from stock_manager.domain.broker import ExecutionNotice
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.orders import OrderType, Side
from stock_manager.domain.trading_state import TickState

# KRX short codes: six characters, digits or capitals (``0001A0``), seven for some ETNs.
SYMBOL = re.compile(r"[0-9A-Z]{6,7}")
STRATEGY = re.compile(r"[A-Za-z0-9_.-]{0,40}")
HOUR_CODE = re.compile(r"[0-9A-Z]?")  # HOUR_CLS_CODE: one code, or blank
MAX_QUANTITY = 10_000_000  # shares in one order: far above any KRX order a day trader sends
MAX_PRICE = 100_000_000  # won per share: above every KRX price (the highest are ~1-5 M)
MAX_TEXT = 200
MAX_ID = 2**63 - 1


class InvalidTaskArguments(ValueError):
    """A task message's arguments break the task's contract: not retried, nothing done.

    ``task`` is the task's name; ``problems`` says what is wrong with which argument (the
    values themselves are not repeated: they may be long or hostile)."""

    def __init__(self, task: str, problems: list[str]) -> None:
        self.task = task
        self.problems = problems
        super().__init__(f"{task}: {'; '.join(problems)}")


class EntryArgs(NamedTuple):
    symbol: str
    quantity: int
    price: int
    order_type: OrderType
    strategy: str
    reason: str


class TickArgs(NamedTuple):
    symbol: str
    price: int
    volume: int
    at: datetime | None
    high: int = 0  # the highest price the stream forwarded since the symbol's last task
    seen: TickState | None = None  # the record's trading state and the stream's band
    exit_due: bool = False  # the stream judged it an exit: skip the lease-free pre-read


def entry(
    symbol: Any, quantity: Any, price: Any, order_type: Any, strategy: Any, reason: Any = ""
) -> EntryArgs:
    """``tasks.orders.enter``: a known symbol format, 1..MAX_QUANTITY shares, a price of
    0..MAX_PRICE won (above 0 for a limit type), an ``ORD_DVSN`` code we know."""
    task = "tasks.orders.enter"
    problems = [
        p
        for p in (
            _symbol_problem(symbol),
            _int_problem("quantity", quantity, 1, MAX_QUANTITY),
            _int_problem("price", price, 0, MAX_PRICE),
            _enum_problem("order_type", order_type, OrderType),
            _pattern_problem("strategy", strategy, STRATEGY),
            _text_problem("reason", reason),
        )
        if p
    ]
    _raise_if(task, problems)
    kind = OrderType(order_type)
    if kind.has_price and price <= 0:
        _raise_if(task, [f"price must be positive for a {kind.name} order"])
    return EntryArgs(symbol, quantity, price, kind, strategy, reason)


def exit(symbol: Any, reason: Any, detail: Any = "") -> tuple[str, ExitReason, str]:
    """``tasks.orders.exit``: a symbol, an :class:`ExitReason` value, a short detail."""
    problems = [_symbol_problem(symbol), _enum_problem("reason", reason, ExitReason)]
    problems.append(_text_problem("detail", detail))
    _raise_if("tasks.orders.exit", [p for p in problems if p])
    return symbol, ExitReason(reason), detail


def order_id(value: Any, task: str = "tasks.orders") -> int:
    """An order's ledger id: a positive integer."""
    _raise_if(task, [p for p in [_int_problem("order_id", value, 1, MAX_ID)] if p])
    return int(value)


def resolve(order: Any, attempt: Any) -> tuple[int, int]:
    """``tasks.orders.resolve_order``: an order id and the follow-up's attempt (0..1000)."""
    task = "tasks.orders.resolve_order"
    problems = [
        _int_problem("order_id", order, 1, MAX_ID),
        _int_problem("attempt", attempt, 0, 1000),
    ]
    _raise_if(task, [p for p in problems if p])
    return int(order), int(attempt)


def tick(
    symbol: Any,
    price: Any,
    volume: Any = 0,
    at: Any = None,
    high: Any = 0,
    hour_code: Any = "",
    halted: Any = None,
    band: Any = None,
    exit_due: Any = False,
) -> TickArgs:
    """``tasks.prices.on_tick``: a symbol, a positive price, a volume, an aware ISO time, the
    highest price forwarded since the last tick task (0: none); optionally the record's
    ``hour_code`` (one letter or digit) and ``halted`` (a bool), and the day's ``band``
    ``[base, upper, lower]`` (won, ``0 < lower <= base <= upper``), and ``exit_due`` (the
    stream judged the tick an exit; the worker judges again under the lease)."""
    problems = [
        _symbol_problem(symbol),
        _int_problem("price", price, 1, MAX_PRICE),
        _int_problem("volume", volume, 0, MAX_ID),
        _int_problem("high", high, 0, MAX_PRICE),
        _pattern_problem("hour_code", hour_code, HOUR_CODE),
        None if halted is None or isinstance(halted, bool) else "halted must be true or false",
        _band_problem(band),
        None if isinstance(exit_due, bool) else "exit_due must be true or false",
    ]
    when = None if at is None else _aware(at)
    if at is not None and when is None:
        problems.append("at must be an ISO 8601 time with its timezone")
    _raise_if("tasks.prices.on_tick", [p for p in problems if p])
    limits = None if band is None else PriceLimits(*band)
    seen = None if halted is None and limits is None else TickState(hour_code, halted, limits)
    return TickArgs(symbol, price, volume, when, high, seen, exit_due)


def _band_problem(band: Any) -> str | None:
    problem = "band must be [base, upper, lower] won with 0 < lower <= base <= upper"
    if band is None:
        return None
    if not isinstance(band, list | tuple) or len(band) != 3:
        return problem
    if any(_int_problem("band", v, 1, MAX_PRICE) for v in band):
        return problem
    base, upper, lower = band
    return None if lower <= base <= upper else problem


def symbol(task: str, value: Any) -> str:
    """A symbol argument of ``task``."""
    _raise_if(task, [p for p in [_symbol_problem(value)] if p])
    return str(value)


def day(value: Any, task: str = "tasks.reports.daily_summary") -> date | None:
    """An ISO date (``2026-11-20``) or ``None`` (today)."""
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidTaskArguments(task, ["day must be an ISO date (YYYY-MM-DD) or null"])


def flag(task: str, name: str, value: Any) -> bool:
    """A JSON boolean, nothing else (``"yes"`` is not true)."""
    if not isinstance(value, bool):
        raise InvalidTaskArguments(task, [f"{name} must be true or false"])
    return value


def text(task: str, name: str, value: Any) -> str:
    """A short free text (a reason for the audit trail)."""
    _raise_if(task, [p for p in [_text_problem(name, value)] if p])
    return str(value)


def notice(value: Any) -> ExecutionNotice:
    """``tasks.orders.on_execution_notice``: the stream's plain-dict notice, complete."""
    from stock_manager.services.wire import notice_from_wire

    task = "tasks.orders.on_execution_notice"
    if not isinstance(value, dict):
        raise InvalidTaskArguments(task, ["notice must be an object"])
    problems = [
        _symbol_problem(value.get("symbol")),
        _enum_problem("side", value.get("side"), Side),
        _int_problem("quantity", value.get("quantity"), 0, MAX_QUANTITY),
        _int_problem("price", value.get("price"), 0, MAX_PRICE),
        None if isinstance(value.get("is_fill"), bool) else "is_fill must be true or false",
        None if isinstance(value.get("broker_order_no"), str) else "broker_order_no must be text",
        None if _aware(value.get("at")) else "at must be an ISO 8601 time with its timezone",
    ]
    _raise_if(task, [p for p in problems if p])
    try:
        return notice_from_wire(value)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidTaskArguments(task, [f"notice is malformed: {type(exc).__name__}"]) from None


def notices(values: Any, attempt: Any) -> tuple[list[ExecutionNotice], int]:
    """``tasks.orders.on_execution_notices``: a list of the stream's notices (each checked as
    :func:`notice` checks one) and the attempt number (0 or more)."""
    task = "tasks.orders.on_execution_notices"
    if not isinstance(values, list) or not values:
        raise InvalidTaskArguments(task, ["notices must be a non-empty list"])
    _raise_if(task, [p for p in [_int_problem("attempt", attempt, 0, 1_000)] if p])
    return [notice(value) for value in values], attempt


def _raise_if(task: str, problems: list[str]) -> None:
    if problems:
        raise InvalidTaskArguments(task, problems)


def _symbol_problem(value: Any) -> str | None:
    if isinstance(value, str) and SYMBOL.fullmatch(value):
        return None
    return "symbol must be a KRX short code (6-7 digits or capitals)"


def _int_problem(name: str, value: Any, low: int, high: int) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
        return None
    return f"{name} must be a whole number from {low:,} to {high:,}"


def _enum_problem(name: str, value: Any, kind: Any) -> str | None:
    known = [member.value for member in kind]
    if isinstance(value, str) and value in known:
        return None
    return f"{name} must be one of {', '.join(known)}"


def _pattern_problem(name: str, value: Any, pattern: re.Pattern[str]) -> str | None:
    if isinstance(value, str) and pattern.fullmatch(value):
        return None
    return f"{name} must match {pattern.pattern}"


def _text_problem(name: str, value: Any) -> str | None:
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return None
    return f"{name} must be text of at most {MAX_TEXT} characters"


def _aware(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
