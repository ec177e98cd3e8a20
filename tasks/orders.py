"""Order tasks: sending entries, exits and cancels; syncing fills (every 3 s) and applying
execution notices."""

from __future__ import annotations

from typing import Any

from stock_manager.celery_app import app
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.orders import OrderType
from stock_manager.services import notices as execution
from stock_manager.services import orders, resolver, sync
from stock_manager.services.entry import EntryPlan, enter_checked
from stock_manager.services.prices import ExitPlan, exit_now
from stock_manager.services.wire import notice_from_wire
from tasks._runtime import RETRY_READS, contained, context


@app.task(**RETRY_READS)
@contained
def sync_orders() -> int:
    """Apply the broker's order history to every unsettled order; returns how many moved."""
    return sync.sync_orders(context()).changed


@app.task(**RETRY_READS)
@contained
def on_execution_notices(notices: list[dict[str, Any]], attempt: int = 0) -> int:
    """The stream saw execution notices (one symbol's, oldest first): apply them; how many
    fills came from the notices themselves."""
    found = [notice_from_wire(n) for n in notices]
    return sum(r.applied for r in execution.on_execution_notices(context(), found, attempt))


@app.task(**RETRY_READS)
@contained
def on_execution_notice(notice: dict[str, Any]) -> int:
    """One notice, as streams before issue 16 sent them."""
    return sum(
        r.applied for r in execution.on_execution_notices(context(), [notice_from_wire(notice)])
    )


@app.task
@contained
def enter(
    symbol: str, quantity: int, price: int, order_type: str, strategy: str, reason: str = ""
) -> str:
    plan = EntryPlan(symbol, quantity, price, OrderType(order_type), strategy, reason)
    return enter_checked(context(), plan).outcome.value


@app.task
@contained
def exit(symbol: str, reason: str, detail: str = "") -> str:
    return exit_now(context(), ExitPlan(symbol, ExitReason(reason), detail)).outcome.value


@app.task
@contained
def resolve_order(order_id: int, attempt: int = 1) -> str:
    """Decide an UNKNOWN order from the broker's history; look again later if it cannot yet."""
    return resolver.resolve_with_follow_up(context(), order_id, attempt).value


@app.task
@contained
def cancel(order_id: int) -> str:
    return orders.cancel_order(context(), order_id).outcome.value
