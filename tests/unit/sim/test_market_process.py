"""The seeded price process: determinism, the tick grid, limits, regimes and history."""

from __future__ import annotations

import math
from collections import Counter

from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.krx import PriceLimits, is_on_tick
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.process import Regime
from tests.unit.sim.conftest import START, MakeExchange


def _run(exchange: Exchange, clock_seconds: float, step: float = 0.5) -> None:
    """Advance like the server's ticker; steps stay under the 2 s catch-up horizon."""
    elapsed = 0.0
    while elapsed < clock_seconds:
        elapsed += step
        exchange.advance(START.__class__.fromtimestamp(START.timestamp() + elapsed, START.tzinfo))


def _tape(make_exchange: MakeExchange, symbol: str = "005930", **overrides: object) -> list[int]:
    exchange, _ = make_exchange(**overrides)
    tape: list[int] = []
    exchange.trade_listeners.append(lambda m, t: tape.append(t.price) if m.code == symbol else None)
    _run(exchange, 120)
    return tape


def test_same_seed_same_trades_and_different_seed_different(make_exchange: MakeExchange) -> None:
    first, again = _tape(make_exchange, seed=7), _tape(make_exchange, seed=7)
    assert first == again and len(first) > 100
    assert _tape(make_exchange, seed=8) != first


def test_a_symbols_path_does_not_depend_on_the_others(make_exchange: MakeExchange) -> None:
    assert _tape(make_exchange, symbols=3) == _tape(make_exchange, symbols=40)


def test_prices_stay_on_the_tick_grid_inside_the_limits(make_exchange: MakeExchange) -> None:
    exchange, _ = make_exchange(symbols=60, candle_seconds=1.0)
    seen: list[tuple[int, PriceLimits]] = []
    exchange.trade_listeners.append(lambda m, t: seen.append((t.price, m.limits)))
    _run(exchange, 300, step=1.0)
    assert len(seen) > 20_000
    assert all(is_on_tick(p, limits.kind) and limits.contains(p) for p, limits in seen)
    # The KODEX ETFs trade on their own grid (5 won from 2,000), finer than a stock's.
    etf_prices = {p for p, limits in seen if limits.kind is InstrumentKind.ETF}
    assert etf_prices and any(not is_on_tick(p) for p in etf_prices)


def test_day_statistics_follow_the_trades(make_exchange: MakeExchange) -> None:
    exchange, _ = make_exchange()
    market = exchange.markets["000660"]
    volume_before = market.volume
    tape = []
    exchange.trade_listeners.append(lambda m, t: tape.append(t) if m is market else None)
    _run(exchange, 30)
    assert market.volume == volume_before + sum(t.qty for t in tape)
    assert market.high >= max(t.price for t in tape) and market.low <= min(t.price for t in tape)
    assert market.last == tape[-1].price and market.candles[-1].close == tape[-1].price


def test_regimes_are_mixed_and_trends_drift(make_exchange: MakeExchange) -> None:
    exchange, _ = make_exchange(symbols=200)
    regimes = Counter(m.params.regime for m in exchange.markets.values())
    assert set(regimes) == set(Regime)
    ups = [m for m in exchange.markets.values() if m.params.regime is Regime.TREND_UP][:20]
    downs = [m for m in exchange.markets.values() if m.params.regime is Regime.TREND_DOWN][:20]
    _run(exchange, 300, step=1.0)  # 60 candles of 5 s
    up = sum(math.log(m.last / m.candles[20].open) for m in ups) / len(ups)
    down = sum(math.log(m.last / m.candles[20].open) for m in downs) / len(downs)
    assert up > 0 > down


def test_breakouts_come_with_rising_volume(make_exchange: MakeExchange) -> None:
    exchange, _ = make_exchange(symbols=60)
    breakouts = [m for m in exchange.markets.values() if m.params.regime is Regime.BREAKOUT]
    _run(exchange, 200, step=1.0)
    assert breakouts
    for market in breakouts:
        start = market.params.breakout_candle
        live = [c for c in market.candles if c.index >= 0]
        before = sum(c.volume for c in live[max(0, start - 3) : start]) / 3
        during = sum(c.volume for c in live[start : start + 3]) / 3
        assert during > 1.8 * before, market.code


def test_history_is_there_at_start(make_exchange: MakeExchange) -> None:
    exchange, _ = make_exchange(history_candles=45, history_days=120)
    market = exchange.markets["005930"]
    assert len(market.candles) == 45 and market.candles[-1].start < START
    assert [c.index for c in market.candles] == list(range(-45, 0))
    bars = market.daily(exchange.trading_day, 120)
    assert len(bars) == 120 and bars[-1].close == market.prev_close
    assert all(bar.day.weekday() < 5 for bar in bars) and bars[-1].day < exchange.trading_day
    assert all(
        bar.low <= min(bar.open, bar.close) <= max(bar.open, bar.close) <= bar.high for bar in bars
    )


def test_backfill_has_no_rounding_drift() -> None:
    import random

    from stock_manager.domain.krx import price_limits
    from stock_manager.sim.history import intraday_backfill
    from stock_manager.sim.process import ProcessParams

    flat = ProcessParams(Regime.RANDOM, 0.0, 0.0, 0.0, -1, 3, 0.0, 10.0, 1.0)
    for price in (1_000, 20_000, 50_100, 200_500):  # exp(log(p)) < p for each
        bars = intraday_backfill(random.Random(1), flat, price, 200, 10.0, price_limits(price))
        assert {bar.close for bar in bars} == {price}
