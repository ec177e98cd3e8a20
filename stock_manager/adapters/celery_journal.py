"""The delivery journal: no message is lost between a consumer's pop and its bookkeeping.

kombu's Redis transport pops a message with ``BRPOP`` and only then records it in the
``unacked`` hash; a consumer killed in between (the reply already left Redis, the ``HSET``
not yet sent) loses the message for good — a known gap (celery/kombu#305, celery#7950),
measured here as 5 of 20,000 messages with consumers SIGKILLed every few seconds.

The journal closes it. Every message is, at every instant, in at least one of: its queue,
the journal, ``unacked``:

* publishing writes the journal entry (``sm:broker:journal``, keyed by delivery tag, with its
  time in ``…:index``) in the same transaction as the ``LPUSH``;
* a consumer's ``QoS.append`` deletes it in the same transaction as the ``unacked`` write;
* a redelivery from ``unacked`` (visibility timeout) journals the message again;
* the periodic sweep (``restore_visible``, which every consumer runs) looks at entries older
  than the visibility timeout: one still in its queue is just waiting; one in ``unacked`` is
  stale; any other was popped by a consumer that died before recording it, and is pushed back
  to the head of its queue (:data:`RESCUE`, one Lua script, so nothing moves meanwhile).

The cost is one more hash write per publish and one more delete per delivery, in round trips
that happen anyway. A message that a live consumer popped exactly while the sweep judged it
may run twice; tasks here are idempotent (at-least-once, never at-most-once).
"""

from __future__ import annotations

import json
import time
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.json import dumps

JOURNAL = "sm:broker:journal"
JOURNAL_INDEX = "sm:broker:journal:index"
RESCUE_LIMIT = 100  # entries judged per sweep

# KEYS: journal, index, unacked.  ARGV: ceiling (older entries are judged), now, limit.
RESCUE = """
local tags = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
local rescued = 0
for _, tag in ipairs(tags) do
  local entry = redis.call('HGET', KEYS[1], tag)
  if (not entry) or redis.call('HEXISTS', KEYS[3], tag) == 1 then
    redis.call('HDEL', KEYS[1], tag)
    redis.call('ZREM', KEYS[2], tag)
  else
    local target = cjson.decode(entry)
    if not redis.call('LPOS', target[1], target[2]) then
      redis.call('RPUSH', target[1], target[2])
      rescued = rescued + 1
    end
    redis.call('ZADD', KEYS[2], ARGV[2], tag)
  end
end
return rescued
"""


def journal_entry(key: str, payload: str) -> str:
    """What the journal keeps: the list key and the exact payload string pushed onto it."""
    return json.dumps([key, payload])


def journal(pipe: Any, tag: str, key: str, payload: str) -> None:
    """Queue the journal writes for one message on ``pipe`` (before its push)."""
    pipe.hset(JOURNAL, tag, journal_entry(key, payload))
    pipe.zadd(JOURNAL_INDEX, {tag: time.time()})


def forget(pipe: Any, tag: str) -> None:
    pipe.hdel(JOURNAL, tag)
    pipe.zrem(JOURNAL_INDEX, tag)


class QoS(kombu_redis.QoS):
    """kombu's Redis QoS, with the journal entry deleted as the message is recorded, and the
    journal swept with ``restore_visible``."""

    def append(self, message: Any, delivery_tag: str) -> None:
        delivery = message.delivery_info
        exchange, routing_key = delivery["exchange"], delivery["routing_key"]
        with self.pipe_or_acquire() as pipe:
            pipe.zadd(self.unacked_index_key, {delivery_tag: time.time()})
            pipe.hset(self.unacked_key, delivery_tag, dumps([message._raw, exchange, routing_key]))
            forget(pipe, delivery_tag)
            pipe.execute()
            virtual.QoS.append(self, message, delivery_tag)  # not kombu's Redis one

    def restore_visible(self, start: int = 0, num: int = 10, interval: int = 10) -> None:
        due = self._vrestore_count % (interval or 1) == 0  # the same throttle as kombu's
        super().restore_visible(start, num, interval)
        if due:
            self.rescue()

    def restore_unacked_once(self, stderr: Any = None) -> None:
        """kombu's, except that a Redis already gone (a worker or a test exiting after a
        restart) leaves the unacknowledged messages where they are, in ``unacked``, for the
        visibility timeout to bring back, instead of raising from an exit finalizer."""
        try:
            super().restore_unacked_once(stderr)
        except self.channel.connection_errors:
            kombu_redis.logger.warning(
                "unacknowledged messages left to the visibility timeout: Redis is gone"
            )

    def rescue(self) -> int:
        """Push back what a dead consumer popped but never recorded; returns how many."""
        now = time.time()
        with self.channel.conn_or_acquire() as client:
            rescued = int(
                client.eval(
                    RESCUE,
                    3,
                    JOURNAL,
                    JOURNAL_INDEX,
                    self.unacked_key,
                    now - self.visibility_timeout,
                    now,
                    RESCUE_LIMIT,
                )
            )
        if rescued:
            kombu_redis.logger.warning("rescued %d message(s) lost by a dead consumer", rescued)
        return rescued
