"""A fuzzed frame sequence through a running ``KisWebSocket``: valid ticks, notices, acks and
PINGPONG mixed with every shape of garbage. The session survives, forwards exactly the valid
events in order, and counts exactly the garbage as malformed.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from hypothesis import given, settings
from hypothesis import strategies as st

from stock_manager.adapters.kis.notices import MAX_FRAME_CHARS, MAX_RECORDS, encrypt
from stock_manager.domain.broker import ExecutionNotice, Tick
from tests.unit.hostile import HOSTILE_NUMBERS, PROPERTY, cpu_bounded, json_values
from tests.unit.kis.test_websocket import (
    IV,
    KEY,
    FakeSocket,
    ack,
    client,
    notice_fields,
    tick_fields,
)

SYMBOLS = st.sampled_from(["005930", "000660", "035420"])
PING = json.dumps({"header": {"tr_id": "PINGPONG", "datetime": "20261120093000"}})


@dataclass(frozen=True)
class Frame:
    text: str
    kind: str  # "event", "ack", "ping" or "garbage"
    expected: tuple[tuple[str, str, int], ...] = ()  # (type, symbol, price) of its events


def _tick_frame(symbols: list[str], prices: list[int], extra: int) -> Frame:
    fields = [f for s, p in zip(symbols, prices, strict=False) for f in tick_fields(s, p, extra)]
    count = min(len(symbols), len(prices))
    expected = tuple(("tick", s, p) for s, p in zip(symbols, prices, strict=False))
    return Frame(f"0|H0STCNT0|{count:03d}|" + "^".join(fields), "event", expected)


def _notice_frame(fill: bool, order_no: int) -> Frame:
    fields = notice_fields(fill)
    fields[2] = f"{order_no:010d}"
    return Frame(
        "1|H0STCNI9|001|" + encrypt("^".join(fields), KEY, IV),
        "event",
        (("notice", "005930", 71500),),
    )


VALID = st.one_of(
    st.builds(
        _tick_frame,
        st.lists(SYMBOLS, min_size=1, max_size=3),
        st.lists(st.integers(1, 10_000_000), min_size=3, max_size=3),
        st.integers(0, 3),
    ),
    st.builds(_notice_frame, st.booleans(), st.integers(1, 10**9)),
    st.builds(lambda s: Frame(ack("H0STCNT0", s), "ack"), SYMBOLS),
    st.builds(
        lambda s: Frame(ack("H0STCNT0", s, "1", "OPSP8992", "invalid tr_key"), "ack"), SYMBOLS
    ),
    st.just(Frame(PING, "ping")),
)

_OVERSIZED = "0|H0STCNT0|001|" + "9" * MAX_FRAME_CHARS
_NESTED = "[" * 100_000 + "]" * 100_000


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return True
    return False


def _bad_tick(index: int, value: str) -> str:
    fields = tick_fields()
    fields[index] = value
    return "0|H0STCNT0|001|" + "^".join(fields)


GARBAGE_TEXT = st.one_of(
    # JSON that is not an object
    json_values().filter(lambda v: not isinstance(v, dict)).map(json.dumps),
    # a header that is not an object (the frame of issue 11 among them)
    st.builds(
        lambda h, b: json.dumps({"header": h, "body": b}),
        json_values().filter(lambda v: not isinstance(v, dict)),
        json_values(),
    ),
    # an ack whose body is missing or not an object
    st.builds(
        lambda b: json.dumps({"header": {"tr_id": "H0STCNT0", "tr_key": "005930"}, "body": b}),
        json_values().filter(lambda v: not isinstance(v, dict)),
    ),
    # acks with odd types
    st.builds(
        lambda name, v: json.dumps(
            {"header": {"tr_id": "H0STCNT0", "tr_key": "005930"}, "body": {name: v}}
        ),
        st.sampled_from(["rt_cd", "msg_cd", "msg1"]),
        st.lists(st.integers(), max_size=2) | st.booleans() | st.floats() | st.just({}),
    ),
    st.builds(
        lambda v: json.dumps({"header": {"tr_id": v}, "body": {}}),
        st.lists(st.integers(), max_size=2) | st.booleans() | st.floats() | st.just({}),
    ),
    # text that is neither data nor JSON
    st.text(max_size=40).filter(lambda t: t[:1] not in ("0", "1") and _not_json(t)),
    # data frames: short, over-counted, badly numbered, undecryptable, oversized
    st.just("0|H0STCNT0|001|005930^09"),
    st.just("0|H0STCNT0"),
    st.sampled_from([str(MAX_RECORDS + 1), "300000000", "²", "x"]).map(
        lambda c: f"0|H0STCNT0|{c}|" + "^".join(tick_fields())
    ),
    st.just("0|H0STCNT0|003|" + "^".join(tick_fields() * 2)),  # announces more than it holds
    st.builds(
        _bad_tick,
        st.sampled_from([1, 2, 10, 12, 13, 33]),
        st.sampled_from([h for h in HOSTILE_NUMBERS if h.strip()]),  # a blank date is today's
    ),
    st.just(_bad_tick(2, "0")),  # a tick must have a positive price
    st.just("1|H0STCNI0|001|" + encrypt("^".join(notice_fields()), KEY, IV)),  # no key yet
    st.text(max_size=60).map(lambda t: "1|H0STCNI9|001|" + t),
    st.just(_OVERSIZED),
    st.just(_NESTED),
)
GARBAGE = GARBAGE_TEXT.map(lambda text: Frame(text, "garbage"))


@dataclass
class FakeServer:
    """Stands in for ``websockets.connect``: plays the frames, then stops the client."""

    frames: list[str]
    stop: asyncio.Event
    sent: list[str] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    opened: int = 0

    def __call__(self, url: str, **options: Any) -> FakeServer:
        self.opened += 1
        return self

    async def __aenter__(self) -> FakeServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def __aiter_frames(self) -> Any:
        for frame in self.frames:
            yield frame
        self.stop.set()
        await self.closed.wait()

    def __aiter__(self) -> Any:
        return self.__aiter_frames()

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def pong(self, data: str | bytes = b"") -> None:
        return None

    async def close(self) -> None:
        self.closed.set()


@settings(PROPERTY, max_examples=60)
@given(st.lists(VALID | GARBAGE, max_size=25))
@cpu_bounded
def test_the_session_survives_a_fuzzed_sequence_and_counts_the_garbage(
    frames: list[Frame],
) -> None:
    ws, events = client()
    sequence = [Frame(ack("H0STCNI9", "htsuser1"), "ack"), *frames]

    async def scenario() -> FakeServer:
        stop = asyncio.Event()
        server = FakeServer([f.text for f in sequence], stop)
        with mock.patch("stock_manager.adapters.kis.websocket.connect", server):
            await asyncio.wait_for(ws.run(stop), timeout=10)
        return server

    server = asyncio.run(scenario())
    expected = [e for f in sequence for e in f.expected]
    got = [
        ("tick" if isinstance(e, Tick) else "notice", e.symbol, e.price)
        for e in events
        if isinstance(e, Tick | ExecutionNotice)
    ]
    assert server.opened == 1 and ws.stats.connections == 1  # one session, never dropped
    assert got == expected
    assert ws.stats.malformed == sum(f.kind == "garbage" for f in sequence)
    assert ws.stats.acks == sum(f.kind == "ack" for f in sequence)
    assert ws.stats.pings == sum(f.kind == "ping" for f in sequence)
    assert ws.stats.frames == len(sequence)
    assert server.sent.count(PING) == ws.stats.pings  # every PINGPONG answered


def test_every_hostile_value_in_a_tick_field_makes_it_garbage() -> None:
    """The fuzz's GARBAGE must be garbage: each such tick is counted as malformed."""
    ws, events = client()
    bad = [
        _bad_tick(index, value)
        for index in (1, 2, 10, 12, 13, 33)
        for value in HOSTILE_NUMBERS
        if value.strip()
    ]

    async def feed() -> None:
        for frame in bad:
            await ws.on_frame(FakeSocket(), frame)

    asyncio.run(feed())
    assert (ws.stats.malformed, events) == (len(bad), [])
