"""A small recorded day for the replay tests, written in the market-data format
(``docs/market-data.md``): 30 minutes (09:00–09:30) of three symbols whose moves the
demo's strategies cannot mistake, so the replay and the backtest should trade alike.

- ``900101`` (10,000 won) breaks out at 09:12 on volume and rises to its take-profit;
- ``900102`` (20,000 won) breaks out at 09:14, then falls through its stop-loss at 09:16;
- ``900103`` (5,000 won) breaks out at 09:15 and drifts up until the pre-close liquidation.

Quiet stretches are flat (no Bollinger-band signal on a zero-width band) and each move
holds for whole minutes, so a scan once per recorded minute sees it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from stock_manager.adapters.market_data import MarketDataWriter
from stock_manager.domain.candles import (
    Candle,
    CandleInterval,
    Instrument,
    InstrumentType,
    ListingMarket,
)
from stock_manager.domain.clock import KST

DAY = date(2026, 3, 2)
MINUTES = 30
Bar = tuple[int, int, int, int, int]  # open, high, low, close, volume


def _flat(price: int, volume: int, count: int) -> list[Bar]:
    return [(price, price, price, price, volume)] * count


def _rise(start: int, step: int, volume: int, count: int) -> list[Bar]:
    return [
        (start + i * step, start + (i + 1) * step, start + i * step, start + (i + 1) * step, volume)
        for i in range(count)
    ]


BARS: dict[str, list[Bar]] = {
    "900101": [
        *_flat(10_000, 2_000, 12),
        (10_000, 10_100, 10_000, 10_100, 12_000),
        (10_100, 10_160, 10_100, 10_150, 4_000),
        (10_150, 10_210, 10_150, 10_200, 4_000),
        (10_200, 10_300, 10_200, 10_290, 4_000),
        *_flat(10_290, 1_000, 14),
    ],
    "900102": [
        *_flat(20_000, 1_500, 14),
        (20_000, 20_200, 20_000, 20_200, 10_000),
        (20_200, 20_200, 20_200, 20_200, 3_000),
        (20_200, 20_200, 19_950, 19_950, 6_000),
        *_flat(19_950, 1_000, 13),
    ],
    "900103": [
        *_flat(5_000, 6_000, 15),
        (5_000, 5_040, 5_000, 5_040, 40_000),
        *_rise(5_040, 5, 6_000, 14),
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
        Instrument(s, NAMES[s], ListingMarket.KOSPI, InstrumentType.STOCK) for s in BARS
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
