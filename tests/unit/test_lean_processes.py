"""Issue 16 (5): the processes that do not trade import only what they need."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# What only the workers need: the report charts' plotting stack and the task modules.
WORKERS_ONLY = ("matplotlib", "numpy", "tasks.reports", "stock_manager.services.ledger")

PROBE = """
import json, sys
sys.argv = {argv!r}
from stock_manager.celery_app import app
app.loader.init_worker()  # what `celery beat` and `celery worker` do first
print(json.dumps(sorted(sys.modules)))
"""


def modules_after_init(argv: list[str], tmp_path: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "DATA_DIR": str(tmp_path), "PYTHONPATH": str(REPO)},
        timeout=120,
        check=True,
    ).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_beat_imports_no_task_modules(tmp_path: Path) -> None:
    loaded = modules_after_init(["celery", "-A", "stock_manager", "beat"], tmp_path)
    assert not [m for m in WORKERS_ONLY if m in loaded]


@pytest.mark.parametrize(
    "argv",
    [
        ["celery", "-A", "stock_manager", "worker"],
        ["celery", "-A", "stock_manager", "worker", "-B"],
    ],
)
def test_a_worker_still_imports_every_task_module(argv: list[str], tmp_path: Path) -> None:
    loaded = modules_after_init(argv, tmp_path)
    assert "tasks.reports" in loaded and "tasks.prices" in loaded
