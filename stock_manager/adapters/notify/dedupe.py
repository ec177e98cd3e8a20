"""Drop repeats of the same message within a window, counting what was dropped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class Deduper(Generic[K]):
    """Let a key through at most once per ``window`` seconds and count the repeats held back.

    The window starts when a key goes through, so a message repeated every second is sent
    once per window, each time with the number of repeats since the previous one.
    """

    def __init__(
        self, window: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 4096
    ) -> None:
        self._window = window
        self._clock = clock
        self._max_keys = max_keys
        self._passed: dict[K, float] = {}
        self._suppressed: dict[K, int] = {}
        self._lock = threading.Lock()

    def allow(self, key: K) -> bool:
        """``True`` if ``key`` may be sent now; ``False`` (and counted) if it is a repeat."""
        now = self._clock()
        with self._lock:
            last = self._passed.get(key)
            if last is not None and now - last < self._window:
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            self._passed[key] = now
            if len(self._passed) > self._max_keys:
                self._forget_old(now)
            return True

    def take(self, key: K) -> int:
        """The repeats of ``key`` held back since it was last reported; resets the count."""
        with self._lock:
            return self._suppressed.pop(key, 0)

    def take_all(self) -> dict[K, int]:
        """Every key's held-back repeats; resets all counts."""
        with self._lock:
            counts, self._suppressed = self._suppressed, {}
            return counts

    def has_suppressed(self) -> bool:
        with self._lock:
            return bool(self._suppressed)

    def _forget_old(self, now: float) -> None:
        stale = [k for k, t in self._passed.items() if now - t >= self._window]
        for key in stale:
            if key not in self._suppressed:
                del self._passed[key]
