"""A small recorded day for the replay tests, written in the market-data format
(``docs/market-data.md``): 25 minutes (09:00–09:25) of three symbols whose moves the
demo's strategies cannot mistake, so the replay and the backtest should trade alike.

- ``900101`` (10,000 won) breaks out at 09:11 on volume and rises to its take-profit;
- ``900102`` (20,000 won) breaks out at 09:12, then falls through its stop-loss at 09:14;
- ``900103`` (4,000 won) breaks out at 09:13 and drifts up until the pre-close liquidation.

Prices are on the KRX tick grid and every candle is flat (open = high = low = close):
a move happens between two minutes, never inside one, and each breakout price holds for two
minutes. So the replay's limit buy at the quoted ask fills wherever in the minute its scan
happened to look (a price running away inside a candle can leave it unfilled, a difference
the comparison explains but this day avoids), and a flat quiet stretch gives the Bollinger
strategy a zero-width band, never a signal.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from stock_manager.adapters.market_data import MarketDataWriter
from stock_manager.domain.candles import Candle, CandleInterval, InstrumentType, RecordedInstrument
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket

DAY = date(2026, 3, 2)
MINUTES = 25
Bar = tuple[int, int, int, int, int]  # open, high, low, close, volume


def _flat(price: int, volume: int, count: int) -> list[Bar]:
    return [(price, price, price, price, volume)] * count


BARS: dict[str, list[Bar]] = {
    "900101": [
        *_flat(10_000, 2_000, 11),
        *_flat(10_050, 20_000, 1),  # the breakout: a new 10-minute high on 10x volume
        *_flat(10_050, 3_000, 1),
        *_flat(10_150, 3_000, 1),
        *_flat(10_250, 3_000, 11),  # +2.0 %: past the 1.5 % take-profit
    ],
    "900102": [
        *_flat(20_000, 1_500, 12),
        *_flat(20_250, 10_000, 1),  # the breakout
        *_flat(20_250, 3_000, 1),
        *_flat(20_000, 6_000, 11),  # -1.2 %: through the 1 % stop-loss
    ],
    "900103": [
        *_flat(4_000, 7_500, 13),
        *_flat(4_020, 50_000, 1),  # the breakout
        *_flat(4_020, 10_000, 1),
        *_flat(4_030, 7_500, 2),
        *_flat(4_040, 7_500, 8),  # held, under every exit, until the pre-close liquidation
    ],
}
NAMES = {"900101": "리플레이상승", "900102": "리플레이손절", "900103": "리플레이청산"}


def candles(symbol: str) -> list[Candle]:
    opens = datetime(DAY.year, DAY.month, DAY.day, 9, 0, tzinfo=KST)
    return [
        Candle(symbol, opens + timedelta(minutes=m), o, h, low, c, v, c * v)
        for m, (o, h, low, c, v) in enumerate(BARS[symbol])
    ]


def write_replay_day(root: Path) -> date:
    """Write the day into ``root`` (created if missing); return its date."""
    writer = MarketDataWriter(root)
    writer.write_instruments(
        RecordedInstrument(s, NAMES[s], ListingMarket.KOSPI, InstrumentType.STOCK) for s in BARS
    )
    rows = []
    for symbol, bars in BARS.items():
        minute = candles(symbol)
        rows.extend(minute)
        daily = Candle(
            symbol,
            datetime(DAY.year, DAY.month, DAY.day, tzinfo=KST),
            bars[0][0],
            max(b[1] for b in bars),
            min(b[2] for b in bars),
            bars[-1][3],
            sum(b[4] for b in bars),
            sum(c.turnover for c in minute),
            CandleInterval.DAY,
        )
        writer.write_daily(symbol, [daily], {DAY: bars[0][0]})
    writer.write_minute_day(DAY, rows)
    return DAY
