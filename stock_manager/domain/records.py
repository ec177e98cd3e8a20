"""Append-only facts the system keeps about itself: transitions, recoveries, summaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any


class RecoveryKind(Enum):
    ORPHAN = "orphan"  # the broker holds shares the ledger does not know of
    MISSING = "missing"  # the ledger holds shares the broker does not have
    QUANTITY_DRIFT = "quantity_drift"
    STUCK_ORDER = "stuck_order"  # an in-flight order the broker has resolved
    UNKNOWN_RESOLVED = "unknown_resolved"
    EXPIRED_LEASE = "expired_lease"
    STALE_WORKER = "stale_worker"
    QUARANTINED = "quarantined"


@dataclass(frozen=True, slots=True)
class Transition:
    """One state change, as written to the append-only audit table."""

    entity: str  # "symbol" | "order" | "market"
    key: str
    from_state: str
    to_state: str
    event: str
    at: datetime
    fence: int | None = None
    actor: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecoveryEntry:
    kind: RecoveryKind
    action: str  # what was done: "adopted", "quarantined", "released", ...
    at: datetime
    symbol: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DailySummary:
    trading_day: date
    realized_pnl: int
    unrealized_pnl: int
    commission: int
    tax: int
    trades: int
    wins: int
    losses: int
    win_rate: Decimal | None
    profit_factor: Decimal | None
    max_drawdown: int
    per_strategy: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DailySettlement:
    """Cash that moved today by the ledger, against the broker's own account."""

    trading_day: date
    buy_amount: int
    sell_amount: int
    commission: int
    tax: int
    broker_cash_change: int | None = None
    # The broker's own figure for today's commission and tax (inquire-balance thdt_tlex_amt).
    broker_costs: int | None = None

    @property
    def costs_difference(self) -> int | None:
        """The broker's costs minus the ledger's (commission + tax); ``None`` if unread."""
        if self.broker_costs is None:
            return None
        return self.broker_costs - self.commission - self.tax

    @property
    def net_cash_flow(self) -> int:
        return self.sell_amount - self.buy_amount - self.commission - self.tax

    @property
    def difference(self) -> int | None:
        if self.broker_cash_change is None:
            return None
        return self.broker_cash_change - self.net_cash_flow


@dataclass(frozen=True, slots=True)
class WorkerProcess:
    worker_id: str
    hostname: str
    pid: int
    started_at: datetime
    last_heartbeat_at: datetime
    stopped_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class TaskRun:
    """When a scheduled task last succeeded and failed: the dead-man check and metrics."""

    name: str
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_value: int | None = None
    successes: int = 0
    failures: int = 0
