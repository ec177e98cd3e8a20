"""A Celery app on a Redis that tests restart, with our transport and production's settings.

``RESTART_REDIS_URL`` names the server; ``RESTART_DONE`` a folder where ``restart.work``
leaves one file per number it finished (not Redis: a task finishing while Redis is down
still counts). ``RESTART_PLAIN=1`` uses kombu's own transport instead of ours.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery import Celery

from stock_manager.adapters import celery_transport

if os.environ.get("RESTART_PLAIN") != "1":
    celery_transport.install()
DONE = Path(os.environ.get("RESTART_DONE", "/nonexistent"))

app = Celery("restart")
app.conf.update(
    broker_url=os.environ.get("RESTART_REDIS_URL", "redis://127.0.0.1:1/0"),
    broker_transport_options={
        "visibility_timeout": 8,
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    },
    broker_connection_retry_on_startup=True,
    worker_cancel_long_running_tasks_on_connection_loss=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    worker_hijack_root_logger=False,
    task_default_queue="restart",
)


@app.task(name="restart.work")
def work(number: int, seconds: float) -> None:
    time.sleep(seconds)
    (DONE / str(number)).touch()
