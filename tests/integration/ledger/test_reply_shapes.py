"""Every reply that is no KIS answer, for an order the simulator really placed: the ledger
records UNKNOWN (never REJECTED), the look-up made right after the send adopts the broker's
order, and nothing is sent twice (docs/kis-adapter.md, "Order replies")."""

from __future__ import annotations

import pytest

from stock_manager.domain.orders import OrderStatus, OrderType
from stock_manager.domain.trade import SymbolState
from stock_manager.services.orders import Outcome, enter
from stock_manager.services.sync import sync_orders
from stock_manager.sim.faults import REPLY_SHAPES
from tests.integration.ledger.stack import Stack

SYMBOL = "005930"


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.mark.parametrize("shape", REPLY_SHAPES)
def test_a_mangled_reply_leaves_the_order_unknown_and_it_is_adopted(
    stack: Stack, shape: str
) -> None:
    ctx = stack.ctx
    price = int(stack.market(SYMBOL)["lower"])  # rests at the exchange
    stack.faults(order_reply_fault_rate=1.0, order_reply_faults=[shape])

    sent = enter(ctx, SYMBOL, 3, price, OrderType.LIMIT, "test")

    assert sent.outcome is Outcome.SUBMITTED, sent  # UNKNOWN, then found at once
    assert "unknown" in stack.notifier.kinds()[0]  # order_unknown came first
    (intent,) = stack.orders(SYMBOL)
    (at_broker,) = stack.broker_orders(SYMBOL)  # the order exists whatever the reply said
    stack.faults()
    again = enter(ctx, SYMBOL, 3, price, OrderType.LIMIT, "test")
    assert again.outcome is Outcome.SKIPPED  # nothing is bought twice
    assert len(stack.broker_orders(SYMBOL)) == 1

    sync_orders(ctx)

    adopted = stack.order(intent.id or 0)
    assert (adopted.status, adopted.broker_order_no) == (OrderStatus.SUBMITTED, at_broker["odno"])
    assert stack.symbol(SYMBOL).state is SymbolState.ENTERING
