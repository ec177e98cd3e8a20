"""Reconciliation against the simulator: each kind of mismatch, seeded deliberately, is
classified, fixed by its rule (or quarantined) and logged, and a second pass finds nothing."""

from __future__ import annotations

import pytest

from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.orders import OrderPurpose, OrderType, Side
from stock_manager.domain.records import RecoveryKind
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.services.orders import Outcome, enter
from stock_manager.services.reconcile import reconcile
from tests.integration.ledger.stack import Stack


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_each_seeded_mismatch_is_classified_fixed_and_logged(stack: Stack) -> None:
    ctx = stack.ctx
    universe = {s["symbol"]: s for s in stack.admin("symbols")["symbols"]}
    orphan, missing, drift, stuck_in, stuck_out, foreign, agreed = list(universe)[1:8]
    price = {code: int(universe[code]["last"]) for code in universe}

    def held(symbol: str, quantity: int) -> dict[str, object]:
        return {"symbol": symbol, "qty": quantity, "avg_price": price[symbol]}

    def ledger(symbol: str, state: SymbolState, quantity: int) -> None:
        trade = SymbolTrade(symbol, state, quantity, quantity * price[symbol], trade_seq=1)
        stack.seed_symbol(trade)

    stack.admin(
        "account",
        {
            "holdings": [
                held(orphan, 5),  # the broker holds shares the ledger never heard of
                held(drift, 7),  # the ledger says 10
                held(stuck_in, 2),  # ENTERING with no order: the buy ended with 2
                held(agreed, 6),
            ],
            "replace_holdings": True,
        },
    )
    ledger(missing, SymbolState.HOLDING, 3)  # the broker holds none
    ledger(drift, SymbolState.HOLDING, 10)
    ledger(stuck_in, SymbolState.ENTERING, 0)
    ledger(stuck_out, SymbolState.EXITING, 4)  # EXITING with no order, nothing left: sold
    ledger(agreed, SymbolState.HOLDING, 6)
    # Someone placed an order by hand (HTS): the ledger never wrote it.
    lower = int(universe[foreign]["lower"])
    by_hand = ctx.broker.submit(OrderRequest(foreign, Side.BUY, 1, OrderType.LIMIT, lower))

    report = reconcile(ctx)

    found = {d.symbol: d.kind for d in report.differences}
    assert found == {
        orphan: RecoveryKind.ORPHAN,
        missing: RecoveryKind.MISSING,
        drift: RecoveryKind.QUANTITY_DRIFT,
        stuck_in: RecoveryKind.STUCK_ORDER,
        stuck_out: RecoveryKind.STUCK_ORDER,
    }  # the by-hand order is recorded, not a difference: it is working, quantities move
    quantities = {d.symbol: (d.ledger_quantity, d.broker_quantity) for d in report.differences}
    assert quantities == {
        orphan: (0, 5),
        missing: (3, 0),
        drift: (10, 7),
        stuck_in: (0, 2),
        stuck_out: (4, 0),
    }
    assert report.skipped == () and report.fixed == 5

    after = {code: stack.symbol(code) for code in found | {agreed: None, foreign: None}}
    assert {code: (t.state, t.quantity) for code, t in after.items()} == {
        orphan: (SymbolState.HOLDING, 5),
        missing: (SymbolState.FLAT, 0),
        drift: (SymbolState.HOLDING, 7),
        stuck_in: (SymbolState.HOLDING, 2),
        stuck_out: (SymbolState.FLAT, 0),
        foreign: (SymbolState.FLAT, 0),
        agreed: (SymbolState.HOLDING, 6),
    }
    assert after[orphan].cost == 5 * price[orphan]  # at the broker's average price
    assert after[orphan].strategy == "external"  # a holding the system did not open
    assert after[drift].cost == 7 * price[drift]
    assert after[agreed].version == 1  # untouched
    (external,) = stack.orders(foreign)  # the order by hand, as it is at the broker
    assert (external.purpose, external.broker_order_no) == (
        OrderPurpose.EXTERNAL,
        by_hand.broker_order_no,
    )

    logged = {e.symbol: e.kind for e in stack.recovery()}
    assert logged == found  # one entry per fix, none for the symbols that agreed
    assert sum(n.kind == "reconciliation" for n in stack.notifier.sent) == 5

    # A second pass finds nothing new to fix, and records nothing twice.
    entries, alerts = len(stack.recovery()), len(stack.notifier.sent)
    again = reconcile(ctx)
    assert again.differences == ()
    assert {code: stack.symbol(code) for code in after} == after
    assert (len(stack.recovery()), len(stack.notifier.sent)) == (entries, alerts)
    assert len(stack.orders(foreign)) == 1

    # Nothing of ours goes out while someone else's order works on the symbol.
    refused = enter(ctx, foreign, 1, lower, OrderType.LIMIT, "test")
    assert refused.outcome is Outcome.SKIPPED
    assert [o["odno"] for o in stack.broker_orders(foreign)] == [by_hand.broker_order_no]
