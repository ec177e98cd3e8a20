"""``stock-manager stream``: KIS real-time prices and execution notices into Celery tasks.

The low-latency path next to the beat-driven polling. It subscribes H0STCNT0 for every
symbol the system holds or is trading (``symbol_states`` rows not FLAT, re-read every
``STREAM_REFRESH_INTERVAL`` seconds) plus ``--symbols``, and H0STCNI0/H0STCNI9 for the HTS
ID, within the 41-registration cap (notices first, then held symbols, then extras). Ticks
become ``tasks.prices.on_tick`` on queue ``ticks`` when they can change something (the
:class:`~stock_manager.domain.tick_gate.TickGate`: a new high or an exit, judged from the
same re-read of ``symbol_states``), coalesced per symbol: only the latest such price is
sent, only when it changed, at most once per ``tick_interval`` (a tick stream far faster
than the workers must never bury the price checks), and each expires after a few seconds.
A tick that crosses an exit level (``TickGate.exit_due``) is not paced: it goes out at once,
ahead of paced ticks, whenever the symbol was last sent (issue 16); only further exit ticks
of the symbol within ``tick_interval`` of it are paced, as one sell is already on its way.
Notices become ``tasks.orders.on_execution_notices`` on queue ``trading`` and are never
dropped: the notices of one symbol that arrive while a send is under way go out together in
one task, each numbered among the identical notices seen before it (``sequence``: KIS gives a
notice no id, so this is what tells a second same-second fill from a redelivery). Sending
happens off the event loop, so a slow Celery broker never delays PINGPONG answers.

No input ends the process (issue 11): malformed frames are counted and skipped by the
client, and a loop that still dies of something unexpected is restarted with backoff and an
alert to the process's notifier (``supervisor.py``). SIGINT and SIGTERM stop it cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import logging
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

import click

from stock_manager.adapters.kis.supervisor import Supervisor
from stock_manager.adapters.kis.websocket import Event, KisWebSocket, Subscription
from stock_manager.domain.broker import BrokerError, ExecutionNotice, Tick
from stock_manager.domain.clock import KST
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.tick_gate import TickGate
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.ports import Broker, UnitOfWork

log = logging.getLogger("stock_manager.kis")
TICK_TASK, TICK_QUEUE = "tasks.prices.on_tick", "ticks"
TICK_EXPIRES = 3.0  # a tick older than this is worth nothing to an exit decision
NOTICE_TASK, NOTICE_QUEUE = "tasks.orders.on_execution_notices", "trading"
URGENT, PACED = 0, 1  # the forwarder's queue ranks: notices and exit ticks go first
TICK_SETTLE = 0.02  # seconds a paced tick waits for an exit tick right behind it


class TaskSender(Protocol):
    def send(self, name: str, kwargs: dict[str, Any], queue: str) -> None: ...


class CelerySender:
    """Sends through ``app.send_task`` (the tasks live in the workers, not here)."""

    def __init__(self, app: Any, expires: dict[str, float] | None = None) -> None:
        self.app = app
        self.expires = {TICK_TASK: TICK_EXPIRES} if expires is None else expires

    def send(self, name: str, kwargs: dict[str, Any], queue: str) -> None:
        self.app.send_task(name, kwargs=kwargs, queue=queue, expires=self.expires.get(name))


def tick_kwargs(tick: Tick, high: int = 0, band: PriceLimits | None = None) -> dict[str, Any]:
    """``high``: the highest forwarded price of the symbol since its last task (a new high
    coalesced away still moves the trailing stop the worker judges). The record's trading
    state (``hour_code``, ``halted``) and the day's ``band`` the stream knows (base, upper,
    lower) go along, so the worker prices an exit without reading a quote (issue 16)."""
    kwargs: dict[str, Any] = {
        "symbol": tick.symbol,
        "price": tick.price,
        "volume": tick.volume,
        "at": tick.at.isoformat(),
        "high": max(high, tick.price),
    }
    if tick.halted is not None:
        kwargs.update(hour_code=tick.hour_code, halted=tick.halted)
    if band is not None:
        kwargs["band"] = [band.base, band.upper, band.lower]
    return kwargs


def notice_fields(notice: ExecutionNotice) -> dict[str, Any]:
    """Every ExecutionNotice field as plain JSON: enums by value, times ISO 8601."""
    fields = {}
    for f in dataclasses.fields(notice):
        value = getattr(notice, f.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = value.isoformat()
        fields[f.name] = value
    return fields


def notice_kwargs(notice: ExecutionNotice) -> dict[str, Any]:
    return {"notice": notice_fields(notice)}


def notices_kwargs(notices: Sequence[ExecutionNotice]) -> dict[str, Any]:
    """One symbol's notices, oldest first, for one task."""
    return {"notices": [notice_fields(n) for n in notices]}


class Forwarder:
    """Queues events from the socket and sends them as Celery tasks from a worker thread.

    Ticks are coalesced per symbol: the queue holds at most one entry per symbol, which
    sends the latest tick when its turn comes, unless the price is what was last sent or
    the symbol was sent less than ``tick_interval`` ago (then it is looked at again later).
    A tick ``urgent`` names (an exit) skips that pacing and the queue: it is sent next, and
    a paced price of the symbol still waiting is dropped (it is older).
    """

    def __init__(
        self,
        sender: TaskSender,
        *,
        queue_size: int = 10_000,
        tick_interval: float = 0.25,
        gate: Callable[[Tick], bool] | None = None,
        urgent: Callable[[Tick], bool] | None = None,
        settle: float = 0.0,
        band: Callable[[Tick], PriceLimits | None] | None = None,
    ) -> None:
        self.sender = sender
        self.gate = gate
        self.urgent = urgent
        self.band = band  # the day's band of a tick's symbol, if the stream knows it
        # (rank, arrival, kind, item): notices and exit ticks (rank 0) before paced ticks
        self.queue: asyncio.PriorityQueue[tuple[int, int, str, Any]] = asyncio.PriorityQueue(
            queue_size
        )
        self.tick_interval = tick_interval
        # a paced tick waits this long after it arrives, so an exit right behind it replaces
        # it instead of finding its mark holding the symbol's lease
        self.settle = settle
        self.pending: dict[str, Tick] = {}
        self.pending_since: dict[str, float] = {}
        # highest price forwarded since the last send, and since when: as old as a tick may
        # be (TICK_EXPIRES), so a high never outlives the trade it was seen in
        self.highs: dict[str, tuple[int, float]] = {}
        self.last_price: dict[str, int] = {}
        self.last_sent: dict[str, float] = {}
        self.last_urgent: dict[str, float] = {}
        self.sent = 0
        self.dropped = 0
        self.gated = 0
        self.hurried = 0
        self._arrivals = itertools.count()
        self.notices: dict[str, list[ExecutionNotice]] = {}  # by symbol, waiting to be sent
        self._seen: Counter[tuple[Any, ...]] = Counter()

    async def handle(self, event: Event) -> None:
        if isinstance(event, Tick):
            queued = event.symbol in self.pending
            if self.gate is not None and not self.gate(event):
                self.gated += 1
                return  # changes nothing; a pending tick that does stays pending
            self._note_high(event)
            if self._hurry(event):
                self.pending.pop(event.symbol, None)
                await self._put(URGENT, "now", event)
                return
            self.pending[event.symbol] = event
            if queued:
                return
            self.pending_since[event.symbol] = asyncio.get_running_loop().time()
            if self.queue.full():
                self.dropped += 1  # a newer tick follows; notices are never dropped
                del self.pending[event.symbol]
                return
            await self._put(PACED, "tick", event.symbol)
        elif isinstance(event, ExecutionNotice):
            waiting = self.notices.setdefault(event.symbol, [])
            waiting.append(self._numbered(event))
            if len(waiting) == 1:  # later ones join this batch until it is sent
                await self._put(URGENT, "notice", event.symbol)
        # OrderBook: not forwarded (nothing consumes it yet)

    def _hurry(self, tick: Tick) -> bool:
        """An exit tick, unless one of the symbol's went out within ``tick_interval``."""
        if self.urgent is None or not self.urgent(tick):
            return False
        now = asyncio.get_running_loop().time()
        if now - self.last_urgent.get(tick.symbol, -1e9) < self.tick_interval:
            return False
        self.last_urgent[tick.symbol] = now
        return True

    def _numbered(self, notice: ExecutionNotice) -> ExecutionNotice:
        """``notice`` with its ``sequence``: how many identical ones came before it."""
        key = tuple(getattr(notice, f.name) for f in dataclasses.fields(notice))
        sequence = self._seen[key]
        self._seen[key] += 1
        return dataclasses.replace(notice, sequence=sequence)

    async def _put(self, rank: int, kind: str, item: Any) -> None:
        await self.queue.put((rank, next(self._arrivals), kind, item))

    async def run(self) -> None:
        while True:
            _, _, kind, item = await self.queue.get()
            try:
                if kind == "tick":
                    await self._tick(item)
                elif kind == "now":
                    await self._now(item)
                elif batch := self.notices.pop(item, None):
                    await self._send(NOTICE_TASK, notices_kwargs(batch), NOTICE_QUEUE)
            finally:
                self.queue.task_done()

    async def _tick(self, symbol: str) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        wait = max(
            self.tick_interval - (now - self.last_sent.get(symbol, -1e9)),
            self.settle - (now - self.pending_since.get(symbol, -1e9)),
        )
        if wait > 0 and symbol in self.pending:  # too soon: look again when it is time
            loop.call_later(wait, self._requeue, symbol)
            return
        tick = self.pending.pop(symbol, None)
        if tick is None or self.last_price.get(symbol) == tick.price:
            return
        if await self._send_tick(tick):
            self.last_price[symbol], self.last_sent[symbol] = tick.price, loop.time()

    async def _now(self, tick: Tick) -> None:
        if await self._send_tick(tick, exit_due=True):
            self.hurried += 1
            now = asyncio.get_running_loop().time()
            self.last_price[tick.symbol], self.last_sent[tick.symbol] = tick.price, now

    def _note_high(self, tick: Tick) -> None:
        now = asyncio.get_running_loop().time()
        high, since = self.highs.get(tick.symbol, (0, now))
        if now - since > TICK_EXPIRES:
            high, since = 0, now
        self.highs[tick.symbol] = (max(high, tick.price), since)

    async def _send_tick(self, tick: Tick, exit_due: bool = False) -> bool:
        high = self.highs.pop(tick.symbol, (0, 0.0))
        band = self.band(tick) if self.band is not None else None
        kwargs = tick_kwargs(tick, high[0], band)
        if exit_due:
            kwargs["exit_due"] = True  # the worker goes straight for the lease
        if await self._send(TICK_TASK, kwargs, TICK_QUEUE):
            return True
        self.highs.setdefault(tick.symbol, high)  # not sent: the next send carries it
        return False

    def _requeue(self, symbol: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait((PACED, next(self._arrivals), "tick", symbol))

    async def _send(self, name: str, kwargs: dict[str, Any], queue: str) -> bool:
        try:
            await asyncio.to_thread(self.sender.send, name, kwargs, queue)
        except Exception as exc:  # the broker being down must not kill the stream
            log.warning("could not send %s: %s", name, type(exc).__name__)
            return False
        self.sent += 1
        return True


def learn_bands(broker: Broker, gate: TickGate, symbols: Sequence[str]) -> None:
    """Read the day's price band of each watched symbol not known yet (one multi-quote)."""
    today = datetime.now(KST).date()
    missing = [s for s in symbols if gate.sanity.band(s, today) is None]
    if not missing:
        return
    try:
        quotes = broker.quotes(missing)
    except BrokerError as exc:  # ticks are still judged by sign and grid meanwhile
        log.warning("could not read price bands: %s", exc)
        return
    for quote in quotes.values():
        band = PriceLimits(quote.base_price, quote.upper_limit, quote.lower_limit)
        gate.sanity.learn(quote.symbol, today, band)


def sane_gate(gate: TickGate) -> Callable[[Tick], bool]:
    """``gate.passes`` with a warning for every impossible price it drops."""

    def passes(tick: Tick) -> bool:
        passed = gate.passes(tick)
        if gate.last_fault is not None:
            log.warning(
                "dropped an impossible tick of %s at %s: %s",
                tick.symbol,
                tick.price,
                gate.last_fault.value,
            )
        return passed

    return passes


def watched_trades(uow: UnitOfWork) -> list[SymbolTrade]:
    """Symbols the system holds or is trading: every ``symbol_states`` row not FLAT."""
    with uow:
        return [t for t in uow.symbols.find() if t.state is not SymbolState.FLAT]


def wanted(
    held: Sequence[str], extra: Sequence[str], notice_tr_id: str, hts_id: str
) -> list[Subscription]:
    """Notices first, then held symbols, then extras: the order the cap keeps."""
    subs = [Subscription(notice_tr_id, hts_id)] if hts_id else []
    subs += [Subscription("H0STCNT0", s) for s in dict.fromkeys([*held, *extra])]
    return subs


async def keep_subscriptions(
    ws: KisWebSocket,
    compute: Callable[[], list[Subscription]],
    interval: float,
    stop: asyncio.Event,
) -> None:
    """Recompute the wanted set now and every ``interval`` seconds."""
    while not stop.is_set():
        try:
            ws.set_subscriptions(await asyncio.to_thread(compute))
        except Exception as exc:  # the database may be briefly away; keep what we have
            log.warning("could not refresh the stream's symbols: %s", type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)


async def run_stream(
    ws: KisWebSocket,
    forwarder: Forwarder,
    compute: Callable[[], list[Subscription]],
    interval: float,
    stop: asyncio.Event,
    supervisor: Supervisor | None = None,
) -> Supervisor:
    """Run the socket, the forwarder and the subscription refresh until ``stop`` is set,
    each under ``supervisor`` (restarted with backoff and an alert if it raises)."""
    sup = supervisor or Supervisor()
    tasks = [
        asyncio.create_task(sup.run("forwarder", forwarder.run, stop)),
        asyncio.create_task(
            sup.run("subscriptions", lambda: keep_subscriptions(ws, compute, interval, stop), stop)
        ),
    ]
    try:
        await sup.run("websocket", lambda: ws.run(stop), stop)
        await asyncio.wait_for(forwarder.queue.join(), timeout=5)
    except TimeoutError:
        log.warning("stopped with %d events unsent", forwarder.queue.qsize())
    finally:
        for task in tasks:
            task.cancel()
    return sup


def _install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)


@click.command("stream")
@click.option("--symbols", default="", help="Comma-separated symbols to watch as well.")
@click.option("--no-db", is_flag=True, help="Do not read held symbols from the database.")
@click.option("--no-notices", is_flag=True, help="Do not subscribe execution notices.")
def stream_command(symbols: str, no_db: bool, no_notices: bool) -> None:
    """Forward KIS real-time prices and execution notices to Celery tasks."""
    from stock_manager.adapters.health import heartbeat_path, keep_touching
    from stock_manager.bootstrap import container
    from stock_manager.celery_app import app
    from stock_manager.cli.kis import migrate_embedded

    migrate_embedded()
    c = container()
    settings, env = c.settings, c.kis.env
    extra = [s.strip() for s in symbols.split(",") if s.strip()]
    hts_id = "" if no_notices else settings.kis_hts_id

    gate = TickGate(c.trading_policy.exits, c.tick_sanity)

    def compute() -> list[Subscription]:
        trades = [] if no_db else watched_trades(c.uow())
        gate.watch(trades)
        learn_bands(c.broker, gate, [t.symbol for t in trades])
        return wanted([t.symbol for t in trades], extra, env.notice_tr_id, hts_id)

    async def main() -> None:
        stop = asyncio.Event()
        _install_signals(stop)
        forwarder = Forwarder(
            CelerySender(app),
            gate=None if no_db else sane_gate(gate),
            urgent=None if no_db else gate.exit_due,
            settle=TICK_SETTLE,
            band=lambda tick: gate.sanity.band(tick.symbol, tick.at.astimezone(KST).date()),
        )
        ws = KisWebSocket(
            env.ws_endpoint,
            c.kis.approvals,
            forwarder.handle,
            max_subscriptions=settings.kis_ws_max_subscriptions,
        )
        click.echo(f"streaming from {env.ws_endpoint} ({env.name}); Ctrl-C stops")
        supervisor = Supervisor(alert=c.notifier.send)
        beat_file = heartbeat_path(settings.data_dir, "stream")
        alive = asyncio.create_task(keep_touching(beat_file, stop))
        await run_stream(ws, forwarder, compute, settings.stream_refresh_interval, stop, supervisor)
        await alive
        click.echo(
            f"stopped: {forwarder.sent} tasks sent, {forwarder.gated} ticks that changed "
            f"nothing held back, {forwarder.hurried} exit ticks sent unpaced, "
            f"{sum(gate.sanity.dropped.values())} impossible prices dropped, "
            f"{ws.stats.malformed} malformed frames skipped, "
            f"{len(supervisor.restarts)} loop restarts"
        )

    try:
        asyncio.run(main())
    finally:
        c.dispose()  # delivers queued alerts before the process ends
