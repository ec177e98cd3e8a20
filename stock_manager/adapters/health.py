"""Liveness of processes that answer no ``celery inspect ping``: a heartbeat file.

``stock-manager stream`` touches ``DATA_DIR/health/stream`` every :data:`BEAT_EVERY` seconds
while its event loop runs; ``stock-manager health stream`` (compose's healthcheck, a systemd
watchdog script) says whether it is fresh. Workers and beat answer ``celery inspect ping``
(beat as ``celerybeat@host``, ``beat_enable_remote_control``); Flower, the metrics server
and the simulator answer HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from stock_manager.adapters.files import private_dir

BEAT_EVERY = 5.0  # seconds between touches
STALE_AFTER = 30.0  # seconds without a touch: the process is stuck or gone


def heartbeat_path(data_dir: Path, name: str) -> Path:
    return Path(data_dir) / "health" / name


def touch(path: Path) -> None:
    private_dir(path.parent)
    path.touch()


async def keep_touching(path: Path, stop: asyncio.Event, every: float = BEAT_EVERY) -> None:
    """Touch ``path`` every ``every`` seconds until ``stop`` is set (then remove it)."""
    try:
        while not stop.is_set():
            touch(path)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
    finally:
        path.unlink(missing_ok=True)


def age(path: Path) -> float | None:
    """Seconds since ``path`` was last touched, or ``None`` if it does not exist."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None
