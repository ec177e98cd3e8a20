"""Property tests: KIS REST replies of any shape, from the HTTP body to the typed records.

``wire.parse_reply`` never raises; token replies, the ``mapping`` functions and every
``KisRestClient``/``KisOrderClient`` call give a valid result or a typed ``KISError``
(``KISValidationError``, or ``KISRejectedError`` where a mapping documents it), within the
``PROPERTY`` deadline.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stock_manager.adapters.kis import mapping, rest, trids, wire
from stock_manager.adapters.kis.errors import KISError, KISRejectedError, KISValidationError
from stock_manager.adapters.kis.http import KisHttp, RetryPolicy
from stock_manager.adapters.kis.masking import LOG_MASKER
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.adapters.kis.parsing import Row
from stock_manager.adapters.kis.rest import KisRestClient
from stock_manager.adapters.kis.token_store import MemoryTokenStore
from stock_manager.adapters.kis.tokens import TokenPolicy
from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import OrderType, Side
from tests.fakes.ports import FakeRateLimiter
from tests.unit.hostile import PROPERTY, cpu_bounded, json_values, scalars
from tests.unit.kis.conftest import credentials, environment, fixture

AT = datetime(2026, 11, 20, 9, 30, tzinfo=KST)
DAY = date(2026, 11, 20)

_READS = r"\.(?:text|need_text|num|need_num|dec|flag|first|rows|row)\(\s*f?\"([A-Za-z0-9_]+)"
FIELD_NAMES = sorted(
    {name for module in (mapping, rest) for name in re.findall(_READS, inspect.getsource(module))}
    | {"askp1", "bidp1", "askp_rsqn1", "bidp_rsqn1", "rt_cd", "msg_cd", "msg1"}
)
NAMES = st.sampled_from(FIELD_NAMES).flatmap(
    lambda n: st.sampled_from([n, n.upper(), n.capitalize()])
)
PLAUSIBLE = st.sampled_from(
    ["0", "1", "01", "02", "00", "Y", "N", "71500", "+1,234", "-0.42", "20261120", "093015"]
) | st.from_regex(r"\A[0-9]{1,12}\Z")
VALUES = PLAUSIBLE | scalars | json_values()
ROW_DATA = st.dictionaries(NAMES, VALUES, max_size=12)


def rows() -> st.SearchStrategy[Any]:
    return ROW_DATA | st.lists(ROW_DATA | VALUES, max_size=3) | VALUES


BODIES = (
    st.fixed_dictionaries(
        {},
        optional={
            "rt_cd": st.sampled_from(["0", "1", "2"]) | VALUES,
            "msg_cd": st.sampled_from(["MCA00000", "EGW00201", "EGW00123", "70070000"]) | VALUES,
            "msg1": VALUES,
            "output": rows(),
            "output1": rows(),
            "output2": rows(),
            "ctx_area_fk100": VALUES,
            "ctx_area_nk100": VALUES | st.just("x" * 5000),
        },
    )
    | json_values()
)
STATUSES = st.sampled_from([200, 200, 200, 400, 401, 403, 404, 429, 500, 503])


def _encode(body: Any) -> bytes:
    return json.dumps(body, allow_nan=True).encode()


RAW = (
    BODIES.map(_encode)
    | st.binary(max_size=200)
    | st.sampled_from(
        [b"[" * 100_000, b'{"rt_cd": "0", "output": ' + b"[" * 50_000, b"\xff\xfe{}", b""]
    )
)


# -- wire.parse_reply ---------------------------------------------------------------------
@PROPERTY
@given(RAW, st.integers(100, 599), st.text(max_size=5))
@cpu_bounded
def test_parse_reply_never_raises(raw: bytes, status: int, tr_cont: str) -> None:
    header = tr_cont.encode("ascii", "replace").decode()
    reply = httpx.Response(status, content=raw, headers={"tr_cont": header})
    response = wire.parse_reply(reply, trids.INQUIRE_PRICE, "FHKST01010100", str)
    assert response.status == status
    if response.error is None:
        assert status < 400 and isinstance(response.body, Row)
    else:
        assert isinstance(response.error, KISError)
        assert len(str(response.error)) < 1000  # KIS's text is cut before it is logged
    with contextlib.suppress(KISValidationError):
        response.context()


def test_a_reply_over_the_size_cap_is_unreadable_without_parsing_it() -> None:
    huge = b'{"rt_cd": "0", "output": "' + b"x" * wire.MAX_REPLY_BYTES + b'"}'
    response = wire.parse_reply(httpx.Response(200, content=huge), trids.INQUIRE_PRICE, "", str)
    assert isinstance(response.error, KISValidationError)


# -- token replies ------------------------------------------------------------------------
TOKEN_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "access_token": VALUES | st.just(fixture("token")["access_token"]),
        "approval_key": VALUES | st.just("a1b2c3d4-0000-1111-2222-333344445555"),
        "HASH": VALUES,
        "expires_in": VALUES | st.integers(-(10**30), 10**30),
        "access_token_token_expired": VALUES
        | st.sampled_from(["2026-11-21 10:00:00", "0001-01-01 00:00:00", "9999-12-31 23:59:59"]),
    },
)


@PROPERTY
@given(TOKEN_BODIES)
@cpu_bounded
def test_token_replies_give_a_credential_and_an_expiry_or_a_typed_error(
    data: dict[str, Any],
) -> None:
    body = Row(data, "tokenP")
    now = time.time()
    for key in ("access_token", "approval_key", "HASH"):
        try:
            value = wire.credential(body, key)
        except KISValidationError as exc:
            message = str(exc)
        else:
            assert 8 <= len(value) <= 8192 and value.isascii() and value.isprintable()
            continue
        assert message == f"the {key} in KIS's reply is not a credential"  # never the value
    try:
        expires = wire.token_expiry(body, now)
    except KISValidationError:
        return
    assert expires <= now + wire.MAX_TOKEN_LIFETIME


@contextlib.contextmanager
def log_masker_restored() -> Iterator[None]:
    """Issued tokens join the process-wide log masker; fuzzed ones must not outlive a test."""
    saved = dict(LOG_MASKER._replacements), LOG_MASKER._pattern
    try:
        yield
    finally:
        LOG_MASKER._replacements, LOG_MASKER._pattern = saved


class FakeTime:
    def __init__(self) -> None:
        self.now = time.time()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def http_answering(answer: Callable[[httpx.Request], httpx.Response]) -> KisHttp:
    fake = FakeTime()
    return KisHttp(
        environment(name="live", dialect="live", trading_armed=True),
        credentials(),
        httpx.Client(transport=httpx.MockTransport(answer)),
        FakeRateLimiter(),
        MemoryTokenStore(clock=fake.clock),
        retry=RetryPolicy(read_attempts=3, throttle_budget=2.0),
        token_policy=TokenPolicy(min_interval=0.0, wait_timeout=5.0),
        sleep=fake.sleep,
        clock=fake.clock,
    )


@PROPERTY
@given(TOKEN_BODIES | BODIES, STATUSES)
@cpu_bounded
def test_issuing_a_token_or_approval_key_gives_one_or_a_typed_error(body: Any, status: int) -> None:
    http = http_answering(lambda request: httpx.Response(status, content=_encode(body)))
    with log_masker_restored():
        for issue in (http.issue_access_token, http.issue_approval_key):
            try:
                issued = issue()
            except KISError:
                continue
            assert 8 <= len(issued.value) <= 8192


# -- mapping ------------------------------------------------------------------------------
MAPPINGS: dict[str, Callable[[Row], object]] = {
    "quote": lambda r: mapping.quote("005930", r, AT),
    "multi_quote": lambda r: mapping.multi_quote(r, AT),
    "orderbook": lambda r: mapping.orderbook("005930", r, DAY),
    "daily_candle": lambda r: mapping.daily_candle("005930", r),
    "minute_candle": lambda r: mapping.minute_candle("005930", r),
    "ranked": lambda r: mapping.ranked(r, 1),
    "holding": mapping.holding,
    "balance": lambda r: mapping.balance([], r),
    "buying_power": mapping.buying_power,
    "broker_order": mapping.broker_order,
    "pending_order": lambda r: mapping.pending_order(r, DAY),
    "order_ack": lambda r: mapping.order_ack(r, AT),
}


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_each_mapping_gives_a_record_or_a_typed_error(name: str) -> None:
    @settings(PROPERTY, max_examples=60)
    @given(ROW_DATA)
    @cpu_bounded
    def check(data: dict[str, Any]) -> None:
        with contextlib.suppress(KISValidationError, KISRejectedError):
            MAPPINGS[name](Row(data, name))

    check()


# -- the clients, end to end over HTTP ----------------------------------------------------
ORDER = OrderRequest("005930", Side.BUY, 1, OrderType.LIMIT, 71500)
CALLS: dict[str, Callable[[KisRestClient, KisOrderClient], object]] = {
    "quote": lambda r, o: r.quote("005930"),
    "multi_quote": lambda r, o: r.multi_quote(["005930", "000660"]),
    "orderbook": lambda r, o: r.orderbook("005930"),
    "daily_candles": lambda r, o: r.daily_candles("005930", date(2026, 10, 1), DAY),
    "minute_candles": lambda r, o: r.minute_candles("005930", pages=3),
    "daily_prices": lambda r, o: r.daily_prices("005930"),
    "volume_rank": lambda r, o: r.volume_rank(),
    "is_trading_day": lambda r, o: r.is_trading_day(DAY),
    "balance": lambda r, o: r.balance(),
    "daily_orders": lambda r, o: r.daily_orders(DAY),
    "pending_orders": lambda r, o: r.pending_orders(),
    "buying_power": lambda r, o: r.buying_power("005930", 71500),
    "submit": lambda r, o: o.submit(ORDER),
    "modify": lambda r, o: o.modify("0000117057", "06010", ORDER),
    "cancel": lambda r, o: o.cancel("0000117057", "06010"),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_client_call_gives_a_result_or_a_typed_error(name: str) -> None:
    @settings(PROPERTY, max_examples=50)
    @given(st.lists(st.tuples(RAW, STATUSES, st.sampled_from(["", "F", "M", "D"])), min_size=1))
    @cpu_bounded
    def check(replies: list[tuple[bytes, int, str]]) -> None:
        served = iter(replies * 60)  # enough for every page and retry

        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/tokenP"):
                return httpx.Response(200, json=fixture("token"))
            raw, status, tr_cont = next(served)
            return httpx.Response(status, content=raw, headers={"tr_cont": tr_cont})

        http = http_answering(answer)
        client = KisRestClient(http, now=lambda: AT, max_pages=5)
        with log_masker_restored(), contextlib.suppress(KISError):
            CALLS[name](client, KisOrderClient(http, now=lambda: AT))

    check()


# -- the shapes the properties found, pinned -----------------------------------------------
def test_a_list_output_holding_a_scalar_is_a_typed_error() -> None:
    with pytest.raises(KISValidationError, match=r"inquire-daily-ccld\.output1\[0\]"):
        Row({"output1": [1]}, "inquire-daily-ccld").rows("output1")  # was AttributeError


def test_a_reply_nested_past_the_json_parser_limit_is_unreadable() -> None:
    reply = httpx.Response(200, content=b"[" * 100_000)  # reply.json() raised RecursionError
    response = wire.parse_reply(reply, trids.INQUIRE_PRICE, "FHKST01010100", str)
    assert isinstance(response.error, KISValidationError)


def test_a_token_that_could_not_go_back_into_a_header_is_refused_unechoed() -> None:
    for bad in ("eyJ0eXAi.payload\r\nX-Injected: 1", "short", 12345678901234567890):
        with pytest.raises(KISValidationError) as caught:
            wire.credential(Row({"access_token": bad}), "access_token")
        assert "payload" not in str(caught.value) and "12345678901" not in str(caught.value)


@pytest.mark.parametrize("lifetime", [-1, 0, 10**19, "1e500000", "forever"])
def test_a_token_lifetime_that_is_none_is_a_typed_error(lifetime: object) -> None:
    with pytest.raises(KISValidationError):
        wire.token_expiry(Row({"expires_in": lifetime}), time.time())
