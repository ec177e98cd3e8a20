"""The WebSocket client's frame handling, without a network: a recording fake socket."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import date, datetime

import pytest

from stock_manager.adapters.kis.errors import KISRateLimitError
from stock_manager.adapters.kis.notices import (
    decrypt,
    encrypt,
    parse_book,
    parse_notice,
    parse_tick,
    split_frame,
)
from stock_manager.adapters.kis.token_store import Credential
from stock_manager.adapters.kis.websocket import (
    Backoff,
    Event,
    KisWebSocket,
    Subscription,
    _ApprovalRefused,
)
from stock_manager.domain.broker import ExecutionNotice, Tick
from stock_manager.domain.clock import KST
from stock_manager.domain.orders import Side

TODAY = date(2026, 11, 20)
KEY, IV = "k" * 16 + "K" * 16, "i" * 16


def tick_fields(symbol: str = "005930", price: int = 71500, extra: int = 0) -> list[str]:
    """46 H0STCNT0 fields (kis-api §6), plus ``extra`` trailing ones KIS may add."""
    f = ["0"] * 46
    f[0], f[1], f[2], f[10], f[11], f[12], f[13] = (
        symbol,
        "093015",
        str(price),
        "71600",
        "71500",
        "12",
        "500000",
    )
    f[5], f[33] = "-0.42", "20261120"
    return f + ["X"] * extra


def notice_fields(fill: bool = True, count: int = 26) -> list[str]:
    """H0STCNI0 (kis-api §6): 26 fields in the current layout."""
    f = [""] * 26
    f[0], f[1], f[2], f[3], f[4] = "htsuser1", "5007123401", "0000117057", "", "02"
    f[5], f[6], f[8], f[9], f[10] = "0", "00", "005930", "4", "71500"
    f[11], f[12], f[13], f[14], f[16] = "093016", "0", "2" if fill else "1", "2", "10"
    f[25] = "71500"
    return f[:count]


@dataclass
class FakeSocket:
    sent: list[dict[str, object] | str] = field(default_factory=list)
    pongs: list[bytes] = field(default_factory=list)

    async def send(self, message: str) -> None:
        try:
            self.sent.append(json.loads(message))
        except ValueError:
            self.sent.append(message)

    async def pong(self, data: str | bytes = b"") -> None:
        self.pongs.append(data if isinstance(data, bytes) else data.encode())


class Approvals:
    def __init__(self) -> None:
        self.generation = 1

    def get(self) -> Credential:
        return Credential(f"approval-key-{self.generation:04d}", 0.0, 1e12, self.generation)

    def invalidate(self, refused: Credential) -> Credential:
        self.generation = refused.generation + 1
        return self.get()


def client(
    max_subscriptions: int = 41, ping_mode: str = "echo"
) -> tuple[KisWebSocket, list[Event]]:
    events: list[Event] = []

    async def handler(event: Event) -> None:
        events.append(event)

    ws = KisWebSocket(
        "ws://kis.test/tryitout",
        Approvals(),
        handler,
        max_subscriptions=max_subscriptions,
        ping_mode=ping_mode,  # type: ignore[arg-type]
        today=lambda: TODAY,
    )
    ws._approval = Approvals().get()
    return ws, events


def ack(
    tr_id: str,
    tr_key: str,
    rt_cd: str = "0",
    code: str = "OPSP0000",
    msg: str = "SUBSCRIBE SUCCESS",
) -> str:
    body: dict[str, object] = {"rt_cd": rt_cd, "msg_cd": code, "msg1": msg}
    if rt_cd == "0":
        body["output"] = {"iv": IV, "key": KEY}
    encrypt_flag = "Y" if tr_id.startswith("H0STCNI") else "N"
    return json.dumps(
        {"header": {"tr_id": tr_id, "tr_key": tr_key, "encrypt": encrypt_flag}, "body": body}
    )


def run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def test_subscribe_requests_follow_the_documented_shape() -> None:
    ws, _ = client()
    sock = FakeSocket()
    ws.set_subscriptions([Subscription("H0STCNI9", "htsuser1"), Subscription("H0STCNT0", "005930")])
    run(ws.sync(sock))
    first = sock.sent[0]
    assert first == {
        "header": {
            "approval_key": "approval-key-0001",
            "custtype": "P",
            "tr_type": "1",
            "content-type": "utf-8",
        },
        "body": {"input": {"tr_id": "H0STCNI9", "tr_key": "htsuser1"}},
    }


def test_changes_unsubscribe_first_then_subscribe_within_the_cap() -> None:
    ws, _ = client(max_subscriptions=3)
    sock = FakeSocket()
    subs = [Subscription("H0STCNT0", f"{n:06d}") for n in range(5)]
    dropped = ws.set_subscriptions(subs)
    assert dropped == subs[3:]
    run(ws.sync(sock))
    assert ws.active == frozenset(subs[:3])
    ws.set_subscriptions([subs[0], subs[4]])
    sock.sent.clear()
    run(ws.sync(sock))
    kinds = [(m["header"]["tr_type"], m["body"]["input"]["tr_key"]) for m in sock.sent]  # type: ignore[index]
    assert kinds == [("2", "000001"), ("2", "000002"), ("1", "000004")]
    assert ws.active == frozenset({subs[0], subs[4]})


def test_a_refused_subscription_is_not_retried_until_the_set_changes() -> None:
    ws, _ = client()
    sock = FakeSocket()
    sub = Subscription("H0STCNT0", "ZZZZZZ")
    ws.set_subscriptions([sub])
    run(ws.sync(sock))
    run(ws.on_frame(sock, ack("H0STCNT0", "ZZZZZZ", "1", "OPSP8992", "invalid tr_key")))
    assert ws.active == frozenset() and ws.stats.refused == [(sub, "OPSP8992")]
    run(ws.sync(sock))
    assert len(sock.sent) == 1


def test_pingpong_is_echoed_or_ponged() -> None:
    ping = json.dumps({"header": {"tr_id": "PINGPONG", "datetime": "20261120093000"}})
    for mode, echoed, ponged in (("echo", 1, 0), ("pong", 0, 1), ("both", 1, 1)):
        ws, _ = client(ping_mode=mode)
        sock = FakeSocket()
        run(ws.on_frame(sock, ping))
        assert (len(sock.sent), len(sock.pongs)) == (echoed, ponged)
        if echoed:
            assert sock.sent[0] == json.loads(ping)


def test_ticks_are_parsed_from_plain_frames_with_extra_fields() -> None:
    ws, events = client()
    frame = "0|H0STCNT0|001|" + "^".join(tick_fields(extra=3))
    run(ws.on_frame(FakeSocket(), frame))
    (tick,) = events
    assert isinstance(tick, Tick)
    assert (tick.symbol, tick.price, tick.volume, tick.cumulative_volume) == (
        "005930",
        71500,
        12,
        500000,
    )
    assert tick.at == datetime(2026, 11, 20, 9, 30, 15, tzinfo=KST)
    assert (tick.ask, tick.bid) == (71600, 71500)


def test_several_records_in_one_frame() -> None:
    ws, events = client()
    payload = "^".join(tick_fields("005930", 71500) + tick_fields("000660", 131000))
    run(ws.on_frame(FakeSocket(), "0|H0STCNT0|002|" + payload))
    assert [(e.symbol, e.price) for e in events] == [("005930", 71500), ("000660", 131000)]  # type: ignore[union-attr]


def test_encrypted_notices_use_the_key_from_the_ack() -> None:
    ws, events = client()
    sock = FakeSocket()
    run(ws.on_frame(sock, ack("H0STCNI9", "htsuser1")))
    secret = encrypt("^".join(notice_fields()), KEY, IV)
    run(ws.on_frame(sock, "1|H0STCNI9|001|" + secret))
    (notice,) = events
    assert isinstance(notice, ExecutionNotice)
    assert (notice.broker_order_no, notice.symbol, notice.side) == (
        "0000117057",
        "005930",
        Side.BUY,
    )
    assert (notice.is_fill, notice.quantity, notice.price, notice.order_quantity) == (
        True,
        4,
        71500,
        10,
    )
    assert not notice.rejected


def test_malformed_frames_are_counted_and_skipped_never_fatal() -> None:
    ws, events = client()
    sock = FakeSocket()
    for bad in (
        "0|H0STCNT0|001|005930^09",  # too short
        "1|H0STCNI0|001|bm90LWVuY3J5cHRlZA==",  # encrypted before any key
        "0|H0STCNT0",  # not four parts
        "{not json",
        "0|H0STCNT0|001|" + "^".join(["005930", "093015", "seventy"] + ["0"] * 43),
    ):
        run(ws.on_frame(sock, bad))
    run(ws.on_frame(sock, "0|H0STCNT0|001|" + "^".join(tick_fields())))
    assert ws.stats.malformed == 5 and len(events) == 1


def test_an_approval_refusal_ends_the_session_for_a_new_key() -> None:
    ws, _ = client()
    with pytest.raises(_ApprovalRefused):
        run(
            ws.on_frame(
                FakeSocket(),
                ack("H0STCNT0", "005930", "1", "OPSP0011", "invalid approval : NOT FOUND"),
            )
        )


def test_receipt_notices_carry_the_order_quantity_and_price() -> None:
    receipt = parse_notice(tuple(notice_fields(fill=False)), TODAY)
    assert (receipt.is_fill, receipt.quantity, receipt.price) == (False, 10, 71500)


def test_older_23_field_notice_layout_is_accepted() -> None:
    # ODER_PRC sat at index 22 before three fields were added
    receipt = parse_notice(tuple([*notice_fields(fill=False, count=23)[:22], "71400"]), TODAY)
    assert receipt.price == 71400


def test_order_book_frames() -> None:
    f = ["0"] * 59
    f[0], f[1] = "005930", "093015"
    for i in range(10):
        f[3 + i], f[13 + i] = str(71600 + 100 * i), str(71500 - 100 * i)
        f[23 + i], f[33 + i] = str(10 + i), str(20 + i)
    book = parse_book(tuple(f), TODAY)
    assert (book.best_ask, book.best_bid, book.asks[0].quantity) == (71600, 71500, 10)


def test_aes_round_trip_and_multi_record_split() -> None:
    assert decrypt(encrypt("a^b^c", KEY, IV), KEY, IV) == "a^b^c"
    frame = split_frame("0|H0STCNT0|002|" + "^".join(tick_fields() + tick_fields()))
    assert len(frame.records) == 2 and len(frame.records[0]) == 46
    assert parse_tick(frame.records[1], TODAY).symbol == "005930"


class Highest:
    def uniform(self, low: float, high: float) -> float:
        return high


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(base=1.0, cap=8.0, rng=Highest())  # type: ignore[arg-type]
    assert [backoff.next() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    backoff.reset()
    assert backoff.next() == 1.0
    jittered = Backoff(base=1.0, cap=8.0)
    assert all(0.5 <= jittered.next() <= 8.0 for _ in range(20))


def test_a_refused_approval_key_is_reissued_once_per_generation() -> None:
    ws, _ = client()
    approvals = Approvals()
    ws._approvals = approvals
    ws._approval = approvals.get()
    asyncio.run(ws._reissue_approval())
    assert ws._approval.generation == 2 and approvals.generation == 2


def test_a_failed_reissue_does_not_end_the_client() -> None:
    class Refusing(Approvals):
        def invalidate(self, refused: Credential) -> Credential:
            raise KISRateLimitError("too soon", code="EGW00133")

    ws, _ = client()
    ws._approvals = Refusing()
    asyncio.run(ws._reissue_approval())  # logged, not raised
