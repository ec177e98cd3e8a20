"""The composition root: the one place that builds adapters from settings.

Each process gets one :class:`Container`, built lazily on first use. After a fork (Celery's
prefork pool) :func:`reset_after_fork` drops inherited connections so a child never shares
a socket with its parent.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from stock_manager.adapters.calendar import KrxCalendar
from stock_manager.adapters.clock import SystemClock
from stock_manager.adapters.db.engine import make_engine, make_session_factory
from stock_manager.adapters.db.uow import SqlUnitOfWork
from stock_manager.adapters.files import private_dir
from stock_manager.adapters.locks.sql import SqlLeaseLock
from stock_manager.adapters.notify.setup import build_notifier, close_notifier
from stock_manager.adapters.sim_session import SimSessionSource
from stock_manager.config import Settings, get_settings
from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.orders import LIVE_ORDER_TYPES, PAPER_ORDER_TYPES, OrderType
from stock_manager.domain.risk import RiskLimits
from stock_manager.domain.tick_sanity import TickSanity
from stock_manager.ports import (
    Broker,
    Clock,
    LeaseLock,
    MarketCalendar,
    Notifier,
    RateLimiter,
    TaskQueue,
)
from stock_manager.services.context import (
    LedgerPolicy,
    LiquidationPolicy,
    ScanPolicy,
    ServiceContext,
    TradingPolicy,
)
from stock_manager.strategies import registry as strategy_registry

if TYPE_CHECKING:
    from stock_manager.adapters.kis.http import KisHttp
    from stock_manager.adapters.kis.token_store import TokenStore


log = logging.getLogger(__name__)


class Container:
    """Adapters of one process, built on first use from one ``Settings``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        private_dir(settings.data_dir)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.effective_database_url)

    @cached_property
    def session_factory(self) -> sessionmaker[Session]:
        return make_session_factory(self.engine)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.session_factory)

    @cached_property
    def clock(self) -> Clock:
        return SystemClock()

    @cached_property
    def calendar(self) -> MarketCalendar:
        s = self.settings
        override = (s.session_open, s.session_close) if s.session_open and s.session_close else None
        # On live, KIS chk-holiday may veto a day the table thinks is open (asked once a day).
        check = self._broker_trading_day if s.kis_env == "live" else None
        source = None
        if s.kis_env == "sim" and override is None:  # the simulator decides its own day
            source = SimSessionSource(s.effective_kis_rest_url, timeout=s.kis_timeout)
        return KrxCalendar(
            cutoffs=s.cutoffs(), override=override, broker_check=check, session_source=source
        )

    def _broker_trading_day(self, day: date) -> bool | None:
        try:
            return self.broker.is_trading_day(day)
        except Exception:  # the table still decides when the broker cannot answer
            log.warning("chk-holiday failed for %s; trusting the KRX table", day, exc_info=True)
            return None

    @cached_property
    def lease_lock(self) -> LeaseLock:
        if self.settings.effective_lock_backend == "redis":
            from stock_manager.adapters.db.fences import read_fence_floor
            from stock_manager.adapters.locks.redis import RedisLeaseLock

            # Should Redis lose its counters, fences go on above the database's.
            return RedisLeaseLock(self.redis, floor=lambda: read_fence_floor(self.engine))
        return SqlLeaseLock(self.engine)

    @cached_property
    def redis(self):  # type: ignore[no-untyped-def]  # redis.Redis, imported only when used
        """``REDIS_URL``'s server, else the embedded one (started on first connection)."""
        import redis

        # Timeouts: a server that went silent fails a call instead of hanging a task; the
        # health check finds a connection a Redis restart broke before it is used.
        options = {"socket_timeout": 10.0, "socket_connect_timeout": 5.0}
        embedded = self.settings.embedded_redis
        if embedded is not None:
            return embedded.client(**options)
        return redis.Redis.from_url(
            str(self.settings.redis_url), health_check_interval=30, **options
        )

    @cached_property
    def notifier(self) -> Notifier:
        return build_notifier(self.settings)  # Slack when configured, else the log

    # -- KIS ---------------------------------------------------------------------------------
    @cached_property
    def rate_limiter(self) -> RateLimiter:
        """The cluster-wide KIS limiter: Redis with the Redis lock backend, else a file."""
        from stock_manager.adapters.kis.factory import make_rate_limiter

        redis = self.redis if self.settings.effective_lock_backend == "redis" else None
        return make_rate_limiter(self.settings, redis)

    @cached_property
    def token_store(self) -> TokenStore:
        """Where the shared KIS token and approval key live: Redis with a copy in the
        database (it survives a Redis restart), else the database alone."""
        from stock_manager.adapters.kis.factory import make_token_store

        if self.settings.effective_lock_backend == "redis":
            return make_token_store(self.settings, redis=self.redis, engine=self.engine)
        return make_token_store(self.settings, engine=self.engine)

    @cached_property
    def kis(self) -> KisHttp:
        """The KIS request choke point (tokens, limiter, errors) for this process."""
        from stock_manager.adapters.kis.factory import make_http

        return make_http(self.settings, self.rate_limiter, self.token_store)

    @cached_property
    def broker(self) -> Broker:
        from stock_manager.adapters.kis.factory import make_broker

        return make_broker(self.kis, self.settings.scan_etfs)

    @cached_property
    def trading_policy(self) -> TradingPolicy:
        return trading_policy(self.settings)

    @cached_property
    def ledger_policy(self) -> LedgerPolicy:
        s = self.settings
        types = PAPER_ORDER_TYPES if s.kis_dialect == "paper" else LIVE_ORDER_TYPES
        return LedgerPolicy(
            lease_ttl=s.worker_lock_ttl,
            fees=s.fee_schedule(),
            order_types=types,
            dead_man_seconds=s.dead_man_seconds,
            dead_man_resume_seconds=s.dead_man_resume_seconds,
            dead_man_hold_day=s.dead_man_hold_day,
            unknown_propagation=timedelta(seconds=s.unknown_propagation_seconds),
            notice_grace=timedelta(
                seconds=s.order_sync_notice_grace if s.kis_hts_id.strip() else 0
            ),
        )

    @cached_property
    def tasks(self) -> TaskQueue:
        """Follow-up tasks go to the Celery broker (the app loads on first use)."""
        from stock_manager.adapters.celery_tasks import CeleryTaskQueue

        return CeleryTaskQueue()

    def context(self) -> ServiceContext:
        """Everything a use case needs, for this process."""
        return ServiceContext(
            uow=self.uow(),
            broker=self.broker,
            locks=self.lease_lock,
            clock=self.clock,
            calendar=self.calendar,
            notifier=self.notifier,
            policy=self.ledger_policy,
            trading=self.trading_policy,
            actor=process_identity(),
            tasks=self.tasks,
            sanity=self.tick_sanity,
        )

    @cached_property
    def tick_sanity(self) -> TickSanity:
        """This process's price bands and count of impossible prices dropped."""
        return TickSanity()

    @cached_property
    def metrics_registry(self) -> CollectorRegistry:
        """Our Prometheus metrics, read from the queues, the database and the lease backend."""
        from stock_manager.adapters.metrics import Sources, celery_queue_depths, registry
        from stock_manager.celery_app import app
        from stock_manager.celery_config import QUEUES

        return registry(
            Sources(
                uow=self.uow(),
                locks=self.lease_lock,
                queue_depths=celery_queue_depths(app, QUEUES),
                rate_limit_headroom=self._limiter_headroom,
                token_age=self._token_age,
            )
        )

    def _limiter_headroom(self) -> tuple[float, int] | None:
        headroom = getattr(self.rate_limiter, "headroom", None)
        return headroom() if headroom is not None else None

    def _token_age(self) -> float | None:
        token = self.kis.tokens.peek()
        return None if token is None else time.time() - token.issued_at

    def dispose(self, close: bool = True) -> None:
        """Drop pooled connections; ``close=False`` after a fork leaves the parent's alone."""
        if "engine" in self.__dict__:
            self.engine.dispose(close=close)
        if "redis" in self.__dict__:
            self.redis.connection_pool.reset()
        if close and "kis" in self.__dict__:
            self.kis.close()
        if close and "notifier" in self.__dict__:
            close_notifier(self.notifier, timeout=5.0)  # deliver what is queued, stop its thread


_lock = threading.Lock()
_container: Container | None = None


def trading_policy(s: Settings) -> TradingPolicy:
    """Strategies, exits, risk limits and order types from settings (live and backtest)."""
    return TradingPolicy(
        strategies=tuple(strategy_registry.build(s.strategies, s.strategy_params())),
        exits=ExitPolicy(
            s.stop_loss_pct,
            s.take_profit_pct,
            s.trailing_stop_pct,
            timedelta(minutes=s.max_holding_minutes),
        ),
        risk=RiskLimits(
            s.max_positions,
            s.max_notional_per_symbol,
            s.max_total_notional,
            s.max_daily_loss,
            s.max_orders_per_minute,
        ),
        scan=ScanPolicy(universe=tuple(s.universe), filters=tuple(s.scan_filters)),
        external_holdings=s.external_holdings,
        liquidation=LiquidationPolicy(
            escalate_after=timedelta(seconds=s.liquidation_escalate_seconds),
            reprice_after=timedelta(seconds=s.liquidation_reprice_seconds),
            limit_ticks=s.liquidation_limit_ticks,
            round_interval=s.liquidation_round_seconds,
            escalation_order_type=OrderType[s.liquidation_escalation_order_type],
        ),
        exit_order_type=OrderType[s.exit_order_type],
        auction_exit=OrderType[s.exit_auction_order_type],
    )


def container() -> Container:
    """This process's container, built from the environment on first use."""
    global _container
    with _lock:
        if _container is None:
            _container = Container(get_settings())
        return _container


def use(replacement: Container | None) -> None:
    """Install a container (tests, the demo) or, with ``None``, forget the current one."""
    global _container
    with _lock:
        if _container is not None and _container is not replacement:
            _container.dispose()
        _container = replacement


def reset_after_fork() -> None:
    """Called in each new worker child: never reuse a connection the parent opened."""
    global _container
    with _lock:
        if _container is not None:
            _container.dispose(close=False)
        _container = None


def process_identity() -> str:
    """``hostname:pid``, the owner name used for leases and worker records."""
    return f"{socket.gethostname()}:{os.getpid()}"
