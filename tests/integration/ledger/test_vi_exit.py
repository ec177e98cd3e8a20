"""A held symbol falls into a dynamic VI below its stop (issue 13 item 5), against the
simulator over loopback: the exit is accepted during the single-price auction (never as
최유리지정가, which the auction refuses) and fills at the auction's price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from stock_manager.domain.krx import round_to_tick
from stock_manager.domain.orders import OrderType, Side
from stock_manager.domain.trade import SymbolState
from stock_manager.services.prices import check_prices, exit_now
from stock_manager.services.reconcile import reconcile
from stock_manager.services.sync import sync_orders
from stock_manager.sim.vi import ViSettings
from tests.integration.ledger.stack import Stack, wait_for

QUANTITY = 50


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def sim_settings() -> dict[str, Any]:
    # a 2-second auction with up to 1 s of random extension keeps the test short
    return {"vi": ViSettings(dynamic_pct=6.0, static_pct=30.0, seconds=2.0, extension_seconds=1.0)}


def test_a_stop_inside_a_dynamic_vi_is_accepted_and_fills_at_the_auction_price(
    stack: Stack,
) -> None:
    symbol = stack.admin("symbols")["symbols"][1]["symbol"]
    last = int(stack.market(symbol)["last"])
    stack.admin("account", {"holdings": [{"symbol": symbol, "qty": QUANTITY, "avg_price": last}]})
    reconcile(stack.ctx)
    assert stack.symbol(symbol).state is SymbolState.HOLDING
    below_stop = round_to_tick(Decimal(last) * Decimal("0.965"))  # the stop is 3 % below
    auction = round_to_tick(Decimal(below_stop) * Decimal("0.93"))  # 7 %: a dynamic VI
    # one trade below the stop, then at once a move that sets off the VI instead of trading
    stack.admin(
        "price",
        {
            "symbol": symbol,
            "path": [below_stop, auction],
            "hold": True,
            "vi": True,
            "at_once": True,
        },
    )
    wait_for(lambda: stack.ctx.broker.quote(symbol).vi_code == "2", what="the VI")

    (plan,) = check_prices(stack.ctx).exits
    sent = exit_now(stack.ctx, plan)

    (sell,) = [o for o in stack.orders(symbol) if o.side is Side.SELL]
    assert sent.outcome.value == "submitted", sent.detail
    assert sell.order_type is OrderType.LIMIT  # never 03 in the auction
    assert sell.price == int(stack.market(symbol)["lower"])
    assert stack.broker_orders(symbol)[-1]["status"] != "rejected"

    def flat() -> bool:
        sync_orders(stack.ctx)
        return stack.symbol(symbol).state is SymbolState.FLAT

    wait_for(flat, timeout=15, what="the exit filled")
    (filled,) = [o for o in stack.orders(symbol) if o.side is Side.SELL]
    assert {f.price for f in stack.fills(filled)} == {auction}
    assert stack.broker_holding(symbol) == 0
