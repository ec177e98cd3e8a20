from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from stock_manager.domain.broker import Candle, Quote
from stock_manager.domain.clock import KST
from stock_manager.strategies.base import Holding, MarketView
from stock_manager.strategies.bollinger import BollingerReversion
from stock_manager.strategies.momentum import MomentumBreakout
from stock_manager.strategies.registry import UnknownStrategy, build

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=KST)


def quote(price: int) -> Quote:
    return Quote("005930", price, price, price, price, 10_000, Decimal(0), 1_000, 0, 13_000, 7_000)


def candles(closes: list[int], volumes: list[int] | None = None, spread: int = 10) -> list[Candle]:
    volumes = volumes or [1_000] * len(closes)
    return [
        Candle("005930", T0 + timedelta(minutes=i), c, c + spread, c - spread, c, v)
        for i, (c, v) in enumerate(zip(closes, volumes, strict=True))
    ]


def test_momentum_buys_a_new_high_on_volume() -> None:
    history = candles([10_000] * 20 + [10_100], [1_000] * 20 + [3_000])
    signal = MomentumBreakout(lookback=20).should_buy(MarketView(quote(10_100), history))
    assert signal.act
    assert Decimal("0.5") <= signal.confidence <= 1


def test_momentum_ignores_a_high_without_volume() -> None:
    history = candles([10_000] * 20 + [10_100], [1_000] * 21)
    assert not MomentumBreakout(lookback=20).should_buy(MarketView(quote(10_100), history)).act


def test_momentum_ignores_a_price_inside_the_range() -> None:
    history = candles([10_000] * 20 + [10_000], [1_000] * 20 + [5_000])
    assert not MomentumBreakout(lookback=20).should_buy(MarketView(quote(10_000), history)).act


def test_momentum_needs_enough_history() -> None:
    signal = MomentumBreakout(lookback=20).should_buy(MarketView(quote(10_100), candles([1] * 5)))
    assert not signal.act
    assert "needs" in signal.reason


def test_momentum_sells_below_the_recent_low() -> None:
    history = candles([10_000] * 21)
    holding = Holding(10, Decimal(10_000))
    assert MomentumBreakout(lookback=20).should_sell(MarketView(quote(9_900), history), holding).act
    assert (
        not MomentumBreakout(lookback=20)
        .should_sell(MarketView(quote(10_000), history), holding)
        .act
    )


def test_bollinger_buys_below_the_lower_band_and_sells_at_the_middle() -> None:
    closes = [10_000, 10_100] * 10
    strategy = BollingerReversion(period=20)
    assert strategy.should_buy(MarketView(quote(9_800), candles(closes))).act
    assert not strategy.should_buy(MarketView(quote(10_000), candles(closes))).act
    holding = Holding(1, Decimal(9_800))
    assert strategy.should_sell(MarketView(quote(10_050), candles(closes)), holding).act
    assert not strategy.should_sell(MarketView(quote(9_900), candles(closes)), holding).act


def test_registry_builds_by_name_and_names_unknown_ones() -> None:
    assert [s.name for s in build(["momentum_breakout", "bollinger_reversion"])] == [
        "momentum_breakout",
        "bollinger_reversion",
    ]
    with pytest.raises(UnknownStrategy, match="STRATEGIES: unknown nope"):
        build(["nope"])
