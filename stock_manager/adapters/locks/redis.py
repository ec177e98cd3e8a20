"""Redis leases: ``SET NX PX`` and an ``INCR`` fence in one Lua script, so taking the lease
and drawing its fencing token cannot be separated. Fence keys never expire, so a symbol's
fence only goes up. Times come from the Redis server's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from redis import Redis

from stock_manager.ports import Lease

# KEYS: lease, fence   ARGV: owner, ttl_ms
_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. fence, 'PX', ARGV[2])
local now = redis.call('TIME')
return {fence, now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[2])}
"""
# KEYS: lease   ARGV: owner|fence, ttl_ms
_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return nil end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local now = redis.call('TIME')
return now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[2])
"""
# KEYS: lease   ARGV: owner|fence
_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


class RedisLeaseLock:
    def __init__(self, client: Redis, namespace: str = "sm:") -> None:
        self._r = client
        self._lease = namespace + "lease:"
        self._fence = namespace + "fence:"
        self._acquire = client.register_script(_ACQUIRE)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, symbol: str, owner: str, ttl: float) -> Lease | None:
        result: Any = self._acquire(
            keys=[self._lease + symbol, self._fence + symbol], args=[owner, int(ttl * 1000)]
        )
        if result is None:
            return None
        fence, expires_ms = result
        return Lease(symbol, owner, int(fence), _moment(expires_ms))

    def renew(self, lease: Lease, ttl: float) -> Lease | None:
        expires: Any = self._renew(
            keys=[self._lease + lease.symbol], args=[_value(lease), int(ttl * 1000)]
        )
        if expires is None:
            return None
        return Lease(lease.symbol, lease.owner, lease.fence, _moment(expires))

    def release(self, lease: Lease) -> bool:
        return bool(self._release(keys=[self._lease + lease.symbol], args=[_value(lease)]))

    def held(self) -> list[Lease]:
        keys = sorted(self._r.scan_iter(match=self._lease + "*", count=500))
        if not keys:
            return []
        pipe = self._r.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.pttl(key)
        replies = pipe.execute()
        now_ms = _server_ms(self._r)
        leases = []
        for key, value, pttl in zip(keys, replies[::2], replies[1::2], strict=True):
            if value is None or pttl <= 0:
                continue
            owner, _, fence = value.decode().rpartition("|")
            symbol = key.decode().removeprefix(self._lease)
            leases.append(Lease(symbol, owner, int(fence), _moment(now_ms + pttl)))
        return leases

    def sweep_expired(self) -> list[Lease]:
        """Redis expires leases by itself (PX); there is never anything left to release.

        Symbols an expired holder left mid-transition are found from the ledger instead
        (``services.sweep``), which works the same on both backends."""
        return []


def _value(lease: Lease) -> str:
    return f"{lease.owner}|{lease.fence}"


def _server_ms(client: Redis) -> int:
    seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000
