"""Celery beat with failover: the schedule and its leadership live in Redis.

Any number of ``celery -A stock_manager beat`` processes may run; exactly one schedules.

* **Schedule** — celery-redbeat (2.4) keeps every entry and its ``last_run_at`` in Redis
  (``REDIS_URL``, or the embedded Valkey on its unix socket), so a new leader carries on from
  the slots the old one sent instead of from a schedule file of its own.
* **Leadership** — our own lock, not redbeat's (``redbeat_lock_key = None``): redbeat's standby
  blocks in ``beat_init``, a leader that lost its lock exits (redbeat#230, #306) and a Redis
  error at start leaves it without a lock and crashing later (redbeat#285). Here every tick
  extends the lock or tries to take it (``SET NX PX``), never blocks and never exits: a
  leader that lost the lock stands by, a standby takes over within ``BEAT_LOCK_TIMEOUT`` of
  the leader's death (plus one standby poll, :data:`STANDBY_POLL`), and while Redis is
  unreachable nobody schedules and every beat says so.
* **A Redis that lost its data** — the leader finds the schedule gone and installs it again
  from the configuration (new entries start from now: no crontab slot is sent late).
* **No slot twice** — a slot is sent only after one Lua script checked that this beat still
  holds the lock *and* that the entry's ``meta`` (its ``last_run_at``) is exactly what this
  beat read, and then wrote the new one (compare-and-set, :data:`CLAIM`). Two beats that both
  believe they lead (a paused leader waking up) cannot both claim a slot, and a new leader sees
  every slot the old one claimed. A leader killed between its claim and its send loses that
  one slot (at most once): the frequent tasks' deadline guard starts liquidation anyway, and
  ``stock-manager report`` settles a day the summary missed.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import redis
from redbeat.decoder import RedBeatJSONEncoder
from redbeat.schedulers import RedBeatScheduler, RedBeatSchedulerEntry, get_redis

from stock_manager.adapters.embedded_redis import EmbeddedRedis

log = logging.getLogger("celery.beat")

LEADER_KEY = "sm:beat:leader"
LOCK_TIMEOUT = "stock_manager_beat_lock_timeout"  # Celery conf keys of ours
EMBEDDED_HOME = "stock_manager_embedded_redis_home"
KEY_PREFIX = "sm:beat:"  # redbeat's entries, schedule and statics
STANDBY_POLL = 1.0  # seconds between a standby's attempts to take the lock
REDIS_RETRY = 2.0  # seconds between attempts while Redis is unreachable
REDIS_ERRORS = (redis.RedisError,)  # unreachable, loading its AOF, read-only, out of disk...

# KEYS: leader key.  ARGV: owner, ttl ms.  1 if the lock is (still) ours.
EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS: entry hash, schedule zset, leader key.  ARGV: owner, meta read ('' if none),
# new meta, new score.  1 claimed; 0 another beat claimed the slot first; -1 not the leader.
CLAIM = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then return -1 end
local meta = redis.call('HGET', KEYS[1], 'meta')
if (meta or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'meta', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], KEYS[1])
return 1
"""


class SlotTaken(Exception):
    """The slot was claimed by another beat, or this beat no longer leads."""


def beat_owner() -> str:
    """``host:pid:random``: who holds the lock, as ``stock-manager status`` shows it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class LeaderLock:
    """The beat's leadership: a Redis key holding the leader's name, with a TTL."""

    def __init__(self, client: Any, ttl: float, owner: str, key: str = LEADER_KEY) -> None:
        self.client, self.ttl_ms, self.owner, self.key = client, int(ttl * 1000), owner, key

    def hold(self) -> bool:
        """Extend the lock if it is ours, else take it if it is free. True if we lead."""
        if int(self.client.eval(EXTEND, 1, self.key, self.owner, self.ttl_ms)):
            return True
        return bool(self.client.set(self.key, self.owner, nx=True, px=self.ttl_ms))

    def release(self) -> None:
        self.client.eval(RELEASE, 1, self.key, self.owner)

    def holder(self) -> str | None:
        value = self.client.get(self.key)
        return value.decode() if isinstance(value, bytes) else value


class SlotEntry(RedBeatSchedulerEntry):  # type: ignore[misc]  # celery/redbeat are untyped
    """A redbeat entry that remembers the ``meta`` it was read with (for the claim)."""

    raw_meta: str = ""

    @classmethod
    def from_key(cls, key: str, app: Any = None) -> SlotEntry:
        with get_redis(app).pipeline() as pipe:
            pipe.hget(key, "definition")
            pipe.hget(key, "meta")
            definition, meta = pipe.execute()
        if not definition:
            raise KeyError(key)
        fields = cls.decode_definition(definition)
        decoded = cls.decode_meta(meta)
        fields.update(decoded)
        entry = cls(app=app, **fields)
        entry.last_run_at = decoded["last_run_at"]
        entry.raw_meta = meta or ""
        return entry

    def following(self) -> SlotEntry:
        """The entry after this slot is sent (celery's ``_next_instance``, nothing saved)."""
        fields = {k: v for k, v in vars(self).items() if k != "raw_meta"}
        fields.update(last_run_at=self.default_now(), total_run_count=self.total_run_count + 1)
        return type(self)(**fields)


class LeaderScheduler(RedBeatScheduler):  # type: ignore[misc]
    """redbeat's scheduler, led by :class:`LeaderLock`, claiming each slot before sending."""

    Entry = SlotEntry

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        self.owner = beat_owner()
        self.leading = False
        self._seen_holder: str | None = "?"
        self._redis_down_since: float | None = None
        if getattr(app, "redbeat_redis", None) is None:
            app.redbeat_redis = redis_client(app.conf)
        _wait_for_redis(app)
        super().__init__(app, *args, **kwargs)
        timeout = float(app.conf.get(LOCK_TIMEOUT) or 20.0)
        self.leader = LeaderLock(get_redis(app), timeout, self.owner)

    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            if not self._lead():
                return STANDBY_POLL
            interval: float = super().tick(*args, **kwargs)
        except REDIS_ERRORS as exc:
            self._redis_lost(exc)
            return REDIS_RETRY
        self._redis_back()
        return interval

    def _lead(self) -> bool:
        leading = self.leader.hold()
        self._redis_back()
        if leading and not self.leading:
            log.warning("beat %s: leading the schedule (lock %s, %gs)", *self._lock_info())
        if leading:
            self._reinstall_if_lost()
        elif not leading:
            holder = self.leader.holder()
            if self.leading:
                log.warning("beat %s: lost the lead to %s; standing by", self.owner, holder)
            elif holder != self._seen_holder:
                log.info("beat %s: standing by; %s leads", self.owner, holder)
            self._seen_holder = holder
        self.leading = leading
        return leading

    def _reinstall_if_lost(self) -> None:
        """A Redis that restarted empty (no AOF, a new server) lost the schedule: install it
        again from the configuration, or nothing would ever be sent (new entries start from
        now, so no crontab slot is sent late)."""
        if get_redis(self.app).exists(self.app.redbeat_conf.statics_key):
            return
        log.warning("beat %s: the schedule is gone from Redis; installing it again", self.owner)
        self.setup_schedule()

    def _lock_info(self) -> tuple[str, str, float]:
        return self.owner, self.leader.key, self.leader.ttl_ms / 1000

    def reserve(self, entry: SlotEntry) -> Any:
        """Claim the entry's next slot in Redis, or raise :class:`SlotTaken`."""
        new = entry.following()  # nothing written yet
        meta = json.dumps(
            {"last_run_at": new.last_run_at, "total_run_count": new.total_run_count},
            cls=RedBeatJSONEncoder,
        )
        keys = (entry.key, self.app.redbeat_conf.schedule_key, self.leader.key)
        claimed = int(
            get_redis(self.app).eval(CLAIM, 3, *keys, self.owner, entry.raw_meta, meta, new.score)
        )
        if claimed != 1:
            self.leading = self.leading and claimed == 0
            raise SlotTaken("another beat sent it" if claimed == 0 else "no longer the leader")
        return new

    def maybe_due(self, entry: SlotEntry, **kwargs: Any) -> float:
        is_due, next_time_to_run = entry.is_due()
        if not is_due:
            return float(next_time_to_run)
        try:
            self.apply_async(entry, **kwargs)
        except SlotTaken as exc:
            log.info("beat %s: not sending %s: %s", self.owner, entry.name, exc)
        except REDIS_ERRORS:
            raise
        except Exception:
            log.exception("beat %s: could not send %s (%s)", self.owner, entry.name, entry.task)
        else:
            log.info("Scheduler: Sending due task %s (%s)", entry.name, entry.task)
        return float(next_time_to_run)

    def close(self) -> None:
        if self.leading:
            self.leading = False
            try:
                self.leader.release()  # a clean stop hands over at once
                log.info("beat %s: released the lead", self.owner)
            except REDIS_ERRORS:
                pass
        super().close()

    def _redis_lost(self, exc: Exception) -> None:
        now = time.monotonic()
        if self._redis_down_since is None:
            self._redis_down_since = now
            log.warning(
                "beat %s: Redis unreachable (%s: %s); nothing is scheduled until it answers, "
                "retrying every %gs",
                self.owner,
                type(exc).__name__,
                str(exc)[:120],
                REDIS_RETRY,
            )
        self.leading = False

    def _redis_back(self) -> None:
        if self._redis_down_since is not None:
            down = time.monotonic() - self._redis_down_since
            log.warning("beat %s: Redis answers again after %.0fs", self.owner, down)
            self._redis_down_since = None

    @property
    def info(self) -> str:
        return f"       . leader lock -> {self.leader.key} ({self.leader.ttl_ms / 1000:g}s)"


def _wait_for_redis(app: Any) -> None:
    """Block (saying so) until the schedule's Redis answers: beat starts after it."""
    started = time.monotonic()
    said = float("-inf")
    while True:
        try:
            get_redis(app).ping()
            return
        except REDIS_ERRORS as exc:
            waited = time.monotonic() - started
            if waited - said >= 30:  # say it at once, then every 30 s
                said = waited
                log.warning(
                    "beat: waiting for Redis at %s (%s, %.0fs so far)",
                    app.redbeat_conf.redis_url.split("@")[-1],
                    type(exc).__name__,
                    waited,
                )
            time.sleep(REDIS_RETRY)


def redis_client(conf: Any) -> Any:
    """The client redbeat uses (``decode_responses=True``), with timeouts so a server that
    went silent cannot hang beat; on the embedded default, one that starts the server."""
    options = {"socket_timeout": 10.0, "socket_connect_timeout": 5.0, "decode_responses": True}
    home = conf.get(EMBEDDED_HOME)
    if home:
        return EmbeddedRedis(Path(home)).client(**options)
    return redis.Redis.from_url(conf["redbeat_redis_url"], health_check_interval=30, **options)
