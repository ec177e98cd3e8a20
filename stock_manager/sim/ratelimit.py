"""Per-app-key request limit over a sliding one-second window (EGW00201 when exceeded)."""

from __future__ import annotations

from collections import deque


class SlidingWindowLimiter:
    """At most ``limit`` admitted requests in any ``window`` seconds per key.

    Rejected requests are not counted, so a client that backs off recovers as soon as the
    window slides. A limit of 0 admits everything.
    """

    def __init__(self, limit: float, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[str, deque[float]] = {}

    def set_limit(self, limit: float) -> None:
        self.limit = limit

    def admit(self, key: str, now: float) -> bool:
        if self.limit <= 0:
            return True
        seen = self._seen.setdefault(key, deque())
        horizon = now - self.window
        while seen and seen[0] <= horizon:
            seen.popleft()
        if len(seen) >= max(1, int(self.limit)):
            return False
        seen.append(now)
        return True
