"""Every error type, produced by the simulator over loopback, typed the way callers need."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

import httpx
import pytest

from stock_manager.adapters.kis import trids
from stock_manager.adapters.kis.errors import (
    KISAuthError,
    KISConfigError,
    KISOrderOutcomeUnknown,
    KISRateLimitError,
    KISRejectedError,
    KISTransientError,
    KISValidationError,
)
from stock_manager.adapters.kis.http import RetryPolicy
from stock_manager.adapters.kis.token_store import Credential, MemoryTokenStore
from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import OrderType, Side
from tests.integration.kis.conftest import Client, Connect, StartSim

ONE_TRY = RetryPolicy(read_attempts=1, throttle_budget=0.0)


def resting_buy(client: Client, quantity: int = 1) -> OrderRequest:
    symbol = client.symbols()[0]
    price = client.broker.quote(symbol).lower_limit
    return OrderRequest(symbol, Side.BUY, quantity, OrderType.LIMIT, price)


def order_count(client: Client) -> int:
    return len(client.admin("state")["orders"])


def test_server_throttling_is_a_rate_limit_error(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim(rate_limit=3), retry=ONE_TRY)
    symbol = client.symbols()[0]
    with pytest.raises(KISRateLimitError) as caught:
        for _ in range(10):
            client.broker.quote(symbol)
    assert caught.value.code == "EGW00201"


def test_reads_ride_out_server_throttling_within_the_budget(
    start_sim: StartSim, connect: Connect
) -> None:
    client = connect(start_sim(rate_limit=5), retry=RetryPolicy(throttle_budget=10.0))
    symbol = client.symbols()[0]
    for _ in range(12):  # more than twice the server's rate
        assert client.broker.quote(symbol).price > 0


def test_an_order_refused_with_egw00201_is_retried_and_placed_once(
    start_sim: StartSim, connect: Connect
) -> None:
    client = connect(start_sim(rate_limit=1))  # one request per second at the server
    request = resting_buy(client)
    first = client.broker.submit(request)
    second = client.broker.submit(request)  # refused with EGW00201 first, then retried
    assert first.broker_order_no != second.broker_order_no
    assert order_count(client) == 2


def test_a_server_error_on_a_read_is_transient_after_retries(
    start_sim: StartSim, connect: Connect
) -> None:
    client = connect(start_sim(), retry=RetryPolicy(read_attempts=2, backoff_base=0.01))
    symbol = client.symbols()[0]
    client.admin("faults", {"http500_rate": 1.0, "paths": ["inquire-price"]})
    with pytest.raises(KISTransientError) as caught:
        client.broker.quote(symbol)
    assert caught.value.code == "EGW00001" and caught.value.status == 500


def test_a_server_error_on_an_order_is_outcome_unknown(
    start_sim: StartSim, connect: Connect
) -> None:
    client = connect(start_sim())
    request = resting_buy(client)
    client.admin("faults", {"http500_rate": 1.0, "paths": ["order-cash"]})
    with pytest.raises(KISOrderOutcomeUnknown):
        client.broker.submit(request)
    assert order_count(client) == 0  # the resolver will prove it absent; we never resend


def test_an_order_whose_reply_never_comes_is_outcome_unknown_yet_exists(
    start_sim: StartSim, connect: Connect
) -> None:
    client = connect(start_sim(), timeout=0.5)
    request = resting_buy(client)
    client.admin("faults", {"order_timeout_rate": 1.0, "order_timeout_hang_s": 2.0})
    with pytest.raises(KISOrderOutcomeUnknown):
        client.broker.submit(request)
    client.admin("faults", {"reset": True})
    rows = client.broker.orders(client.rest.today())
    assert [(r.symbol, r.quantity, r.price) for r in rows] == [
        (request.symbol, request.quantity, request.price)
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_nothing_listening_is_transient_even_for_an_order(
    start_sim: StartSim, connect: Connect
) -> None:
    server = start_sim()
    client = connect(server)
    request = resting_buy(client)
    dead = connect(server, retry=ONE_TRY)
    object.__setattr__(dead.http.env, "rest_url", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(KISTransientError, match="not sent"):
        dead.broker.submit(request)
    with pytest.raises(KISTransientError, match="not sent"):
        dead.broker.quote(request.symbol)


def test_revoked_tokens_are_reissued_once_and_the_call_succeeds(live: Client) -> None:
    symbol = live.symbols()[0]
    first = live.http.tokens.get()
    live.admin("faults", {"revoke_tokens": True})
    assert live.broker.quote(symbol).price > 0
    assert live.http.tokens.get().generation == first.generation + 1
    live.admin("faults", {"expire_tokens": True})
    assert live.broker.balance().cash >= 0  # EGW00123 this time
    assert live.http.tokens.get().generation == first.generation + 2


def test_a_token_refused_again_after_its_reissue_is_an_auth_error(
    start_sim: StartSim, connect: Connect
) -> None:
    server = start_sim()

    class RevokingStore(MemoryTokenStore):
        """Every token is revoked right after it is issued: KIS keeps refusing."""

        def save(self, key: str, credential: Credential) -> None:
            super().save(key, credential)
            httpx.post(f"{server.rest_url}/_sim/faults", json={"revoke_tokens": True})

    client = connect(server, store=RevokingStore())
    with pytest.raises(KISAuthError) as caught:
        client.broker.quote(client.symbols()[0])
    assert caught.value.code == "EGW00121"


def test_a_wrong_app_key_is_a_config_error(start_sim: StartSim, connect: Connect) -> None:
    client = connect(start_sim(), app_key="PSwrongAppKey0000000000000000000000")
    with pytest.raises(KISConfigError) as caught:
        client.broker.balance()
    assert caught.value.code == "EGW00103"


def test_live_without_arming_sends_no_order(start_sim: StartSim, connect: Connect) -> None:
    server = start_sim()
    client = connect(server, name="live", armed=False)
    request = OrderRequest("005930", Side.BUY, 1, OrderType.LIMIT, 50_000)
    with pytest.raises(KISConfigError, match="TRADING_ARMED"):
        client.broker.submit(request)
    assert order_count(client) == 0
    armed = connect(server, name="live", armed=True)
    assert armed.broker.submit(resting_buy(armed)).broker_order_no


def test_business_rejections_carry_the_brokers_code(live: Client) -> None:
    symbol = live.symbols()[0]
    with pytest.raises(KISRejectedError) as caught:
        live.broker.submit(OrderRequest(symbol, Side.SELL, 1, OrderType.MARKET))
    assert caught.value.code.startswith("APBK")  # nothing held to sell
    with pytest.raises(KISRejectedError):
        live.broker.submit(OrderRequest(symbol, Side.BUY, 10**9, OrderType.MARKET))


def test_orders_outside_the_session_are_rejected(start_sim: StartSim, connect: Connect) -> None:
    server = start_sim(env="paper")
    client = connect(server)
    request = resting_buy(client)
    now = datetime.now(KST)
    window = {"opens_at": now - timedelta(hours=3), "continuous_ends_at": now - timedelta(hours=2)}
    client.admin("session", {k: v.isoformat() for k, v in window.items()})
    with pytest.raises(KISRejectedError) as caught:
        client.broker.submit(request)
    assert caught.value.code in ("40570000", "40580000")


def test_malformed_requests_are_validation_errors(live: Client) -> None:
    with pytest.raises(KISValidationError) as caught:
        live.http.request(trids.INQUIRE_PRICE, params={"FID_COND_MRKT_DIV_CODE": "J"})
    assert caught.value.code.startswith("OPSQ")
