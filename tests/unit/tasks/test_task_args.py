"""Every task checks its arguments at the boundary: a crafted message gets a clear typed
error before anything is read or sent (issue 13, item 2)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from stock_manager.adapters import task_args as checked
from stock_manager.adapters.task_args import InvalidTaskArguments
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.orders import OrderType
from stock_manager.domain.trading_state import TickState

GOOD_ENTRY: list[Any] = ["005930", 10, 71_500, "00", "momentum", "breakout"]


def test_a_sound_entry_passes_with_its_types() -> None:
    args = checked.entry(*GOOD_ENTRY)
    assert args == ("005930", 10, 71_500, OrderType.LIMIT, "momentum", "breakout")


@pytest.mark.parametrize(
    ("index", "value", "says"),
    [
        (0, "../etc", "symbol"),
        (0, 5930, "symbol"),
        (0, "", "symbol"),
        (1, 0, "quantity"),
        (1, -3, "quantity"),
        (1, "3000", "quantity"),
        (1, 3.0, "quantity"),
        (1, True, "quantity"),
        (1, 10**12, "quantity"),
        (2, -1, "price"),
        (2, "1", "price"),
        (2, 10**13, "price"),
        (3, "99", "order_type"),
        (3, 1, "order_type"),
        (4, "x" * 41, "strategy"),
        (4, None, "strategy"),
        (5, "r" * 201, "reason"),
    ],
)
def test_a_crafted_entry_is_refused_with_a_typed_error(index: int, value: Any, says: str) -> None:
    args = list(GOOD_ENTRY)
    args[index] = value
    with pytest.raises(InvalidTaskArguments) as raised:
        checked.entry(*args)
    assert raised.value.task == "tasks.orders.enter"
    assert says in str(raised.value)


def test_a_limit_entry_needs_a_positive_price() -> None:
    with pytest.raises(InvalidTaskArguments, match="price"):
        checked.entry("005930", 10, 0, "00", "s")
    assert checked.entry("005930", 10, 0, "01", "s").order_type is OrderType.MARKET


def test_exits_cancels_and_resolves_check_theirs() -> None:
    assert checked.exit("005930", "stop_loss", "at 9,000") == (
        "005930",
        ExitReason.STOP_LOSS,
        "at 9,000",
    )
    for bad in [
        ("005930", "sell_everything", ""),
        ("0059", "stop_loss", ""),
        ("005930", "stop_loss", 7),
    ]:
        with pytest.raises(InvalidTaskArguments):
            checked.exit(*bad)
    assert checked.order_id(12) == 12
    for bad_id in (0, -1, "12", 1.5, False, None):
        with pytest.raises(InvalidTaskArguments):
            checked.order_id(bad_id)
    with pytest.raises(InvalidTaskArguments):
        checked.resolve(12, -1)


def test_ticks_symbols_days_flags_and_reasons_are_checked() -> None:
    assert checked.tick("005930", 71_500, 10, "2026-11-20T10:00:00+09:00")[:3] == (
        "005930",
        71_500,
        10,
    )
    for bad in [
        ("005930", 0, 0, None),
        ("005930", "71500", 0, None),
        ("005930", 71_500, -1, None),
        ("005930", 71_500, 0, "yesterday"),
        ("005930", 71_500, 0, "2026-11-20T10:00:00"),  # naive: no timezone
    ]:
        with pytest.raises(InvalidTaskArguments):
            checked.tick(*bad)
    assert checked.symbol("liquidate_symbol", "0001A0") == "0001A0"
    with pytest.raises(InvalidTaskArguments):
        checked.symbol("liquidate_symbol", "005930; rm")
    assert checked.day("2026-11-20") is not None and checked.day(None) is None
    for bad_day in ("20261120", 20261120, "2026-13-01"):
        with pytest.raises(InvalidTaskArguments):
            checked.day(bad_day)
    assert checked.flag("liquidate_all", "scheduled", True) is True
    with pytest.raises(InvalidTaskArguments):
        checked.flag("liquidate_all", "scheduled", "yes")
    with pytest.raises(InvalidTaskArguments):
        checked.text("halt", "reason", 42)


def test_a_notice_must_be_a_complete_mapping() -> None:
    good = {
        "broker_order_no": "0000000001",
        "symbol": "005930",
        "side": "buy",
        "is_fill": True,
        "quantity": 3,
        "price": 71_500,
        "at": "2026-11-20T10:00:00+09:00",
    }
    assert checked.notice(good).quantity == 3
    for broken in [[], {**good, "side": "short"}, {**good, "quantity": -1}, {**good, "at": 3}]:
        with pytest.raises(InvalidTaskArguments):
            checked.notice(broken)


def test_the_enter_task_refuses_a_crafted_message_before_it_touches_anything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tasks._runtime
    import tasks.orders

    def no_context() -> None:
        raise AssertionError("the task read the system before checking its arguments")

    monkeypatch.setattr(tasks.orders, "context", no_context)
    monkeypatch.setattr(tasks._runtime, "context", no_context)
    result = tasks.orders.enter.run("005930", 3_000, -1, "01", "crafted")
    assert result == "invalid arguments"


def test_what_the_stream_sends_passes_the_checks() -> None:
    """The stream's own tick and notice messages are never refused at the boundary."""
    from datetime import datetime

    from stock_manager.adapters.kis.stream import notice_kwargs, tick_kwargs
    from stock_manager.domain.broker import ExecutionNotice, Tick
    from stock_manager.domain.clock import KST
    from stock_manager.domain.orders import Side

    at = datetime(2026, 11, 20, 10, 0, 1, tzinfo=KST)
    tick = Tick("005930", 71_500, 3, 1_234_567, at)
    assert checked.tick(**tick_kwargs(tick)) == ("005930", 71_500, 3, at, 71_500, None, False)
    band = PriceLimits(70_000, 91_000, 49_000)
    vi = replace(tick, hour_code="C", halted=False)
    seen = checked.tick(**tick_kwargs(vi, 72_000, band)).seen
    assert seen == TickState("C", False, band)
    receipt = ExecutionNotice("0000000001", "", "005930", Side.BUY, False, False, 10, 0, at, 10)
    assert checked.notice(notice_kwargs(receipt)["notice"]) == receipt


@pytest.mark.parametrize(
    "extra",
    [
        {"band": [70_000, 49_000, 91_000]},  # upper below lower
        {"band": [0, 0, 0]},
        {"band": "70000,91000,49000"},
        {"halted": "N"},
        {"hour_code": "VI"},
        {"hour_code": 3},
        {"exit_due": "yes"},
    ],
)
def test_a_ticks_state_and_band_are_checked(extra: dict[str, object]) -> None:
    with pytest.raises(InvalidTaskArguments):
        checked.tick("005930", 71_500, 3, None, 0, **extra)  # type: ignore[arg-type]
