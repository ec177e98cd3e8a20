"""The FakeBroker behaves like the port promises, so service tests can trust it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from stock_manager.domain.broker import (
    BrokerRejected,
    BrokerUnavailable,
    OrderOutcomeUnknown,
    OrderRequest,
)
from stock_manager.domain.orders import OrderType, Side
from stock_manager.ports import Broker
from tests.fakes.broker import FakeBroker
from tests.fakes.ports import FakeClock

DAY = date(2026, 11, 20)


def buy(qty: int = 10, price: int = 71_500) -> OrderRequest:
    return OrderRequest("005930", Side.BUY, qty, OrderType.LIMIT, price)


def sell(qty: int = 10, price: int = 72_000) -> OrderRequest:
    return OrderRequest("005930", Side.SELL, qty, OrderType.LIMIT, price)


@pytest.fixture
def broker() -> FakeBroker:
    fake = FakeBroker(FakeClock())
    fake.set_quote("005930", 71_500)
    return fake


def test_it_implements_the_port(broker: FakeBroker) -> None:
    port: Broker = broker
    assert port.quote("005930").price == 71_500


def test_orders_get_sequential_numbers_and_stay_open(broker: FakeBroker) -> None:
    first, second = broker.submit(buy()), broker.submit(buy(5))
    assert (first.broker_order_no, second.broker_order_no) == ("0000000001", "0000000002")
    assert first.branch == "00950"
    assert [r.is_open for r in broker.orders(DAY)] == [True, True]


def test_fills_are_cumulative_and_move_cash_and_holdings(broker: FakeBroker) -> None:
    odno = broker.submit(buy()).broker_order_no
    broker.fill(odno, 4, 71_500)
    broker.fill(odno, 6, 71_400)
    (row,) = broker.orders(DAY)
    assert (row.filled_quantity, row.filled_amount, row.is_open) == (10, 714_400, False)
    balance = broker.balance()
    assert balance.cash == 10_000_000 - 714_400
    holding = balance.holding("005930")
    assert holding is not None and holding.quantity == 10
    assert holding.average_price == Decimal("71440")


def test_selling_books_fees_and_tax(broker: FakeBroker) -> None:
    broker.commission_rate, broker.sell_tax_rate = Decimal("0.001"), Decimal("0.002")
    broker.set_holding("005930", 10, 70_000)
    odno = broker.submit(sell()).broker_order_no
    broker.fill(odno, 10, 72_000)
    assert broker.cash == 10_000_000 + 720_000 - 720 - 1_440
    assert broker.balance().holding("005930") is None


def test_an_open_sell_reserves_shares(broker: FakeBroker) -> None:
    broker.set_holding("005930", 10, 70_000)
    broker.submit(sell(6))
    holding = broker.balance().holding("005930")
    assert holding is not None and holding.orderable_quantity == 4
    with pytest.raises(BrokerRejected) as caught:
        broker.submit(sell(5))
    assert caught.value.code == "INSUFFICIENT_QTY"


def test_buying_more_than_the_cash_is_rejected(broker: FakeBroker) -> None:
    with pytest.raises(BrokerRejected) as caught:
        broker.submit(buy(1_000))
    assert caught.value.code == "INSUFFICIENT_CASH"


def test_cancel_leaves_a_cancel_row_and_nothing_open(broker: FakeBroker) -> None:
    odno = broker.submit(buy()).broker_order_no
    broker.fill(odno, 3, 71_500)
    ack = broker.cancel(odno, "00950")
    original, cancel_row = broker.orders(DAY)
    assert (original.filled_quantity, original.is_open, original.cancelled) == (3, False, True)
    assert cancel_row.broker_order_no == ack.broker_order_no
    assert (cancel_row.original_order_no, cancel_row.quantity) == (odno, 7)
    with pytest.raises(BrokerRejected) as caught:
        broker.cancel(odno, "00950")
    assert caught.value.code == "40330000"


def test_modify_moves_what_remains_to_a_new_number(broker: FakeBroker) -> None:
    odno = broker.submit(buy()).broker_order_no
    broker.fill(odno, 2, 71_500)
    ack = broker.modify(odno, "00950", buy(8, 71_600))
    original = broker.rows[odno]
    new = broker.rows[ack.broker_order_no]
    assert (original.remaining_quantity, original.is_open) == (0, False)
    assert (new.original_order_no, new.quantity, new.price, new.is_open) == (odno, 8, 71_600, True)


def test_exchange_cancel_and_reject(broker: FakeBroker) -> None:
    a = broker.submit(buy()).broker_order_no
    b = broker.submit(buy(1)).broker_order_no
    broker.cancel_by_exchange(a)
    broker.reject(b)
    assert not broker.open_orders()
    assert broker.rows[b].rejected_quantity == 1


def test_fail_next_submit_creates_nothing(broker: FakeBroker) -> None:
    broker.fail_next_submit(BrokerUnavailable("down"))
    with pytest.raises(BrokerUnavailable):
        broker.submit(buy())
    assert broker.orders(DAY) == []
    assert broker.submit(buy()).broker_order_no == "0000000001"


def test_accept_then_timeout_leaves_the_order_at_the_broker(broker: FakeBroker) -> None:
    broker.fail_next_submit(OrderOutcomeUnknown("read timeout"), accepted=True)
    with pytest.raises(OrderOutcomeUnknown):
        broker.submit(buy())
    (row,) = broker.orders(DAY)
    assert (row.broker_order_no, row.quantity, row.is_open) == ("0000000001", 10, True)


def test_fail_next_any_method_and_calls_are_recorded(broker: FakeBroker) -> None:
    broker.fail_next("balance", BrokerUnavailable("503"))
    with pytest.raises(BrokerUnavailable):
        broker.balance()
    broker.balance()
    assert [name for name, _ in broker.calls] == ["balance", "balance"]


def test_environment_gaps(broker: FakeBroker) -> None:
    broker.rank = None
    broker.calendar_known = False
    assert broker.volume_rank() is None and broker.is_trading_day(DAY) is None
    broker.calendar_known = True
    broker.holidays.add(DAY)
    assert broker.is_trading_day(DAY) is False
    assert broker.is_trading_day(date(2026, 11, 19)) is True
