"""The KIS real-time WebSocket client (asyncio).

* Subscribes with the shared approval key; one JSON frame per ``(tr_id, tr_key)``; at most
  ``max_subscriptions`` at once (KIS: 41; the notice subscription counts as one).
* Answers ``PINGPONG`` by echoing the text (python-kis) and/or a pong frame (official
  sample): ``ping_mode`` "echo", "pong" or "both".
* Reconnects with exponential backoff and full jitter, then subscribes everything again.
* Parses H0STCNT0 ticks, H0STASP0 books and H0STCNI0/9 notices (AES-256-CBC) tolerantly:
  a malformed frame of any shape (``notices.py``, ``control.py``) is counted in
  ``stats.malformed``, logged without its content (notices carry the account) and skipped;
  it never ends the session. Anything else that escapes :meth:`KisWebSocket.run` is a bug,
  and the stream process restarts the loop (``stream.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, Protocol

import websockets
from websockets.asyncio.client import connect

from stock_manager.adapters.kis import control, notices
from stock_manager.adapters.kis.errors import KISError, KISValidationError
from stock_manager.adapters.kis.parsing import shown
from stock_manager.adapters.kis.token_store import Credential
from stock_manager.domain.broker import ExecutionNotice, OrderBook, Tick
from stock_manager.domain.clock import KST

log = logging.getLogger("stock_manager.kis")
Event = Tick | OrderBook | ExecutionNotice
Handler = Callable[[Event], Awaitable[None]]
PingMode = Literal["echo", "pong", "both"]
MAX_KEYS = 64  # distinct tr_ids whose AES key is kept (KIS encrypts only notices)
MAX_REFUSED = 100  # refusals remembered in Stats.refused


class ApprovalSource(Protocol):
    def get(self) -> Credential: ...

    def invalidate(self, refused: Credential) -> Credential: ...


class Socket(Protocol):
    async def send(self, message: str) -> None: ...

    async def pong(self, data: str | bytes = b"") -> None: ...


@dataclass(frozen=True, slots=True, order=True)
class Subscription:
    tr_id: str
    tr_key: str


@dataclass
class Backoff:
    """Exponential backoff with jitter: ``uniform(base / 2, min(cap, base * 2**attempt))``."""

    base: float = 0.5
    cap: float = 30.0
    attempt: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def next(self) -> float:
        delay = self.rng.uniform(self.base / 2, min(self.cap, self.base * 2**self.attempt))
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class Stats:
    connections: int = 0
    frames: int = 0
    events: int = 0
    malformed: int = 0
    acks: int = 0
    pings: int = 0
    refused: list[tuple[Subscription, str]] = field(default_factory=list)


class _ApprovalRefused(Exception):
    pass


class KisWebSocket:
    """One WebSocket session at a time, kept alive until :meth:`run`'s stop event is set."""

    def __init__(
        self,
        url: str,
        approvals: ApprovalSource,
        handler: Handler,
        *,
        max_subscriptions: int = 41,
        ping_mode: PingMode = "echo",
        backoff: Backoff | None = None,
        stable_after: float = 10.0,
        today: Callable[[], date] = lambda: datetime.now(KST).date(),
    ) -> None:
        self.url, self._approvals, self._handler = url, approvals, handler
        self.max_subscriptions, self.ping_mode = max_subscriptions, ping_mode
        self.backoff = backoff or Backoff()
        self.stable_after = stable_after
        self._today = today
        self._desired: list[Subscription] = []
        self._active: set[Subscription] = set()
        self._failed: set[Subscription] = set()
        self._keys: dict[str, tuple[str, str]] = {}
        self._changed = asyncio.Event()
        self._approval: Credential | None = None
        self.stats = Stats()
        self.connected = asyncio.Event()

    def __repr__(self) -> str:
        return f"KisWebSocket({self.url!r}, {len(self._active)} active)"

    @property
    def active(self) -> frozenset[Subscription]:
        return frozenset(self._active)

    def set_subscriptions(self, wanted: Iterable[Subscription]) -> list[Subscription]:
        """Replace the wanted set (in priority order); returns what was left over the cap."""
        unique = list(dict.fromkeys(wanted))
        kept, dropped = unique[: self.max_subscriptions], unique[self.max_subscriptions :]
        if dropped:
            log.warning("%d subscriptions over the cap of %d left out", len(dropped), len(kept))
        if kept != self._desired:
            self._desired = kept
            self._failed.clear()
            self._changed.set()
        return dropped

    # -- the connection loop ----------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                await self._connect_once(stop)
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                log.warning("KIS WebSocket dropped: %s", type(exc).__name__)
            except _ApprovalRefused:
                await self._reissue_approval()
            except KISError as exc:
                log.warning("KIS approval key unavailable: %s", exc)
            finally:
                self.connected.clear()
                self._active.clear()
            if time.monotonic() - started >= self.stable_after:
                self.backoff.reset()
            if not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.backoff.next())

    async def _reissue_approval(self) -> None:
        log.warning("KIS refused the approval key; reissuing it")
        if self._approval is None:
            return
        try:
            self._approval = await asyncio.to_thread(self._approvals.invalidate, self._approval)
        except KISError as exc:  # e.g. too soon to issue again: the next attempt retries
            log.warning("could not reissue the approval key: %s", exc)

    async def _connect_once(self, stop: asyncio.Event) -> None:
        self._approval = await asyncio.to_thread(self._approvals.get)
        async with connect(
            self.url,
            ping_interval=None,
            open_timeout=10,
            close_timeout=2,
            max_size=notices.MAX_FRAME_CHARS,
        ) as ws:
            self.stats.connections += 1
            self._failed.clear()
            self._changed.set()
            self.connected.set()
            tasks = [
                asyncio.create_task(self._keep_subscribed(ws)),
                asyncio.create_task(_close_when(stop, ws)),
            ]
            try:
                async for message in ws:
                    text = (
                        message if isinstance(message, str) else message.decode("utf-8", "replace")
                    )
                    await self.on_frame(ws, text)
            finally:
                for task in tasks:
                    task.cancel()

    async def _keep_subscribed(self, ws: Socket) -> None:
        while True:
            await self._changed.wait()
            self._changed.clear()
            await self.sync(ws)

    async def sync(self, ws: Socket) -> None:
        """Unsubscribe what is no longer wanted, then subscribe what is missing."""
        wanted = set(self._desired)
        for sub in sorted(self._active - wanted):
            self._active.discard(sub)
            await ws.send(self._request(sub, "2"))
        for sub in self._desired:
            if sub in self._active or sub in self._failed:
                continue
            if len(self._active) >= self.max_subscriptions:
                break
            self._active.add(sub)
            await ws.send(self._request(sub, "1"))

    def _request(self, sub: Subscription, tr_type: str) -> str:
        key = self._approval.value if self._approval else ""
        header = {"approval_key": key, "custtype": "P", "tr_type": tr_type, "content-type": "utf-8"}
        body = {"input": {"tr_id": sub.tr_id, "tr_key": sub.tr_key}}
        return json.dumps({"header": header, "body": body})

    # -- frames -------------------------------------------------------------------------------
    async def on_frame(self, ws: Socket, text: str) -> None:
        """Handle one frame; a malformed one is counted and skipped."""
        self.stats.frames += 1
        try:
            frame = self._read(text)
        except KISValidationError as exc:
            self.stats.malformed += 1
            # a notice's content carries the account: only the error's kind for those
            detail = type(exc).__name__ if text[:1] == "1" or "CNI" in text[:12] else str(exc)
            log.warning("skipped a malformed KIS frame (%s): %s", shown(text[:12]), detail)
            return
        if isinstance(frame, control.Ping):
            await self._pingpong(ws, text)
        elif isinstance(frame, control.Ack):
            self._on_ack(frame)
        else:
            for event in frame:
                self.stats.events += 1
                await self._handler(event)

    def _read(self, text: str) -> control.Control | list[Event]:
        if len(text) > notices.MAX_FRAME_CHARS:
            raise KISValidationError(f"frame of {len(text)} characters is over the cap")
        if not notices.is_data_frame(text):
            return control.parse(text)
        frame = notices.split_frame(text, self._keys)
        events = (self._parse(frame.tr_id, record) for record in frame.records)
        return [event for event in events if event is not None]

    async def _pingpong(self, ws: Socket, text: str) -> None:
        self.stats.pings += 1
        if self.ping_mode in ("echo", "both"):
            await ws.send(text)
        if self.ping_mode in ("pong", "both"):
            await ws.pong(text.encode())

    def _on_ack(self, ack: control.Ack) -> None:
        self.stats.acks += 1
        sub = Subscription(ack.tr_id, ack.tr_key)
        if ack.key_iv and (sub.tr_id in self._keys or len(self._keys) < MAX_KEYS):
            self._keys[sub.tr_id] = ack.key_iv
        if ack.accepted:
            return
        if "approval" in ack.text.lower():
            raise _ApprovalRefused(ack.text)
        log.warning(
            "KIS refused %s %s: [%s] %s",
            shown(sub.tr_id),
            shown(sub.tr_key),
            shown(ack.code),
            shown(ack.text.strip()),
        )
        refused = self.stats.refused
        refused.append((sub, ack.code))
        del refused[:-MAX_REFUSED]
        if sub in self._active and not ack.text.upper().startswith("UNSUB"):
            self._active.discard(sub)
            self._failed.add(sub)

    def _parse(self, tr_id: str, record: tuple[str, ...]) -> Event | None:
        if tr_id in notices.TICK_TR_IDS:
            return notices.parse_tick(record, self._today())
        if tr_id in notices.BOOK_TR_IDS:
            return notices.parse_book(record, self._today())
        if tr_id in notices.NOTICE_TR_IDS:
            return notices.parse_notice(record, self._today())
        return None


async def _close_when(stop: asyncio.Event, ws: Any) -> None:
    await stop.wait()
    await ws.close()
