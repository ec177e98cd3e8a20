"""The whole simulated exchange for one account: markets, session, matching and listeners.

Time drives everything. Symbol ``i`` trades every ``interval_i`` seconds from the open; each
call to :meth:`Exchange.advance` plays every trade due up to now (skipping, not replaying,
anything older than ``max_catchup_seconds``). At the end of continuous trading 조건부지정가
remainders become market orders; at the end of the closing call each symbol trades once at
its closing price, crossing orders fill at that price and every other remainder is
cancelled. Everything runs on one thread (the server's event loop); nothing here blocks.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from stock_manager.domain.clock import KST
from stock_manager.domain.krx import is_on_tick
from stock_manager.domain.session import TradingSession
from stock_manager.sim.account import Account
from stock_manager.sim.clock import Clock, WallClock
from stock_manager.sim.config import SimConfig
from stock_manager.sim.faults import FaultInjector
from stock_manager.sim.market import SymbolMarket, Trade
from stock_manager.sim.matching import Matching
from stock_manager.sim.orders import Notice
from stock_manager.sim.session import Phase, build_session, phase_at, session_json
from stock_manager.sim.universe import load_universe
from stock_manager.sim.vi import trigger

TradeListener = Callable[[SymbolMarket, Trade], None]
NoticeListener = Callable[[Notice], None]


class Exchange:
    def __init__(self, config: SimConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or WallClock()
        self.faults = FaultInjector(config.faults, config.seed)
        self.trade_listeners: list[TradeListener] = []
        self.notice_listeners: list[NoticeListener] = []
        self.trades_played = 0
        self._vi_rng = random.Random(f"{config.seed}:vi")
        self.interruptions = 0  # VIs set off since the start
        self._build_market(self.clock.now())
        self._build_account(config.cash)

    # -- construction --------------------------------------------------------------------------
    def _build_market(self, now: datetime) -> None:
        config = self.config
        self.session: TradingSession = build_session(config, now)
        replay = config.replay
        recorded = {s.spec.code: s for s in replay.symbols} if replay else {}
        specs = (
            [s.spec for s in recorded.values()]
            if replay
            else load_universe(config.symbols, config.seed, config.symbols_file)
        )
        self.markets = {
            spec.code: SymbolMarket(
                spec,
                config.seed,
                self.session.opens_at,
                now,
                config.candle_seconds,
                config.tick_interval,
                config.history_candles,
                recorded.get(spec.code),
            )
            for spec in specs
        }
        self._schedule_from(now)

    def _build_account(self, cash: int) -> None:
        kinds = {code: market.spec.kind for code, market in self.markets.items()}
        self.account = Account(cash, self.config.fees, kinds)
        self.matching = Matching(self.config, self.account, self.markets, self._notify, self.faults)

    def _schedule_from(self, now: datetime) -> None:
        start = max(now.timestamp(), self.session.opens_at.timestamp())
        self._schedule = [
            (start + market.interval * ((index * 0.618_034) % 1.0), code)
            for index, (code, market) in enumerate(self.markets.items())
        ]
        heapq.heapify(self._schedule)
        end = self.session.continuous_ends_at
        self._auction_prepared = now >= end
        self._closed = now >= self.session.auction_ends_at

    # -- time ----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return self.clock.now()

    def phase(self, moment: datetime | None = None) -> Phase:
        return phase_at(self.session, moment or self.clock.now())

    @property
    def trading_day(self) -> date:
        return self.session.day

    def advance(self, now: datetime | None = None) -> int:
        """Play every trade due up to ``now`` and run the end-of-day steps; return trades."""
        moment = now or self.clock.now()
        ts = moment.timestamp()
        played = self._end_interruptions(min(ts, self.session.continuous_ends_at.timestamp()))
        played += self._play_until(ts)
        if not self._auction_prepared and moment >= self.session.continuous_ends_at:
            self._auction_prepared = True
            self.matching.prepare_auction()
        if not self._closed and moment >= self.session.auction_ends_at:
            self._closed = True
            played += self._uncross()
        return played

    def _play_until(self, ts: float) -> int:
        schedule = self._schedule
        end = min(ts, self.session.continuous_ends_at.timestamp())
        if not schedule or schedule[0][0] > end:
            return 0
        floor = ts - self.config.max_catchup_seconds
        played = 0
        while schedule and schedule[0][0] <= end:
            at_ts, code = schedule[0]
            at_ts = max(at_ts, floor)
            market = self.markets[code]
            played += self._step(market, at_ts, datetime.fromtimestamp(at_ts, KST)) is not None
            heapq.heapreplace(schedule, (at_ts + market.interval, code))
        self.trades_played += played
        return played

    def _step(self, market: SymbolMarket, ts: float, at: datetime) -> Trade | None:
        """The symbol's next trade, unless it is halted, in a VI, or about to set one off."""
        if market.halted or market.vi is not None:
            return None
        checked = market.forced_vi or not market.forced  # a test's forced path may skip VIs
        price, multiplier = market.draw(ts)
        vi = None
        if checked and self.config.replay is None:  # a replayed day trades as recorded
            vi = trigger(self.config.vi, market.last, market.vi_reference, price, ts, self._vi_rng)
        if vi is not None:
            market.vi = vi
            self.interruptions += 1
            market.process.reset(market.last)
            return None
        trade = market.trade_at(ts, at, price, multiplier)
        self._play(market, trade)
        return trade

    def _end_interruptions(self, ts: float) -> int:
        """Uncross every VI auction that has ended by ``ts`` at its price."""
        ended = 0
        for market in self.markets.values():
            vi = market.vi
            if vi is None or vi.ends_at > ts:
                continue
            market.vi = None
            crossing = self.matching.crossing_qty(market.code, vi.price)
            at = datetime.fromtimestamp(vi.ends_at, KST)
            trade = market.trade_at(vi.ends_at, at, vi.price, auction=True, extra_qty=crossing)
            market.process.reset(vi.price)
            market.vi_reference = vi.price
            self._play(market, trade)
            ended += 1
        return ended

    def _play(self, market: SymbolMarket, trade: Trade) -> None:
        self.matching.on_trade(trade)
        for listener in self.trade_listeners:
            listener(market, trade)

    def _uncross(self) -> int:
        at = self.session.auction_ends_at
        ts = at.timestamp()
        for market in self.markets.values():
            market.vi = None  # a VI still running at 15:20 ends in the closing call's uncross
            if not market.halted:  # a halted symbol has no closing price today
                self._play(market, market.trade(ts, at, auction=True))
        self.matching.expire_all(at)
        return len(self.markets)

    def _notify(self, notice: Notice) -> None:
        for listener in self.notice_listeners:
            listener(notice)

    # -- run-time control (admin) ----------------------------------------------------------------
    def set_session(self, session: TradingSession) -> None:
        """Move the session; trading resumes on the same day (no new day starts)."""
        self.session = session
        self._schedule_from(self.clock.now())

    def force_price(
        self,
        symbol: str,
        prices: list[int],
        hold: bool | None = None,
        vi: bool = False,
        at_once: bool = False,
    ) -> Trade | None:
        """Queue ``prices`` as the next trades; the first trades now if the market is open
        (with ``at_once`` all of them, until one sets off a VI). With ``vi`` a price that
        moves too far sets off a VI instead of trading."""
        market = self.markets[symbol]
        limits = market.limits
        bad = [p for p in prices if not (is_on_tick(p, limits.kind) and limits.contains(p))]
        if bad:
            raise ValueError(f"prices {bad} are off tick or outside {limits.lower}..{limits.upper}")
        market.force(prices, hold, vi)
        now = self.clock.now()
        if not prices:
            return None
        if self.phase(now) is not Phase.CONTINUOUS:
            market.last = market.forced.popleft()
            market.process.reset(market.last)
            return None
        trade = self._step(market, now.timestamp(), now)  # None: halted or in a VI
        while at_once and trade is not None and market.forced:
            trade = self._step(market, now.timestamp(), now) or trade
            if market.vi is not None:
                break
        return trade

    def halt(self, symbol: str, halted: bool) -> None:
        """Halt (거래정지) or resume ``symbol``: no trades and no orders while halted."""
        self.markets[symbol].halted = halted

    def reset(self, cash: int | None = None, market: bool = False) -> None:
        """Forget orders and the account (and, with ``market``, restart the market now)."""
        if market:
            listeners = self.trade_listeners
            self._build_market(self.clock.now())
            self.trade_listeners = listeners
        self._build_account(self.config.cash if cash is None else cash)

    def set_faults_profile(self, changes: dict[str, Any]) -> None:
        self.faults.profile = self.faults.profile.updated(changes)

    # -- reads ---------------------------------------------------------------------------------
    def clock_json(self) -> dict[str, Any]:
        now = self.clock.now()
        return {
            "now": now.isoformat(),
            "session": session_json(self.session, now),
            "phase": self.phase(now).value,
            "candle_seconds": self.config.candle_seconds,
            "tick_interval": self.config.tick_interval,
            "trading_day": self.session.day.isoformat(),
        }

    def state_json(self) -> dict[str, Any]:
        reserved = self.matching.reserved_cash()
        account = self.account.to_json()
        account.update(reserved=reserved, buying_power=account["cash_d2"] - reserved)
        orders = [order.to_json() for order in self.matching.orders.values()]
        fills = [
            {"odno": order["odno"], "symbol": order["symbol"], "side": order["side"], **fill}
            for order in orders
            for fill in order["fills"]
        ]
        return {
            "env": self.config.env,
            "account_no": self.config.account,
            "clock": self.clock_json(),
            "cash": account,
            "orders": orders,
            "fills": sorted(fills, key=lambda fill: fill["seq"]),
            "holdings": [held.to_json() for held in self.account.holdings.values()],
            "realized_pnl": dict(self.account.realized),
            "realized_pnl_total": sum(self.account.realized.values()),
            "interruptions": self.interruptions,
        }

    def symbols_json(self) -> list[dict[str, Any]]:
        return [
            {
                "symbol": m.code,
                "name": m.spec.name,
                "instrument": m.spec.instrument,
                "multiple": m.spec.multiple,
                "last": m.last,
                "prev_close": m.prev_close,
                "upper": m.limits.upper,
                "lower": m.limits.lower,
                "volume": m.volume,
                "regime": "recorded" if m.recorded else m.params.regime.value,
                "vi": m.vi.kind if m.vi else None,
                "halted": m.halted,
            }
            for m in self.markets.values()
        ]
