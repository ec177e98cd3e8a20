"""The WebSocket server: subscriptions, acks, real-time frames, notices and PINGPONG (§6).

Rules: a session binds to the app key of its first valid approval key; only
``ws_sessions_per_key`` sessions per app key (``OPSP8996`` otherwise); at most
``ws_max_subscriptions`` registrations per session (``OPSP0008``). A notice subscription
with a tr_key other than the account's HTS ID drops the socket without a close frame, as
KIS does. Frames are queued per socket; a socket that falls too far behind is dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import deque
from datetime import datetime
from typing import Any

from aiohttp import WSMsgType, web

from stock_manager.sim.auth import Auth
from stock_manager.sim.crypto import encrypt, new_key_iv
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.market import SymbolMarket, Trade
from stock_manager.sim.orders import Notice
from stock_manager.sim.session import Phase
from stock_manager.sim.wsframes import book_record, data_frame, notice_record, trade_record

log = logging.getLogger(__name__)
TRADE_TR, BOOK_TR = "H0STCNT0", "H0STASP0"
TR_KEY_RE = re.compile(r"^[0-9A-Z]{6,7}$")


class WsSession:
    def __init__(self, ws: web.WebSocketResponse, request: web.Request, limit: int) -> None:
        self.ws = ws
        self.request = request
        self.app_key: str | None = None
        self.subs: set[tuple[str, str]] = set()
        self.key, self.iv = new_key_iv()
        self._queue: deque[str] = deque()
        self._ready = asyncio.Event()
        self._limit = limit
        self.closed = False
        self.sent = 0

    def send(self, frame: str) -> None:
        if self.closed:
            return
        if len(self._queue) >= self._limit:
            log.warning("WebSocket client too slow; dropping it")
            self.drop()
            return
        self._queue.append(frame)
        self._ready.set()

    async def writer(self) -> None:
        while not self.closed:
            await self._ready.wait()
            self._ready.clear()
            try:
                while self._queue and not self.closed:
                    await self.ws.send_str(self._queue.popleft())
                    self.sent += 1
            except (ConnectionError, RuntimeError):
                self.closed = True

    def drop(self) -> None:
        """Cut the TCP connection without a close frame."""
        self.closed = True
        self._ready.set()
        transport = self.request.transport
        if transport is not None:
            transport.abort()


def _reply(
    tr_id: str,
    tr_key: str,
    code: str,
    text: str,
    extra: dict[str, Any] | None = None,
    encrypt_flag: str = "N",
) -> str:
    body: dict[str, Any] = {
        "rt_cd": "0" if code in ("OPSP0000", "OPSP0001") else "1",
        "msg_cd": code,
        "msg1": text,
    }
    if extra:
        body["output"] = extra
    header = {"tr_id": tr_id, "tr_key": tr_key, "encrypt": encrypt_flag}
    return json.dumps({"header": header, "body": body}, ensure_ascii=False)


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class WsHub:
    def __init__(self, exchange: Exchange, auth: Auth) -> None:
        self.exchange = exchange
        self.auth = auth
        self.config = exchange.config
        self.sessions: set[WsSession] = set()
        self.subscribers: dict[tuple[str, str], set[WsSession]] = {}
        self.notice_tr = self.config.dialect.notice_tr_id
        exchange.trade_listeners.append(self.on_trade)
        exchange.notice_listeners.append(self.on_notice)

    # -- publishing ----------------------------------------------------------------------------
    def on_trade(self, market: SymbolMarket, trade: Trade) -> None:
        subs = self.subscribers.get((TRADE_TR, market.code))
        if subs:
            extended = self.config.ws_layout == "extended"
            record = trade_record(market, trade, self.exchange.session, extended)
            frame = data_frame(TRADE_TR, record)
            for session in subs:
                session.send(frame)
        subs = self.subscribers.get((BOOK_TR, market.code))
        if subs:
            auction = self.exchange.phase(trade.at) is Phase.AUCTION
            extended = self.config.ws_layout == "extended"
            frame = data_frame(BOOK_TR, book_record(market, trade.at, auction, extended))
            for session in subs:
                session.send(frame)

    def on_notice(self, notice: Notice) -> None:
        subs = self.subscribers.get((self.notice_tr, self.config.hts_id))
        if not subs:
            return
        config = self.config
        record = notice_record(
            notice, config.hts_id, config.cano + config.product_code, config.dialect.branch
        )
        for session in subs:
            session.send(
                data_frame(self.notice_tr, encrypt(record, session.key, session.iv), encrypted=True)
            )

    # -- connections ---------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20, timeout=2.0)
        await ws.prepare(request)
        session = WsSession(ws, request, self.config.ws_queue_limit)
        self.sessions.add(session)
        writer = asyncio.create_task(session.writer())
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self.on_text(session, message.data)
                elif message.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self._forget(session)
            writer.cancel()
        return ws

    def _forget(self, session: WsSession) -> None:
        session.closed = True
        self.sessions.discard(session)
        for key in session.subs:
            subs = self.subscribers.get(key)
            if subs:
                subs.discard(session)
        session.subs.clear()

    def on_text(self, session: WsSession, text: str) -> None:
        try:
            message = json.loads(text)
            header = message["header"]
        except (ValueError, KeyError, TypeError, RecursionError):
            session.send(_reply("", "", "OPSP9999", "JSON PARSING ERROR : invalid json format"))
            return
        if not isinstance(header, dict) or header.get("tr_id") == "PINGPONG":
            return  # a client echoing our PINGPONG
        body = _object(message.get("body"))
        request = _object(body.get("input"))
        self._subscribe(
            session, header, str(request.get("tr_id", "")), str(request.get("tr_key", ""))
        )

    def _bind(self, session: WsSession, approval_key: str) -> str | None:
        """The error code for this approval key, or ``None`` once the session is bound."""
        app_key = self.auth.approval_keys.get(approval_key)
        if app_key is None:
            return "OPSP0011"
        if session.app_key is None:
            active = sum(1 for other in self.sessions if other.app_key == app_key)
            if active >= self.config.ws_sessions_per_key:
                return "OPSP8996"
            session.app_key = app_key
        return "OPSP9994" if session.app_key != app_key else None

    def _check(
        self, session: WsSession, header: dict[str, Any], tr_id: str, tr_key: str
    ) -> str | None:
        if header.get("custtype") not in ("P", "B"):
            return "OPSP8998"
        if header.get("tr_type") not in ("1", "2"):
            return "OPSP8997"
        error = self._bind(session, str(header.get("approval_key", "")))
        if error:
            return error
        if tr_id not in (TRADE_TR, BOOK_TR, self.notice_tr):
            return "OPSP8991"
        if tr_id != self.notice_tr and not TR_KEY_RE.match(tr_key):
            return "OPSP8992"
        return None

    def _subscribe(
        self, session: WsSession, header: dict[str, Any], tr_id: str, tr_key: str
    ) -> None:
        error = self._check(session, header, tr_id, tr_key)
        if error:
            session.send(_reply(tr_id, tr_key, error, WS_TEXT[error]))
            return
        if tr_id == self.notice_tr and tr_key != self.config.hts_id:
            session.drop()  # KIS closes the socket on a wrong HTS ID
            return
        key = (tr_id, tr_key)
        register = header.get("tr_type") == "1"
        code = self._register(session, key) if register else self._unregister(session, key)
        flag = "Y" if tr_id == self.notice_tr else "N"
        extra = {"iv": session.iv, "key": session.key} if code in ("OPSP0000", "OPSP0001") else None
        session.send(_reply(tr_id, tr_key, code, WS_TEXT[code], extra, flag))

    def _register(self, session: WsSession, key: tuple[str, str]) -> str:
        if key in session.subs:
            return "OPSP0002"
        if len(session.subs) >= self.config.ws_max_subscriptions:
            return "OPSP0008"
        session.subs.add(key)
        self.subscribers.setdefault(key, set()).add(session)
        return "OPSP0000"

    def _unregister(self, session: WsSession, key: tuple[str, str]) -> str:
        if key not in session.subs:
            return "OPSP0003"
        session.subs.discard(key)
        self.subscribers.get(key, set()).discard(session)
        return "OPSP0001"

    # -- housekeeping --------------------------------------------------------------------------
    def ping_all(self, now: datetime) -> None:
        frame = json.dumps(
            {"header": {"tr_id": "PINGPONG", "datetime": now.strftime("%Y%m%d%H%M%S")}}
        )
        for session in list(self.sessions):
            session.send(frame)

    def drop_all(self) -> int:
        sessions = list(self.sessions)
        for session in sessions:
            session.drop()
        return len(sessions)

    def maybe_drop(self, seconds: float) -> None:
        for session in list(self.sessions):
            if self.exchange.faults.ws_drop(seconds):
                session.drop()

    async def close(self) -> None:
        for session in list(self.sessions):
            await session.ws.close()


WS_TEXT = {
    "OPSP0000": "SUBSCRIBE SUCCESS",
    "OPSP0001": "UNSUBSCRIBE SUCCESS",
    "OPSP0002": "ALREADY IN SUBSCRIBE",
    "OPSP0003": "UNSUBSCRIBE ERROR(not found!)",
    "OPSP0008": "MAX SUBSCRIBE OVER",
    "OPSP0011": "invalid approval : NOT FOUND",
    "OPSP8991": "invalid tr_id",
    "OPSP8992": "invalid tr_key",
    "OPSP8996": "ALREADY IN USE appkey",
    "OPSP8997": "invalid tr_type",
    "OPSP8998": "invalid custtype",
    "OPSP9994": "INVALID appkey",
    "OPSP9999": "JSON PARSING ERROR : invalid json format",
}
