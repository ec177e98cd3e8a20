"""The Celery application and its process signals."""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from celery.signals import (
    beat_init,
    heartbeat_sent,
    task_failure,
    task_success,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from stock_manager import bootstrap
from stock_manager.adapters import celery_transport
from stock_manager.domain.records import WorkerProcess

log = logging.getLogger(__name__)
SYMBOL = re.compile(r"[0-9A-Z]{6,7}")

celery_transport.install()  # every Redis URL gets the transport a bad message cannot kill
app = Celery("stock_manager")
app.config_from_object("celeryconfig")


def _configure_flower() -> None:
    """Flower's settings from ours; an unprotected Flower refuses to start with one line
    naming FLOWER_BASIC_AUTH (exit status 2), not a traceback (issue 14)."""
    from stock_manager.adapters.flower import flower_environment, is_flower
    from stock_manager.config import ConfigError

    if not is_flower(sys.argv):
        return
    try:
        settings = bootstrap.container().settings
        os.environ.update(flower_environment(sys.argv, os.environ, settings))
    except ConfigError as exc:
        sys.stderr.write(f"flower refused to start: {' '.join(str(exc).split())}\n")
        sys.exit(2)


_configure_flower()


@worker_init.connect
@beat_init.connect
def _migrate_embedded(**_: Any) -> None:
    """On the embedded SQLite default, bring the schema to head before anything runs."""
    settings = bootstrap.container().settings
    if settings.should_auto_migrate:
        from stock_manager.adapters.db.migrate import upgrade

        upgrade(settings.effective_database_url)


@worker_init.connect
@beat_init.connect
def _alerts_from_logs(**_: Any) -> None:
    """ERROR and CRITICAL log records reach Slack at once, WARNING in batches."""
    from stock_manager.adapters.notify.setup import install_log_handler

    c = bootstrap.container()
    install_log_handler(c.notifier, c.settings)


@worker_process_init.connect
def _after_fork(**_: Any) -> None:
    bootstrap.reset_after_fork()
    _alerts_from_logs()


@worker_process_shutdown.connect
def _child_exit(**_: Any) -> None:
    from stock_manager.adapters.notify.setup import shutdown_notifications

    _guard(shutdown_notifications, notifier=bootstrap.container().notifier)


class _WorkerRecord:
    """The worker's row in ``worker_processes``, refreshed at most once per interval."""

    def __init__(self) -> None:
        self.worker_id = ""
        self.started_at = datetime.now(UTC)
        self._last = 0.0

    def beat(self, force: bool = False) -> None:
        c = bootstrap.container()
        if not force and time.monotonic() - self._last < c.settings.worker_heartbeat_interval:
            return
        self._last = time.monotonic()
        now = datetime.now(UTC)
        worker = WorkerProcess(
            self.worker_id, socket.gethostname(), os.getpid(), self.started_at, now
        )
        with c.uow() as uow:
            uow.workers.heartbeat(worker)
            uow.commit()


_record = _WorkerRecord()


@worker_ready.connect
def _on_ready(sender: Any = None, **_: Any) -> None:
    _record.worker_id = f"{getattr(sender, 'hostname', socket.gethostname())}:{os.getpid()}"
    _guard(_record.beat, force=True)
    _guard(
        lambda: app.send_task(
            "tasks.reconcile.reconcile_positions", kwargs={"reason": "worker_start"}
        )
    )


@heartbeat_sent.connect
def _on_heartbeat(**_: Any) -> None:
    if _record.worker_id:
        _guard(_record.beat)


@worker_shutdown.connect
def _on_shutdown(**_: Any) -> None:
    if not _record.worker_id:
        return

    def stopped() -> None:
        with bootstrap.container().uow() as uow:
            uow.workers.stopped(_record.worker_id, datetime.now(UTC))
            uow.commit()

    _guard(stopped)
    from stock_manager.adapters.notify.setup import shutdown_notifications

    _guard(shutdown_notifications, notifier=bootstrap.container().notifier)


@task_success.connect
def _on_success(sender: Any = None, result: Any = None, **_: Any) -> None:
    from tasks._runtime import Contained

    value = result if isinstance(result, int) and not isinstance(result, bool) else None
    ok = not isinstance(result, Contained)  # it kept an exception in: a failure all the same
    _guard(_record_run, name=getattr(sender, "name", "?"), value=value, ok=ok)


@task_failure.connect
def _on_failure(
    sender: Any = None,
    exception: BaseException | None = None,
    args: Any = None,
    kwargs: Any = None,
    **_: Any,
) -> None:
    name = getattr(sender, "name", "?")
    _guard(_log_failure, name=name, exception=exception, args=args, kwargs=kwargs)
    _guard(_record_run, name=name, value=None, ok=False)


def _log_failure(name: str, exception: BaseException | None, args: Any, kwargs: Any) -> None:
    """One line per failed task in this process's own log, naming the symbol (Celery's own
    line has neither the symbol nor, with Slack configured, a local copy of the notice)."""
    from stock_manager.adapters.notify.handler import LOCAL_ONLY
    from stock_manager.adapters.notify.setup import build_masker

    symbol = task_symbol(args, kwargs)
    reason = f"{type(exception).__name__}: {exception}" if exception else "unknown"
    mask = build_masker(bootstrap.container().settings)
    log.error(
        "task %s failed%s: %s",
        name,
        f" for {symbol}" if symbol else "",
        mask(reason)[:300],
        extra={LOCAL_ONLY: True},
    )


def task_symbol(args: Any, kwargs: Any) -> str | None:
    """The KRX code a task works on: its ``symbol`` keyword or first argument."""
    candidate = (kwargs or {}).get("symbol") or (next(iter(args)) if args else None)
    if isinstance(candidate, str) and SYMBOL.fullmatch(candidate):
        return candidate
    return None


def _record_run(name: str, value: int | None, ok: bool) -> None:
    """When each task last succeeded or failed: the dead-man switch and metrics read it."""
    with bootstrap.container().uow() as uow:
        if ok:
            uow.task_runs.succeeded(name, datetime.now(UTC), value)
        else:
            uow.task_runs.failed(name, datetime.now(UTC))
        uow.commit()


def _guard(action: Any, **kwargs: Any) -> None:
    """Signal handlers must never take the worker down: log and carry on."""
    try:
        action(**kwargs)
    except Exception:
        log.exception("worker signal handler failed")
