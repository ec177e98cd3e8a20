"""One recorded day from a market-data directory, in the shapes the replay needs: the
simulator's :class:`~stock_manager.sim.recorded.RecordedDay` (every minute of the window
present, gaps filled) and the backtest's candles (as recorded, gaps left out).

A window ``[start, end)`` of clock times picks part of the day (default: from the first
recorded minute to the last one, inclusive); the replay's session is that window.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from stock_manager.adapters.market_data import MarketDataError, MarketDataReader
from stock_manager.demo.plan import ReplayPlan
from stock_manager.domain.candles import Candle, InstrumentType, RecordedInstrument
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket
from stock_manager.sim.recorded import MinuteBar, RecordedDay, RecordedSymbol
from stock_manager.sim.universe import Instrument as SimInstrument
from stock_manager.sim.universe import Market, SymbolSpec

MINUTE = timedelta(minutes=1)
CONTINUOUS_END = time(15, 20)  # KRX's regular end of continuous trading
LISTED_SHARES = 100_000_000  # not recorded; the simulator only shows it in stock info
SIM_TYPES: dict[InstrumentType, SimInstrument] = {
    InstrumentType.STOCK: "stock",
    InstrumentType.ETF: "ETF",
    InstrumentType.ETN: "ETN",
}


class ReplayDataError(ValueError):
    """The directory has no such day, or the window holds no candles; the message says which."""


@dataclass(frozen=True, slots=True)
class ReplayDay:
    """A recorded day's window: ``opens_at`` is minute 0, ``minutes`` its length."""

    day: date
    opens_at: datetime
    minutes: int
    candles: dict[str, list[Candle]]  # by symbol, oldest first, as recorded
    instruments: dict[str, RecordedInstrument]

    @property
    def closes_at(self) -> datetime:
        return self.opens_at + self.minutes * MINUTE

    def base_price(self, symbol: str) -> int:
        """The day's 기준가 (won); the first recorded open if the data has none."""
        instrument = self.instruments.get(symbol)
        prices = instrument.base_prices if instrument else {}
        return prices.get(self.day) or self.candles[symbol][0].open

    def recorded(self) -> RecordedDay:
        """The simulator's shape: every minute of the window, a gap as a flat candle at the
        previous close with no volume (before the first trade: at the first open)."""
        symbols = tuple(
            RecordedSymbol(self._spec(symbol), self._bars(rows))
            for symbol, rows in self.candles.items()
        )
        return RecordedDay(self.day, self.opens_at.timetz().replace(tzinfo=None), symbols)

    def _bars(self, rows: list[Candle]) -> tuple[MinuteBar, ...]:
        by_minute = {int((c.start - self.opens_at).total_seconds() // 60): c for c in rows}
        last = rows[0].open
        bars = []
        for minute in range(self.minutes):
            c = by_minute.get(minute)
            if c is None:
                bars.append(MinuteBar(last, last, last, last, 0))
                continue
            bars.append(MinuteBar(c.open, c.high, c.low, c.close, c.volume))
            last = c.close
        return tuple(bars)

    def _spec(self, symbol: str) -> SymbolSpec:
        instrument = self.instruments.get(symbol)
        if instrument is None:
            return SymbolSpec(symbol, symbol, self.base_price(symbol), LISTED_SHARES)
        market: Market = "KOSDAQ" if instrument.market is ListingMarket.KOSDAQ else "KOSPI"
        kind = SIM_TYPES[instrument.instrument_type]
        return SymbolSpec(
            symbol,
            instrument.name,
            self.base_price(symbol),
            LISTED_SHARES,
            market,
            kind,
        )


def load_day(
    root: Path,
    day: date,
    start: time | None = None,
    end: time | None = None,
    symbols: list[str] | None = None,
) -> ReplayDay:
    """Read ``day`` from the market-data directory ``root`` (``docs/market-data.md``).

    Raises :class:`ReplayDataError` if the day is not recorded or the window is empty, and
    the reader's ``MarketDataError`` for a directory in another format."""
    try:
        reader = MarketDataReader(root)
    except MarketDataError as exc:
        raise ReplayDataError(str(exc)) from exc
    if day not in reader.days():
        recorded = ", ".join(d.isoformat() for d in reader.days()) or "none"
        raise ReplayDataError(f"{root}: no minute candles for {day} (recorded days: {recorded})")
    rows = list(reader.minute_candles(day, symbols))
    first = datetime.combine(day, start, KST) if start else min(c.start for c in rows)
    if end:
        last = datetime.combine(day, end, KST)
    else:  # up to the last continuous minute: the closing call's candle is not replayed
        close = datetime.combine(day, CONTINUOUS_END, KST)
        last = min(max(c.start for c in rows) + MINUTE, max(close, first + MINUTE))
    inside = [c for c in rows if first <= c.start < last]
    if not inside:
        raise ReplayDataError(f"{root}: no candles on {day} between {first:%H:%M} and {last:%H:%M}")
    candles: dict[str, list[Candle]] = defaultdict(list)
    for candle in inside:
        candles[candle.symbol].append(candle)
    minutes = int((last - first).total_seconds() // 60)
    return ReplayDay(day, first, minutes, dict(sorted(candles.items())), reader.instruments())


def plan_replay(
    root: Path,
    day: date | None,
    *,
    candle_seconds: float | None = None,
    session_minutes: float | None = None,
    start: time | None = None,
    end: time | None = None,
) -> ReplayPlan:
    """The plan for replaying ``day`` (default: the latest recorded) of ``root``: each
    recorded minute ``candle_seconds`` real seconds, or the window spread over
    ``session_minutes`` real minutes (at least half a second per recorded minute)."""
    if day is None:
        days = MarketDataReader(root).days()
        if not days:
            raise ReplayDataError(f"{root}: no recorded days")
        day = days[-1]
    window = load_day(root, day, start, end)
    if candle_seconds is None:
        span = (session_minutes or 3.0) * 60
        candle_seconds = max(0.5, round(span / window.minutes, 2))
    return ReplayPlan(
        data=root.resolve(),
        day=day,
        start=window.opens_at.time(),
        end=window.closes_at.time(),
        minutes=window.minutes,
        candle_seconds=candle_seconds,
    )
