"""End-to-end tests run real processes (simulator, worker, beat, stream) for minutes."""

from __future__ import annotations

import pytest

# The ledger tests' real stack (simulator, PostgreSQL, Redis leases, an embedded Celery
# broker of the test's own), for e2e tests that run workers against it.
from tests.integration.ledger.conftest import (  # noqa: F401 - fixtures
    backend,
    sim_settings,
    stack,
    stack_settings,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.timeout(600))
