"""The three inputs of issue 11 that took the stream down, exactly as users reported them."""

from __future__ import annotations

import asyncio
import time

import pytest

from stock_manager.adapters.kis.errors import KISValidationError
from stock_manager.adapters.kis.notices import split_frame
from stock_manager.adapters.kis.parsing import Row, to_decimal, to_int
from tests.unit.hostile import bounded_memory
from tests.unit.kis.test_websocket import FakeSocket, client, tick_fields

HEADER_NOT_AN_OBJECT = '{"header":"x","body":{}}'
THREE_HUNDRED_MILLION = "0|H0STCNT0|300000000|005930^093015^71500^12"
HUGE_EXPONENT = "1e500000"
VALID_TICK = "0|H0STCNT0|001|" + "^".join(tick_fields())


def test_the_reported_frames_are_the_reported_sizes() -> None:
    assert len(THREE_HUNDRED_MILLION.encode()) == 43


def test_a_control_frame_whose_header_is_not_an_object_is_counted_not_fatal() -> None:
    ws, events = client()
    sock = FakeSocket()

    async def scenario() -> None:
        await ws.on_frame(sock, HEADER_NOT_AN_OBJECT)
        await ws.on_frame(sock, VALID_TICK)

    asyncio.run(scenario())  # raised AttributeError: 'str' object has no attribute 'get'
    assert ws.stats.malformed == 1
    assert len(events) == 1 and ws.stats.acks == 0


def test_a_data_frame_announcing_300_million_records_is_refused_cheaply() -> None:
    started = time.process_time()
    with bounded_memory(256), pytest.raises(KISValidationError, match="300000000"):
        split_frame(THREE_HUNDRED_MILLION)  # built 300,000,000 tuples before
    assert time.process_time() - started < 0.5


def test_the_300_million_frame_is_counted_and_the_stream_goes_on() -> None:
    ws, events = client()
    sock = FakeSocket()

    async def scenario() -> None:
        await ws.on_frame(sock, THREE_HUNDRED_MILLION)
        await ws.on_frame(sock, VALID_TICK)

    with bounded_memory(256):
        asyncio.run(scenario())
    assert ws.stats.malformed == 1 and len(events) == 1


@pytest.mark.parametrize("convert", [to_int, to_decimal])
def test_a_huge_exponent_is_a_typed_error_at_once(convert: object) -> None:
    started = time.process_time()
    with pytest.raises(KISValidationError):
        convert(HUGE_EXPONENT)  # type: ignore[operator]  # froze the loop for 11 s
    assert time.process_time() - started < 0.5


def test_a_huge_exponent_in_a_reply_names_the_field() -> None:
    with pytest.raises(KISValidationError, match="stck_prpr"):
        Row({"stck_prpr": HUGE_EXPONENT}, "inquire-price").num("stck_prpr")


def test_a_tick_priced_1e500000_is_counted_as_malformed() -> None:
    ws, events = client()
    fields = tick_fields()
    fields[2] = HUGE_EXPONENT
    started = time.process_time()
    asyncio.run(ws.on_frame(FakeSocket(), "0|H0STCNT0|001|" + "^".join(fields)))
    assert time.process_time() - started < 0.5
    assert ws.stats.malformed == 1 and events == []
