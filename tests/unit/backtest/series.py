"""A hand-made day of minute candles whose trades are worked out by hand in the tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from stock_manager.backtest.engine import BacktestConfig
from stock_manager.backtest.fills import FillModel
from stock_manager.domain.broker import Candle
from stock_manager.domain.clock import KST
from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.risk import RiskLimits
from stock_manager.services.context import ScanPolicy, TradingPolicy
from stock_manager.strategies.momentum import MomentumBreakout

DAY = date(2026, 11, 20)
BASES = {"005930": 10_000, "000660": 20_000, "035720": 50_000}


def at(hhmm: str, day: date = DAY) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=KST)


def bar(symbol: str, hhmm: str, o: int, h: int, low: int, c: int, v: int = 1_000) -> Candle:
    return Candle(symbol, at(hhmm), o, h, low, c, v)


def flat(symbol: str, first: str, count: int, price: int) -> list[Candle]:
    start = at(first)
    return [
        Candle(symbol, start + timedelta(minutes=i), price, price, price, price, 1_000)
        for i in range(count)
    ]


def series() -> dict[str, list[Candle]]:
    a, b, c = "005930", "000660", "035720"
    return {
        # A breakout, a stop-loss, another breakout and a trailing stop.
        a: [
            *flat(a, "09:00", 3, 10_000),
            bar(a, "09:03", 10_000, 10_100, 10_000, 10_100, 3_000),  # breakout: buy at 09:04
            bar(a, "09:04", 10_100, 10_150, 10_050, 10_120, 2_000),  # filled at the open 10,100
            bar(a, "09:05", 10_100, 10_100, 9_700, 9_750, 2_000),  # 9,750 <= 9,797: stop-loss
            bar(a, "09:06", 9_800, 9_800, 9_700, 9_750),  # sold at the open less a tick: 9,790
            *flat(a, "09:07", 3, 9_750),
            bar(a, "09:10", 9_750, 9_900, 9_750, 9_900, 3_000),  # breakout: buy at 9,910
            bar(a, "09:11", 9_900, 9_950, 9_880, 9_950, 2_000),  # filled at the open 9,900
            bar(a, "09:12", 9_950, 10_300, 9_950, 10_300, 2_000),  # new high 10,300
            bar(a, "09:13", 10_300, 10_300, 10_050, 10_080, 2_000),  # 10,080 <= 10,094: trailing
            bar(a, "09:14", 10_050, 10_100, 10_000, 10_050),  # sold at 10,040
            *flat(a, "09:15", 6, 10_050),
        ],
        # A breakout a minute before the entry cutoff, held into the pre-close liquidation.
        b: [
            *flat(b, "14:50", 3, 20_000),
            bar(b, "14:53", 20_000, 20_200, 20_000, 20_200, 3_000),  # buy at 20,250
            bar(b, "14:54", 20_200, 20_250, 20_150, 20_200, 2_000),  # filled at 20,200
            *flat(b, "14:55", 15, 20_200),  # the 15:09 candle closes at 15:10: liquidate
            bar(b, "15:10", 20_200, 20_200, 20_150, 20_150),  # sold at 20,150
            *flat(b, "15:11", 5, 20_150),
        ],
        # A breakout judged at 15:00, the entry cutoff: no entry.
        c: [
            *flat(c, "14:56", 3, 50_000),
            bar(c, "14:59", 50_000, 50_500, 50_000, 50_500, 3_000),
            *flat(c, "15:00", 5, 50_500),
        ],
    }


def config(**fills: object) -> BacktestConfig:
    trading = TradingPolicy(
        strategies=(MomentumBreakout(lookback=3, volume_factor=Decimal("1.5")),),
        exits=ExitPolicy(Decimal(3), Decimal(50), Decimal(2), timedelta(hours=10)),
        risk=RiskLimits(max_notional_per_symbol=1_000_000),
        scan=ScanPolicy(min_volume=0, min_turnover=0),
    )
    model = FillModel(**{"volume_share": Decimal(1), **fills})  # type: ignore[arg-type]
    return BacktestConfig(trading=trading, fills=model)
