"""A Celery app on the embedded Redis with our transport, for broker tests and benchmarks.

``STRESS_HOME`` names the embedded server's home; ``STRESS_PLAIN=1`` uses kombu's own Redis
transport instead of ours (the benchmark's control run). The one task, ``stress.record``, adds its
number to the Redis set ``stress:done`` (a redelivery adds nothing new) and counts runs.
Settings mirror production: late acks, prefetch 1, and a short visibility timeout so a
killed consumer's messages come back within seconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery import Celery

from stock_manager.adapters import celery_transport
from stock_manager.adapters.embedded_redis import EmbeddedRedis

PLAIN = os.environ.get("STRESS_PLAIN") == "1"
if not PLAIN:
    celery_transport.install()
HOME = Path(os.environ.get("STRESS_HOME", "/nonexistent"))
EMBEDDED = EmbeddedRedis(HOME)
VISIBILITY = float(os.environ.get("STRESS_VISIBILITY", "6"))

app = Celery("stress")
app.conf.update(
    broker_url=EMBEDDED.broker_url,
    broker_transport_options={
        "embedded_redis_home": str(HOME),
        "visibility_timeout": VISIBILITY,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    },
    broker_connection_retry_on_startup=True,
    task_acks_late=True,
    task_reject_on_worker_lost=False,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    task_default_queue="stress",
)
_client: Any = None


@app.task(name="stress.record")
def record(number: int) -> None:
    global _client
    if _client is None:
        _client = EMBEDDED.client()
    pipe = _client.pipeline()
    pipe.sadd("stress:done", number)
    pipe.incr("stress:runs")
    pipe.execute()
