"""Real-time frames: ``<enc>|<tr_id>|<count>|<payload>`` (kis-api §6), tolerant of drift.

Payload fields are joined by ``^``; ``count`` records are concatenated. Encrypted payloads
(execution notices) are base64 AES-256-CBC with the key and iv from the subscribe ack.
Parsers index fields by position and accept records longer than documented (KIS has added
trailing fields before: python-kis#68, #80); a record too short to hold the fields a parser
needs is rejected with ``KISValidationError``.

Nothing in a frame is trusted to size the work (issue 11: a 43-byte frame announcing
300,000,000 records exhausted memory): frames longer than ``MAX_FRAME_CHARS`` and counts
above ``MAX_RECORDS`` are refused, and the payload must hold every record it announces.
Every function here raises ``KISValidationError`` and nothing else on bad input.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from stock_manager.adapters.kis.errors import KISError, KISValidationError
from stock_manager.adapters.kis.mapping import side_of
from stock_manager.adapters.kis.parsing import kst, parse_date, parse_time, shown, to_int
from stock_manager.domain.broker import BookLevel, ExecutionNotice, OrderBook, Tick
from stock_manager.domain.orders import Side

TICK_TR_IDS = frozenset({"H0STCNT0", "H0NXCNT0", "H0UNCNT0"})
BOOK_TR_IDS = frozenset({"H0STASP0", "H0NXASP0", "H0UNASP0"})
NOTICE_TR_IDS = frozenset({"H0STCNI0", "H0STCNI9"})
RECORD_SIZES = {"H0STCNT0": 46, "H0STASP0": 59, "H0STCNI0": 26, "H0STCNI9": 26}
MIN_FIELDS = {"tick": 14, "book": 45, "notice": 17}
TRHT_YN, HOUR_CLS_CODE = 35, 43  # H0STCNT0: halted, and VI ("C") or closing call ("A")
# KIS packs a handful of records into a frame; 512 full book records are ~200 KB.
MAX_RECORDS = 512
MAX_FRAME_CHARS = 1 << 20  # also the WebSocket client's message size limit
_COUNT_DIGITS = 4


@dataclass(frozen=True, slots=True)
class DataFrame:
    tr_id: str
    encrypted: bool
    records: tuple[tuple[str, ...], ...]


def is_data_frame(text: str) -> bool:
    """Data frames start with ``0`` or ``1``; everything else is JSON."""
    return text[:1] in ("0", "1")


def decrypt(payload: str, key: str, iv: str) -> str:
    """AES-256-CBC, PKCS#7, base64 (key: 32 ASCII bytes, iv: 16).

    Raises ``KISValidationError`` for anything that does not decrypt to UTF-8 text."""
    try:
        cipher = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode()))
        decryptor = cipher.decryptor()
        padded = decryptor.update(base64.b64decode(payload)) + decryptor.finalize()
        unpadder = padding.PKCS7(128).unpadder()
        return (unpadder.update(padded) + unpadder.finalize()).decode("utf-8")
    except (ValueError, TypeError) as exc:  # binascii.Error and UnicodeError are ValueErrors
        raise KISValidationError(f"cannot decrypt a notice: {type(exc).__name__}") from None


def encrypt(text: str, key: str, iv: str) -> str:
    """The inverse of :func:`decrypt` (tests and tools)."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(text.encode("utf-8")) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key.encode()), modes.CBC(iv.encode())).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def split_frame(text: str, keys: dict[str, tuple[str, str]] | None = None) -> DataFrame:
    """Split a data frame into records, decrypting with ``keys[tr_id] = (key, iv)``.

    ``count`` may be blank (one record); otherwise it is 1..``MAX_RECORDS`` in ASCII digits.
    Raises ``KISValidationError`` for a frame that is not one, too long, or holds fewer
    fields than its count needs."""
    if len(text) > MAX_FRAME_CHARS:
        raise KISValidationError(f"data frame of {len(text)} characters is over the cap")
    parts = text.split("|", 3)
    if len(parts) != 4:
        raise KISValidationError(f"not a data frame: {len(parts)} parts")
    enc, tr_id, count_text, payload = parts
    count = _count(count_text)
    encrypted = enc == "1"
    if encrypted:
        key_iv = (keys or {}).get(tr_id)
        if key_iv is None:
            raise KISValidationError(f"encrypted {shown(tr_id)} frame before its key arrived")
        payload = decrypt(payload, *key_iv)
    fields = payload.split("^")
    return DataFrame(tr_id, encrypted, _records(tr_id, fields, count))


def _count(text: str) -> int:
    digits = text.strip()
    if not digits:
        return 1
    if len(digits) > _COUNT_DIGITS or not (digits.isascii() and digits.isdigit()):
        raise KISValidationError(f"record count {shown(text)} is not 1..{MAX_RECORDS}")
    count = max(int(digits), 1)
    if count > MAX_RECORDS:
        raise KISValidationError(f"record count {count} is over the cap of {MAX_RECORDS}")
    return count


def _records(tr_id: str, fields: list[str], count: int) -> tuple[tuple[str, ...], ...]:
    if count == 1:
        return (tuple(fields),)
    size = len(fields) // count if len(fields) % count == 0 else RECORD_SIZES.get(tr_id, 0)
    if size <= 0 or size * count > len(fields):
        raise KISValidationError(
            f"{shown(tr_id)}: {len(fields)} fields do not hold {count} records"
        )
    return tuple(tuple(fields[i : i + size]) for i in range(0, size * count, size))


def _need(record: tuple[str, ...], kind: str) -> None:
    if len(record) < MIN_FIELDS[kind]:
        raise KISValidationError(f"{kind} record has {len(record)} fields")


def _symbol(record: tuple[str, ...], index: int, kind: str) -> str:
    symbol = record[index].strip()
    if not symbol:
        raise KISValidationError(f"{kind} record without a symbol")
    return symbol


def _moment(
    record: tuple[str, ...], hour_index: int, day: date, date_index: int | None
) -> datetime:
    when = day
    if date_index is not None and len(record) > date_index and record[date_index].strip():
        when = parse_date(record[date_index])
    return kst(when, parse_time(record[hour_index]))


def parse_tick(record: tuple[str, ...], today: date) -> Tick:
    """H0STCNT0: 0 code, 1 time, 2 price, 10 ask1, 11 bid1, 12 trade qty, 13 cum qty, 33 date,
    35 TRHT_YN, 43 HOUR_CLS_CODE (the last two blank or absent in shorter layouts).

    A tick without a symbol or a positive price is refused: an exit would act on it."""
    _need(record, "tick")
    price = to_int(record[2])
    if price <= 0:
        raise KISValidationError(f"tick price {price} is not positive")
    return Tick(
        symbol=_symbol(record, 0, "tick"),
        price=price,
        volume=to_int(record[12]),
        cumulative_volume=to_int(record[13]),
        at=_moment(record, 1, today, 33),
        ask=to_int(record[10]) or None,
        bid=to_int(record[11]) or None,
        hour_code=_field(record, HOUR_CLS_CODE)[:1],
        halted=_yes_no(_field(record, TRHT_YN)),
    )


def _field(record: tuple[str, ...], index: int) -> str:
    return record[index].strip() if len(record) > index else ""


def _yes_no(value: str) -> bool | None:
    return {"Y": True, "N": False}.get(value.upper())


def parse_book(record: tuple[str, ...], today: date) -> OrderBook:
    """H0STASP0: 3-12 asks, 13-22 bids, 23-32 ask sizes, 33-42 bid sizes."""
    _need(record, "book")
    asks = [BookLevel(to_int(record[3 + i]), to_int(record[23 + i])) for i in range(10)]
    bids = [BookLevel(to_int(record[13 + i]), to_int(record[33 + i])) for i in range(10)]
    return OrderBook(
        symbol=_symbol(record, 0, "book"),
        asks=tuple(level for level in asks if level.price > 0),
        bids=tuple(level for level in bids if level.price > 0),
        at=_moment(record, 1, today, None),
    )


def parse_notice(record: tuple[str, ...], today: date) -> ExecutionNotice:
    """H0STCNI0/9, 26 fields (older 23-field layouts and longer ones are accepted).

    Fills (CNTG_YN 2): quantity/price are the fill's (9, 10). Receipts (CNTG_YN 1): the
    order's quantity (16, else 9) and price (ODER_PRC, else 10); ``accept_only`` when RCTF_CLS
    (5) is 0, RFUS_YN (12) 0 and ACPT_YN (14) 1 — a plain 주문접수. A notice without an order
    number or a symbol, or with an unknown side, is refused."""
    _need(record, "notice")
    fill = record[13].strip() == "2"
    order_quantity = _int_at(record, 16)
    order_price = _int_at(record, 25 if len(record) >= 26 else 22)
    quantity = to_int(record[9] or "0")
    price = to_int(record[10] or "0")
    if not fill:
        quantity = order_quantity or quantity
        price = order_price or price
    order_no = record[2].strip()
    if not order_no:
        raise KISValidationError("notice without an order number")
    return ExecutionNotice(
        broker_order_no=order_no,
        original_order_no=record[3].strip(),
        symbol=_symbol(record, 8, "notice"),
        side=_side(record[4]),
        is_fill=fill,
        rejected=record[12].strip() == "1",
        quantity=quantity,
        price=price,
        at=_moment(record, 11, today, None),
        order_quantity=order_quantity,
        accept_only=not fill
        and (record[5].strip(), record[12].strip(), record[14].strip()) == ("0", "0", "1"),
    )


def _side(code: str) -> Side:
    try:
        return side_of(code)
    except KISError:  # the REST mapping calls it a rejection; in a frame it is malformed
        raise KISValidationError(f"notice with an unknown side {shown(code)}") from None


def _int_at(record: tuple[str, ...], index: int) -> int:
    """An optional number: absent, blank or unreadable counts as 0."""
    if len(record) <= index or not record[index].strip():
        return 0
    try:
        return to_int(record[index])
    except KISValidationError:
        return 0
