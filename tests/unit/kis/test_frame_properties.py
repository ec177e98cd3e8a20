"""Property tests: WebSocket data and control frames, AES payloads and the frame handler.

Whatever arrives, the parsers give a valid result or ``KISValidationError`` within the
``PROPERTY`` deadline, and ``KisWebSocket.on_frame`` counts it and goes on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from stock_manager.adapters.kis import control
from stock_manager.adapters.kis.errors import KISValidationError
from stock_manager.adapters.kis.notices import (
    MAX_RECORDS,
    decrypt,
    encrypt,
    parse_book,
    parse_notice,
    parse_tick,
    split_frame,
)
from stock_manager.adapters.kis.websocket import _ApprovalRefused
from tests.unit.hostile import HOSTILE_NUMBERS, PROPERTY, cpu_bounded, json_values
from tests.unit.kis.test_websocket import IV, KEY, FakeSocket, client, notice_fields, tick_fields

TODAY = date(2026, 11, 20)
TR_IDS = st.sampled_from(["H0STCNT0", "H0STASP0", "H0STCNI0", "H0STCNI9", "PINGPONG", "", "X"])
FIELD = st.text(max_size=12) | st.sampled_from(HOSTILE_NUMBERS) | st.from_regex(r"\A\d{1,8}\Z")
COUNTS = st.sampled_from(["", "1", "001", "002", "0", "512", "513", "300000000", "-1", "²", " 2"])


@st.composite
def data_frames(draw: st.DrawFn) -> str:
    enc = draw(st.sampled_from(["0", "1", "01", "0 "]))
    fields = draw(st.lists(FIELD, max_size=120))
    return f"{enc}|{draw(TR_IDS)}|{draw(COUNTS)}|" + "^".join(fields)


KEYS = {"H0STCNI9": (KEY, IV), "H0STCNI0": ("short", "iv")}


@PROPERTY
@given(data_frames() | st.text())
@cpu_bounded
def test_split_frame_gives_bounded_records_or_a_typed_error(text: str) -> None:
    try:
        frame = split_frame(text, KEYS)
    except KISValidationError:
        return
    assert 1 <= len(frame.records) <= MAX_RECORDS
    assert sum(len(r) for r in frame.records) <= text.count("^") + 1 or frame.encrypted


RECORDS = st.lists(FIELD, max_size=70).map(tuple) | st.builds(
    lambda base, i, v: (*base[:i], v, *base[i + 1 :]),
    st.sampled_from([tick_fields(), notice_fields(), notice_fields(fill=False), ["0"] * 59]),
    st.integers(0, 58),
    FIELD,
)


@PROPERTY
@given(RECORDS)
@cpu_bounded
def test_record_parsers_give_an_event_or_a_typed_error(record: tuple[str, ...]) -> None:
    for parse in (parse_tick, parse_book, parse_notice):
        try:
            event = parse(record, TODAY)
        except KISValidationError:
            continue
        assert event.symbol  # every event names its symbol


@PROPERTY
@given(st.text(max_size=200), st.text(max_size=40), st.text(max_size=20))
@cpu_bounded
def test_decrypt_of_any_text_and_key_is_text_or_a_typed_error(
    payload: str, key: str, iv: str
) -> None:
    for k, i in ((key, iv), (KEY, IV)):
        with contextlib.suppress(KISValidationError):
            assert isinstance(decrypt(payload, k, i), str)


@PROPERTY
@given(st.binary(max_size=300))
@cpu_bounded
def test_decrypt_of_any_ciphertext_is_text_or_a_typed_error(raw: bytes) -> None:
    with contextlib.suppress(KISValidationError):
        decrypt(base64.b64encode(raw).decode(), KEY, IV)


@PROPERTY
@given(st.text(max_size=300))
@cpu_bounded
def test_encrypted_text_decrypts_back(text: str) -> None:
    try:
        secret = encrypt(text, KEY, IV)
    except UnicodeEncodeError:  # lone surrogates are not text KIS can send
        return
    assert decrypt(secret, KEY, IV) == text


def control_messages() -> st.SearchStrategy[Any]:
    header = st.fixed_dictionaries(
        {},
        optional={"tr_id": json_values() | TR_IDS, "tr_key": json_values(), "encrypt": FIELD},
    )
    output = json_values() | st.fixed_dictionaries(
        {}, optional={"key": json_values() | st.just(KEY), "iv": json_values() | st.just(IV)}
    )
    body = json_values() | st.fixed_dictionaries(
        {},
        optional={
            "rt_cd": json_values() | st.sampled_from(["0", "1"]),
            "msg_cd": json_values(),
            "msg1": json_values(),
            "output": output,
        },
    )
    message = st.fixed_dictionaries({}, optional={"header": json_values() | header, "body": body})
    return message | json_values()


@PROPERTY
@given(control_messages())
@cpu_bounded
def test_control_parse_gives_a_ping_an_ack_or_a_typed_error(message: Any) -> None:
    text = json.dumps(message)
    try:
        frame = control.parse(text)
    except KISValidationError:
        return
    assert isinstance(message, dict) and isinstance(message["header"], dict)
    if isinstance(frame, control.Ack):
        assert isinstance(message["body"], dict)
        assert all(isinstance(v, str) for v in (frame.tr_id, frame.tr_key, frame.code, frame.text))


@PROPERTY
@given(st.text() | st.sampled_from(["[" * 100_000, '{"a":' * 50_000, "0" * (1 << 21)]))
@cpu_bounded
def test_control_parse_of_any_text_is_typed(text: str) -> None:
    with contextlib.suppress(KISValidationError):
        control.parse(text)


@PROPERTY
@given(st.one_of(data_frames(), st.text(), control_messages().map(json.dumps)))
@cpu_bounded
def test_on_frame_counts_every_frame_and_never_raises(text: str) -> None:
    ws, events = client()
    ws._keys.update(KEYS)
    try:
        asyncio.run(ws.on_frame(FakeSocket(), text))
    except _ApprovalRefused:  # a refusal naming the approval key: the session ends on purpose
        return
    stats = ws.stats
    assert stats.frames == 1
    assert stats.malformed + stats.acks + stats.pings + (1 if events else 0) <= 1
    assert stats.events == len(events)
