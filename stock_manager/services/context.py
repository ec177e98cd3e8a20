"""What every use case needs: its ports and the policy values from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.orders import LIVE_ORDER_TYPES, OrderType
from stock_manager.ports import Broker, Clock, LeaseLock, MarketCalendar, Notifier, UnitOfWork


@dataclass(frozen=True, slots=True)
class LedgerPolicy:
    """How the ledger treats leases, ambiguity and costs."""

    lease_ttl: float = 90.0
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    # After this long, an order the broker's history does not show is proven absent.
    unknown_grace: timedelta = timedelta(seconds=120)
    # How far from our send time a broker order may lie and still match an ambiguous intent.
    match_window: timedelta = timedelta(seconds=120)
    # A worker whose heartbeat is older than this is recorded as gone.
    stale_worker_after: timedelta = timedelta(seconds=60)
    order_types: frozenset[OrderType] = LIVE_ORDER_TYPES


@dataclass(frozen=True, slots=True)
class ServiceContext:
    uow: UnitOfWork
    broker: Broker
    locks: LeaseLock
    clock: Clock
    calendar: MarketCalendar
    notifier: Notifier
    policy: LedgerPolicy = field(default_factory=LedgerPolicy)
    actor: str = "local"
