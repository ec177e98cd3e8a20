"""The order ledger: an intent is written before it is sent, every outcome after, and the
broker's fill totals are applied once, whichever path (sync or stream) brings them.

All functions here run inside an open unit of work and write under a lease's fence; they
never call the broker. The symbol's trade state and position follow from its orders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from stock_manager.domain.broker import BrokerOrder
from stock_manager.domain.clock import kst_date
from stock_manager.domain.errors import DomainError
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.orders import (
    Fill,
    Order,
    OrderEvent,
    OrderPurpose,
    OrderStatus,
    OrderType,
    Side,
    idempotency_key,
)
from stock_manager.domain.position import Position
from stock_manager.domain.records import Transition
from stock_manager.domain.trade import SymbolEvent, SymbolState, SymbolTrade
from stock_manager.ports import Notice, NoticeLevel, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OrderFact:
    """What the broker says about one order now: cumulative fills and whether it is open."""

    broker_order_no: str
    branch: str
    filled_quantity: int
    filled_amount: int
    open: bool

    @classmethod
    def of(cls, row: BrokerOrder) -> OrderFact:
        return cls(
            row.broker_order_no, row.branch, row.filled_quantity, row.filled_amount, row.is_open
        )


@dataclass(frozen=True, slots=True)
class Writer:
    """Who writes, under which fence and when; collects notices to send after commit."""

    fence: int
    at: datetime
    actor: str
    notices: list[Notice] = field(default_factory=list)

    def alert(
        self,
        kind: str,
        level: NoticeLevel,
        title: str,
        text: str = "",
        thread_key: str | None = None,
    ) -> None:
        self.notices.append(Notice(kind, level, title, text, thread_key))


def audit(
    uow: UnitOfWork,
    w: Writer,
    entity: str,
    key: str,
    before: str,
    after: str,
    event: str,
    **detail: object,
) -> None:
    uow.audit.record(
        Transition(entity, key, before, after, event, w.at, w.fence, w.actor, dict(detail))
    )


def save_symbol(
    uow: UnitOfWork, w: Writer, before: SymbolTrade, after: SymbolTrade, event: str
) -> SymbolTrade:
    saved = uow.symbols.save(before, replace(after, fence=w.fence))
    if before.state is not after.state or before.quantity != after.quantity:
        audit(
            uow,
            w,
            "symbol",
            after.symbol,
            before.state.value,
            after.state.value,
            event,
            quantity=after.quantity,
        )
    return saved


def open_order(
    uow: UnitOfWork,
    w: Writer,
    trade: SymbolTrade,
    event: SymbolEvent,
    side: Side,
    quantity: int,
    price: int,
    order_type: OrderType,
    purpose: OrderPurpose,
    today: Sequence[Order] | None = None,
    reserve_price: int = 0,
    **changes: object,
) -> tuple[SymbolTrade, Order]:
    """Move the symbol (FLAT->ENTERING or ->EXITING) and write a NEW order, in one transaction.

    ``today`` is the symbol's orders of the day if the caller already read them;
    ``reserve_price`` is what a buy was admitted at (``services/admission.py``)."""
    day = kst_date(w.at)
    trade_seq = trade.trade_seq + 1 if event is SymbolEvent.BUY_SIGNAL else trade.trade_seq
    orders = uow.orders.find(day=day, symbol=trade.symbol) if today is None else today
    attempt = sum(
        1 for o in orders if o.side is side and o.idempotency_key.split(":")[3] == str(trade_seq)
    )
    after = save_symbol(
        uow, w, trade, trade.apply(event, trade_seq=trade_seq, **changes), event.value
    )
    order = uow.orders.add(
        Order(
            idempotency_key(day, trade.symbol, side, trade_seq, attempt),
            day,
            trade.symbol,
            side,
            order_type,
            quantity,
            price if order_type.has_price else 0,
            purpose,
            fence=w.fence,
            created_at=w.at,
            updated_at=w.at,
            reserve_price=reserve_price,
        )
    )
    audit(
        uow,
        w,
        "order",
        order.idempotency_key,
        "-",
        OrderStatus.NEW.value,
        "intent",
        quantity=quantity,
        price=price,
        order_type=order_type.code,
        reserve_price=reserve_price,
    )
    return after, order


def change_order(
    uow: UnitOfWork,
    w: Writer,
    before: Order,
    after: Order,
    fees: FeeSchedule,
    fills: list[Fill] | None = None,
) -> Order:
    """Save an order's new status and fills, then let the symbol follow from them."""
    saved = uow.orders.save(
        before, replace(after, fence=max(before.fence, w.fence), updated_at=w.at)
    )
    for fill in fills or []:
        uow.fills.add(before.id or 0, fill)
    if before.status is not after.status:
        audit(
            uow,
            w,
            "order",
            after.idempotency_key,
            before.status.value,
            after.status.value,
            "broker",
            filled=after.filled_quantity,
            odno=after.broker_order_no or "",
        )
    settle_symbol(uow, w, saved, fills or [])
    return saved


def apply_fact(
    uow: UnitOfWork, w: Writer, order: Order, fact: OrderFact, fees: FeeSchedule
) -> Order:
    """Apply the broker's cumulative totals to an acknowledged order (idempotent)."""
    fills = fills_for(order, fact, fees, w.at, instrument_kind(uow, order.symbol))
    after = order.with_cumulative_fill(fact.filled_quantity, fact.filled_amount) if fills else order
    if not fact.open and not after.status.is_terminal:
        after = after.apply(OrderEvent.CANCELED)
    if after == order:
        return order
    return change_order(uow, w, order, after, fees, fills)


def fills_for(
    order: Order,
    fact: OrderFact,
    fees: FeeSchedule,
    at: datetime,
    kind: InstrumentKind = InstrumentKind.STOCK,
) -> list[Fill]:
    """The fills between what we recorded and the broker's cumulative totals.

    The broker reports only cumulative quantity and amount, so an increment is split into at
    most two prices that add up to the amount exactly. Its costs follow ``fees.basis``
    (:meth:`FeeSchedule.fill_costs`): per execution, the increment is charged as one
    execution, as KIS charges (an increment that batched several executions may be a won
    or so off; the settlement compares with the broker's own figure); per order, on the
    cumulative amount. ``kind`` decides the commission rate and whether a sale is taxed.
    """
    quantity = fact.filled_quantity - order.filled_quantity
    amount = fact.filled_amount - order.filled_amount
    if quantity <= 0:
        return []
    costs = fees.fill_costs(order.side, order.filled_amount, fact.filled_amount, kind)
    base, extra = divmod(amount, quantity)
    parts = [(quantity - extra, base), (extra, base + 1)]
    key = f"{order.trading_day:%Y%m%d}:{fact.broker_order_no}:{fact.filled_quantity}"
    fills = []
    for index, (qty, price) in enumerate(p for p in parts if p[0]):
        first = index == 0
        fills.append(
            Fill(
                key if first else key + "+",
                order.symbol,
                order.side,
                qty,
                price,
                at,
                commission=costs.commission if first else 0,
                tax=costs.tax if first else 0,
            )
        )
    return fills


def instrument_kind(uow: UnitOfWork, symbol: str) -> InstrumentKind:
    """The stored instrument type of ``symbol``; a stock until the broker said otherwise."""
    stored = uow.instruments.get(symbol)
    return stored[0].kind if stored else InstrumentKind.STOCK


def settle_symbol(
    uow: UnitOfWork, w: Writer, order: Order, fills: list[Fill]
) -> SymbolTrade | None:
    """Update the symbol's position from fills and move its state by the order's outcome.

    Orders we did not send (``EXTERNAL``) move nothing here: reconciliation takes the
    position from the broker's balance."""
    if order.purpose is OrderPurpose.EXTERNAL:
        return uow.symbols.get(order.symbol)
    trade = uow.symbols.get(order.symbol)
    if trade is None:
        log.error("order %s has no symbol row", order.idempotency_key)
        return None
    try:
        position = Position(trade.symbol, trade.quantity, trade.cost)
        for fill in fills:
            position = position.apply_fill(fill.side, fill.quantity, fill.price)
        changes: dict[str, object] = {"quantity": position.quantity, "cost": position.cost}
        changes.update(_entry_marks(trade, fills, w.at))
        event = symbol_event(trade, order, position.quantity)
        after = trade.apply(event, **changes) if event else replace(trade, **changes)  # type: ignore[arg-type]
    except DomainError as exc:
        return quarantine(uow, w, trade, f"order {order.idempotency_key}: {exc}")
    if after == trade:
        return trade
    return save_symbol(uow, w, trade, after, event.value if event else "fill")


def _entry_marks(trade: SymbolTrade, fills: list[Fill], at: datetime) -> dict[str, object]:
    """The trade's entry time and peak follow its buy fills: both start at the first one
    (the symbol's per-trade fields were reset when the entry began)."""
    bought = [f.price for f in fills if f.side is Side.BUY]
    if not bought:
        return {}
    if trade.entered_at is None:
        return {"entered_at": at, "high_water": max(bought)}
    return {"high_water": max(trade.high_water, *bought)}


def symbol_event(trade: SymbolTrade, order: Order, quantity: int) -> SymbolEvent | None:
    """The symbol event an order's status implies, if the symbol is waiting on that order."""
    status = order.status
    if order.side is Side.BUY and trade.state is SymbolState.ENTERING:
        if status is OrderStatus.FILLED:
            return SymbolEvent.BUY_FILLED
        if status in (OrderStatus.CANCELED, OrderStatus.REJECTED):
            return SymbolEvent.BUY_ENDED_PARTIAL if quantity else SymbolEvent.BUY_ENDED_EMPTY
    if order.side is Side.SELL and trade.state is SymbolState.EXITING:
        if status is OrderStatus.FILLED or (status.is_terminal and quantity == 0):
            return SymbolEvent.SELL_FILLED if quantity == 0 else SymbolEvent.SELL_ENDED_PARTIAL
        if status in (OrderStatus.CANCELED, OrderStatus.REJECTED):
            return SymbolEvent.SELL_ENDED_PARTIAL
    return None


def quarantine(uow: UnitOfWork, w: Writer, trade: SymbolTrade, reason: str) -> SymbolTrade:
    """An unexplained mismatch: no entries for this symbol until someone looks; exits allowed."""
    log.error("quarantining %s: %s", trade.symbol, reason)
    w.alert(
        "quarantine",
        "error",
        f"{trade.symbol} quarantined",
        reason,
        thread_key=f"quarantine:{trade.symbol}",
    )
    after = trade.apply(SymbolEvent.QUARANTINE, note=reason[:200])
    return save_symbol(uow, w, trade, after, SymbolEvent.QUARANTINE.value)
