"""A bounded, never-blocking queue between callers and the one thread that talks to Slack."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Outbox(Generic[T]):
    """FIFO of pending items. ``put`` never blocks: when full, the least important goes.

    A full outbox drops its oldest item of the lowest rank, provided that rank is not above
    the new item's; otherwise the new item itself is dropped. Drops are counted.
    """

    def __init__(self, capacity: int, rank: Callable[[T], int]) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._rank = rank
        self._items: deque[T] = deque()
        self._in_flight = 0
        self._closed = False
        self._dropped = 0  # since the last take_dropped()
        self.total_dropped = 0
        self._cond = threading.Condition()

    def put(self, item: T) -> bool:
        """Queue ``item``; ``False`` if it was refused (closed, or full of more important)."""
        with self._cond:
            if self._closed or (
                len(self._items) >= self._capacity and not self._make_room(self._rank(item))
            ):
                self._drop(1)
                return False
            self._items.append(item)
            self._cond.notify_all()
            return True

    def get(self) -> T | None:
        """The next item (waiting for one), or ``None`` once closed and empty."""
        with self._cond:
            while not self._items and not self._closed:
                self._cond.wait()
            if not self._items:
                return None
            self._in_flight += 1
            return self._items.popleft()

    def done(self) -> None:
        """Mark the item last returned by :meth:`get` as handled."""
        with self._cond:
            self._in_flight -= 1
            self._cond.notify_all()

    def join(self, timeout: float) -> bool:
        """Wait until every queued item is handled; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._items or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True

    def close(self) -> None:
        """Refuse new items; :meth:`get` drains what is queued, then returns ``None``."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def discard(self) -> int:
        """Drop everything still queued (used when giving up at shutdown); return how many."""
        with self._cond:
            count = len(self._items)
            self._items.clear()
            self._drop(count)
            self._cond.notify_all()
            return count

    def take_dropped(self) -> int:
        """Items dropped since the last call."""
        with self._cond:
            count, self._dropped = self._dropped, 0
            return count

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def _drop(self, count: int) -> None:
        self._dropped += count
        self.total_dropped += count

    def _make_room(self, rank: int) -> bool:
        lowest = min(self._rank(queued) for queued in self._items)
        if lowest > rank:
            return False
        for index, queued in enumerate(self._items):
            if self._rank(queued) == lowest:
                del self._items[index]
                self._drop(1)
                return True
        return False  # unreachable: some item has the lowest rank
