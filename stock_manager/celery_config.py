"""Celery settings built from our Settings (``celeryconfig.py`` exposes them to Celery).

Reliability choices follow ``shared/reference/celery.md``: late acks on trading tasks,
prefetch 1, soft < hard time limit < lease TTL < visibility timeout (checked in Settings),
retry on start-up, cancel long-running tasks when the broker connection drops.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time
from typing import Any

from celery.schedules import crontab
from kombu.entity import Queue

from stock_manager.adapters import beat, celery_transport
from stock_manager.adapters.embedded_redis import EmbeddedRedis
from stock_manager.config import Settings
from stock_manager.config_rules import BEAT_MAX_LOOP_INTERVAL

# Every Redis URL in a process that builds our Celery configuration gets our transport (a
# bad message cannot kill a consumer; the embedded server starts before the connection).
celery_transport.install()

QUEUES = ("scan", "prices", "ticks", "trading", "liquidation")
TASK_MODULES = (
    "tasks.market",
    "tasks.scan",
    "tasks.prices",
    "tasks.orders",
    "tasks.locks",
    "tasks.reconcile",
    "tasks.liquidation",
    "tasks.reports",
)


def task_modules(argv: Sequence[str]) -> tuple[str, ...]:
    """The task modules a Celery process imports (``imports``): none for ``celery beat`` on
    its own, which sends tasks by name and routes them by name (``ROUTES``), so it need not
    load the services, the ledger or the report charts' numpy and matplotlib."""
    args = list(argv[1:])
    return () if "beat" in args and "worker" not in args else TASK_MODULES


# A scheduled liquidation message older than this is stale: the deadline guard takes over.
LIQUIDATION_EXPIRES = 20 * 60
ROUTES = {
    "tasks.prices.on_tick": {"queue": "ticks"},
    "tasks.scan.*": {"queue": "scan"},
    "tasks.prices.*": {"queue": "prices"},
    "tasks.liquidation.*": {"queue": "liquidation"},
    "tasks.*": {"queue": "trading"},
}


def _weekdays_at(at: time) -> crontab:
    return crontab(hour=at.hour, minute=at.minute, day_of_week="mon-fri")


def beat_schedule(s: Settings) -> dict[str, dict[str, Any]]:
    """ARCHITECTURE §6. Crontab entries fire on weekdays; each task checks the KRX calendar
    itself, so holidays and special sessions never need a different schedule."""
    return {
        "market-open-session": {
            "task": "tasks.market.open_session",
            "schedule": _weekdays_at(s.market_open_time),
            "options": {"expires": 600},
        },
        "scan-candidates": {
            "task": "tasks.scan.scan_candidates",
            "schedule": s.scan_interval,
            "options": {"expires": s.scan_interval},
        },
        "check-prices": {
            "task": "tasks.prices.check_prices",
            "schedule": s.price_check_interval,
            "options": {"expires": s.price_check_interval},
        },
        "sync-orders": {
            "task": "tasks.orders.sync_orders",
            "schedule": s.order_sync_interval,
            "options": {"expires": s.order_sync_interval},
        },
        "sweep-locks": {
            "task": "tasks.locks.sweep_locks",
            "schedule": s.lock_sweep_interval,
            "options": {"expires": s.lock_sweep_interval},
        },
        "reconcile-positions": {
            "task": "tasks.reconcile.reconcile_positions",
            "schedule": s.reconcile_interval,
            "options": {"expires": s.reconcile_interval},
        },
        "liquidate-all": {
            "task": "tasks.liquidation.liquidate_all",
            "schedule": _weekdays_at(s.liquidation_time),
            "kwargs": {"scheduled": True},
            "options": {"expires": LIQUIDATION_EXPIRES},
        },
        "close-session": {
            "task": "tasks.market.close_session",
            "schedule": _weekdays_at(s.market_close_time),
            "options": {"expires": 3600},
        },
        "daily-summary": {
            "task": "tasks.reports.daily_summary",
            "schedule": _weekdays_at(s.daily_summary_time),
            "options": {"expires": 3600},
        },
    }


def _transport_options(s: Settings) -> dict[str, Any]:
    options: dict[str, Any] = {"visibility_timeout": s.broker_visibility_timeout}
    if s.broker_is_embedded:  # read by our transport: start the server before connecting
        options["embedded_redis_home"] = str(EmbeddedRedis.for_data_dir(s.data_dir).home)
    return options


def beat_config(s: Settings) -> dict[str, Any]:
    """Beat with failover (``adapters/beat.py``): redbeat keeps the schedule in REDIS_URL's
    Redis (or the embedded one), our lock picks the one beat that schedules."""
    embedded = s.embedded_redis
    return {
        "beat_scheduler": f"{beat.__name__}:LeaderScheduler",
        "beat_schedule": beat_schedule(s),
        "beat_cron_starting_deadline": 300,
        "beat_max_loop_interval": BEAT_MAX_LOOP_INTERVAL,
        # Every beat answers `celery inspect ping -d celerybeat@host` while it ticks (leader
        # or standby): compose's healthcheck. Celery stops answering after 60 s without one.
        "beat_enable_remote_control": True,
        "redbeat_redis_url": s.effective_redis_url,
        "redbeat_redis_options": {},  # ours: no fallback to the broker's options
        "redbeat_key_prefix": beat.KEY_PREFIX,
        "redbeat_lock_key": None,  # leadership is adapters/beat.py's, not redbeat's
        beat.LOCK_TIMEOUT: s.beat_lock_timeout,
        beat.EMBEDDED_HOME: str(embedded.home) if embedded is not None else None,
    }


def build_celery_config(s: Settings) -> dict[str, Any]:
    transport = _transport_options(s)
    return {
        "broker_url": s.effective_broker_url,
        "broker_transport_options": transport,
        "broker_connection_retry_on_startup": True,
        "result_backend": None,
        "task_ignore_result": True,
        "timezone": "Asia/Seoul",
        "enable_utc": True,
        "imports": TASK_MODULES,
        "task_queues": [Queue(name) for name in QUEUES],
        "task_default_queue": "trading",
        "task_routes": ROUTES,
        "task_acks_late": True,
        "task_reject_on_worker_lost": False,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": s.task_soft_time_limit,
        "task_time_limit": s.task_time_limit,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "worker_soft_shutdown_timeout": 10.0,
        "worker_concurrency": s.worker_concurrency,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
        **beat_config(s),
    }
