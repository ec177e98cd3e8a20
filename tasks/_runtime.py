"""What every task shares: the service context of this process, the retry policy, and
:func:`contained`, which keeps every exception inside the task unless Celery retries it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from stock_manager.adapters.task_args import InvalidTaskArguments
from stock_manager.bootstrap import container
from stock_manager.domain.broker import BrokerRateLimited, BrokerUnavailable
from stock_manager.services.context import ServiceContext
from stock_manager.services.entry import EntryPlan
from stock_manager.services.prices import ExitPlan

log = logging.getLogger("stock_manager.tasks")
_F = TypeVar("_F", bound=Callable[..., Any])
RETRIED = (BrokerUnavailable, BrokerRateLimited)  # Celery retries these (``RETRY_READS``)

# Reads that failed for a passing reason are retried; orders never are (the ledger decides).
RETRY_READS: dict[str, Any] = {
    "autoretry_for": RETRIED,
    "retry_backoff": 2,
    "retry_backoff_max": 30,
    "retry_jitter": True,
    "max_retries": 3,
}


class Contained(str):
    """What a task returns when it kept an exception in: the task is recorded as failed
    (``celery_app``'s success handler looks for this type) though nothing escaped."""


def contained(task: _F) -> _F:
    """No exception escapes a task unless Celery is meant to retry it (``RETRIED``).
    Arguments that break the task's contract (``InvalidTaskArguments``) are logged at ERROR
    without a traceback and the task ends as ``Contained("invalid arguments")``. Any
    other exception is logged at ERROR — ``task <name> failed for <symbol>: <reason>``, masked, the
    same line Celery's failures get (``celery_app._log_failure``), with the traceback — which
    reaches Slack at once, and the task ends as :class:`Contained`."""

    @functools.wraps(task)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return task(*args, **kwargs)
        except RETRIED:
            raise
        except InvalidTaskArguments as exc:  # a crafted or broken message: nothing was done
            log.error("task %s refused its arguments: %s", task.__name__, str(exc)[:300])
            return Contained("invalid arguments")
        except Exception as exc:
            from stock_manager.adapters.notify.setup import build_masker
            from stock_manager.celery_app import task_symbol

            shown = [a for a in args if not hasattr(a, "request")]  # not a bound task's self
            symbol = task_symbol(shown, kwargs)
            mask = build_masker(container().settings)
            log.error(
                "task %s failed%s: %s",
                task.__name__,
                f" for {symbol}" if symbol else "",
                mask(f"{type(exc).__name__}: {exc}")[:300],
                exc_info=True,
            )
            return Contained(f"error: {type(exc).__name__}")

    return run  # type: ignore[return-value]


def context() -> ServiceContext:
    return container().context()


def send_entries(app: Any, plans: Iterable[EntryPlan], expires: float) -> None:
    """Fan out entries. A plan is stale once the next scan has run: it expires, so a late
    (or redelivered) message can never open a new trade from yesterday's signal."""
    for p in plans:
        app.send_task(
            "tasks.orders.enter",
            expires=expires,
            args=[p.symbol, p.quantity, p.price, p.order_type.code, p.strategy, p.reason],
        )


def send_exits(app: Any, plans: Iterable[ExitPlan], expires: float = 10.0) -> None:
    """Fan out exits; the price checks plan them again every 2 s, so a stale one expires."""
    for p in plans:
        app.send_task(
            "tasks.orders.exit", expires=expires, args=[p.symbol, p.reason.value, p.detail]
        )
