"""Remember which Slack message opened each incident, so follow-ups become thread replies."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class ThreadBook:
    """``thread_key`` -> ``ts`` of the incident's first message, forgotten after ``ttl``.

    Memory is per process: after a restart, or in another worker process, the next notice
    of the same incident opens a new thread.
    """

    def __init__(
        self, ttl: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 1024
    ) -> None:
        self._ttl = ttl
        self._clock = clock
        self._max_keys = max_keys
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        """The ``ts`` of the incident's first message, if still remembered."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            ts, expires = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            return ts

    def remember(self, key: str, ts: str) -> None:
        with self._lock:
            self._entries[key] = (ts, self._clock() + self._ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_keys:
                self._entries.popitem(last=False)
