from __future__ import annotations

from datetime import date

import pytest

from stock_manager.domain.errors import InvalidQuantity, InvalidTransition
from stock_manager.domain.orders import (
    Order,
    OrderEvent,
    OrderPurpose,
    OrderStatus,
    OrderType,
    Side,
    idempotency_key,
)

DAY = date(2026, 11, 20)


def new_order(qty: int = 10) -> Order:
    return Order(
        idempotency_key(DAY, "005930", Side.BUY, 1, 0),
        DAY,
        "005930",
        Side.BUY,
        OrderType.LIMIT,
        qty,
        71_500,
        OrderPurpose.ENTRY,
    )


def test_idempotency_key_names_day_symbol_side_trade_attempt() -> None:
    assert idempotency_key(DAY, "005930", Side.SELL, 3, 1) == "20261120:005930:sell:3:1"


def test_cumulative_fills_are_idempotent_and_drive_status() -> None:
    order = new_order().apply(OrderEvent.ACCEPTED, broker_order_no="0000000001")
    partial = order.with_cumulative_fill(4, 4 * 71_500)
    assert partial.status is OrderStatus.PARTIALLY_FILLED
    assert partial.with_cumulative_fill(4, 4 * 71_500) is partial
    full = partial.with_cumulative_fill(10, 10 * 71_500)
    assert full.status is OrderStatus.FILLED and full.remaining_quantity == 0
    assert full.average_fill_price == 71_500


def test_cumulative_fill_never_moves_backwards() -> None:
    order = new_order().apply(OrderEvent.ACCEPTED).with_cumulative_fill(5, 5)
    with pytest.raises(InvalidQuantity):
        order.with_cumulative_fill(3, 3)


def test_a_filled_order_cannot_be_cancelled() -> None:
    filled = new_order().apply(OrderEvent.ACCEPTED).with_cumulative_fill(10, 10)
    with pytest.raises(InvalidTransition):
        filled.apply(OrderEvent.CANCEL_REQUESTED)


def test_order_types_know_their_codes_and_prices() -> None:
    assert OrderType.LIMIT.code == "00" and OrderType.LIMIT.has_price
    assert not OrderType.MARKET.has_price and OrderType.IOC_MARKET.is_immediate


def test_quantity_must_be_positive() -> None:
    with pytest.raises(InvalidQuantity):
        new_order(qty=0)
