"""WebSocket conformance: acks, real-time frames, encrypted notices, limits, PINGPONG."""

from __future__ import annotations

import json
import time

import pytest
from websockets.exceptions import ConnectionClosed

from stock_manager.domain.krx import ticks_away
from stock_manager.sim.crypto import decrypt
from tests.integration.sim.conftest import StartSim
from tests.integration.sim.kis import Kis, recv_data, recv_json, subscribe_message, ws_connect


def test_subscribe_ack_carries_iv_and_key(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STCNT0", "005930"))
        ack = recv_json(socket)
    assert ack["header"] == {"tr_id": "H0STCNT0", "tr_key": "005930", "encrypt": "N"}
    body = ack["body"]
    assert (body["rt_cd"], body["msg_cd"], body["msg1"]) == ("0", "OPSP0000", "SUBSCRIBE SUCCESS")
    assert len(body["output"]["iv"]) == 16 and len(body["output"]["key"]) == 32


@pytest.mark.parametrize("path", ["/", "/tryitout", "/tryitout/H0STCNT0"])
def test_trade_frames_have_47_fields_by_default(kis: Kis, path: str) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server, path) as socket:
        socket.send(subscribe_message(key, "H0STCNT0", "005930"))
        recv_json(socket)
        enc, tr_id, count, payload = recv_data(socket, "H0STCNT0")
    fields = payload.split("^")
    assert (enc, tr_id, count, len(fields)) == ("0", "H0STCNT0", "001", 47)
    assert fields[0] == "005930" and len(fields[1]) == 6 and int(fields[2]) > 0
    assert fields[46] == "2"  # MARKET_CLS_CODE: regular session


def test_book_frames_have_63_fields_and_sorted_levels(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STASP0", "000660"))
        recv_json(socket)
        fields = recv_data(socket, "H0STASP0")[3].split("^")
    asks, bids = [int(p) for p in fields[3:13]], [int(p) for p in fields[13:23]]
    assert len(fields) == 63 and asks == sorted(asks) and bids == sorted(bids, reverse=True)
    assert fields[62] == "2"


def test_classic_layout_sends_46_and_59_fields(start_sim: StartSim) -> None:
    kis = start_sim(ws_layout="classic")
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STCNT0", "005930"))
        recv_json(socket)
        socket.send(subscribe_message(key, "H0STASP0", "005930"))
        recv_json(socket)
        tick = recv_data(socket, "H0STCNT0")[3].split("^")
        book = recv_data(socket, "H0STASP0")[3].split("^")
    assert (len(tick), len(book)) == (46, 59)


def test_notice_decrypts_into_26_fields_for_accept_and_fill(paper: Kis) -> None:
    key = paper.approval_key()
    with ws_connect(paper.server) as socket:
        socket.send(subscribe_message(key, "H0STCNI9", "simuser"))
        ack = recv_json(socket)
        assert ack["header"]["encrypt"] == "Y"
        aes_key, iv = ack["body"]["output"]["key"], ack["body"]["output"]["iv"]
        odno = paper.order("buy", "005930", "01", 2).json()["output"]["ODNO"]
        notices = []
        for _ in range(2):
            enc, tr_id, _, payload = recv_data(socket, "H0STCNI9")
            assert (enc, tr_id) == ("1", "H0STCNI9")
            notices.append(decrypt(payload, aes_key, iv).split("^"))
    accepted, filled = notices
    assert len(accepted) == len(filled) == 26
    assert (accepted[0], accepted[2], accepted[8], accepted[13]) == ("simuser", odno, "005930", "1")
    assert (filled[2], filled[13], filled[9]) == (odno, "2", "2")
    assert accepted[4] == "02" and int(filled[10]) > 0 and filled[15] == "00950"


def test_modify_cancel_and_ioc_expiry_notices(kis: Kis) -> None:
    key = kis.approval_key()
    price = int(kis.price("005930")["stck_prpr"])
    kis.admin("price", {"symbol": "005930", "price": price, "hold": True})
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STCNI0", "simuser"))
        out = recv_json(socket)["body"]["output"]

        def notice() -> list[str]:
            return decrypt(recv_data(socket, "H0STCNI0")[3], out["key"], out["iv"]).split("^")

        odno = kis.order("buy", "005930", "00", 3, ticks_away(price, -5)).json()["output"]["ODNO"]
        assert notice()[13] == "1"
        new = kis.revise(odno, "01", "00", 0, ticks_away(price, -4)).json()["output"]["ODNO"]
        modified = notice()
        assert (modified[2], modified[3], modified[5], modified[13]) == (new, odno, "1", "1")
        kis.revise(new, "02")
        cancelled = notice()
        assert (cancelled[3], cancelled[5], cancelled[13]) == (new, "2", "1")
        kis.order("buy", "005930", "11", 1, ticks_away(price, -5))
        assert notice()[14] == "1"
        expired = notice()
        assert (expired[7], expired[14], expired[13]) == ("1", "3", "1")


def test_at_most_41_subscriptions(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        codes = []
        for n in range(42):
            socket.send(subscribe_message(key, "H0STCNT0", f"{900000 + n}"))
            codes.append(recv_json(socket)["body"]["msg_cd"])
        socket.send(subscribe_message(key, "H0STCNT0", "900000"))
        duplicate = recv_json(socket)["body"]["msg_cd"]
        socket.send(subscribe_message(key, "H0STCNT0", "900001", tr_type="2"))
        unsubscribed = recv_json(socket)["body"]
    assert codes[:41] == ["OPSP0000"] * 41 and codes[41] == "OPSP0008"
    assert duplicate == "OPSP0002"
    assert (unsubscribed["msg_cd"], unsubscribed["msg1"]) == ("OPSP0001", "UNSUBSCRIBE SUCCESS")


def test_one_session_per_app_key(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as first, ws_connect(kis.server) as second:
        first.send(subscribe_message(key, "H0STCNT0", "005930"))
        assert recv_json(first)["body"]["msg_cd"] == "OPSP0000"
        second.send(subscribe_message(key, "H0STCNT0", "000660"))
        refused = recv_json(second)["body"]
    assert (refused["rt_cd"], refused["msg_cd"], refused["msg1"]) == (
        "1",
        "OPSP8996",
        "ALREADY IN USE appkey",
    )


def test_second_session_allowed_after_the_first_closes(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as first:
        first.send(subscribe_message(key, "H0STCNT0", "005930"))
        recv_json(first)
    time.sleep(0.1)
    with ws_connect(kis.server) as second:
        second.send(subscribe_message(key, "H0STCNT0", "005930"))
        assert recv_json(second)["body"]["msg_cd"] == "OPSP0000"


def test_pingpong_is_sent_and_echo_is_accepted(start_sim: StartSim) -> None:
    kis = start_sim(ws_ping_interval=0.2)
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STCNT0", "005930"))
        deadline = time.monotonic() + 3
        ping = None
        while ping is None and time.monotonic() < deadline:
            frame = socket.recv(timeout=3)
            if isinstance(frame, str) and frame.startswith("{") and "PINGPONG" in frame:
                ping = json.loads(frame)
        assert ping is not None and len(ping["header"]["datetime"]) == 14
        socket.send(json.dumps(ping))
        socket.pong(json.dumps(ping).encode())
        socket.send(subscribe_message(key, "H0STCNT0", "005930", tr_type="2"))
        assert recv_json(socket)["body"]["msg_cd"] == "OPSP0001"


def test_errors_for_bad_messages(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send("not json")
        assert recv_json(socket)["body"]["msg_cd"] == "OPSP9999"
        socket.send(subscribe_message("bogus", "H0STCNT0", "005930"))
        assert recv_json(socket)["body"]["msg_cd"] == "OPSP0011"
        socket.send(subscribe_message(key, "H0STCNI9", "simuser"))
        assert recv_json(socket)["body"]["msg_cd"] == "OPSP8991"  # paper tr_id on live
        socket.send(subscribe_message(key, "H0STCNT0", "005930", tr_type="0"))
        assert recv_json(socket)["body"]["msg_cd"] == "OPSP8997"


def test_wrong_hts_id_drops_the_socket_without_a_close_frame(kis: Kis) -> None:
    key = kis.approval_key()
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STCNI0", "someoneelse"))
        with pytest.raises(ConnectionClosed) as caught:
            socket.recv(timeout=3)
    assert caught.value.rcvd is None


def test_exchange_reject_sends_a_refusal_notice(kis: Kis) -> None:
    key = kis.approval_key()
    kis.admin("faults", {"exchange_reject_rate": 1.0})
    with ws_connect(kis.server) as socket:
        socket.send(subscribe_message(key, "H0STCNI0", "simuser"))
        out = recv_json(socket)["body"]["output"]
        odno = kis.order("buy", "005930", "01", 1).json()["output"]["ODNO"]
        notices = [
            decrypt(recv_data(socket, "H0STCNI0")[3], out["key"], out["iv"]).split("^")
            for _ in range(2)
        ]
    accepted, refused = notices
    assert (accepted[2], accepted[12], accepted[13]) == (odno, "0", "1")
    assert (refused[2], refused[12], refused[13]) == (odno, "1", "1")
