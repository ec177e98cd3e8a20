"""Keep the stream's loops alive: restart one that dies of a bug, with backoff and an alert.

``stock-manager stream`` is the low-latency path for ticks and execution notices; before
issue 11 one unexpected exception ended the process and both stopped until someone noticed.
Every malformed frame is already counted and skipped by the client (``websocket.py``), so
whatever still escapes a loop is a bug or a dependency failing in an unforeseen way (the
token store, the Celery broker). :class:`Supervisor` logs where it happened (never the
message: a frame's content may carry the account), sends a :class:`~stock_manager.ports.Notice`,
waits ``uniform(base / 2, min(cap, base * 2**n))`` seconds and runs the loop again. A loop
that ran ``stable_after`` seconds before failing starts again from ``base``. Setting the stop
event (SIGINT/SIGTERM) ends the waiting at once and nothing restarts after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from stock_manager.adapters.kis.websocket import Backoff
from stock_manager.ports import Notice

log = logging.getLogger("stock_manager.kis")
Alert = Callable[[Notice], None]


def _log_alert(notice: Notice) -> None:
    log.error("%s: %s", notice.title, notice.text)


def where(exc: BaseException) -> str:
    """``file.py:123 in function`` of the innermost frame of ``exc``'s traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "unknown place"
    last = frames[-1]
    return f"{Path(last.filename).name}:{last.lineno} in {last.name}"


@dataclass
class Restart:
    loop: str
    error: str  # the exception's type and where it was raised, never its message
    delay: float


@dataclass
class Supervisor:
    """Runs named loops until ``stop`` is set, restarting any that raises."""

    alert: Alert = _log_alert
    base: float = 1.0
    cap: float = 60.0
    stable_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, repr=False)
    restarts: list[Restart] = field(default_factory=list)

    async def run(
        self, name: str, loop: Callable[[], Awaitable[None]], stop: asyncio.Event
    ) -> None:
        """Await ``loop()``; if it raises, alert, back off and await it again."""
        backoff = Backoff(self.base, self.cap, rng=self.rng)
        while not stop.is_set():
            started = time.monotonic()
            try:
                await loop()
                return
            except Exception as exc:  # the point of a supervisor; CancelledError passes
                if stop.is_set():
                    log.warning("stream %s failed while stopping: %s", name, type(exc).__name__)
                    return
                if time.monotonic() - started >= self.stable_after:
                    backoff.reset()
                delay = backoff.next()
                self._restarting(name, exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)

    def _restarting(self, name: str, exc: Exception, delay: float) -> None:
        restart = Restart(name, f"{type(exc).__name__} at {where(exc)}", delay)
        self.restarts.append(restart)
        log.error(
            "stream %s failed (%s); restarting in %.1f s (restart %d)",
            name,
            restart.error,
            delay,
            len(self.restarts),
        )
        notice = Notice(
            "stream_restart",
            "error",
            f"Stream {name} loop restarted after an unexpected error",
            f"{restart.error}; restarting in {delay:.1f} s (restart {len(self.restarts)} "
            "of this process). Ticks and execution notices pause until it is back; "
            "order sync and price checks still poll.",
            thread_key=f"stream_restart:{name}",
        )
        try:
            self.alert(notice)
        except Exception as alert_exc:  # a broken notifier must not stop the restart
            log.warning("could not send the stream alert: %s", type(alert_exc).__name__)
