"""A no-op Celery task, the reference of ``bench_trading``: the worker imports this module
with ``-I benchmarks._noop``. Its only effect is pushing the time it ran onto a Redis list,
which is how the benchmark sees that it has run."""

from __future__ import annotations

import time
from typing import Any

import redis

from stock_manager.celery_app import app
from stock_manager.config import get_settings

NOOP_TASK = "bench.noop"
_clients: dict[int, Any] = {}  # per process: a forked child never reuses its parent's socket


def _client() -> Any:
    import os

    pid = os.getpid()
    if pid not in _clients:
        _clients[pid] = redis.Redis.from_url(get_settings().redis_url or "")
    return _clients[pid]


@app.task(name=NOOP_TASK, acks_late=False)
def noop(key: str) -> None:
    _client().rpush(key, repr(time.time()))
