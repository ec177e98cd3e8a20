"""A real stack for the ledger tests: the simulator, PostgreSQL or SQLite, Redis or SQL leases.

Settings travel through the environment, as in a deployed process, so the services, the
tasks and worker subprocesses read the same values. Every Redis key a test writes (leases,
the KIS token, the limiter) lives under the test's namespace; nothing else in the shared
Redis is touched. This module is also imported by worker subprocesses (``worker_app``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import httpx

from stock_manager import bootstrap
from stock_manager.adapters.db.fences import read_fence_floor
from stock_manager.adapters.locks.redis import RedisLeaseLock
from stock_manager.adapters.locks.sql import SqlLeaseLock
from stock_manager.config import Settings, get_settings
from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import Fill, Order
from stock_manager.domain.records import RecoveryEntry
from stock_manager.domain.trade import SymbolTrade
from stock_manager.ports import LeaseLock
from stock_manager.services.context import ServiceContext
from stock_manager.sim import SimServer
from tests.fakes.ports import FakeNotifier

LEASE_NAMESPACE_ENV = "LEDGER_TEST_LEASE_NAMESPACE"


class LedgerContainer(bootstrap.Container):
    """The project's container, with Redis leases under the test's own key namespace."""

    def __init__(self, settings: Settings, lease_namespace: str) -> None:
        super().__init__(settings)
        self.lease_namespace = lease_namespace

    @cached_property
    def lease_lock(self) -> LeaseLock:
        if self.settings.effective_lock_backend == "redis":
            floor = lambda: read_fence_floor(self.engine)  # noqa: E731 - as bootstrap does
            return RedisLeaseLock(self.redis, namespace=self.lease_namespace, floor=floor)
        return SqlLeaseLock(self.engine)


def install_from_environment() -> LedgerContainer:
    """In a worker subprocess: this process's container, built from its environment."""
    container = LedgerContainer(get_settings(), os.environ.get(LEASE_NAMESPACE_ENV, "sm:"))
    bootstrap.use(container)
    return container


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} not met within {timeout:g} s")


@dataclass
class Stack:
    sim: SimServer
    env: dict[str, str]  # the settings, for subprocesses
    container: LedgerContainer
    ctx: ServiceContext  # short grace periods; notices recorded in ``notifier``
    notifier: FakeNotifier

    @property
    def day(self) -> date:
        return kst_date(self.ctx.clock.now())

    # -- the simulator's side ----------------------------------------------------------------
    def admin(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.sim.rest_url}/_sim/{path}"
        reply = httpx.post(url, json=body) if body is not None else httpx.get(url)
        reply.raise_for_status()
        data: dict[str, Any] = reply.json()
        return data

    def faults(self, **profile: Any) -> None:
        """Replace the simulator's fault profile (no arguments: a well-behaved server)."""
        self.admin("faults", {"reset": True, **profile})

    def market(self, symbol: str) -> dict[str, Any]:
        """``last``, ``prev_close``, ``upper`` and ``lower`` of one symbol right now."""
        (row,) = [s for s in self.admin("symbols")["symbols"] if s["symbol"] == symbol]
        return row

    def broker_orders(self, symbol: str | None = None) -> list[dict[str, Any]]:
        """The simulator's new orders (not its modify/cancel records), oldest first."""
        rows = self.admin("state")["orders"]
        return [r for r in rows if r["kind"] == "new" and (symbol is None or r["symbol"] == symbol)]

    def broker_holding(self, symbol: str) -> int:
        held = [h["qty"] for h in self.admin("state")["holdings"] if h["symbol"] == symbol]
        return int(held[0]) if held else 0

    def trade_through(self, symbol: str, price: int) -> None:
        """One trade at ``price`` now, then the price is held at the previous close, so
        nothing else trades at ``price`` until the test says so."""
        resume = int(self.market(symbol)["prev_close"])
        self.admin("price", {"symbol": symbol, "path": [price, resume], "hold": True})

    # -- the ledger's side -------------------------------------------------------------------
    def orders(self, symbol: str | None = None) -> list[Order]:
        with self.ctx.uow as uow:
            return uow.orders.find(day=self.day, symbol=symbol)

    def order(self, order_id: int) -> Order:
        with self.ctx.uow as uow:
            order = uow.orders.get(order_id)
        assert order is not None
        return order

    def symbol(self, symbol: str) -> SymbolTrade:
        with self.ctx.uow as uow:
            return uow.symbols.get(symbol) or SymbolTrade(symbol)

    def fills(self, order: Order) -> list[Fill]:
        with self.ctx.uow as uow:
            return uow.fills.for_order(order.id or 0)

    def recovery(self) -> list[RecoveryEntry]:
        with self.ctx.uow as uow:
            return uow.recovery.recent(200)

    def seed_symbol(self, trade: SymbolTrade) -> None:
        """Write a symbol row as a crashed or confused worker might have left it."""
        with self.ctx.uow as uow:
            before = uow.symbols.get(trade.symbol) or SymbolTrade(trade.symbol)
            uow.symbols.save(before, trade)
            uow.commit()
