"""Ctrl-C during ``stock-manager demo`` stops everything it started, leaving no process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def processes_of(workspace: Path) -> list[int]:
    """Every process whose environment points at the demo's workspace (its children do)."""
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


def test_ctrl_c_leaves_no_process_behind(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    demo = subprocess.Popen(
        [sys.executable, "-m", "stock_manager", "demo", "--minutes", "2", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(processes_of(out)) < 5:
        time.sleep(0.5)  # simulator, worker (+ its pool), beat, stream
    started = processes_of(out)
    assert len(started) >= 5, f"the demo did not start its processes: {started}"
    demo.send_signal(signal.SIGINT)
    output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 130, output.decode(errors="replace")[-2000:]
    assert b"stopping everything" in output
    time.sleep(1)
    assert processes_of(out) == []
