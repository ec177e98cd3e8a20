"""Order tasks: sending entries, exits and cancels; syncing fills (every 3 s) and applying
execution notices."""

from __future__ import annotations

from typing import Any

from stock_manager.adapters import task_args
from stock_manager.celery_app import app
from stock_manager.services import notices as execution
from stock_manager.services import orders, resolver, sync
from stock_manager.services.entry import EntryPlan, enter_checked
from stock_manager.services.prices import ExitPlan, exit_now
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
    found, tries = task_args.notices(notices, attempt)
    return sum(r.applied for r in execution.on_execution_notices(context(), found, tries))


@app.task(**RETRY_READS)
@contained
def on_execution_notice(notice: dict[str, Any]) -> int:
    """One notice, as streams before issue 16 sent them."""
    found = [task_args.notice(notice)]
    return sum(r.applied for r in execution.on_execution_notices(context(), found))


@app.task
@contained
def enter(
    symbol: str, quantity: int, price: int, order_type: str, strategy: str, reason: str = ""
) -> str:
    plan = EntryPlan(*task_args.entry(symbol, quantity, price, order_type, strategy, reason))
    return enter_checked(context(), plan).summary


@app.task
@contained
def exit(symbol: str, reason: str, detail: str = "") -> str:
    plan = ExitPlan(*task_args.exit(symbol, reason, detail))
    return exit_now(context(), plan).outcome.value


@app.task
@contained
def resolve_order(order_id: int, attempt: int = 1) -> str:
    """Decide an UNKNOWN order from the broker's history; look again later if it cannot yet."""
    order, tries = task_args.resolve(order_id, attempt)
    return resolver.resolve_with_follow_up(context(), order, tries).value


@app.task
@contained
def cancel(order_id: int) -> str:
    order = task_args.order_id(order_id, "tasks.orders.cancel")
    return orders.cancel_order(context(), order).outcome.value
