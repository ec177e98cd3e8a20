"""The shared KIS token survives a Redis restart without persistence (issue 12, item 7).

The simulator keeps KIS's rule of one issuance per minute (``EGW00133``), and every
``/oauth2/tokenP`` request it receives is counted. A worker gets the token, the test's own
Redis is restarted (everything in it lost), and a worker started afterwards — new clients,
as a new process has — must reach the broker at once with the same token: no request to
``tokenP``, no minute of waiting. The store is built by the factory the container uses.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis

from stock_manager.adapters.db.engine import make_engine
from stock_manager.adapters.db.migrate import upgrade
from stock_manager.adapters.kis.factory import make_token_store
from stock_manager.adapters.kis.token_store import TokenStore
from stock_manager.config import load_settings
from stock_manager.sim.auth import TokenEndpointError
from stock_manager.sim.server import SimServer
from tests.integration.kis.conftest import Connect, StartSim
from tests.integration.own_redis import OwnRedis

ONE_MINUTE = 60.0  # KIS: one token per minute per app key


class TokenRequests:
    """Every ``tokenP`` request the simulator answers: "issued" or the EGW code."""

    def __init__(self, server: SimServer) -> None:
        self.seen: list[str] = []
        auth: Any = server.app.auth  # type: ignore[union-attr]
        answer = auth.issue

        def counted(body: dict[str, Any]) -> dict[str, Any]:
            try:
                reply: dict[str, Any] = answer(body)
            except TokenEndpointError as exc:
                self.seen.append(exc.code)
                raise
            self.seen.append("issued")
            return reply

        auth.issue = counted


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    url = str(request.getfixturevalue(f"{request.param}_url"))
    upgrade(url)
    return url


def worker_store(redis_url: str, database: str) -> TokenStore:
    """What a worker's container builds with Redis leases: its own connections."""
    settings = load_settings(redis_url=redis_url, database_url=database)
    return make_token_store(
        settings, redis=redis.Redis.from_url(redis_url), engine=make_engine(database)
    )


def test_a_worker_started_after_a_redis_restart_reuses_the_token_at_once(
    start_sim: StartSim, connect: Connect, own_redis: OwnRedis, database: str
) -> None:
    server = start_sim(token_issue_interval=ONE_MINUTE)
    requests = TokenRequests(server)
    first = connect(server, store=worker_store(own_redis.url, database), min_interval=ONE_MINUTE)
    symbol = first.symbols()[0]
    first.rest.quote(symbol)
    token = first.http.tokens.get()
    approval = first.http.approvals.get()
    assert requests.seen == ["issued"]

    own_redis.restart()  # the token, its attempt time and lock are gone from Redis

    later = connect(server, store=worker_store(own_redis.url, database), min_interval=ONE_MINUTE)
    started = time.monotonic()
    later.rest.quote(symbol)
    waited = time.monotonic() - started
    assert requests.seen == ["issued"], "a new token was asked for"
    assert later.http.tokens.get().value == token.value
    assert later.http.tokens.issued == 0
    assert later.http.approvals.get().value == approval.value
    assert later.http.approvals.issued == 0
    assert waited < 5.0, f"the first call after the restart took {waited:.1f} s"
    first.rest.quote(symbol)  # the worker that lived through it carries on too
    assert requests.seen == ["issued"]
