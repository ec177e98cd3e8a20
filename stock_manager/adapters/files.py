"""Files at rest are private: the data folder is 0700, what holds a secret is 0600.

``DATA_DIR`` holds the SQLite ledger (with the shared KIS token and approval key), the
embedded Redis's append-only file (the same secrets, and every queued task), the rate
limiter's state and the logs. Nobody but the account that runs the system may read them.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) and make it 0700; return it.

    Parents we create are 0700 too; an existing folder is tightened, never loosened.
    """
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _tighten(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, make it 0600, and return it (its folder must exist)."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    os.close(fd)
    _tighten(path, PRIVATE_FILE)
    return path


def _tighten(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        with contextlib.suppress(PermissionError):  # not ours to change: leave it be
            path.chmod(current & mode)
