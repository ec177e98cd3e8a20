"""docker-compose.yml's services run as local processes, the way compose would run them.

Docker is not needed: each service's ``command`` runs with that service's ``environment``
(compose's interpolation, from a ``.env``-like mapping), each replica in a folder of its own
(its container), with the compose host names mapped to loopback: ``postgres:5432``,
``redis:6379`` and ``kis-sim:18080/18081`` to the test's own servers, ``0.0.0.0`` to
``127.0.0.1``, and the published ports (5555, 9108) to free ones. ``%h`` in a worker's node
name and ``$HOSTNAME`` in its healthcheck become the replica's own host name, as in a
container. Healthchecks run the same way.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests import compose
from tests.clock_shift import SHIFT_ENV, pythonpath
from tests.servers import free_port

REPO = Path(__file__).resolve().parents[2]
Completed = subprocess.CompletedProcess[str]
KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", SHIFT_ENV)  # the runner's own


@dataclass
class Replica:
    service: str
    index: int
    hostname: str
    folder: Path
    env: dict[str, str]
    command: list[str]
    process: subprocess.Popen[bytes] | None = None

    @property
    def name(self) -> str:
        return f"{self.service}-{self.index}"

    @property
    def log(self) -> Path:
        return self.folder / "log.txt"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Stack:
    """Maps and runs compose services; ``dotenv`` plays the role of the ``.env`` file."""

    root: Path
    dotenv: dict[str, str]
    hosts: dict[str, str]  # "postgres:5432" -> "127.0.0.1:54321", ...
    overrides: dict[str, str] = field(default_factory=dict)  # a test day's extra settings
    replicas: list[Replica] = field(default_factory=list)
    ports: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ports = {"9108": str(free_port()), "5555": str(free_port())}
        self.services = compose.services()

    # -- mapping -----------------------------------------------------------------------------
    def map_text(self, text: str, hostname: str) -> str:
        for host, local in self.hosts.items():
            text = text.replace(host, local)
        for port, local in self.ports.items():
            text = text.replace(f":{port}", f":{local}").replace(f"={port}", f"={local}")
        return text.replace("0.0.0.0", "127.0.0.1").replace("%h", hostname)

    def map_command(self, words: list[str], hostname: str) -> list[str]:
        mapped = [self.map_text(w, hostname) for w in words]
        for i, word in enumerate(mapped[:-1]):
            if word.endswith("-port") and mapped[i + 1] in self.ports:
                mapped[i + 1] = self.ports[mapped[i + 1]]
        runner = {"stock-manager": "stock_manager", "celery": "celery"}
        return [sys.executable, "-m", runner[mapped[0]], *mapped[1:]]

    def environment(self, service: str, hostname: str, folder: Path) -> dict[str, str]:
        env = {k: os.environ[k] for k in KEPT if k in os.environ}
        for name, value in self.services[service].environment(self.dotenv).items():
            env[name] = self.map_text(value, hostname)
        env["DATA_DIR"] = str(folder / "data")  # the container's /tmp/stock-manager
        env.update(self.overrides)
        env.update(PYTHONPATH=pythonpath(str(REPO)), PYTHONUNBUFFERED="1", HOSTNAME=hostname)
        return env

    # -- processes ---------------------------------------------------------------------------
    def start(self, service: str, *extra: str, index: int | None = None) -> Replica:
        number = index if index is not None else self._next_index(service)
        hostname = self._hostname(service, number)
        folder = self.root / f"{service}-{number}"
        folder.mkdir(parents=True, exist_ok=True)
        words = self.services[service].command + list(extra)
        replica = Replica(
            service,
            number,
            hostname,
            folder,
            self.environment(service, hostname, folder),
            self.map_command(words, hostname),
        )
        with replica.log.open("ab") as sink:
            replica.process = subprocess.Popen(
                replica.command,
                env=replica.env,
                cwd=folder,  # the container's workdir: no stray .env is read
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.replicas = [r for r in self.replicas if r.name != replica.name] + [replica]
        return replica

    def start_all(self, service: str) -> list[Replica]:
        return [self.start(service) for _ in range(self.services[service].replicas)]

    def run_once(self, service: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        replica = self.start(service)
        assert replica.process is not None
        replica.process.wait(timeout)
        return subprocess.CompletedProcess(replica.command, replica.process.returncode, "")

    def healthcheck(self, replica: Replica, timeout: float = 90) -> Completed:
        test = self.services[replica.service].healthcheck
        assert test is not None, replica.service
        words = [compose.interpolate(word, self.dotenv) for word in test[1:]]
        if test[0] == "CMD-SHELL":
            words = shlex.split(words[0])
        command = self.map_command(words, replica.hostname)
        if test[0] == "CMD-SHELL":  # the shell would expand $HOSTNAME
            command = [w.replace("$HOSTNAME", replica.hostname) for w in command]
        return subprocess.run(
            command,
            env=replica.env,
            cwd=replica.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def of(self, service: str) -> list[Replica]:
        return [r for r in self.replicas if r.service == service]

    def stop(self, grace: float = 20.0) -> None:
        for replica in self.replicas:
            _signal(replica, signal.SIGTERM)
        for replica in self.replicas:
            if replica.process is None:
                continue
            try:
                replica.process.wait(grace)
            except subprocess.TimeoutExpired:
                _signal(replica, signal.SIGKILL)
                replica.process.wait(10)
            _signal(replica, signal.SIGKILL)  # pool children share the group

    def _next_index(self, service: str) -> int:
        return 1 + max((r.index for r in self.of(service)), default=0)

    def _hostname(self, service: str, index: int) -> str:
        if service == "beat":  # beat's node is celerybeat@<the machine's name>
            return socket.gethostname()
        return f"{service}-{index}"


def _signal(replica: Replica, sig: signal.Signals) -> None:
    if replica.process is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(replica.process.pid, sig)
