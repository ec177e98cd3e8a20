"""The ledger's own rules, on the in-memory unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from stock_manager.domain.broker import BrokerOrder
from stock_manager.domain.clock import KST
from stock_manager.domain.fees import FeeBasis, FeeSchedule
from stock_manager.domain.orders import (
    Order,
    OrderEvent,
    OrderPurpose,
    OrderStatus,
    OrderType,
    Side,
)
from stock_manager.domain.trade import SymbolEvent, SymbolState, SymbolTrade
from stock_manager.services.context import LedgerPolicy
from stock_manager.services.ledger import OrderFact, Writer, apply_fact, fills_for, open_order
from stock_manager.services.resolver import BrokerView, Resolution, resolve_unknown
from tests.fakes.uow import FakeUnitOfWork

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=KST)
DAY = date(2026, 11, 20)
FEES = FeeSchedule()


def view(rows: list[BrokerOrder], read_at: datetime = NOW) -> BrokerView:
    """A complete read of the symbol's orders that began at ``read_at``."""
    return BrokerView(tuple(rows), read_at, "005930")


def writer(fence: int = 1, at: datetime = NOW) -> Writer:
    return Writer(fence, at, "test")


def opened(
    uow: FakeUnitOfWork, side: Side = Side.BUY, quantity: int = 10, holding: int = 0
) -> Order:
    with uow:
        trade = SymbolTrade("005930")
        if holding:
            trade = uow.symbols.save(
                trade,
                replace(trade, state=SymbolState.HOLDING, quantity=holding, cost=holding * 70_000),
            )
        event = SymbolEvent.BUY_SIGNAL if side is Side.BUY else SymbolEvent.EXIT_SIGNAL
        _, order = open_order(
            uow, writer(), trade, event, side, quantity, 71_500, OrderType.LIMIT, OrderPurpose.ENTRY
        )
        order = uow.orders.save(
            order,
            replace(
                order.apply(OrderEvent.ACCEPTED),
                broker_order_no="0000000001",
                broker_branch="00950",
            ),
        )
        uow.commit()
    return order


def fact(filled: int, amount: int, open_: bool = True) -> OrderFact:
    return OrderFact("0000000001", "00950", filled, amount, open_)


def test_open_order_writes_the_intent_and_moves_the_symbol_together() -> None:
    uow = FakeUnitOfWork()
    order = opened(uow)
    with uow:
        assert uow.symbols.get("005930").state is SymbolState.ENTERING  # type: ignore[union-attr]
        assert order.idempotency_key == "20261120:005930:buy:1:0"
        assert [t.event for t in uow.audit.recent()][::-1] == ["buy_signal", "intent"]


def test_increment_is_split_so_quantity_times_price_equals_the_amount() -> None:
    order = Order(
        "k",
        DAY,
        "005930",
        Side.BUY,
        OrderType.LIMIT,
        10,
        200,
        OrderPurpose.ENTRY,
        status=OrderStatus.SUBMITTED,
    )
    fills = fills_for(order, OrderFact("1", "0", 3, 310, True), FEES, NOW)
    assert [(f.quantity, f.price) for f in fills] == [(2, 103), (1, 104)]
    assert sum(f.notional for f in fills) == 310


def test_costs_per_order_follow_the_cumulative_amount_whatever_the_batching() -> None:
    fees = FeeSchedule(basis=FeeBasis.ORDER)
    order = Order(
        "k",
        DAY,
        "005930",
        Side.SELL,
        OrderType.LIMIT,
        100,
        75_000,
        OrderPurpose.EXIT,
        status=OrderStatus.SUBMITTED,
    )
    one_go = fills_for(order, OrderFact("1", "0", 100, 7_500_000, False), fees, NOW)
    first = fills_for(order, OrderFact("1", "0", 30, 2_250_000, True), fees, NOW)
    later = order.with_cumulative_fill(30, 2_250_000)
    rest = fills_for(later, OrderFact("1", "0", 100, 7_500_000, False), fees, NOW)
    total = fees.costs(Side.SELL, 7_500_000)
    for batch in (one_go, first + rest):
        assert sum(f.commission for f in batch) == total.commission
        assert sum(f.tax for f in batch) == total.tax


def test_facts_apply_once_and_fill_the_symbol() -> None:
    uow = FakeUnitOfWork()
    order = opened(uow)
    with uow:
        partial = apply_fact(uow, writer(), order, fact(4, 4 * 71_500), FEES)
        again = apply_fact(uow, writer(), partial, fact(4, 4 * 71_500), FEES)
        assert again is partial
        full = apply_fact(uow, writer(), partial, fact(10, 10 * 71_500, open_=False), FEES)
        uow.commit()
    assert full.status is OrderStatus.FILLED
    with uow:
        trade = uow.symbols.get("005930")
        assert trade is not None
        assert (trade.state, trade.quantity, trade.cost) == (SymbolState.HOLDING, 10, 715_000)
        assert sum(f.quantity for f in uow.fills.for_day(DAY)) == 10


def test_cancelled_partial_entry_holds_what_filled() -> None:
    uow = FakeUnitOfWork()
    order = opened(uow)
    with uow:
        after = apply_fact(uow, writer(), order, fact(3, 3 * 71_500, open_=False), FEES)
        uow.commit()
    assert after.status is OrderStatus.CANCELED
    with uow:
        trade = uow.symbols.get("005930")
        assert trade is not None and (trade.state, trade.quantity) == (SymbolState.HOLDING, 3)


def test_rejected_exit_returns_to_holding() -> None:
    uow = FakeUnitOfWork()
    order = opened(uow, side=Side.SELL, quantity=10, holding=10)
    with uow:
        apply_fact(uow, writer(), order, fact(0, 0, open_=False), FEES)
        uow.commit()
        assert uow.symbols.get("005930").state is SymbolState.HOLDING  # type: ignore[union-attr]


def test_a_sell_fill_beyond_the_position_quarantines_the_symbol() -> None:
    uow = FakeUnitOfWork()
    order = opened(uow, side=Side.SELL, quantity=10, holding=10)
    with uow:  # the ledger believed 10, yet the broker reports 10 sold of a 5-share position
        trade = uow.symbols.get("005930")
        assert trade is not None
        uow.symbols.save(trade, replace(trade, quantity=5))
        w = writer()
        apply_fact(uow, w, order, fact(10, 10 * 71_500, open_=False), FEES)
        uow.commit()
        assert uow.symbols.get("005930").state is SymbolState.QUARANTINED  # type: ignore[union-attr]
    assert [n.kind for n in w.notices] == ["quarantine"]


def broker_row(
    number: str, at: datetime, quantity: int = 10, price: int = 71_500, filled: int = 0
) -> BrokerOrder:
    return BrokerOrder(
        DAY,
        number,
        "",
        "00950",
        "005930",
        Side.BUY,
        OrderType.LIMIT,
        quantity,
        price,
        at,
        filled,
        filled * price,
        quantity - filled,
    )


def unknown(uow: FakeUnitOfWork) -> Order:
    with uow:
        trade = SymbolTrade("005930")
        _, order = open_order(
            uow,
            writer(),
            trade,
            SymbolEvent.BUY_SIGNAL,
            Side.BUY,
            10,
            71_500,
            OrderType.LIMIT,
            OrderPurpose.ENTRY,
        )
        order = uow.orders.save(
            order,
            replace(order.apply(OrderEvent.OUTCOME_UNKNOWN), created_at=NOW, updated_at=NOW),
        )
        uow.commit()
    return order


def test_resolver_adopts_a_single_match_and_applies_its_fills() -> None:
    uow = FakeUnitOfWork()
    order = unknown(uow)
    rows = [
        broker_row("0000000007", NOW + timedelta(seconds=1), filled=10),
        broker_row("0000000008", NOW + timedelta(seconds=1), quantity=5),
    ]
    with uow:
        assert (
            resolve_unknown(uow, writer(2), order, view(rows), LedgerPolicy()) is Resolution.ADOPTED
        )
        uow.commit()
        stored = uow.orders.get(order.id or 0)
    assert stored is not None
    assert (stored.status, stored.broker_order_no) == (OrderStatus.FILLED, "0000000007")


def test_resolver_waits_then_rejects_when_the_broker_proves_absence() -> None:
    uow = FakeUnitOfWork()
    order = unknown(uow)  # the send ended without an answer at NOW
    policy = LedgerPolicy(unknown_propagation=timedelta(seconds=3))
    later = writer(2, NOW + timedelta(seconds=30))
    with uow:  # a read begun before the order could have been listed proves nothing
        early = view([], NOW + timedelta(seconds=2.9))
        assert resolve_unknown(uow, later, order, early, policy) is Resolution.WAITING
    with uow:  # a read of another symbol proves nothing either
        other = BrokerView((), NOW + timedelta(seconds=10), "000660")
        assert resolve_unknown(uow, later, order, other, policy) is Resolution.WAITING
    with uow:
        proof = view([], NOW + timedelta(seconds=3))
        assert resolve_unknown(uow, later, order, proof, policy) is Resolution.PROVEN_ABSENT
        uow.commit()
        assert uow.orders.get(order.id or 0).status is OrderStatus.REJECTED  # type: ignore[union-attr]
        assert uow.symbols.get("005930").state is SymbolState.FLAT  # type: ignore[union-attr]


def test_resolver_quarantines_when_it_cannot_tell_which_is_ours() -> None:
    uow = FakeUnitOfWork()
    order = unknown(uow)
    rows = [broker_row("0000000007", NOW), broker_row("0000000009", NOW + timedelta(seconds=2))]
    with uow:
        assert (
            resolve_unknown(uow, writer(2), order, view(rows), LedgerPolicy())
            is Resolution.AMBIGUOUS
        )
        uow.commit()
        assert uow.symbols.get("005930").state is SymbolState.QUARANTINED  # type: ignore[union-attr]
        assert uow.orders.get(order.id or 0).status is OrderStatus.UNKNOWN  # type: ignore[union-attr]


def test_resolver_ignores_orders_already_adopted_or_outside_the_window() -> None:
    uow = FakeUnitOfWork()
    order = unknown(uow)
    far = broker_row("0000000005", NOW - timedelta(minutes=10))
    other_price = broker_row("0000000006", NOW, price=71_600)
    with uow:
        result = resolve_unknown(uow, writer(2), order, view([far, other_price]), LedgerPolicy())
    assert result is Resolution.WAITING


@pytest.mark.parametrize("origin", ["0000000003", "3"])
def test_resolver_never_takes_a_cancel_or_revise_row_for_a_new_order(origin: str) -> None:
    """KIS lists a cancel (취소) or a revise (정정) as a row of its own, with a new ODNO and
    ``orgn_odno`` pointing back; it can carry the original's symbol, side, quantity and
    price. An UNKNOWN intent is always a new order, so only rows with no origin can be it
    (chaos seed 2: the cancel of an earlier sell made the re-sent sell "ambiguous")."""
    uow = FakeUnitOfWork()
    order = unknown(uow)
    ours = broker_row("0000000009", NOW + timedelta(seconds=1), filled=10)
    cancel = replace(ours, broker_order_no="0000000008", original_order_no=origin)
    cancel = replace(cancel, filled_quantity=0, filled_amount=0, cancel_order=True)
    revise = replace(cancel, broker_order_no="0000000010", cancel_order=False)
    with uow:
        result = resolve_unknown(
            uow, writer(2), order, view([cancel, revise, ours]), LedgerPolicy()
        )
        uow.commit()
        stored = uow.orders.get(order.id or 0)
    assert result is Resolution.ADOPTED
    assert stored is not None and stored.broker_order_no == "0000000009"


@pytest.mark.parametrize("origin", ["0000000003", "3"])
def test_resolver_proves_absence_over_rows_that_only_cancel_or_revise(origin: str) -> None:
    uow = FakeUnitOfWork()
    order = unknown(uow)
    row = broker_row("0000000008", NOW + timedelta(seconds=1))
    cancel = replace(row, original_order_no=origin, cancel_order=True)
    revise = replace(row, broker_order_no="0000000010", original_order_no=origin)
    policy = LedgerPolicy(unknown_propagation=timedelta(seconds=3))
    with uow:
        proof = view([cancel, revise], NOW + timedelta(seconds=3))
        assert resolve_unknown(uow, writer(2), order, proof, policy) is Resolution.PROVEN_ABSENT


@pytest.mark.parametrize("partial", [0, 4])
def test_cumulative_facts_never_double_count(partial: int) -> None:
    uow = FakeUnitOfWork()
    order = opened(uow)
    with uow:
        if partial:
            order = apply_fact(uow, writer(), order, fact(partial, partial * 71_500), FEES)
        for _ in range(3):
            order = apply_fact(uow, writer(), order, fact(10, 715_000, open_=False), FEES)
        uow.commit()
        assert sum(f.quantity for f in uow.fills.for_day(DAY)) == 10
        assert uow.symbols.get("005930").quantity == 10  # type: ignore[union-attr]
