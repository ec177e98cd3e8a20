"""A scripted KIS for unit tests: ``httpx.MockTransport`` answering from JSON fixtures.

The fixtures were written from the field lists of ``kis-api.md``, not recorded from our
simulator, so a misunderstanding shared by the client and the simulator shows up here.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.http import KisHttp, RetryPolicy
from stock_manager.adapters.kis.token_store import MemoryTokenStore
from stock_manager.adapters.kis.tokens import TokenPolicy
from stock_manager.domain.clock import KST
from tests.fakes.ports import FakeRateLimiter

FIXTURES = Path(__file__).parent / "fixtures"
APP_KEY = "PSfixtureAppKey0000000000000000000AB"  # 36 characters, like a real one
APP_SECRET = "fixture-secret-" + "x" * 165  # 180 characters
ACCOUNT = "50071234-01"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def reply(name: str, status: int = 200, tr_cont: str = "") -> httpx.Response:
    headers = {"tr_cont": tr_cont} if tr_cont else {}
    return httpx.Response(status, json=fixture(name), headers=headers)


@dataclass
class ScriptedKis:
    """Queues replies per path suffix (``inquire-price``, ``tokenP``); records requests."""

    replies: dict[str, deque[Reply]] = field(default_factory=lambda: defaultdict(deque))
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0

    def on(self, name: str, *answers: Reply) -> ScriptedKis:
        self.replies[name].extend(answers)
        return self

    def calls(self, name: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/" + name)]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        name = request.url.path.rsplit("/", 1)[-1]
        queue = self.replies.get(name)
        if not queue:
            if name == "tokenP":
                self.tokens_issued += 1
                return reply("token")
            raise AssertionError(f"unexpected request {request.method} {request.url.path}")
        answer = queue.popleft() if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer) and not isinstance(answer, httpx.Response):
            return answer(request)
        return answer


# The harness runs on its own clock, half a day before the expiry the token fixture states
# ("2026-11-22 10:00:00" KST), so no test depends on today's date.
FIXTURE_NOW = datetime(2026, 11, 21, 22, 0, tzinfo=KST).timestamp()


@dataclass
class Sleeps:
    """The fake ``sleep``: records each call and moves the harness clock on by it."""

    calls: list[float] = field(default_factory=list)
    now: float = FIXTURE_NOW

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def environment(**overrides: Any) -> KisEnvironment:
    values: dict[str, Any] = {
        "name": "paper",
        "dialect": "paper",
        # The paper hosts: any other host is live and refuses unarmed orders (issue 13).
        "rest_url": "https://openapivts.koreainvestment.com:29443",
        "ws_url": "ws://ops.koreainvestment.com:31000",
        "rate_limit": 2.0,
    }
    values.update(overrides)
    return KisEnvironment(**values)


def credentials() -> KisCredentials:
    return KisCredentials(SecretStr(APP_KEY), SecretStr(APP_SECRET), ACCOUNT, "htsuser1")


@dataclass
class Harness:
    kis: ScriptedKis
    http: KisHttp
    limiter: FakeRateLimiter
    sleeps: Sleeps


def make_harness(kis: ScriptedKis | None = None, **env: Any) -> Harness:
    kis = kis or ScriptedKis()
    limiter, sleeps = FakeRateLimiter(), Sleeps()
    http = KisHttp(
        environment(**env),
        credentials(),
        httpx.Client(transport=httpx.MockTransport(kis)),
        limiter,
        MemoryTokenStore(clock=sleeps.clock),
        retry=RetryPolicy(read_attempts=3, throttle_budget=5.0),
        token_policy=TokenPolicy(min_interval=0.0),
        sleep=sleeps,
        clock=sleeps.clock,
    )
    return Harness(kis, http, limiter, sleeps)


@pytest.fixture
def harness() -> Harness:
    return make_harness()


@pytest.fixture
def live_harness() -> Harness:
    return make_harness(name="live", dialect="live", trading_armed=True)
