"""Prometheus metrics of our own (Flower covers task events; this covers the rest).

Every value is read when Prometheus scrapes, from the places that hold the truth: the
broker's queues, the database (task runs, symbols, market state) and the lease backend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from stock_manager.domain.clock import kst_date
from stock_manager.domain.market import MarketState
from stock_manager.domain.trade import SymbolState
from stock_manager.ports import LeaseLock, UnitOfWork

log = logging.getLogger(__name__)
RECONCILE = "tasks.reconcile.reconcile_positions"


@dataclass(frozen=True)
class Sources:
    uow: UnitOfWork
    locks: LeaseLock
    queue_depths: Callable[[], dict[str, int]]
    # Seconds until the limiter's next free slot (negative: idle) and callers waiting.
    rate_limit_headroom: Callable[[], tuple[float, int] | None] = lambda: None
    token_age: Callable[[], float | None] = lambda: None


class SystemCollector(Collector):
    def __init__(self, sources: Sources) -> None:
        self._s = sources

    def collect(self) -> Iterator[Metric]:
        for produce in (self._queues, self._leases, self._tasks, self._book, self._kis):
            try:
                yield from produce()
            except Exception:  # one broken source must not hide the others
                log.exception("metrics source %s failed", produce.__name__)

    def _queues(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "stock_manager_queue_depth", "Messages waiting per Celery queue", labels=["queue"]
        )
        for queue, count in sorted(self._s.queue_depths().items()):
            depth.add_metric([queue], count)
        yield depth

    def _leases(self) -> Iterable[Metric]:
        held = [x for x in self._s.locks.held() if not x.symbol.startswith("__")]
        yield GaugeMetricFamily(
            "stock_manager_leases_held", "Symbol leases currently held", value=len(held)
        )

    def _tasks(self) -> Iterable[Metric]:
        now = datetime.now(UTC)
        with self._s.uow as uow:
            runs = uow.task_runs.all()
        age = GaugeMetricFamily(
            "stock_manager_task_last_success_age_seconds",
            "Seconds since each task last succeeded",
            labels=["task"],
        )
        failures = CounterMetricFamily(
            "stock_manager_task_failures",
            "Task failures since the database was created",
            labels=["task"],
        )
        for run in runs:
            if run.last_success_at is not None:
                age.add_metric([run.name], (now - run.last_success_at).total_seconds())
            failures.add_metric([run.name], run.failures)
        yield age
        yield failures
        reconcile = next((r for r in runs if r.name == RECONCILE), None)
        yield GaugeMetricFamily(
            "stock_manager_reconciliation_differences",
            "Differences the last reconciliation found",
            value=(reconcile.last_value or 0) if reconcile else 0,
        )

    def _book(self) -> Iterable[Metric]:
        with self._s.uow as uow:
            state = uow.market.get(kst_date(datetime.now(UTC)))
            trades = uow.symbols.find()
        market = GaugeMetricFamily(
            "stock_manager_market_state", "1 for today's market state", labels=["state"]
        )
        for name in MarketState:
            market.add_metric([name.value], 1.0 if name is state else 0.0)
        yield market
        symbols = GaugeMetricFamily(
            "stock_manager_symbols", "Symbols per trade state", labels=["state"]
        )
        for kind in SymbolState:
            symbols.add_metric([kind.value], sum(1 for t in trades if t.state is kind))
        yield symbols

    def _kis(self) -> Iterable[Metric]:
        headroom = self._s.rate_limit_headroom()
        if headroom is not None:
            ahead, waiting = headroom
            yield GaugeMetricFamily(
                "stock_manager_rate_limit_headroom_seconds",
                "Seconds the cluster-wide KIS limiter is idle (positive) or booked ahead "
                "(negative)",
                value=-ahead,
            )
            yield GaugeMetricFamily(
                "stock_manager_rate_limit_waiters",
                "Callers waiting for a KIS request slot",
                value=waiting,
            )
        age = self._s.token_age()
        if age is not None:
            yield GaugeMetricFamily(
                "stock_manager_kis_token_age_seconds",
                "Age of the shared KIS access token",
                value=age,
            )


def registry(sources: Sources) -> CollectorRegistry:
    reg = CollectorRegistry()
    reg.register(SystemCollector(sources))
    return reg


def celery_queue_depths(app: object, queues: Iterable[str]) -> Callable[[], dict[str, int]]:
    """Message counts per queue through kombu, whatever the transport (Redis, RabbitMQ)."""

    def depths() -> dict[str, int]:
        counts = {}
        with app.connection_for_read() as conn:  # type: ignore[attr-defined]
            channel = conn.default_channel
            for queue in queues:
                try:
                    counts[queue] = channel.queue_declare(queue=queue, passive=True).message_count
                except Exception:  # a queue nobody declared yet holds nothing
                    counts[queue] = 0
        return counts

    return depths
