"""A task message delivered twice changes nothing the second time.

A real Celery worker (in-process, solo pool, memory transport) runs the project's tasks
against the stack. The same message (same task id, same arguments) is published again, as
a broker redelivers an unacknowledged message (``task_acks_late``): Celery itself does not
drop it, so whatever protects us is the ledger. The ledger, its audit trail and the broker
are compared before and after each second delivery.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from stock_manager import bootstrap
from stock_manager.domain.orders import OrderStatus
from stock_manager.domain.trade import SymbolState
from tests.integration.ledger.stack import Stack, wait_for

SYMBOL = "005930"


class Deliveries:
    """What each delivery of a task returned, by task id, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.results: dict[str, list[Any]] = {}

    def record(self, task_id: str = "", retval: Any = None, state: str = "", **_: Any) -> None:
        with self._lock:
            self.results.setdefault(task_id, []).append((state, retval))

    def result(self, task_id: str, delivery: int) -> Any:
        """Wait for the ``delivery``-th run of ``task_id`` (1-based) and return its value."""

        def ran() -> bool:
            with self._lock:
                return len(self.results.get(task_id, [])) >= delivery

        wait_for(ran, timeout=20, what=f"delivery {delivery} of {task_id}")
        state, value = self.results[task_id][delivery - 1]
        assert state == "SUCCESS", value
        return value


@pytest.fixture
def deliveries(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deliveries]:
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun, worker_process_init

    from stock_manager.celery_app import app

    def reinstall(**_: Any) -> None:
        bootstrap.use(stack.container)  # the solo pool's start dropped it (reset_after_fork)

    seen = Deliveries()
    monkeypatch.delenv("CELERY_BROKER_URL")  # Celery prefers it to ``conf.broker_url``
    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}
    app.conf.update(broker_url="memory://", broker_transport_options={"polling_interval": 0.02})
    app.loader.import_default_modules()
    worker_process_init.connect(reinstall, weak=False)
    task_postrun.connect(seen.record, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield seen
    finally:
        task_postrun.disconnect(seen.record)
        worker_process_init.disconnect(reinstall)
        app.conf.update(saved)


def ledger(stack: Stack) -> tuple[object, ...]:
    """Everything the ledger holds that a delivery could change."""
    with stack.ctx.uow as uow:
        orders = uow.orders.find(day=stack.day)
        fills = [uow.fills.for_order(o.id or 0) for o in orders]
        return orders, uow.symbols.find(), fills, uow.audit.recent(500), uow.recovery.recent(500)


def deliver_twice(stack: Stack, seen: Deliveries, task: Any, *args: Any) -> tuple[Any, Any]:
    """Deliver one message, then the same message again; the second must change nothing."""
    task_id = str(uuid.uuid4())
    task.apply_async(args=args, task_id=task_id)
    first = seen.result(task_id, 1)
    before, broker_before = ledger(stack), stack.broker_orders()
    task.apply_async(args=args, task_id=task_id)  # redelivered: same id, same body
    second = seen.result(task_id, 2)
    assert ledger(stack) == before
    assert stack.broker_orders() == broker_before
    return first, second


def test_redelivered_entries_and_syncs_change_nothing(stack: Stack, deliveries: Deliveries) -> None:
    from tasks.orders import enter, sync_orders

    price = int(stack.market(SYMBOL)["lower"])
    entry = (SYMBOL, 3, price, "00", "test", "redelivery")

    # Delivered while the broker accepts and never answers, and its history cannot be read
    # at once: unknown, then a duplicate.
    stack.faults(
        order_timeout_rate=1.0,
        order_timeout_hang_s=1.2,
        http500_rate=1.0,
        paths=["inquire-daily-ccld"],
    )
    assert deliver_twice(stack, deliveries, enter, *entry) == ("unknown", "skipped")
    stack.faults()
    (intent,) = stack.orders(SYMBOL)
    assert intent.status is OrderStatus.UNKNOWN
    assert len(stack.broker_orders(SYMBOL)) == 1

    # The first sync adopts the broker's order; the redelivered sync finds nothing to do.
    assert deliver_twice(stack, deliveries, sync_orders) == (1, 0)
    (at_broker,) = stack.broker_orders(SYMBOL)
    assert stack.order(intent.id or 0).broker_order_no == at_broker["odno"]

    # The entry again while its order is open at the broker: nothing is sent.
    assert deliver_twice(stack, deliveries, enter, *entry) == ("skipped", "skipped")

    # A fill, synced by a message delivered twice: one fill in the ledger.
    stack.trade_through(SYMBOL, price)
    assert deliver_twice(stack, deliveries, sync_orders) == (1, 0)
    filled = stack.order(intent.id or 0)
    (at_broker,) = stack.broker_orders(SYMBOL)
    assert (filled.status, filled.filled_quantity) == (OrderStatus.FILLED, at_broker["filled_qty"])
    assert sum(f.quantity for f in stack.fills(filled)) == 3
    assert stack.symbol(SYMBOL).state is SymbolState.HOLDING

    # Even after the position is held, the old entry message buys nothing more.
    assert deliver_twice(stack, deliveries, enter, *entry) == ("skipped", "skipped")
    assert stack.broker_holding(SYMBOL) == stack.symbol(SYMBOL).quantity == 3
    assert len(stack.broker_orders(SYMBOL)) == len(stack.orders(SYMBOL)) == 1
