"""What every use case needs: its ports and the policy values from settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.orders import LIVE_ORDER_TYPES, OrderType
from stock_manager.domain.risk import RiskLimits
from stock_manager.domain.tick_sanity import TickSanity
from stock_manager.ports import (
    Broker,
    Clock,
    LeaseLock,
    MarketCalendar,
    Notifier,
    PendingTasks,
    TaskQueue,
    UnitOfWork,
)
from stock_manager.strategies.base import Strategy


@dataclass(frozen=True, slots=True)
class LedgerPolicy:
    """How the ledger treats leases, ambiguity and costs."""

    lease_ttl: float = 90.0
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    # An UNKNOWN order missing from a complete read that began at least this long after its
    # send ended is proven absent (⚠ how long KIS takes to list an order is unconfirmed).
    unknown_propagation: timedelta = timedelta(seconds=3)
    # How far from our send time a broker order may lie and still match an ambiguous intent.
    match_window: timedelta = timedelta(seconds=120)
    # A worker whose heartbeat is older than this is recorded as gone.
    stale_worker_after: timedelta = timedelta(seconds=60)
    order_types: frozenset[OrderType] = LIVE_ORDER_TYPES
    # Entries halt when price checks have not succeeded for this long while trading.
    dead_man_seconds: float = 30.0
    # Entries resume after a dead-man halt once price checks have been healthy this long,
    # unless ``dead_man_hold_day`` keeps the halt for the rest of the day.
    dead_man_resume_seconds: float = 120.0
    dead_man_hold_day: bool = False
    # The order sync leaves a working order this long after its last change to the execution
    # notices (``services/notices.py``); zero where no notices are subscribed.
    notice_grace: timedelta = timedelta(0)


@dataclass(frozen=True, slots=True)
class ScanPolicy:
    """Which symbols a candidate scan considers before any strategy looks at them."""

    universe: tuple[str, ...] = ()  # used where volume rank is unavailable (paper)
    min_price: int = 1_000
    max_price: int = 500_000
    min_volume: int = 10_000
    min_turnover: int = 100_000_000
    max_candidates: int = 20
    filters: tuple[str, ...] = ()  # names of registered custom filters


@dataclass(frozen=True, slots=True)
class LiquidationPolicy:
    # A marketable limit order still open this long is cancelled and sent again at market.
    escalate_after: timedelta = timedelta(seconds=20)
    # A liquidation's marketable limit sell fills at once or not at all (⚠ a setting): still
    # open this long, the bid moved away, and the next round re-prices it (cancel, escalate).
    reprice_after: timedelta = timedelta(seconds=1)
    # The first sell is a limit this many ticks below the best bid: it still trades at the
    # bids' own prices (a marketable order takes the book at its levels), and a bid that
    # fell a tick or two between the orderbook read and the order no longer leaves it
    # resting (each such miss cost a round: issue 16, item 3).
    limit_ticks: int = 3
    # Rounds run this often until flat or the hard cut.
    round_interval: float = 3.0
    escalation_order_type: OrderType = OrderType.MARKET


@dataclass(frozen=True, slots=True)
class TradingPolicy:
    strategies: tuple[Strategy, ...] = ()
    exits: ExitPolicy = field(default_factory=ExitPolicy)
    risk: RiskLimits = field(default_factory=RiskLimits)
    scan: ScanPolicy = field(default_factory=ScanPolicy)
    liquidation: LiquidationPolicy = field(default_factory=LiquidationPolicy)
    exit_order_type: OrderType = OrderType.BEST  # 최유리지정가: fills against the best bid
    # The exit in a single-price auction (VI, closing call), where 03 is refused: LIMIT at
    # the lower limit (crosses at the auction's price) or MARKET (domain/trading_state.py).
    auction_exit: OrderType = OrderType.LIMIT
    # Shares the system did not open: "manage" (exit rules and liquidation apply), "ignore"
    # (left alone, kept out of liquidation and its flat check) or "liquidate" (sold at once).
    external_holdings: Literal["manage", "ignore", "liquidate"] = "manage"


@dataclass(frozen=True, slots=True)
class ServiceContext:
    uow: UnitOfWork
    broker: Broker
    locks: LeaseLock
    clock: Clock
    calendar: MarketCalendar
    notifier: Notifier
    policy: LedgerPolicy = field(default_factory=LedgerPolicy)
    trading: TradingPolicy = field(default_factory=TradingPolicy)
    actor: str = "local"
    tasks: TaskQueue = field(default_factory=PendingTasks)
    # The day's price bands seen by this process and the impossible prices it dropped.
    sanity: TickSanity = field(default_factory=TickSanity)
