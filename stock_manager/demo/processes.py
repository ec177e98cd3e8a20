"""Child processes the demo starts, each in its own session, all stopped on the way out."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@dataclass
class ProcessGroup:
    """Starts children with their output in ``logs/``; ``stop()`` leaves none behind."""

    logs: Path
    env: dict[str, str]
    children: list[Child] = field(default_factory=list)

    def start(self, name: str, *args: str, cwd: Path | None = None) -> Child:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = self.logs / f"{name}.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and entry points
                [sys.executable, *args],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=cwd,
                start_new_session=True,
            )
        child = Child(name, process, log)
        self.children.append(child)
        return child

    def dead(self) -> list[Child]:
        return [c for c in self.children if not c.alive]

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM every child's process group, then SIGKILL what is left after ``grace``."""
        for child in reversed(self.children):
            _signal(child, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children:
            remaining = max(deadline - time.monotonic(), 0.1)
            try:
                child.process.wait(remaining)
            except subprocess.TimeoutExpired:
                _signal(child, signal.SIGKILL)
                child.process.wait(5)
        for child in self.children:  # celery pool children share the group: sweep it
            _signal(child, signal.SIGKILL)


def _signal(child: Child, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.process.pid, sig)
