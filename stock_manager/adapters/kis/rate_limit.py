"""Cluster-wide request pacing per app key, with priority lanes.

Both limiters run GCRA (the generic cell rate algorithm): a *theoretical arrival time*
``tat`` moves forward by ``1/rate`` per granted request, and a request may go when
``tat - tolerance <= now``. With ``burst=1`` requests are spaced evenly, so no one-second
window holds more than ``rate`` of them.

Priority lanes (``ports.Lane``): a caller that must wait registers itself as a *waiter*
with its lane and a heartbeat. While a waiter of a higher lane (lower number) exists, lower
lanes are not granted even if a slot is free: liquidation > exit > cancel > entry > sync >
scan. Waiters that die stop heartbeating and are purged.

``RedisRateLimiter`` does all of this in one Lua script (one round trip per attempt, the
Redis server's clock). ``FileRateLimiter`` keeps the same state in a JSON file under an
exclusive ``fcntl`` lock: every process on one host, no server (the embedded default).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from redis import Redis

from stock_manager.adapters.kis.errors import KISRateLimitError
from stock_manager.ports import Lane

log = logging.getLogger(__name__)
NOTABLE_WAIT = 1.0  # seconds: a wait this long is logged (what for, how long)

# KEYS: tat, waiters (lane scores), heartbeats (expiry scores)
# ARGV: waiter, lane, interval_ms, tolerance_ms, heartbeat_ms
# Returns 0 when granted, else the suggested wait in microseconds.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local top = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if #top > 0 then
  -- waiters whose heartbeat ran out (a process that died waiting) stop holding the queue
  local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  if #dead > 0 then
    redis.call('ZREM', KEYS[2], unpack(dead))
    redis.call('ZREM', KEYS[3], unpack(dead))
    top = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  end
end
local lane = tonumber(ARGV[2])
local interval = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tonumber(ARGV[4]) - now
local outranked = #top > 0 and top[1] ~= ARGV[1] and tonumber(top[2]) < lane
if outranked or wait > 0 then
  if outranked then wait = math.max(wait, 0) + interval end
  redis.call('ZADD', KEYS[2], lane, ARGV[1])
  redis.call('ZADD', KEYS[3], now + wait + tonumber(ARGV[5]), ARGV[1])
  redis.call('PEXPIRE', KEYS[2], 60000)
  redis.call('PEXPIRE', KEYS[3], 60000)
  return math.max(1, math.ceil(wait * 1000))
end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 1000)
if #top > 0 then  -- no queue, nothing of ours in it: the common case is four calls
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 0
"""
# KEYS: tat   ARGV: penalty_ms  -- nobody is granted before now + penalty
_PENALIZE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local until_ms = now + tonumber(ARGV[1])
if tat < until_ms then
  redis.call('SET', KEYS[1], tostring(until_ms), 'PX', math.ceil(until_ms - now) + 1000)
end
return 0
"""


@runtime_checkable
class Penalizable(Protocol):
    def penalize(self, seconds: float) -> None:
        """Hold every lane back for ``seconds`` (after KIS answered ``EGW00201``)."""
        ...


class _Pacer:
    """The waiting loop shared by both limiters: try, sleep as told, give up at the deadline."""

    rate: float
    default_timeout: float
    _sleep: Callable[[float], None]
    _monotonic: Callable[[], float]

    def try_acquire(self, waiter: str, lane: Lane) -> float:
        """One attempt: 0 when granted, else seconds to wait before trying again.

        A refused ``waiter`` stays registered in its lane (holding lower lanes back) until it
        is granted, calls :meth:`forget`, or stops trying for longer than the heartbeat."""
        raise NotImplementedError

    def forget(self, waiter: str) -> None:
        raise NotImplementedError

    def acquire(self, lane: Lane, timeout: float | None = None) -> None:
        """Block until a request may be sent in ``lane``; ``KISRateLimitError`` on timeout."""
        waiter = uuid.uuid4().hex
        deadline = self._monotonic() + (self.default_timeout if timeout is None else timeout)
        granted = False
        try:
            while True:
                wait = self.try_acquire(waiter, lane)
                if wait <= 0:
                    granted = True
                    return
                remaining = deadline - self._monotonic()
                if remaining <= 0:
                    raise KISRateLimitError(
                        f"no KIS request slot in lane {lane.name} within the timeout"
                    )
                if wait >= NOTABLE_WAIT:
                    log.info(
                        "waiting %.1fs for a KIS request slot (lane %s, %g requests/s shared "
                        "by every process)",
                        min(wait, remaining),
                        lane.name,
                        self.rate,
                    )
                self._sleep(min(wait, remaining))
        finally:
            if not granted:
                self.forget(waiter)


class RedisRateLimiter(_Pacer):
    """The shared limiter for one app key; keys ``<namespace>rl:<key>:{tat,waiters,hb}``."""

    def __init__(
        self,
        client: Redis,
        key: str,
        rate: float,
        *,
        burst: int = 1,
        namespace: str = "sm:kis:",
        heartbeat: float = 2.0,
        default_timeout: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate, self.default_timeout = rate, default_timeout
        base = f"{namespace}rl:{key}:"
        self._keys = [base + "tat", base + "waiters", base + "hb"]
        self._interval_ms = 1000.0 / rate
        self._tolerance_ms = self._interval_ms * (burst - 1)
        self._heartbeat_ms = heartbeat * 1000
        self._r = client
        self._acquire = client.register_script(_ACQUIRE)
        self._penalize = client.register_script(_PENALIZE)
        self._sleep, self._monotonic = sleep, monotonic

    def __repr__(self) -> str:
        return f"RedisRateLimiter({self._keys[0]!r}, rate={self.rate:g}/s)"

    def try_acquire(self, waiter: str, lane: Lane) -> float:
        args: list[str | int | float] = [
            waiter,
            int(lane),
            self._interval_ms,
            self._tolerance_ms,
            self._heartbeat_ms,
        ]
        reply: Any = self._acquire(keys=self._keys, args=args)
        return int(reply) / 1_000_000

    def forget(self, waiter: str) -> None:
        pipe = self._r.pipeline(transaction=False)
        pipe.zrem(self._keys[1], waiter)
        pipe.zrem(self._keys[2], waiter)
        pipe.execute()

    def penalize(self, seconds: float) -> None:
        self._penalize(keys=self._keys[:1], args=[int(seconds * 1000)])

    def headroom(self) -> tuple[float, int]:
        """Seconds until the next free slot (negative: idle that long) and waiters queued."""
        pipe = self._r.pipeline(transaction=False)
        pipe.time()
        pipe.get(self._keys[0])
        pipe.zcard(self._keys[1])
        (seconds, micros), tat, waiters = pipe.execute()
        now_ms = int(seconds) * 1000 + int(micros) / 1000
        return (float(tat or 0) - now_ms) / 1000, int(waiters)


class FileRateLimiter(_Pacer):
    """The same algorithm in a small JSON file under ``fcntl.flock``: one host, no server."""

    MAX_AHEAD = 60.0  # a tat further ahead than this is a clock jump: start over

    def __init__(
        self,
        path: Path,
        rate: float,
        *,
        burst: int = 1,
        heartbeat: float = 2.0,
        default_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.path, self.rate, self.default_timeout = path, rate, default_timeout
        self._interval = 1.0 / rate
        self._tolerance = self._interval * (burst - 1)
        self._heartbeat = heartbeat
        self._clock, self._sleep, self._monotonic = clock, sleep, monotonic
        self._threads = threading.Lock()  # flock does not exclude threads sharing a process
        path.parent.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"FileRateLimiter({str(self.path)!r}, rate={self.rate:g}/s)"

    def _update(self, change: Callable[[dict[str, Any], float], float]) -> float:
        with self._threads:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                raw = os.read(fd, 1 << 16)
                state = _load_state(raw)
                result = change(state, self._clock())
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                os.write(fd, json.dumps(state, separators=(",", ":")).encode())
                return result
            finally:
                os.close(fd)  # closing releases the lock

    def try_acquire(self, waiter: str, lane: Lane) -> float:
        return self._update(lambda state, now: self._step(state, now, waiter, int(lane)))

    def _step(self, state: dict[str, Any], now: float, waiter: str, lane: int) -> float:
        waiters: dict[str, list[float]] = {k: v for k, v in state["waiters"].items() if v[1] > now}
        state["waiters"] = waiters
        tat = state["tat"]
        tat = now if tat < now or tat > now + self.MAX_AHEAD else tat
        wait = tat - self._tolerance - now
        others = [v[0] for k, v in waiters.items() if k != waiter]
        outranked = bool(others) and min(others) < lane
        if outranked or wait > 0:
            wait = max(wait, 0.0) + self._interval if outranked else wait
            waiters[waiter] = [lane, now + wait + self._heartbeat]
            return max(wait, 0.001)
        state["tat"] = tat + self._interval
        waiters.pop(waiter, None)
        return 0.0

    def forget(self, waiter: str) -> None:
        self._update(lambda state, now: float(bool(state["waiters"].pop(waiter, None))))

    def headroom(self) -> tuple[float, int]:
        """Seconds until the next free slot (negative: idle that long) and waiters queued."""
        waiting: list[int] = []

        def read(state: dict[str, Any], now: float) -> float:
            waiting.append(sum(1 for v in state["waiters"].values() if v[1] > now))
            return float(state["tat"]) - now

        ahead = self._update(read)
        return ahead, waiting[0]

    def penalize(self, seconds: float) -> None:
        def hold(state: dict[str, Any], now: float) -> float:
            state["tat"] = max(state["tat"], now + seconds)
            return 0.0

        self._update(hold)


def _load_state(raw: bytes) -> dict[str, Any]:
    try:
        state = json.loads(raw) if raw else {}
    except ValueError:
        state = {}
    if not isinstance(state, dict):
        state = {}
    state.setdefault("tat", 0.0)
    state.setdefault("waiters", {})
    return state
