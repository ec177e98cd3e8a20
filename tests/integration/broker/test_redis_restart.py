"""A Redis restart never kills a consumer (issue 14).

kombu 5.7 let ``'NoneType' object has no attribute 'hostname'`` escape a connection's clean-up
when Redis went away while one channel had a ``BRPOP`` pending and another held an
unacknowledged message; Celery called it unrecoverable and the worker exited. The first
tests replay Celery's clean-up step by step (``on_connection_error_after_connected``); the
last restarts a private Redis under a real ``celery worker`` several times.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from celery.utils.threads import bound_open_broker_sockets
from kombu import Connection, Consumer, Queue
from kombu.common import ignore_errors
from redis import exceptions as redis_errors

from stock_manager.adapters import celery_transport
from tests.clock_shift import pythonpath
from tests.servers import RedisServer, wait_until

REPO = Path(__file__).resolve().parents[3]
TRANSPORT = f"{celery_transport.__name__}:Transport"
CELERY = (sys.executable, "-m", "celery", "-A", "tests.integration.broker.restart_app")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RedisServer]:
    redis = RedisServer(tmp_path / "redis").start()
    yield redis
    redis.stop()


def _two_busy_channels(url: str, transport: str) -> tuple[Connection, list[Any]]:
    """A connection whose default channel and a second one each hold an unacknowledged
    message and a pending BRPOP: the state a worker's connection is in between tasks."""
    conn = Connection(url, transport=transport, transport_options={"visibility_timeout": 1})
    conn.ensure_connection(max_retries=3)
    held: list[Any] = []
    queues = [Queue("a"), Queue("b")]
    with conn.Producer() as producer:
        for queue in queues:
            producer.publish({"queue": queue.name}, routing_key=queue.name, declare=[queue])
    for channel, queue in ((conn.default_channel, queues[0]), (conn.channel(), queues[1])):
        Consumer(channel, [queue], callbacks=[lambda body, message: held.append(message)]).consume()
    for _ in range(6):
        with contextlib.suppress(TimeoutError):
            conn.drain_events(timeout=0.3)
    assert len(held) == 2
    return conn, held


def _settle_finalizers(channels: list[Any]) -> None:
    """Run kombu's exit finalizers now, so they do not print a traceback at exit."""
    for channel in channels:
        with contextlib.suppress(Exception):
            channel.qos.restore_unacked_once()


def _celery_cleanup(conn: Connection) -> None:
    """What Celery's consumer does after it lost the broker (celery 5.7 consumer.py)."""
    bound_open_broker_sockets(conn, 1.0)
    with contextlib.suppress(Exception):  # Celery ignores everything here
        conn.collect(socket_timeout=1.0)
    ignore_errors(conn, conn.close)  # Celery ignores connection errors only


def test_kombus_own_transport_still_dies_of_it(server: RedisServer) -> None:
    """The upstream bug, reproduced: when this fails kombu fixed it, and our ``close`` and
    ``_connparams`` overrides can go."""
    conn, _ = _two_busy_channels(server.url, "kombu.transport.redis:Transport")
    channels = list(conn.transport.channels)
    server.stop()
    with pytest.raises(AttributeError, match="hostname"):
        _celery_cleanup(conn)
    _settle_finalizers(channels)


def test_our_transport_closes_cleanly_and_loses_nothing(server: RedisServer) -> None:
    transport = TRANSPORT
    conn, _ = _two_busy_channels(server.url, transport)
    server.stop()
    _celery_cleanup(conn)  # raises nothing

    server.start()
    back: list[Any] = []
    again = Connection(server.url, transport=transport, transport_options={"visibility_timeout": 1})
    for name in ("a", "b"):
        channel = again.channel()
        Consumer(channel, [Queue(name)], callbacks=[lambda body, m: back.append(body)]).consume()
    deadline_polls = 0
    while len(back) < 2 and deadline_polls < 100:
        for channel in again.transport.channels:
            channel.qos.restore_visible(num=100, interval=1)  # the visibility timeout passed
        with contextlib.suppress(TimeoutError):
            again.drain_events(timeout=0.3)
        deadline_polls += 1
    assert sorted(body["queue"] for body in back) == ["a", "b"]
    again.close()


def test_kombus_own_finalizer_raises_without_redis(server: RedisServer) -> None:
    """What printed a traceback at the end of a test run: kombu restores a connection's
    unacknowledged messages in an exit finalizer, and raises when Redis is gone."""
    conn, _ = _two_busy_channels(server.url, "kombu.transport.redis:Transport")
    channels = list(conn.transport.channels)
    server.stop()
    with pytest.raises(redis_errors.ConnectionError):
        conn.default_channel.qos.restore_unacked_once()
    _settle_finalizers(channels)


def test_our_finalizer_leaves_the_unacked_to_the_timeout(server: RedisServer) -> None:
    conn, held = _two_busy_channels(server.url, TRANSPORT)
    tag = held[0].delivery_tag
    server.stop()
    conn.default_channel.qos.restore_unacked_once()  # raises nothing
    server.start()
    client = redis.Redis.from_url(server.url)
    assert client.hexists("unacked", tag)  # still there for restore_visible to bring back
    client.close()


def test_a_lock_left_by_a_restart_mid_restore_holds_restores_back_seconds(
    server: RedisServer,
) -> None:
    """A restore pass's lock that outlives its Redis connection (persisted while held)
    expires in seconds, so the timed-out messages come back soon after the restart."""
    conn, held = _two_busy_channels(server.url, TRANSPORT)
    qos = conn.default_channel.qos
    client = redis.Redis.from_url(server.url)
    client.set(qos.unacked_mutex_key, "a dead pass", px=int(qos.unacked_mutex_expire * 1000))
    assert client.pttl(qos.unacked_mutex_key) <= celery_transport.UNACKED_MUTEX_EXPIRE * 1000
    client.zadd(qos.unacked_index_key, {held[0].delivery_tag: 0})  # long timed out
    wait_until(lambda: not client.exists(qos.unacked_mutex_key), 15, "the lock to expire")
    qos.restore_visible(num=10, interval=1)
    assert not client.hexists(qos.unacked_key, held[0].delivery_tag)  # back in its queue
    client.close()
    conn.close()


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as sink:
        return subprocess.Popen(
            [*CELERY, "worker", "-l", "info", "-c", "2", "-n", "restart@%h"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


@pytest.mark.slow
def test_a_worker_survives_redis_restarts(server: RedisServer, tmp_path: Path) -> None:
    done = tmp_path / "done"
    done.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": pythonpath(str(REPO)),
        "RESTART_REDIS_URL": server.url,
        "RESTART_DONE": str(done),
    }
    log = tmp_path / "worker.log"
    worker = _start_worker(env, log)
    try:
        from tests.integration.broker.restart_app import app

        app.conf.broker_url = server.url
        wait_until(lambda: "ready" in log.read_text(errors="replace"), 90, "the worker")
        total = 30
        for number in range(total):
            app.send_task("restart.work", args=[number, 0.5])
        for restart in range(5):
            wait_until(lambda: any(done.iterdir()), 60, "a task to finish")
            server.restart(down=1.5)
            wait_until(
                lambda: (
                    "Connected to" in log.read_text(errors="replace").split("lost")[-1]
                    or worker.poll() is not None
                ),
                120,
                f"the worker to reconnect after restart {restart + 1}",
            )
            assert worker.poll() is None, log.read_text(errors="replace")[-4000:]
        wait_until(lambda: len(list(done.iterdir())) == total, 180, f"all {total} tasks")
        text = log.read_text(errors="replace")
        assert worker.poll() is None and "Unrecoverable" not in text, text[-4000:]
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait(10)
