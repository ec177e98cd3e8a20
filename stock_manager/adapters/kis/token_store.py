"""Where the cluster keeps its KIS credentials: Redis, SQL, Redis before SQL, or memory.

A store holds, per key (environment, kind and a hash of the app key), the current
:class:`Credential`, the time of the last issuance attempt (KIS allows one per minute) and
an issuance lock, so that exactly one process issues while the others wait and read.
Credentials are stored in clear because every worker needs them; they are never logged.

With Redis leases the store is :class:`LayeredTokenStore`: Redis serves every read, and the
database keeps a copy, so a Redis that lost its memory costs no new issuance (KIS allows
one per minute, ``EGW00133``, and a worker without a token waited 60-74 s).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from redis import Redis
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from stock_manager.adapters.kis.masking import mask_secret

log = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Credential:
    """An access token or WebSocket approval key; ``generation`` counts issuances."""

    value: str = field(repr=False)
    issued_at: float
    expires_at: float
    generation: int

    def __repr__(self) -> str:
        return (
            f"Credential({mask_secret(self.value)}, generation={self.generation}, "
            f"expires_at={datetime.fromtimestamp(self.expires_at, UTC).isoformat()})"
        )

    def valid(self, now: float, margin: float = 0.0) -> bool:
        return now < self.expires_at - margin


class TokenStore(Protocol):
    def load(self, key: str) -> Credential | None: ...

    def save(self, key: str, credential: Credential) -> None: ...

    def last_attempt(self, key: str) -> float | None:
        """Epoch seconds of the last issuance attempt, successful or not."""
        ...

    def mark_attempt(self, key: str, at: float) -> None: ...

    def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        """Take the issuance lock for ``ttl`` seconds; ``False`` if someone holds it."""
        ...

    def unlock(self, key: str, owner: str) -> None: ...

    def clear(self, key: str) -> None:
        """Forget everything about ``key`` (tests, ``kis revoke``)."""
        ...


class MemoryTokenStore:
    """A store for one process (tests, one-off CLI runs without shared storage)."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._credentials: dict[str, Credential] = {}
        self._attempts: dict[str, float] = {}
        self._locks: dict[str, tuple[str, float]] = {}

    def load(self, key: str) -> Credential | None:
        return self._credentials.get(key)

    def save(self, key: str, credential: Credential) -> None:
        self._credentials[key] = credential

    def last_attempt(self, key: str) -> float | None:
        return self._attempts.get(key)

    def mark_attempt(self, key: str, at: float) -> None:
        self._attempts[key] = at

    def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        with self._lock:
            held = self._locks.get(key)
            if held and held[0] != owner and held[1] > self._clock():
                return False
            self._locks[key] = (owner, self._clock() + ttl)
            return True

    def unlock(self, key: str, owner: str) -> None:
        with self._lock:
            if self._locks.get(key, ("",))[0] == owner:
                del self._locks[key]

    def clear(self, key: str) -> None:
        self._credentials.pop(key, None)
        self._attempts.pop(key, None)
        self._locks.pop(key, None)


# KEYS: lock   ARGV: owner
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"
# KEYS: credential   ARGV: value, issued_at, expires_at, generation, expire_at (epoch s)
_OFFER = """
local held = redis.call('HGET', KEYS[1], 'generation')
if held and tonumber(held) >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], 'value', ARGV[1], 'issued_at', ARGV[2], 'expires_at', ARGV[3],
           'generation', ARGV[4])
redis.call('EXPIREAT', KEYS[1], ARGV[5])
return 1
"""


class RedisTokenStore:
    """Keys ``<namespace>tok:<key>`` (a hash), ``…:attempt`` and ``…:lock``."""

    def __init__(self, client: Redis, namespace: str = "sm:kis:") -> None:
        self._r = client
        self._prefix = namespace + "tok:"
        self._unlock = client.register_script(_UNLOCK)
        self._offer = client.register_script(_OFFER)

    def load(self, key: str) -> Credential | None:
        raw: dict[bytes, bytes] = self._r.hgetall(self._prefix + key)  # type: ignore[assignment]
        if not raw or b"value" not in raw:
            return None
        return Credential(
            raw[b"value"].decode(),
            float(raw[b"issued_at"]),
            float(raw[b"expires_at"]),
            int(raw[b"generation"]),
        )

    def save(self, key: str, credential: Credential) -> None:
        name = self._prefix + key
        pipe = self._r.pipeline(transaction=True)
        pipe.hset(
            name,
            mapping={
                "value": credential.value,
                "issued_at": repr(credential.issued_at),
                "expires_at": repr(credential.expires_at),
                "generation": str(credential.generation),
            },
        )
        pipe.expireat(name, int(credential.expires_at) + 86_400)
        pipe.execute()

    def offer(self, key: str, credential: Credential) -> bool:
        """Save ``credential`` unless Redis holds the same or a newer generation (one
        script: a copy read from elsewhere never overwrites a newer issuance)."""
        c = credential
        args = [c.value, repr(c.issued_at), repr(c.expires_at), str(c.generation)]
        args.append(str(int(c.expires_at) + 86_400))
        return bool(self._offer(keys=[self._prefix + key], args=args))

    def last_attempt(self, key: str) -> float | None:
        raw = self._r.get(self._prefix + key + ":attempt")
        return float(raw) if raw is not None else None

    def mark_attempt(self, key: str, at: float) -> None:
        self._r.set(self._prefix + key + ":attempt", repr(at), ex=3600)

    def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        return bool(self._r.set(self._prefix + key + ":lock", owner, nx=True, px=int(ttl * 1000)))

    def unlock(self, key: str, owner: str) -> None:
        self._unlock(keys=[self._prefix + key + ":lock"], args=[owner])

    def clear(self, key: str) -> None:
        name = self._prefix + key
        self._r.delete(name, name + ":attempt", name + ":lock")


def _ts(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class SqlTokenStore:
    """The ``kis_tokens`` table (migration 0002): one row per key, the lock in the row."""

    def __init__(self, engine: Engine, clock: Any = time.time) -> None:
        from stock_manager.adapters.db.models import KisTokenRow

        self._engine = engine
        self._clock = clock
        self._row = KisTokenRow

    def _ensure(self, conn: Any, key: str) -> None:
        values = {"key": key, "generation": 0, "updated_at": _at(self._clock())}
        if self._engine.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            conn.execute(postgresql.insert(self._row).values(**values).on_conflict_do_nothing())
        else:
            from sqlalchemy.dialects import sqlite

            conn.execute(sqlite.insert(self._row).values(**values).on_conflict_do_nothing())

    def load(self, key: str) -> Credential | None:
        t = self._row
        with self._engine.connect() as conn:
            row = conn.execute(select(t).where(t.key == key)).first()
        if row is None or row.value is None or row.expires_at is None:
            return None
        issued = _ts(row.issued_at) or 0.0
        return Credential(row.value, issued, row.expires_at.timestamp(), row.generation)

    def save(self, key: str, credential: Credential) -> None:
        self._update(
            key,
            value=credential.value,
            issued_at=_at(credential.issued_at),
            expires_at=_at(credential.expires_at),
            generation=credential.generation,
        )

    def last_attempt(self, key: str) -> float | None:
        t = self._row
        with self._engine.connect() as conn:
            found = conn.execute(select(t.last_attempt_at).where(t.key == key)).scalar()
        return _ts(found)

    def mark_attempt(self, key: str, at: float) -> None:
        self._update(key, last_attempt_at=_at(at))

    def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        t, now = self._row, self._clock()
        with self._engine.begin() as conn:
            self._ensure(conn, key)
            taken = conn.execute(
                update(t)
                .where(t.key == key)
                .where(
                    (t.lock_owner.is_(None)) | (t.lock_owner == owner) | (t.lock_until < _at(now))
                )
                .values(lock_owner=owner, lock_until=_at(now + ttl), updated_at=_at(now))
            )
        return taken.rowcount == 1

    def unlock(self, key: str, owner: str) -> None:
        t = self._row
        with self._engine.begin() as conn:
            conn.execute(
                update(t)
                .where(t.key == key, t.lock_owner == owner)
                .values(lock_owner=None, lock_until=None)
            )

    def clear(self, key: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(self._row).where(self._row.key == key))

    def _update(self, key: str, **values: Any) -> None:
        with self._engine.begin() as conn:
            self._ensure(conn, key)
            conn.execute(
                update(self._row)
                .where(self._row.key == key)
                .values(updated_at=_at(self._clock()), **values)
            )


class LayeredTokenStore:
    """Redis first, the database behind it: the credential survives Redis losing its memory.

    * ``load``: Redis; on a miss, the database, whose copy is offered back to Redis (unless
      Redis meanwhile holds a newer generation). A restarted Redis therefore costs one
      database read per process, not a token issuance.
    * ``save``: the database, then Redis. ``mark_attempt`` writes both and ``last_attempt``
      reads the later of the two: a Redis that forgot the last attempt must not let a
      process issue again within the minute (``EGW00133``; a lost lock is then harmless,
      since whoever takes the new lock still waits for that minute to pass).
    * The issuance lock stays in Redis alone: losing it only lets a second process wait
      for the same slot and then read the first one's token.

    The database is the backup, not the authority: when it fails, a warning names the
    error's type (never its message, which can quote the token) and Redis carries on."""

    def __init__(self, fast: RedisTokenStore, durable: TokenStore) -> None:
        self.fast, self.durable = fast, durable

    def load(self, key: str) -> Credential | None:
        found = self.fast.load(key)
        if found is not None:
            return found
        kept = self._durably("load", self.durable.load, key)
        if kept is not None:
            self.fast.offer(key, kept)
        return kept

    def save(self, key: str, credential: Credential) -> None:
        self._durably("save", self.durable.save, key, credential)
        self.fast.save(key, credential)

    def last_attempt(self, key: str) -> float | None:
        times = [self.fast.last_attempt(key), self._durably("read", self.durable.last_attempt, key)]
        known = [t for t in times if t is not None]
        return max(known) if known else None

    def mark_attempt(self, key: str, at: float) -> None:
        self._durably("mark", self.durable.mark_attempt, key, at)
        self.fast.mark_attempt(key, at)

    def try_lock(self, key: str, owner: str, ttl: float) -> bool:
        return self.fast.try_lock(key, owner, ttl)

    def unlock(self, key: str, owner: str) -> None:
        self.fast.unlock(key, owner)

    def clear(self, key: str) -> None:
        self._durably("clear", self.durable.clear, key)
        self.fast.clear(key)

    @staticmethod
    def _durably(what: str, call: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return call(*args)
        except SQLAlchemyError as exc:
            log.warning(
                "the database copy of the KIS credential failed to %s: %s", what, type(exc).__name__
            )
            return None
