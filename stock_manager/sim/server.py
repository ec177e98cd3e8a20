"""Run the simulator: :class:`SimApp` inside an event loop, :class:`SimServer` on a thread.

Embedding::

    with SimServer(SimConfig(rest_port=0, ws_port=0, session_minutes=5)) as sim:
        httpx.get(f"{sim.rest_url}/_sim/clock")

Port 0 picks free ports; ``rest_url``/``ws_url`` tell which. ``stop()`` closes sockets,
cancels the market ticker and joins the thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from stock_manager.sim.admin import admin_routes
from stock_manager.sim.auth import Auth
from stock_manager.sim.clock import Clock
from stock_manager.sim.config import SimConfig
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.ratelimit import SlidingWindowLimiter
from stock_manager.sim.rest import SimContext, build_rest_app
from stock_manager.sim.ws import WsHub

log = logging.getLogger(__name__)
T = TypeVar("T")


def _bound_port(runner: web.AppRunner) -> int:
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the server has no listening socket")


class SimApp:
    """The REST and WebSocket servers plus the market ticker, in the running loop."""

    def __init__(self, config: SimConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or SimConfig()
        self.exchange = Exchange(self.config, clock)
        self.auth = Auth(self.config, self.exchange.clock)
        limiter = SlidingWindowLimiter(self.config.effective_rate_limit)
        self.context = SimContext(self.exchange, self.auth, limiter)
        self.hub = WsHub(self.exchange, self.auth)
        self.context.hub = self.hub
        self._runners: list[web.AppRunner] = []
        self._ticker: asyncio.Task[None] | None = None
        self.rest_port = self.ws_port = 0

    @property
    def rest_url(self) -> str:
        return f"http://{self.config.host}:{self.rest_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.config.host}:{self.ws_port}"

    async def _serve(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        self._runners.append(runner)
        await web.TCPSite(runner, self.config.host, port, reuse_address=True).start()
        return _bound_port(runner)

    def _ws_app(self) -> web.Application:
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self.hub.handle),
                web.get("/tryitout", self.hub.handle),
                web.get("/tryitout/{tr_id}", self.hub.handle),
            ]
        )
        return app

    async def start(self) -> None:
        rest = build_rest_app(self.context, admin_routes())
        self.rest_port = await self._serve(rest, self.config.rest_port)
        self.ws_port = await self._serve(self._ws_app(), self.config.ws_port)
        self._ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        pause = min(0.05, self.config.tick_interval / 2)
        next_drop = loop.time() + 1.0
        next_ping = loop.time() + self.config.ws_ping_interval
        while True:
            try:
                self.exchange.advance()
                now = loop.time()
                if now >= next_ping:
                    next_ping = now + self.config.ws_ping_interval
                    self.hub.ping_all(self.exchange.clock.now())
                if now >= next_drop:
                    next_drop = now + 1.0
                    self.hub.maybe_drop(1.0)
            except Exception:
                log.exception("simulator tick failed")
            await asyncio.sleep(pause)

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        await self.hub.close()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()


class SimServer:
    """A :class:`SimApp` on its own thread and event loop; a context manager."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        clock: Clock | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.config = config or SimConfig()
        self._clock = clock
        self._start_timeout = start_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.app: SimApp | None = None

    @property
    def rest_url(self) -> str:
        return self._app().rest_url

    @property
    def ws_url(self) -> str:
        return self._app().ws_url

    @property
    def exchange(self) -> Exchange:
        """The engine; read it only through :meth:`call` while the server runs."""
        return self._app().exchange

    def _app(self) -> SimApp:
        if self.app is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return self.app

    def start(self) -> SimServer:
        if self._thread is not None:
            return self
        ready: concurrent.futures.Future[SimApp] = concurrent.futures.Future()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="kis-sim", daemon=True
        )
        self._thread.start()
        try:
            self.app = ready.result(timeout=self._start_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, ready: concurrent.futures.Future[SimApp]) -> None:
        loop = self._loop
        if loop is None:
            raise RuntimeError("no event loop to run")
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            app = SimApp(self.config, self._clock)
            await app.start()
            ready.set_result(app)

        try:
            loop.run_until_complete(boot())
        except BaseException as exc:
            ready.set_exception(exc)
            loop.close()
            return
        loop.run_forever()
        loop.close()

    def call(self, fn: Callable[[Exchange], T], timeout: float = 10.0) -> T:
        """Run ``fn(exchange)`` on the server's loop and return its result."""
        loop = self._loop
        if loop is None:
            raise RuntimeError("the simulator is not running")
        exchange = self._app().exchange

        async def run() -> T:
            return fn(exchange)

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self.app is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.app.stop(), loop)
            future.result(timeout)
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._loop = self._thread = None
        self.app = None

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
