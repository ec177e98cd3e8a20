"""Resolving ambiguous sends: KIS has no client order id, so an UNKNOWN intent is matched
against the broker's order history by symbol, side, quantity, price, order type and time.

One match: adopt its order number. None, once the grace period has passed: the broker has
proven it absent, so the intent is rejected. More than one: nobody can tell which is ours,
so the symbol is quarantined and a person decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from enum import Enum

from stock_manager.domain.broker import BrokerOrder
from stock_manager.domain.orders import Order, OrderEvent
from stock_manager.domain.records import RecoveryEntry, RecoveryKind
from stock_manager.ports import UnitOfWork
from stock_manager.services.context import LedgerPolicy
from stock_manager.services.ledger import OrderFact, Writer, apply_fact, change_order, quarantine

log = logging.getLogger(__name__)


class Resolution(Enum):
    ADOPTED = "adopted"
    PROVEN_ABSENT = "proven_absent"
    AMBIGUOUS = "ambiguous"
    WAITING = "waiting"


def matches(order: Order, row: BrokerOrder, policy: LedgerPolicy) -> bool:
    if order.created_at is None:
        return False
    window_start = order.created_at - policy.match_window / 10  # clock skew between hosts
    return (
        row.symbol == order.symbol
        and row.side is order.side
        and row.quantity == order.quantity
        and (row.order_type is None or row.order_type is order.order_type)
        and (not order.order_type.has_price or row.price == order.price)
        and window_start <= row.ordered_at <= order.created_at + policy.match_window
    )


def resolve_unknown(
    uow: UnitOfWork, w: Writer, order: Order, rows: Sequence[BrokerOrder], policy: LedgerPolicy
) -> Resolution:
    """Decide an UNKNOWN order from the broker's rows of the day (inside a unit of work)."""
    taken = {o.broker_order_no for o in uow.orders.find(day=order.trading_day) if o.broker_order_no}
    candidates = [r for r in rows if r.broker_order_no not in taken and matches(order, r, policy)]
    if len(candidates) == 1:
        return _adopt(uow, w, order, candidates[0], policy)
    if len(candidates) > 1:
        _ambiguous(uow, w, order, candidates)
        return Resolution.AMBIGUOUS
    if order.created_at is not None and w.at - order.created_at >= policy.unknown_grace:
        after = order.apply(OrderEvent.REJECTED)
        change_order(uow, w, order, after, policy.fees)
        _log(uow, w, order, "rejected: proven absent", {})
        return Resolution.PROVEN_ABSENT
    return Resolution.WAITING


def _adopt(
    uow: UnitOfWork, w: Writer, order: Order, row: BrokerOrder, policy: LedgerPolicy
) -> Resolution:
    accepted = change_order(
        uow,
        w,
        order,
        order.apply(
            OrderEvent.ACCEPTED,
            broker_order_no=row.broker_order_no,
            broker_branch=row.branch,
        ),
        policy.fees,
    )
    apply_fact(uow, w, accepted, OrderFact.of(row), policy.fees)
    _log(uow, w, order, "adopted", {"odno": row.broker_order_no})
    w.alert(
        "order_resolved",
        "info",
        f"{order.symbol} order found at the broker",
        f"{order.idempotency_key} adopted as {row.broker_order_no}",
        thread_key=f"order:{order.idempotency_key}",
    )
    return Resolution.ADOPTED


def _ambiguous(uow: UnitOfWork, w: Writer, order: Order, rows: list[BrokerOrder]) -> None:
    numbers = ", ".join(r.broker_order_no for r in rows)
    trade = uow.symbols.get(order.symbol)
    if trade is not None:
        quarantine(uow, w, trade, f"{order.idempotency_key} matches {numbers}")
    _log(uow, w, order, "quarantined: ambiguous", {"candidates": numbers})


def _log(uow: UnitOfWork, w: Writer, order: Order, action: str, detail: dict[str, str]) -> None:
    uow.recovery.record(
        RecoveryEntry(
            RecoveryKind.UNKNOWN_RESOLVED,
            action,
            w.at,
            order.symbol,
            {"order": order.idempotency_key, **detail},
        )
    )
    log.warning("%s: %s %s", order.idempotency_key, action, detail)
