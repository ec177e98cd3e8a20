"""Redis leases: ``SET NX PX`` and an ``INCR`` fence in one Lua script, so taking the lease
and drawing its fencing token cannot be separated. Times come from the Redis server's clock.

**Fences never go backwards, even when Redis forgets.** Every state write is fenced in the
database (``… WHERE fence <= :token``), so a counter that restarts at 1 while the ledger
holds 40 would refuse every valid write. Redis loses its counters on a restart without
persistence, a ``FLUSHALL``, a new empty server, or an eviction. So:

* A marker key, ``<namespace>fence-base`` (no TTL), holds the *base*: the lowest fence this
  Redis may grant. The acquire script reads it in the same round trip; when it is missing,
  the script grants nothing and answers "unseeded".
* The adapter then reads a :class:`~stock_manager.adapters.db.fences.FenceFloor` through the
  injected ``floor`` callable (the database's highest fence and its clock), and the seed
  script sets the marker with ``SET NX`` to the highest of: that fence + 1, the database
  clock and the Redis clock, both in microseconds. Then it asks again. One database read per
  lost Redis per process that notices; the hot path stays one Redis round trip.
* The script draws ``max(INCR, base)``; a counter that did not exist (a new key, or one
  evicted alone) starts at ``max(base, Redis clock in µs)``.

*Why a clock and not only the database's highest fence.* The database only knows fences
that were *written*. A holder granted fence 57 just before the loss, not yet written, would
meet a new holder granted ``highest + 1`` = 57 again: two holders, one fence, both writes
accepted. Counters only grow by one per grant, far slower than a microsecond clock (a grant
is a network round trip), so every fence granted since a base was set is below the clock
when the next base is set: the new base is above every fence ever granted, written or not,
as long as the clocks did not step back by more than the age of the lost Redis. The
database clock is the one clock every seeder shares; the Redis clock is read inside the
seed script, so a seeder paused between its database read and its ``SET`` (while another
seeded, used and lost a Redis in between) still seeds above what that Redis granted.

*Concurrency.* Seeders race harmlessly: ``SET NX`` keeps the first base, and every base is
computed after the loss it repairs. A lease cannot be granted between the loss and the
seeding: without the marker the script grants nothing. A holder from before the loss finds
its lease gone (``renew`` fails) and its fence below every new one, so its late writes are
refused. Keys that are not symbols (``__liquidation__``) are ordinary keys here.

Fences are therefore large numbers (about 1.8e15, microseconds since 1970) after the first
seeding; Lua's doubles hold them exactly until 2255 (2^53 µs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from redis import Redis

from stock_manager.ports import Lease

if TYPE_CHECKING:
    from stock_manager.adapters.db.fences import FenceFloor

log = logging.getLogger(__name__)

UNSEEDED = -1  # the acquire script's answer when the fence base is missing
SEED_ATTEMPTS = 3

# KEYS: lease, fence, base   ARGV: owner, ttl_ms
_ACQUIRE = """
local base = redis.call('GET', KEYS[3])
if not base then return -1 end
base = tonumber(base)
if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
local fence = redis.call('INCR', KEYS[2])
local now = redis.call('TIME')
local drawn = fence
if fence == 1 then fence = math.max(base, now[1] * 1000000 + now[2]) end
if fence < base then fence = base end
if fence ~= drawn then redis.call('SET', KEYS[2], string.format('%d', fence)) end
redis.call('SET', KEYS[1], ARGV[1] .. '|' .. string.format('%d', fence), 'PX', ARGV[2])
return {fence, now[1] * 1000 + math.floor(now[2] / 1000) + tonumber(ARGV[2])}
"""
# KEYS: base   ARGV: the database's floor in µs
_SEED = """
local now = redis.call('TIME')
local base = math.max(tonumber(ARGV[1]), now[1] * 1000000 + now[2])
redis.call('SET', KEYS[1], string.format('%d', base), 'NX')
return redis.call('GET', KEYS[1])
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


class FenceBaseUnavailable(RuntimeError):
    """Redis lost its fence base again while it was being seeded, several times over."""


def _moment(ms: int) -> datetime:
    return datetime.fromtimestamp(int(ms) / 1000, UTC)


class RedisLeaseLock:
    """Leases in Redis; ``floor`` reads the database's highest fence when Redis lost its
    counters (``None``: no database fences to stay above, e.g. benchmarks, so only the
    clocks set the base)."""

    def __init__(
        self,
        client: Redis,
        namespace: str = "sm:",
        *,
        floor: Callable[[], FenceFloor] | None = None,
    ) -> None:
        self._r = client
        self._lease = namespace + "lease:"
        self._fence = namespace + "fence:"
        self._base = namespace + "fence-base"
        self._floor = floor
        self._acquire = client.register_script(_ACQUIRE)
        self._seed = client.register_script(_SEED)
        self._renew = client.register_script(_RENEW)
        self._release = client.register_script(_RELEASE)

    def acquire(self, symbol: str, owner: str, ttl: float) -> Lease | None:
        keys = [self._lease + symbol, self._fence + symbol, self._base]
        for _ in range(SEED_ATTEMPTS):
            result: Any = self._acquire(keys=keys, args=[owner, int(ttl * 1000)])
            if result is None:
                return None
            if result != UNSEEDED:
                fence, expires_ms = result
                return Lease(symbol, owner, int(fence), _moment(expires_ms))
            self.seed()
        raise FenceBaseUnavailable(f"the fence base vanished {SEED_ATTEMPTS} times in a row")

    def seed(self) -> int:
        """Set the fence base if it is missing (``SET NX``) and return the base in force."""
        floor_us, highest = 0, 0
        if self._floor is not None:
            found = self._floor()
            floor_us, highest = max(found.highest + 1, found.now_ms * 1000), found.highest
        base = int(self._seed(keys=[self._base], args=[str(floor_us)]))
        # A first start also lands here; after history in the database it means a loss.
        level = logging.WARNING if highest else logging.INFO
        log.log(
            level,
            "Redis held no lease fence base (first start, or a restart without persistence); "
            "fences continue from %d, above every fence granted or written before",
            base,
        )
        return base

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
