"""What ``celery -A tests.integration.ledger.worker_app worker`` runs in a subprocess: the
project's Celery app and tasks, unchanged, with the container built from the environment
and the leases under the test's Redis namespace (``LEDGER_TEST_LEASE_NAMESPACE``)."""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init

from stock_manager.celery_app import app
from tests.integration.ledger.stack import install_from_environment

install_from_environment()


@worker_process_init.connect
def _reinstall(**_: Any) -> None:
    """Every pool (solo too) starts its process by dropping the container
    (``bootstrap.reset_after_fork``, connected before us): put ours back."""
    install_from_environment()


__all__ = ["app"]
