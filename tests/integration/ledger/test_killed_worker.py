"""A Celery worker killed with SIGKILL between the submit and the ack.

A real ``celery worker --pool=solo`` subprocess runs ``tasks.orders.enter``; the simulator
accepts the order and holds the reply back (accept-then-time-out). Once the order exists at
the broker, the worker is killed. The lease it held runs out; then the sweep takes the symbol
over with a higher fence, finds the intent still NEW, resolves it against the broker's
history and adopts the one order there. Nothing is ever sent twice.
"""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery import Celery

from stock_manager.celery_config import build_celery_config
from stock_manager.config import get_settings
from stock_manager.domain.orders import OrderStatus
from stock_manager.domain.records import RecoveryKind
from stock_manager.domain.trade import SymbolState
from stock_manager.services.reconcile import reconcile
from stock_manager.services.sweep import sweep_locks
from stock_manager.services.sync import sync_orders
from tests.integration.ledger.stack import Stack, wait_for
from tests.integration.ledger.worker_process import LedgerWorker

SYMBOL = "005930"
LEASE_TTL = 4.0
pytestmark = pytest.mark.slow


@pytest.fixture
def stack_settings() -> dict[str, str]:
    # soft < hard time limit < lease TTL < visibility timeout, as Settings requires; the
    # order's read timeout stays below the soft limit, as in production.
    return {
        "TASK_SOFT_TIME_LIMIT": "2",
        "TASK_TIME_LIMIT": "3",
        "WORKER_LOCK_TTL": str(LEASE_TTL),
        "BROKER_VISIBILITY_TIMEOUT": "8",
        "WORKER_HEARTBEAT_INTERVAL": "1",
        "KIS_TIMEOUT": "1.5",
    }


class Worker(LedgerWorker):
    @property
    def worker_id(self) -> str:
        return f"{self.name}:{self.process.pid}"

    def output(self) -> str:
        return super().output()[-4000:]

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def worker(stack: Stack, tmp_path: Path) -> Iterator[Worker]:
    started = Worker(stack, tmp_path / "worker.log", "ledger")
    try:
        yield started
    finally:
        started.kill()


def test_sigkill_between_submit_and_ack_leaves_exactly_one_order(
    stack: Stack, worker: Worker
) -> None:
    ctx = stack.ctx
    price = int(stack.market(SYMBOL)["lower"])  # rests until the test trades through it
    stack.faults(order_timeout_rate=1.0, order_timeout_hang_s=3.0)
    sender = Celery("ledger-test-sender")
    sender.conf.update(build_celery_config(get_settings()))  # the same embedded broker

    sender.send_task("tasks.orders.enter", args=[SYMBOL, 3, price, "00", "test", "sigkill"])

    wait_for(
        lambda: bool(stack.broker_orders(SYMBOL)) or worker.process.poll() is not None,
        timeout=30,
        what="the worker's order at the broker",
    )
    worker.kill()
    stack.faults()
    assert len(stack.broker_orders(SYMBOL)) == 1, worker.output()

    # The intent was written before the send; the kill left it NEW under the dead lease.
    (intent,) = stack.orders(SYMBOL)
    assert (intent.status, intent.broker_order_no) == (OrderStatus.NEW, None), worker.output()
    assert stack.symbol(SYMBOL).state is SymbolState.ENTERING
    (dead,) = [lease for lease in ctx.locks.held() if lease.symbol == SYMBOL]
    assert dead.owner.startswith(f"{socket.gethostname()}:{worker.process.pid}/")
    assert dead.fence == intent.fence

    # While the dead worker's lease lasts, the sweep leaves the symbol alone.
    early = sweep_locks(ctx)
    assert early.recovered == ()
    assert stack.order(intent.id or 0).status is OrderStatus.NEW

    wait_for(
        lambda: SYMBOL not in {lease.symbol for lease in ctx.locks.held()},
        timeout=LEASE_TTL + 3,
        what="the dead worker's lease to expire",
    )
    swept = sweep_locks(ctx)

    assert swept.recovered == (SYMBOL,)
    assert worker.worker_id in early.stale_workers + swept.stale_workers
    adopted = stack.order(intent.id or 0)
    (at_broker,) = stack.broker_orders(SYMBOL)  # exactly one order for the intent
    assert adopted.status is OrderStatus.SUBMITTED
    assert adopted.broker_order_no == at_broker["odno"]
    assert (adopted.quantity, adopted.price) == (at_broker["qty"], at_broker["price"])
    assert adopted.filled_quantity == at_broker["filled_qty"] == 0
    assert adopted.fence > dead.fence  # every write since is fenced above the dead worker
    assert stack.symbol(SYMBOL).state is SymbolState.ENTERING  # the order is still open
    kinds = [(e.kind, e.action, e.symbol) for e in stack.recovery()]
    assert (RecoveryKind.UNKNOWN_RESOLVED, "adopted", SYMBOL) in kinds
    assert (RecoveryKind.EXPIRED_LEASE, "reconciled", SYMBOL) in kinds

    # The order fills: the ledger follows the broker once, whatever runs again.
    stack.trade_through(SYMBOL, price)
    sync_orders(ctx)
    assert sweep_locks(ctx).recovered == ()
    sync_orders(ctx)
    (at_broker,) = stack.broker_orders(SYMBOL)
    filled = stack.order(intent.id or 0)
    assert (filled.status, filled.filled_quantity, filled.filled_amount) == (
        OrderStatus.FILLED,
        at_broker["filled_qty"],
        at_broker["filled_amount"],
    )
    assert sum(f.quantity for f in stack.fills(filled)) == 3
    trade = stack.symbol(SYMBOL)
    assert (trade.state, trade.quantity) == (SymbolState.HOLDING, 3)
    assert stack.broker_holding(SYMBOL) == 3
    assert reconcile(ctx).differences == ()
