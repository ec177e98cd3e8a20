"""Orders the system did not send — placed by hand in the HTS, by another program, or a
manual revise of one of ours — recorded in the ledger as they are at the broker.

Reconciliation finds them in a complete read of the day's orders: every row whose order
number the ledger does not know, except 취소 rows (a cancel never fills). Each becomes an
order with purpose ``EXTERNAL`` (key ``YYYYMMDD:SYMBOL:ext:ODNO``) and its cumulative fills,
charged fees and tax like ours, so the day's FIFO book and its settlement against the
broker's cash see every trade. The position itself is taken from the broker's balance by
reconciliation, so an external order's fills never move the symbol's state by themselves.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from functools import partial

from stock_manager.domain.broker import BrokerOrder
from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import Order, OrderPurpose, OrderStatus, OrderType
from stock_manager.ports import UnitOfWork
from stock_manager.services.context import ServiceContext
from stock_manager.services.isolation import per_symbol
from stock_manager.services.leasing import symbol_lease
from stock_manager.services.ledger import OrderFact, Writer, apply_fact, audit
from stock_manager.services.resolver import BrokerView
from stock_manager.services.writes import send_notices, writer

log = logging.getLogger(__name__)
EXTERNAL_STRATEGY = "external"
UNDECIDED = (OrderStatus.NEW, OrderStatus.UNKNOWN)


def external_key(order: BrokerOrder) -> str:
    return f"{order.trading_day:%Y%m%d}:{order.symbol}:ext:{order.broker_order_no}"


def unknown_rows(view: BrokerView, known: set[str]) -> dict[str, list[BrokerOrder]]:
    """The view's orders we did not send, by symbol (cancel rows left out)."""
    found: dict[str, list[BrokerOrder]] = defaultdict(list)
    for row in view.rows:
        if row.broker_order_no in known or row.cancel_order or row.quantity <= 0:
            continue
        found[row.symbol].append(row)
    return dict(found)


def record_external(ctx: ServiceContext, view: BrokerView) -> int:
    """Record every order of ``view`` the ledger does not know; how many were new."""
    day = kst_date(view.started_at)
    with ctx.uow as uow:
        known = {o.broker_order_no for o in uow.orders.find(day=day) if o.broker_order_no}
    recorded = 0
    for symbol, rows in sorted(unknown_rows(view, known).items()):
        recorded += per_symbol(
            ctx, symbol, "external orders", partial(_record_symbol, ctx, symbol, rows), 0
        )
    return recorded


def _record_symbol(ctx: ServiceContext, symbol: str, rows: Sequence[BrokerOrder]) -> int:
    with symbol_lease(ctx, symbol) as lease:
        if lease is None:
            return 0  # busy: the next reconciliation records them
        w = writer(ctx, lease)
        with ctx.uow as uow:
            if _undecided(uow, rows[0]):
                return 0  # one of these may be ours: the resolver decides first
            new = [r for r in rows if not uow.orders.by_broker_no(r.trading_day, r.broker_order_no)]
            for row in new:
                _record_one(ctx, uow, w, row)
            uow.commit()
        send_notices(ctx, w)
        if new:
            log.warning("%s: recorded %d order(s) we did not send", symbol, len(new))
        return len(new)


def _undecided(uow: UnitOfWork, row: BrokerOrder) -> bool:
    """An order of ours for the symbol whose fate is open (NEW, UNKNOWN) could be any of the
    rows we do not know: claiming one as external would let the resolver prove ours absent,
    and it would be sent again."""
    ours = uow.orders.find(day=row.trading_day, symbol=row.symbol, statuses=UNDECIDED)
    return any(o.purpose is not OrderPurpose.EXTERNAL for o in ours)


def _record_one(ctx: ServiceContext, uow: UnitOfWork, w: Writer, row: BrokerOrder) -> None:
    order = uow.orders.add(
        Order(
            external_key(row),
            row.trading_day,
            row.symbol,
            row.side,
            row.order_type or OrderType.LIMIT,
            row.quantity,
            row.price if (row.order_type or OrderType.LIMIT).has_price else 0,
            OrderPurpose.EXTERNAL,
            status=OrderStatus.SUBMITTED,
            broker_order_no=row.broker_order_no,
            broker_branch=row.branch,
            fence=w.fence,
            created_at=row.ordered_at,
            updated_at=w.at,
        )
    )
    audit(uow, w, "order", order.idempotency_key, "-", order.status.value, "external")
    apply_fact(uow, w, order, OrderFact.of(row), ctx.policy.fees)
