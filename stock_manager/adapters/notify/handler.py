"""A logging handler that brings warnings and errors to Slack through a notifier.

=========== ==========================================================================
Level       What happens
=========== ==========================================================================
CRITICAL    sent at once (``log_critical`` notice, in the thread of its earlier repeats)
ERROR       sent at once (``log_error`` notice, in the thread of its earlier repeats)
WARNING     collected; one ``log_warnings`` notice per batch window and on flush
INFO, DEBUG never sent
=========== ==========================================================================

The same message (logger, level and message template) seen again within the dedupe window
is dropped and counted; the counts ride along with the next message or batch. Records from
slack-sdk, urllib and our own notifiers are ignored, so sending can never feed itself.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable

from stock_manager.adapters.notify.dedupe import Deduper
from stock_manager.adapters.notify.masking import mask
from stock_manager.adapters.notify.records import compact_traceback, describe_window, one_line
from stock_manager.ports import Notice, NoticeLevel, Notifier

IGNORED_LOGGERS = (
    "slack_sdk",
    "slack",
    "urllib3",
    "urllib",
    "http.client",
    "stock_manager.adapters.notify",
    "stock_manager.notice",
)
Key = tuple[str, int, str]  # logger name, level, message template


LOCAL_ONLY = "local_only"  # ``extra={LOCAL_ONLY: True}``: for the process's log, not Slack


def is_ours(record: logging.LogRecord) -> bool:
    """Whether a record comes from the machinery that sends notices, or is marked as a
    detail for the local log only (what Slack already got in another form)."""
    if getattr(record, LOCAL_ONLY, False):
        return True
    name = record.name
    return any(name == p or name.startswith(p + ".") for p in IGNORED_LOGGERS)


class SlackLogHandler(logging.Handler):
    """Route log records to a :class:`~stock_manager.ports.Notifier` by level."""

    def __init__(
        self,
        notifier: Notifier,
        *,
        batch_seconds: float = 300.0,
        dedupe_seconds: float = 60.0,
        masker: Callable[[str], str] = mask,
        clock: Callable[[], float] = time.monotonic,
        tick_seconds: float | None = 1.0,
        max_batch_lines: int = 40,
        at_exit: bool = True,
    ) -> None:
        super().__init__(logging.WARNING)
        self.addFilter(lambda record: not is_ours(record))
        self.notifier = notifier
        self._batch_seconds = batch_seconds
        self._dedupe_seconds = dedupe_seconds
        self._mask = masker
        self._clock = clock
        self._max_lines = max_batch_lines
        self._deduper: Deduper[Key] = Deduper(dedupe_seconds, clock)
        self._lines: list[str] = []
        self._overflow = 0
        self._window_start: float | None = None
        self._busy = threading.local()
        self._tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._pid = -1
        self._ensure_ticker()
        if at_exit:  # runs before the notifier's own exit hook, which was registered earlier
            atexit.register(self.flush)

    # -- logging.Handler -------------------------------------------------------------------------
    def emit(self, record: logging.LogRecord) -> None:
        if getattr(self._busy, "active", False):
            return  # a record logged while we handle one: never recurse
        self._busy.active = True
        try:
            self._ensure_ticker()
            self._route(record)
        except Exception:
            self.handleError(record)
        finally:
            self._busy.active = False

    def flush(self) -> None:
        """Hand the pending warning batch (and repeat counts) to the notifier now."""
        lock = self.lock
        if lock is None:  # only after a failed logging.Handler.__init__
            return
        with lock:
            self._send_batch()

    def close(self) -> None:
        self._stop.set()
        atexit.unregister(self.flush)
        ticker = self._ticker
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(2.0)
        self.flush()
        super().close()

    def tick(self) -> None:
        """Send the warning batch if its window has passed (the ticker thread calls this)."""
        lock = self.lock
        if lock is None:
            return
        with lock:
            self._send_batch_if_due()

    # -- routing ------------------------------------------------------------------------------
    def _route(self, record: logging.LogRecord) -> None:
        key: Key = (record.name, record.levelno, str(record.msg))
        if not self._deduper.allow(key):
            self._open_window()  # so the count goes out even if nothing else does
        elif record.levelno >= logging.ERROR:
            self.notifier.send(self._error_notice(record, key))
        else:
            self._add_warning(record)
        self._send_batch_if_due()

    def _error_notice(self, record: logging.LogRecord, key: Key) -> Notice:
        level: NoticeLevel = "critical" if record.levelno >= logging.CRITICAL else "error"
        message = self._mask(record.getMessage())
        first = one_line(message, 150)
        body = [f"`{record.name}`"]
        if message != first:
            body.append(message)
        trace = compact_traceback(record)
        if trace:
            body.append(f"```{self._mask(trace)}```")
        body.extend(self._repeats_footer())
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:16]
        return Notice(f"log_{level}", level, first, "\n".join(body), thread_key=f"log:{digest}")

    def _add_warning(self, record: logging.LogRecord) -> None:
        self._open_window()
        if len(self._lines) >= self._max_lines:
            self._overflow += 1
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"• `{stamp}` `{record.name}`: {one_line(self._mask(record.getMessage()), 300)}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" ({type(error).__name__}: {one_line(self._mask(str(error)), 120)})"
        self._lines.append(line)

    # -- the batch --------------------------------------------------------------------------------
    def _open_window(self) -> None:
        if self._window_start is None:
            self._window_start = self._clock()

    def _send_batch_if_due(self) -> None:
        start = self._window_start
        if start is not None and self._clock() - start >= self._batch_seconds:
            self._send_batch()

    def _send_batch(self) -> None:
        lines, overflow = self._lines, self._overflow
        self._lines, self._overflow, self._window_start = [], 0, None
        footer = self._repeats_footer()
        count = len(lines) + overflow
        if not count and not footer:
            return
        if overflow:
            lines.append(f"… and {overflow} more")
        title = (
            f"{count} warning{'s' if count != 1 else ''} "
            f"(batched every {describe_window(self._batch_seconds)})"
            if count
            else "Repeated log messages"
        )
        self.notifier.send(Notice("log_warnings", "warning", title, "\n".join(lines + footer)))

    def _repeats_footer(self) -> list[str]:
        counts = self._deduper.take_all()
        if not counts:
            return []
        window = describe_window(self._dedupe_seconds)
        footer = [f"Repeats suppressed (same message within {window}):"]
        for (name, level, template), n in sorted(counts.items()):
            text = one_line(self._mask(template), 120)
            footer.append(f"• `{name}` {logging.getLevelName(level)} “{text}” ×{n}")
        return footer

    # -- plumbing -----------------------------------------------------------------------------
    def _ensure_ticker(self) -> None:
        """Start the batch timer thread (again, in a forked child)."""
        if self._tick_seconds is None or self._pid == os.getpid() or self._stop.is_set():
            return
        self._pid = os.getpid()
        self._ticker = threading.Thread(
            target=self._tick_loop, args=(self._tick_seconds,), name="slack-log-batch", daemon=True
        )
        self._ticker.start()

    def _tick_loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.tick()
            except Exception:  # the timer must outlive any one failure
                logging.getLogger(__name__).debug("batch tick failed", exc_info=True)
