"""Resident memory of the processes that do not trade: ``celery beat`` and the stream.

Each is started as in production against a simulator (live dialect), a fresh SQLite ledger
and Redis (db 5, flushed before and after), left to settle, and its ``VmRSS`` read from
``/proc``, with how many modules it has loaded (``stream``: read from its log, no). With
``--repo DIR`` the processes run another checkout's code (an export of ``main``, say), so
before and after are measured the same way.

    .venv/bin/python -m benchmarks.bench_rss [--repo DIR] [--settle 5]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import print_load, report
from benchmarks._system import REPO, TradingSystem, wait_for
from stock_manager.demo.processes import Child, ProcessGroup

READY = {"beat": "beat: Starting", "stream": "streaming from"}


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def measure(system: TradingSystem, repo: Path, settle: float) -> dict[str, Any]:
    system.fresh_database()
    env = system.env(PYTHONPATH=str(repo))
    group = ProcessGroup(system.work / "logs", env)
    found: dict[str, Any] = {}
    try:
        children: dict[str, Child] = {
            "beat": group.start(
                "beat", "-m", "celery", "-A", "stock_manager", "beat", "-l", "info", cwd=repo
            ),
            "stream": group.start("stream", "-m", "stock_manager", "stream", cwd=repo),
        }
        for name, child in children.items():
            wait_for(lambda c=child, n=name: _has(c, READY[n]), 90, f"the {name}", 0.2)
        time.sleep(settle)
        for name, child in children.items():
            found[name] = {"rss_mb": rss_kb(child.process.pid) / 1024}
    finally:
        group.stop()
    return found


def _has(child: Child, needle: str) -> bool:
    if not child.alive:
        raise RuntimeError(f"{child.name} exited; see {child.log}")
    return child.log.exists() and needle in child.log.read_text(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to run")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after ready")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/5", help="flushed!")
    args = parser.parse_args()
    before = print_load("load before")
    system = TradingSystem(redis_url=args.redis, postgres=None, symbols=30, seed=3)
    try:
        system.start()
        found = measure(system, args.repo.resolve(), args.settle)
    finally:
        system.close()
    rows = [[name, f["rss_mb"]] for name, f in found.items()]
    report(
        "rss" if args.repo.resolve() == REPO else "rss_other",
        f"resident memory after start-up ({args.repo.resolve()}, python {sys.version.split()[0]})",
        ["process", "VmRSS MB"],
        rows,
        {"load_before": before, "repo": str(args.repo), "pid": os.getpid(), **found},
    )


if __name__ == "__main__":
    main()
