"""The trading day as the simulator runs it (``GET /_sim/clock``), for ``KIS_ENV=sim``.

The simulator decides its own day: 09:00-15:20 KST today by default, every day of the week,
or a compressed session opened at start (``--session-minutes``) or moved at run time
(``POST /_sim/session``). A KRX table cannot know any of that, so with ``KIS_ENV=sim`` and no
``SESSION_OPEN``/``SESSION_CLOSE`` the calendar asks the simulator (issue 14: a simulator
run without them took the system's day OFFLINE -> CLOSED while the simulator still traded).

Answers are kept ``ttl`` seconds. When the simulator does not answer, today has no known
session (the market stays where it is, never CLOSED by a guess) and a warning is logged at
most once a minute.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import httpx

from stock_manager.domain.clock import KST

log = logging.getLogger(__name__)
Times = tuple[datetime, datetime, datetime]
Fetch = Callable[[str, float], dict[str, Any]]


def _get_json(url: str, timeout: float) -> dict[str, Any]:
    response = httpx.get(url, timeout=timeout)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


class SimSessionSource:
    """``SessionSource`` backed by the simulator's ``/_sim/clock``."""

    def __init__(
        self,
        rest_url: str,
        timeout: float = 3.0,
        ttl: float = 5.0,
        fetch: Fetch = _get_json,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = rest_url.rstrip("/") + "/_sim/clock"
        self._timeout, self._ttl, self._fetch, self._now = timeout, ttl, fetch, monotonic
        self._known: tuple[date, Times] | None = None
        self._fetched_at = float("-inf")
        self._warned_at = float("-inf")

    def serves(self, day: date) -> bool:
        """Today (KST), and whatever day the simulator last said it trades."""
        known = self._current()
        return day == datetime.now(KST).date() or (known is not None and known[0] == day)

    def session(self, day: date) -> Times | None:
        known = self._current()
        return known[1] if known is not None and known[0] == day else None

    def _current(self) -> tuple[date, Times] | None:
        if self._now() - self._fetched_at < self._ttl:
            return self._known
        try:
            self._known = _parse(self._fetch(self.url, self._timeout))
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self._known = None
            self._warn(exc)
        self._fetched_at = self._now()
        return self._known

    def _warn(self, exc: Exception) -> None:
        if self._now() - self._warned_at >= 60:
            self._warned_at = self._now()
            log.warning(
                "the simulator's clock at %s did not answer (%s): no session today until it "
                "does (KIS_ENV=sim without SESSION_OPEN/SESSION_CLOSE)",
                self.url,
                type(exc).__name__,
            )


def _parse(clock: dict[str, Any]) -> tuple[date, Times]:
    session = clock["session"]
    opens, ends, auction = (
        datetime.fromisoformat(session[key]).astimezone(KST)
        for key in ("opens_at", "continuous_ends_at", "auction_ends_at")
    )
    if not opens < ends <= auction:
        raise ValueError("session times out of order")
    return date.fromisoformat(session["day"]), (opens, ends, auction)
