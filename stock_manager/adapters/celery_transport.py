"""kombu's Redis transport, hardened so that no message can kill a consumer.

kombu decodes every message it pops with ``json.loads`` and lets a failure escape; Celery
treats that as unrecoverable, the worker exits, and the message is gone (reproduced with
kombu 5.7: a queue entry ``not json``, ``[1, 2]`` or ``"x"`` stops ``celery worker`` with
``Unrecoverable error: JSONDecodeError`` or ``TypeError``). Here an entry that is not a JSON
object with ``properties`` is kept, as it was, on the Redis list :data:`DEAD_LETTERS`,
counted in :data:`MALFORMED_COUNT`, logged, and skipped.

It also finishes closing a channel when Redis is gone. kombu 5.7's ``Channel.close`` first
drains a pending ``BRPOP`` and lets the connection error escape before the channel is
marked closed; ``Transport.close_connection`` stops at the first channel whose close raises,
``Connection.collect`` then drops the transport (``transport.client = None``) with channels
still open, and the next ``close`` rebuilds a pool from ``None.hostname``. Celery ignores
only connection errors there, so the worker died with ``Unrecoverable error: AttributeError
'NoneType' object has no attribute 'hostname'`` whenever Redis went away while a channel
held a pending ``BRPOP`` and another held an unacknowledged message (issue 14, 3 restarts in
6). Here the drain and the restore of unacknowledged messages are best effort: what they
could not do, the journal and the visibility timeout do (the messages are still in Redis).

Its lock on restoring timed-out messages expires in seconds, not kombu's five minutes, so a
Redis restart in the middle of a restore does not hold every restore back that long.

It also keeps the delivery journal (``adapters/celery_journal.py``), so a consumer killed
between its pop and its bookkeeping loses nothing, and it starts the embedded Redis
(``adapters/embedded_redis.py``) before it connects, when the transport option
``embedded_redis_home`` names one.

:func:`install` registers it for ``redis://``, ``rediss://`` and ``redis+socket://`` URLs,
so Celery, Flower and kombu tools in our processes all use it.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from queue import Empty
from typing import Any

import redis
from kombu.transport import TRANSPORT_ALIASES, _transport_cache
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps

from stock_manager.adapters.celery_journal import (
    JOURNAL,
    JOURNAL_INDEX,
    QoS,
    journal,
    journal_entry,
)

log = logging.getLogger(__name__)

DEAD_LETTERS = "sm:broker:malformed"  # raw entries, newest first, capped
MALFORMED_COUNT = "sm:broker:malformed:count"
DEAD_LETTER_CAP = 10_000
PREVIEW = 80
UNACKED_MUTEX_EXPIRE = 10  # seconds (kombu: 300); see Channel


class MalformedMessage(ValueError):
    """A queue entry that is not a kombu message."""


def decode(item: bytes | str) -> dict[str, Any]:
    """A queue entry as kombu's message dict, or :class:`MalformedMessage`."""
    try:
        message = json.loads(bytes_to_str(item))
    except (ValueError, TypeError) as exc:
        raise MalformedMessage(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(message, dict) or not isinstance(message.get("properties"), dict):
        raise MalformedMessage(f"not a message object ({type(message).__name__})")
    return message


class Channel(kombu_redis.Channel):
    """The Redis channel with a guarded decode on both read paths and the delivery journal."""

    QoS = QoS
    # kombu guards each pass that restores timed-out messages with a Redis lock held for
    # 300 s. A Redis that stops mid-pass keeps the lock (AOF) and nobody restores anything
    # for five minutes after it is back (seen: tasks a restart cancelled, stuck 180 s+).
    # A pass takes milliseconds, and restore_by_tag is a WATCHed transaction, so two passes
    # at once cannot restore a message twice: the lock only saves work and can be short.
    unacked_mutex_expire = UNACKED_MUTEX_EXPIRE

    def _put(self, queue: str, message: dict[str, Any], **kwargs: Any) -> None:
        # kombu's own method, but for the journal written with the push (kombu 5.7).
        key = self._q_for_pri(queue, self._get_message_priority(message, reverse=False))
        payload = dumps(message)
        tag = message["properties"].get("delivery_tag")
        expiring = [self._q_for_pri(queue, p) for p in self.priority_steps]
        expiring = expiring if self._expires and queue in self._expires else []
        batch = kwargs.pop("_publish_batch", None)
        if batch is not None:
            if tag:
                batch.add("hset", JOURNAL, tag, journal_entry(key, payload))
                batch.add("zadd", JOURNAL_INDEX, {tag: time.time()})
            batch.add("lpush", key, payload)
            for name in expiring:
                batch.add("pexpire", name, self._expires[queue])
            return
        with self.conn_or_acquire() as client, client.pipeline() as pipe:
            if tag:
                journal(pipe, tag, key, payload)
            pipe.lpush(key, payload)
            for name in expiring:
                pipe.pexpire(name, self._expires[queue])
            pipe.execute()

    def _do_restore_message(
        self,
        payload: dict[str, Any],
        exchange: str,
        routing_key: str,
        pipe: Any,
        leftmost: bool = False,
    ) -> None:
        # kombu's own method, but a redelivered message is journaled again (kombu 5.7).
        try:
            payload["headers"]["redelivered"] = True
            payload["properties"]["delivery_info"]["redelivered"] = True
        except (KeyError, TypeError):
            pass
        tag = payload.get("properties", {}).get("delivery_tag")
        for queue in self._lookup(exchange, routing_key):
            key = self._q_for_pri(queue, self._get_message_priority(payload, reverse=False))
            text = dumps(payload)
            if tag:
                journal(pipe, tag, key, text)
            (pipe.lpush if leftmost else pipe.rpush)(key, text)

    def close(self) -> None:
        # kombu's own, but a dead connection cannot stop the channel closing (kombu 5.7).
        self._closing = True
        if self._in_poll:
            try:
                self._brpop_read()
            except Empty:
                pass
            except self.connection_errors as exc:  # a message it popped is in the journal
                log.warning("broker channel closing without Redis: pending read dropped (%s)", exc)
        try:
            super().close()
        except self.connection_errors as exc:
            log.warning(
                "broker channel closed without Redis (%s): its unacknowledged messages are "
                "delivered again after the visibility timeout",
                exc,
            )

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:  # the transport was closed: nothing to reconnect
            raise redis.exceptions.ConnectionError("the broker connection is closed")
        params: dict[str, Any] = super()._connparams(asynchronous)
        home = self.connection.client.transport_options.get("embedded_redis_home")
        if home:
            from stock_manager.adapters.embedded_redis import EmbeddedRedis

            params["connection_class"] = EmbeddedRedis(Path(home)).ensuring(
                params["connection_class"]
            )
        return params

    def _brpop_read(self, **options: Any) -> bool:
        # kombu's own method, but for the guarded decode (kombu 5.7 transport/redis.py).
        try:
            try:
                dest__item = self.client.parse_response(self.client.connection, "BRPOP", **options)
            except self.connection_errors:
                self.client.connection.disconnect()
                raise
            if not dest__item:
                raise Empty()
            dest, item = dest__item
            dest = bytes_to_str(dest).rsplit(self.sep, 1)[0]
            self._queue_cycle.rotate(dest)
            message = self._decode_or_set_aside(dest, item)
            if message is None:
                raise Empty()
            self.connection._deliver(message, dest)
            return True
        finally:
            self._in_poll = None  # type: ignore[assignment]
            self._flush_brpop_reauth()

    def _get(self, queue: str, timeout: Any = None) -> dict[str, Any]:
        with self.conn_or_acquire() as client:
            for pri in self.priority_steps:
                item = client.rpop(self._q_for_pri(queue, pri))
                if item:
                    self._maybe_update_queues_expire(client, queue)
                    message = self._decode_or_set_aside(queue, item)
                    if message is not None:
                        return message
            self._maybe_update_queues_expire(client, queue)
            raise Empty()

    def _decode_or_set_aside(self, queue: str, item: bytes) -> dict[str, Any] | None:
        try:
            return decode(item)
        except MalformedMessage as exc:
            self._set_aside(queue, item, exc)
            return None

    def _set_aside(self, queue: str, item: bytes, reason: Exception) -> None:
        try:
            with self.conn_or_acquire() as client, client.pipeline() as pipe:
                pipe.lpush(DEAD_LETTERS, item)
                pipe.ltrim(DEAD_LETTERS, 0, DEAD_LETTER_CAP - 1)
                pipe.incr(MALFORMED_COUNT)
                pipe.execute()
        except self.connection_errors:
            log.exception("could not keep a malformed message from queue %s", queue)
        log.error(
            "skipped a malformed message on queue %s (%s, %d bytes, starts %r); kept on %s",
            queue,
            reason,
            len(item),
            bytes(item[:PREVIEW]),
            DEAD_LETTERS,
        )


class Transport(kombu_redis.Transport):
    Channel = Channel


def install() -> None:
    """Use this transport for every Redis URL in this process (idempotent)."""
    name = f"{__name__}:Transport"
    for alias in ("redis", "rediss"):
        TRANSPORT_ALIASES[alias] = name
        _transport_cache.pop(alias, None)
