"""Token rules on a manual clock, fault profiles, the rate limiter and WebSocket records."""

from __future__ import annotations

from datetime import datetime

import pytest

from stock_manager.config import SIM_APP_KEY, SIM_APP_SECRET
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import Side
from stock_manager.sim.auth import Auth, TokenEndpointError
from stock_manager.sim.clock import ManualClock
from stock_manager.sim.config import SimConfig
from stock_manager.sim.crypto import decrypt, encrypt, new_key_iv
from stock_manager.sim.faults import FaultInjector, FaultProfile, FaultSpecError, parse_faults
from stock_manager.sim.matching import OrderRequest
from stock_manager.sim.ratelimit import SlidingWindowLimiter
from stock_manager.sim.wsframes import book_record, notice_record, trade_record
from tests.unit.sim.conftest import MakeExchange

BODY = {"grant_type": "client_credentials", "appkey": SIM_APP_KEY, "appsecret": SIM_APP_SECRET}


def test_default_token_rules_one_minute_six_hours() -> None:
    clock = ManualClock(datetime(2026, 11, 20, 8, 0, tzinfo=KST))
    auth = Auth(SimConfig(), clock)
    first = auth.issue(BODY)
    clock.advance(59.9)
    with pytest.raises(TokenEndpointError) as limited:
        auth.issue(BODY)
    assert (limited.value.status, limited.value.code) == (403, "EGW00133")
    clock.advance(0.2)
    again = auth.issue(BODY)
    assert again["access_token"] == first["access_token"]
    assert again["access_token_token_expired"] == first["access_token_token_expired"]
    assert again["expires_in"] == 86_339  # the remaining whole seconds
    clock.advance(6 * 3600)
    assert auth.issue(BODY)["access_token"] != first["access_token"]
    clock.advance(86_400)
    assert auth.bearer_error(f"Bearer {first['access_token']}", SIM_APP_KEY) == "EGW00123"


def test_bearer_checks() -> None:
    auth = Auth(SimConfig(), ManualClock(datetime(2026, 11, 20, tzinfo=KST)))
    token = auth.issue(BODY)["access_token"]
    assert auth.bearer_error(f"Bearer {token}", SIM_APP_KEY) is None
    assert auth.bearer_error(None, SIM_APP_KEY) == "EGW00122"
    assert auth.bearer_error(f"Basic {token}", SIM_APP_KEY) == "EGW00205"
    assert auth.bearer_error("Bearer nope", SIM_APP_KEY) == "EGW00121"
    auth.revoke_all()
    assert auth.bearer_error(f"Bearer {token}", SIM_APP_KEY) == "EGW00121"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("chaos", 0.05),
        ('{"http500_rate": 0.5}', 0.5),
        ("http500_rate=0.25,latency_ms=5", 0.25),
        ("", 0.0),
    ],
)
def test_fault_specs(spec: str, expected: float) -> None:
    assert parse_faults(spec).http500_rate == expected


def test_bad_fault_specs() -> None:
    with pytest.raises(FaultSpecError, match="unknown"):
        parse_faults("nonsense=1")
    with pytest.raises(FaultSpecError):
        FaultProfile(http500_rate=2.0)


def test_fault_bursts_last_their_length() -> None:
    injector = FaultInjector(FaultProfile(rate_limit_burst_rate=1.0, rate_limit_burst_len=3), 1)
    assert [injector.rate_limit_burst() for _ in range(3)] == [True] * 3
    injector.profile = FaultProfile()
    assert not injector.rate_limit_burst()


def test_sliding_window_limit() -> None:
    limiter = SlidingWindowLimiter(20)
    assert all(limiter.admit("k", 100.0 + n * 0.01) for n in range(20))
    assert not limiter.admit("k", 100.5)
    assert limiter.admit("other", 100.5)
    assert limiter.admit("k", 101.001)
    assert SlidingWindowLimiter(0).admit("k", 0.0)


def test_encryption_round_trip() -> None:
    key, iv = new_key_iv()
    assert (len(key), len(iv)) == (32, 16)
    assert decrypt(encrypt("a^b^한글", key, iv), key, iv) == "a^b^한글"


@pytest.mark.parametrize(("extended", "tick", "book"), [(True, 47, 63), (False, 46, 59)])
def test_record_field_counts(
    make_exchange: MakeExchange, extended: bool, tick: int, book: int
) -> None:
    ex, clock = make_exchange()
    records: list[str] = []
    ex.trade_listeners.append(
        lambda m, t: records.extend(
            [trade_record(m, t, ex.session, extended), book_record(m, t.at, False, extended)]
        )
    )
    ex.notice_listeners.append(
        lambda n: records.append(notice_record(n, "simuser", "1234567801", "06590"))
    )
    clock.advance(1)
    ex.advance()
    ex.matching.place(OrderRequest("005930", Side.BUY, "01", 1, 0), ex.now(), ex.phase())
    counts = {len(r.split("^")) for r in records}
    assert counts == {tick, book, 26}


def test_only_a_plain_acceptance_parses_as_accept_only(make_exchange: MakeExchange) -> None:
    """The worker skips the broker for a receipt that only says "accepted" (issue 16); every
    other receipt — cancel, expiry — and every fill must not read as one."""
    from stock_manager.adapters.kis.notices import parse_notice

    ex, clock = make_exchange()
    records: list[str] = []
    ex.notice_listeners.append(
        lambda n: records.append(notice_record(n, "simuser", "1234567801", "06590"))
    )
    clock.advance(1)
    ex.advance()
    ex.matching.place(OrderRequest("005930", Side.BUY, "01", 1, 0), ex.now(), ex.phase())
    low = ex.matching._market("005930").limits.lower
    buy = OrderRequest("005930", Side.BUY, "00", 1, low)
    resting = ex.matching.place(buy, ex.now(), ex.phase())
    ex.matching.cancel(resting.odno, 1, True, ex.now(), ex.phase())
    parsed = [parse_notice(tuple(r.split("^")), ex.now().date()) for r in records]
    kinds = [("fill" if n.is_fill else "receipt", n.accept_only) for n in parsed]
    assert kinds == [
        ("receipt", True),  # the market buy accepted
        ("fill", False),
        ("receipt", True),  # the resting buy accepted
        ("receipt", False),  # its cancel
    ]
