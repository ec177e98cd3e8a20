"""The Slack notifier: callers only queue; one background thread posts with slack-sdk.

``send`` never blocks and never raises. The thread posts each notice with
``chat.postMessage``; a notice whose ``thread_key`` opened an incident earlier becomes a reply
in that incident's thread; a notice with an ``image_path`` is followed by the image, uploaded
with ``files_upload_v2``. Rate limits (HTTP 429) are retried after ``Retry-After``, server
and network errors with backoff; Slack's other errors (``ok: false``) drop the notice.
Every outgoing text goes through the masker.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from stock_manager.adapters.notify.dedupe import Deduper
from stock_manager.adapters.notify.format import format_notice, format_title
from stock_manager.adapters.notify.log import LogNotifier
from stock_manager.adapters.notify.masking import mask
from stock_manager.adapters.notify.outbox import Outbox
from stock_manager.adapters.notify.threads import ThreadBook
from stock_manager.ports import Notice

log = logging.getLogger(__name__)

RANKS = {"info": 0, "warning": 1, "error": 2, "critical": 3}
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


@dataclass
class _Item:
    notice: Notice
    notes: list[str] = field(default_factory=list)
    attempts: int = 0
    prepared: bool = False
    reply_to: str | None = None  # ts of the incident's first message
    image: Path | None = None  # still to upload
    ts: str | None = None  # set once the text is posted: a retry then only uploads the image


class SlackNotifier:
    """A :class:`~stock_manager.ports.Notifier` that posts to one Slack channel."""

    def __init__(
        self,
        client: WebClient,
        channel: str,
        *,
        masker: Callable[[str], str] = mask,
        max_queue: int = 1000,
        dedupe_seconds: float = 0.0,
        thread_ttl: float = 12 * 3600.0,
        max_attempts: int = 5,
        retry_backoff: float = 1.0,
        max_retry_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        at_exit: bool = True,
        exit_timeout: float = 10.0,
    ) -> None:
        self._client = client
        self._channel = channel
        self._channel_id: str | None = None  # learnt from chat.postMessage, needed for files
        self._mask = masker
        self._local = LogNotifier(masker)  # every notice is in the process's own log too
        self._max_queue = max_queue
        self._deduper: Deduper[Notice] | None = (
            Deduper(dedupe_seconds, clock) if dedupe_seconds > 0 else None
        )
        self._threads = ThreadBook(thread_ttl, clock)
        self._max_attempts = max_attempts
        self._retry_backoff = retry_backoff
        self._max_retry_wait = max_retry_wait
        self._exit_timeout = exit_timeout
        self._closed = False
        self.delivered = 0
        self.failed = 0
        self._reset_worker()
        if at_exit:
            atexit.register(self._close_at_exit)

    def __repr__(self) -> str:
        return f"SlackNotifier(channel={self._channel!r})"  # the client holds the token

    # -- the caller's side: never blocks, never raises --------------------------------------
    def send(self, notice: Notice) -> None:
        """Log ``notice`` here, and queue it for the background thread (dropped if closed or a
        repeat): a worker's own log shows what Slack shows (issue 14)."""
        try:
            self._local.send(notice)
            if self._closed:
                return
            self._ensure_worker()
            notes = self._repeat_notes(notice)
            if notes is not None:
                self._outbox.put(_Item(notice, notes))
        except Exception:  # a notifier must never break the caller
            log.debug("could not queue a notice", exc_info=True)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is delivered (or given up); ``False`` on timeout."""
        if self._thread is None or not self._thread.is_alive():
            return len(self._outbox) == 0
        return self._outbox.join(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Deliver what is queued (up to ``timeout``), then stop the thread. Idempotent."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self._close_at_exit)
        self._outbox.close()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
            if thread.is_alive():  # Slack is too slow: give up on the rest
                self._abort.set()
                lost = self._outbox.discard()
                log.warning("Slack notifier stopped with %d notices undelivered", lost + 1)
                thread.join(1.0)

    @property
    def dropped(self) -> int:
        """Notices dropped because the queue was full or the notifier closed."""
        return self._outbox.total_dropped

    @property
    def closed(self) -> bool:
        return self._closed

    def _repeat_notes(self, notice: Notice) -> list[str] | None:
        if self._deduper is None:
            return []
        if not self._deduper.allow(notice):
            return None
        repeats = self._deduper.take(notice)
        return [f"repeated {repeats} more times since the last message"] if repeats else []

    def _close_at_exit(self) -> None:
        self.close(self._exit_timeout)

    # -- the background thread ----------------------------------------------------------------
    def _reset_worker(self) -> None:
        self._pid = os.getpid()
        self._outbox: Outbox[_Item] = Outbox(self._max_queue, lambda i: RANKS[i.notice.level])
        self._abort = threading.Event()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _ensure_worker(self) -> None:
        if self._pid != os.getpid():  # forked: the parent's thread and queue stay there
            self._reset_worker()
        if self._thread is not None:
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="slack-notifier", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while (item := self._outbox.get()) is not None:
            try:
                self._deliver(item)
            except Exception as exc:  # keep the thread alive whatever happens
                self.failed += 1
                log.error("Slack notifier failed on a %s notice: %s", item.notice.kind, _why(exc))
            finally:
                self._outbox.done()

    def _deliver(self, item: _Item) -> None:
        dropped = self._outbox.take_dropped()
        if dropped:
            item.notes.append(f"{dropped} earlier notices were dropped (queue full)")
        while not self._abort.is_set():
            try:
                self._post(item)
                self.delivered += 1
                return
            except Exception as exc:
                delay = self._retry_delay(exc, item)
                if delay is None:
                    self.failed += 1
                    log.warning("Slack dropped a %s notice: %s", item.notice.kind, _why(exc))
                    return
                log.info("Slack retry of a %s notice in %.1fs", item.notice.kind, delay)
                self._abort.wait(delay)

    def _post(self, item: _Item) -> None:
        notice = item.notice
        if item.ts is None:
            if not item.prepared:
                self._prepare(item)
            item.ts = self._post_text(item)
            if notice.thread_key and item.reply_to is None:
                self._threads.remember(notice.thread_key, item.ts)
        if item.image is not None:
            self._client.files_upload_v2(
                channel=self._channel_id or self._channel,
                file=str(item.image),
                filename=item.image.name,
                title=format_title(notice, self._mask),
                thread_ts=item.reply_to,
            )
            item.image = None

    def _prepare(self, item: _Item) -> None:
        """Resolve, once per notice, the thread it replies to and the image it carries."""
        notice = item.notice
        item.prepared = True
        item.reply_to = self._threads.get(notice.thread_key) if notice.thread_key else None
        if notice.image_path:
            image = Path(notice.image_path)
            if image.is_file():
                item.image = image
            else:
                item.notes.append(f"image not found: {image.name}")

    def _post_text(self, item: _Item) -> str:
        notice, thread_ts = item.notice, item.reply_to
        response = self._client.chat_postMessage(
            channel=self._channel,
            text=format_notice(notice, self._mask, item.notes),
            thread_ts=thread_ts,
            reply_broadcast=True if thread_ts and notice.level == "critical" else None,
            unfurl_links=False,
            unfurl_media=False,
        )
        self._channel_id = str(response.get("channel") or self._channel_id or self._channel)
        return str(response["ts"])

    def _retry_delay(self, exc: Exception, item: _Item) -> float | None:
        """Seconds to wait before another attempt, or ``None`` to give up."""
        item.attempts += 1
        if item.attempts >= self._max_attempts:
            return None
        backoff = min(self._retry_backoff * 2.0 ** (item.attempts - 1), self._max_retry_wait)
        if isinstance(exc, SlackApiError):
            status = exc.response.status_code
            if status == 429:
                return min(_retry_after(exc.response.headers), self._max_retry_wait)
            if status >= 500 or exc.response.get("error") in TRANSIENT_ERRORS:
                return backoff
            return None
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError | PermissionError):
            return backoff  # connection refused or reset, timeouts
        return None


def _retry_after(headers: dict[str, object]) -> float:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(float(str(raw)), 0.0)
            except ValueError:
                break
    return 1.0


def _why(exc: Exception) -> str:
    """A short reason without the response body (which may echo what we sent)."""
    if isinstance(exc, SlackApiError):
        return f"HTTP {exc.response.status_code} {exc.response.get('error')}"
    if isinstance(exc, SlackClientError):
        return type(exc).__name__
    return f"{type(exc).__name__}: {exc}"[:200]
