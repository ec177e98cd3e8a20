"""One symbol's market: its trades, the day's OHLC and volume, candles and the order book."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from stock_manager.domain.krx import instrument_limits
from stock_manager.sim.book import Book, build_book, to_tick
from stock_manager.sim.history import DailyBar, daily_bars, intraday_backfill
from stock_manager.sim.prices import PriceSource, RandomWalk
from stock_manager.sim.process import PriceProcess, ProcessParams, draw_params
from stock_manager.sim.recorded import RecordedPrices, RecordedSymbol
from stock_manager.sim.universe import SymbolSpec
from stock_manager.sim.vi import Interruption

REGULAR_DAY_MINUTES = 380
REFERENCE_TRADES_PER_MINUTE = 120  # daily volumes assume a trade every 0.5 s
AUCTION_VOLUME = 20.0  # the closing uncross trades this many typical trades


@dataclass(slots=True)
class Candle:
    index: int
    start: datetime
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    amount: int = 0


@dataclass(frozen=True, slots=True)
class Trade:
    symbol: str
    price: int
    qty: int
    at: datetime
    buyer_initiated: bool
    auction: bool = False


class SymbolMarket:
    """State of one symbol today; ``trade`` produces the next simulated trade.

    Prices come from the seeded random walk, or from ``recorded`` minutes (a replay: no
    generated history, every symbol trades every ``tick_interval`` seconds)."""

    def __init__(
        self,
        spec: SymbolSpec,
        seed: int,
        anchor: datetime,
        start: datetime,
        candle_seconds: float,
        tick_interval: float,
        history_candles: int,
        recorded: RecordedSymbol | None = None,
    ) -> None:
        self.spec = spec
        self.code = spec.code
        self.seed = seed
        self.params: ProcessParams = draw_params(
            random.Random(f"{seed}:{spec.code}:p"), spec.prev_close
        )
        self.limits = instrument_limits(spec.prev_close, spec.as_instrument())
        factor = 1.0 if recorded else self.params.interval_factor
        self.interval = tick_interval * factor
        self.candle_seconds = candle_seconds
        self.anchor = anchor
        self._anchor_ts = anchor.timestamp()
        rng = random.Random(f"{seed}:{spec.code}:d")
        self.prev_volume = max(
            1,
            int(
                self.params.trade_qty
                * REGULAR_DAY_MINUTES
                * REFERENCE_TRADES_PER_MINUTE
                * rng.lognormvariate(0, 0.3)
            ),
        )
        self.candles: list[Candle] = []
        self._reset_day(rng.gauss(0.0, 0.01))
        steps = candle_seconds / self.interval
        self.process: PriceSource
        self.recorded = recorded is not None
        if recorded is not None:
            self.open = self.last = self.high = self.low = recorded.bars[0].open
            self.process = RecordedPrices(recorded, seed, self._anchor_ts, candle_seconds, steps)
        else:
            self._backfill(start, history_candles)
            walk = PriceProcess(
                self.params,
                random.Random(f"{seed}:{spec.code}:live"),
                self.last,
                steps,
                self.limits.lower,
                self.limits.upper,
            )
            self.process = RandomWalk(walk, self.limits)
        self.trade_index = 0
        self.forced: deque[int] = deque()
        self.hold = False
        self.forced_vi = False  # forced prices are checked for a VI too
        self.halted = False  # 거래정지: no trades, no orders
        self.vi: Interruption | None = None  # a VI single-price auction in progress
        self.vi_reference = self.open  # static VI reference: the last single price
        self._book: Book | None = None
        self._daily: list[DailyBar] | None = None

    def _reset_day(self, gap: float) -> None:
        self.open = to_tick(self.spec.prev_close * math.exp(gap), self.limits)
        self.last = self.high = self.low = self.open
        self.open_at = self.high_at = self.low_at = self.last_at = self.anchor
        self.volume = self.amount = 0
        self.buy_volume = self.sell_volume = self.buy_count = self.sell_count = 0
        self.last_qty = 0
        self.buyer_initiated = True

    def _backfill(self, start: datetime, count: int) -> None:
        """Candles before ``start`` on the session's candle grid, as if already traded."""
        if count <= 0:
            return
        first = math.floor((start.timestamp() - self._anchor_ts) / self.candle_seconds) - count
        trades = self.candle_seconds / (self.interval or 1.0)
        bars = intraday_backfill(
            random.Random(f"{self.seed}:{self.code}:b"),
            self.params,
            self.open,
            count,
            trades,
            self.limits,
        )
        self.high_at = self.low_at = self.anchor + timedelta(seconds=first * self.candle_seconds)
        for offset, bar in enumerate(bars):
            index = first + offset
            begin = self.anchor + timedelta(seconds=index * self.candle_seconds)
            amount = bar.volume * (bar.high + bar.low + bar.close) // 3
            self.candles.append(
                Candle(index, begin, bar.open, bar.high, bar.low, bar.close, bar.volume, amount)
            )
            self._extend_day(bar.high, bar.low, begin, bar.volume, amount)
        self.open, self.open_at = bars[0].open, self.candles[0].start
        self.last, self.last_at = bars[-1].close, self.candles[-1].start
        self.buy_volume = self.sell_volume = self.volume // 2

    def _extend_day(self, high: int, low: int, at: datetime, volume: int, amount: int) -> None:
        if high > self.high:
            self.high, self.high_at = high, at
        if low < self.low:
            self.low, self.low_at = low, at
        self.volume += volume
        self.amount += amount

    # -- trading -------------------------------------------------------------------------------
    def next_price(self, ts: float) -> tuple[int, float]:
        if self.forced:
            price = self.forced.popleft()
            self.process.reset(price)
            return price, 1.0
        if self.hold:
            return self.last, 1.0
        return self.process.step(self.trade_index, ts)

    def trade(self, ts: float, at: datetime, auction: bool = False) -> Trade:
        """Produce and record the next trade at ``at`` (``ts`` is its POSIX time)."""
        price, multiplier = self.draw(ts)
        return self.trade_at(ts, at, price, multiplier, auction)

    def draw(self, ts: float) -> tuple[int, float]:
        """The next trade's price and size multiplier (counts the trade: the walk needs it)."""
        self.trade_index += 1
        return self.next_price(ts)

    def trade_at(
        self,
        ts: float,
        at: datetime,
        price: int,
        multiplier: float = 1.0,
        auction: bool = False,
        extra_qty: int = 0,
    ) -> Trade:
        """Record a trade at ``price`` (``extra_qty``: counterparties an auction brings)."""
        volume = multiplier * (AUCTION_VOLUME if auction else 1.0)
        qty = extra_qty + self.process.trade_qty(volume, ts)
        moved = price != self.last
        buyer = price > self.last if moved else self.process.rng.random() < 0.5
        trade = Trade(self.code, price, qty, at, buyer, auction)
        self.record(trade, ts)
        return trade

    def record(self, trade: Trade, ts: float) -> None:
        price, qty = trade.price, trade.qty
        self._extend_day(price, price, trade.at, qty, price * qty)
        self.last, self.last_at, self.last_qty = price, trade.at, qty
        self.buyer_initiated = trade.buyer_initiated
        if trade.buyer_initiated:
            self.buy_volume += qty
            self.buy_count += 1
        else:
            self.sell_volume += qty
            self.sell_count += 1
        self._book = None
        self._add_to_candle(ts, trade.at, price, qty)

    def _add_to_candle(self, ts: float, at: datetime, price: int, qty: int) -> None:
        index = int((ts - self._anchor_ts) // self.candle_seconds)
        candles = self.candles
        if candles and candles[-1].index == index:
            candle = candles[-1]
            candle.high = max(candle.high, price)
            candle.low = min(candle.low, price)
            candle.close = price
        else:
            begin = self.anchor + timedelta(seconds=index * self.candle_seconds)
            candle = Candle(index, begin, price, price, price, price)
            candles.append(candle)
        candle.volume += qty
        candle.amount += price * qty

    def force(self, prices: list[int], hold: bool | None = None, vi: bool = False) -> None:
        """Queue prices for the next trades (and optionally freeze the price after them);
        ``vi``: they may set off a VI as the market's own trades do (else they trade)."""
        self.forced.extend(prices)
        self.forced_vi = vi
        if hold is not None:
            self.hold = hold

    # -- reads ---------------------------------------------------------------------------------
    def book(self) -> Book:
        if self._book is None:
            self._book = build_book(
                self.last,
                self.buyer_initiated,
                self.limits,
                self.params.trade_qty * 3,
                self.trade_index * 977 + 13,
            )
        return self._book

    def daily(self, today: date, days: int) -> list[DailyBar]:
        """Daily bars before today (oldest first), generated on first use."""
        if self._daily is None:
            rng = random.Random(f"{self.seed}:{self.code}:h")
            self._daily = daily_bars(rng, self.spec.prev_close, self.prev_volume, today, days)
        return self._daily

    @property
    def prev_close(self) -> int:
        return self.spec.prev_close

    @property
    def change(self) -> int:
        return self.last - self.prev_close

    @property
    def change_rate(self) -> float:
        return (self.last - self.prev_close) / self.prev_close * 100.0

    @property
    def vwap(self) -> float:
        return self.amount / self.volume if self.volume else float(self.last)
