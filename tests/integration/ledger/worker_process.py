"""A real ``celery worker --pool=solo`` process on the ledger tests' app (``worker_app``).

It consumes queue ``trading`` with the stack's environment, writes its log to ``log`` and runs
in its own session, so a signal to its process group reaches the whole worker.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

from tests.integration.ledger.stack import Stack


class LedgerWorker:
    """Started on construction; ``name`` is its unique Celery node name (``prefix-…@host``)."""

    def __init__(self, stack: Stack, log: Path, prefix: str) -> None:
        self.name = f"{prefix}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        self.log = log
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.integration.ledger.worker_app",
            "worker",
            "--pool=solo",
            "-Q",
            "trading",
            "-n",
            self.name,
            "--without-mingle",
            "--without-gossip",
            "-l",
            "info",
        ]
        with log.open("wb") as sink:
            self.process = subprocess.Popen(
                command,
                env=stack.env,
                cwd=log.parent,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")
