"""Ctrl-C during ``stock-manager demo`` stops everything it started, leaving no process —
the embedded Redis and its supervisor included — on a loaded machine too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path


def processes_of(workspace: Path) -> list[int]:
    """Every process whose environment points at the demo's workspace (its children do, and
    so do the embedded Redis's supervisor and server, started by one of them)."""
    marker = f"DATA_DIR={workspace / 'data'}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    """Poll rather than guess: a loaded machine is slow, not wrong."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    return condition()


def test_ctrl_c_leaves_no_process_behind(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    demo = subprocess.Popen(
        [sys.executable, "-m", "stock_manager", "demo", "--minutes", "2", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        # simulator, worker (+ its pool), beat, stream, and the embedded Redis
        started = wait_until(lambda: len(processes_of(out)) >= 6, timeout=180)
        assert started, f"the demo did not start its processes: {processes_of(out)}"
        demo.send_signal(signal.SIGINT)
        output, _ = demo.communicate(timeout=180)
    finally:
        if demo.poll() is None:
            demo.kill()
    assert demo.returncode == 130, output.decode(errors="replace")[-2000:]
    assert b"stopping everything" in output
    assert wait_until(lambda: processes_of(out) == [], timeout=30), processes_of(out)
