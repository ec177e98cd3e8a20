"""The recorded price source: a recorded day's minute candles played through the exchange."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from stock_manager.domain.krx import is_on_tick
from stock_manager.domain.orders import Side
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.market import Trade
from stock_manager.sim.matching import OrderRequest
from stock_manager.sim.recorded import (
    MinuteBar,
    RecordedDay,
    RecordedPrices,
    RecordedSymbol,
    RecordingError,
    low_first,
    path_price,
)
from stock_manager.sim.session import Phase
from stock_manager.sim.universe import SymbolSpec
from tests.unit.sim.conftest import START, MakeExchange

CANDLE_SECONDS = 5.0
RISING = MinuteBar(open=10_000, high=10_300, low=9_900, close=10_200, volume=4_000)
FALLING = MinuteBar(open=10_200, high=10_400, low=10_050, close=10_100, volume=2_000)
FLAT = MinuteBar(open=10_100, high=10_150, low=10_050, close=10_100, volume=1_000)
BARS = (RISING, FALLING, FLAT)


def _day(bars: tuple[MinuteBar, ...] = BARS) -> RecordedDay:
    spec = SymbolSpec("005930", "삼성전자", 10_000, 5_000_000)
    other = SymbolSpec("000660", "SK하이닉스", 50_000, 5_000_000)
    quiet = (MinuteBar(50_000, 50_000, 50_000, 50_000, 0),)
    return RecordedDay(
        date(2026, 11, 2),
        time(9, 0),
        (RecordedSymbol(spec, bars), RecordedSymbol(other, quiet)),
    )


def _exchange(make_exchange: MakeExchange, day: RecordedDay) -> Exchange:
    exchange, _ = make_exchange(
        replay=day,
        session_minutes=day.minutes * CANDLE_SECONDS / 60,
        candle_seconds=CANDLE_SECONDS,
        tick_interval=0.25,
        history_candles=0,
    )
    return exchange


def _play(exchange: Exchange, seconds: float, step: float = 0.25) -> None:
    elapsed = 0.0
    while elapsed < seconds:
        elapsed += step
        exchange.advance(START + timedelta(seconds=elapsed))


def test_the_path_holds_open_first_extreme_second_extreme_close() -> None:
    assert [path_price(RISING, f, True) for f in (0.05, 0.35, 0.65, 0.95)] == [
        10_000,
        9_900,
        10_300,
        10_200,
    ]
    assert [path_price(RISING, f, False) for f in (0.05, 0.35, 0.65, 0.95)] == [
        10_000,
        10_300,
        9_900,
        10_200,
    ]


def test_a_rising_candle_visits_its_low_first_and_a_falling_one_its_high() -> None:
    assert low_first(RISING, seed=1, code="005930", minute=0)
    assert not low_first(FALLING, seed=1, code="005930", minute=0)


def test_a_doji_takes_its_order_from_the_seed_the_same_on_every_run() -> None:
    orders = [low_first(FLAT, seed, "005930", 3) for seed in range(40)]
    assert orders == [low_first(FLAT, seed, "005930", 3) for seed in range(40)]
    assert True in orders and False in orders


def test_path_prices_are_on_tick_and_inside_the_candle() -> None:
    bar = MinuteBar(open=99_800, high=101_500, low=99_100, close=101_000, volume=10)
    prices = [path_price(bar, step / 200, True) for step in range(201)]
    assert all(is_on_tick(p) and bar.low <= p <= bar.high for p in prices)
    assert {bar.open, bar.low, bar.high, bar.close} <= set(prices)


def test_the_exchange_reproduces_each_recorded_candle(make_exchange: MakeExchange) -> None:
    exchange = _exchange(make_exchange, _day())
    _play(exchange, len(BARS) * CANDLE_SECONDS)
    candles = exchange.markets["005930"].candles[: len(BARS)]  # + a trade at the close
    assert [(c.open, c.high, c.low, c.close) for c in candles] == [
        (b.open, b.high, b.low, b.close) for b in BARS
    ]
    share = [b.volume / (CANDLE_SECONDS / 0.25) for b in BARS]
    for candle, bar, one in zip(candles, BARS, share, strict=True):
        assert abs(candle.volume - bar.volume) <= one + 1


def test_the_session_is_the_recorded_universe_and_opens_at_the_first_open(
    make_exchange: MakeExchange,
) -> None:
    exchange = _exchange(make_exchange, _day())
    assert set(exchange.markets) == {"005930", "000660"}
    assert exchange.markets["005930"].last == RISING.open
    assert exchange.markets["005930"].prev_close == 10_000
    assert exchange.markets["005930"].candles == []  # no generated history before a replay
    assert {s["regime"] for s in exchange.symbols_json()} == {"recorded"}


def test_a_delayed_session_opens_later(make_exchange: MakeExchange) -> None:
    exchange, _ = make_exchange(session_delay=7.0)
    assert exchange.session.opens_at == START + timedelta(seconds=7)
    assert exchange.phase(START) is Phase.PRE


def test_the_closing_call_uncrosses_at_the_last_recorded_close(
    make_exchange: MakeExchange,
) -> None:
    exchange = _exchange(make_exchange, _day())
    tape: list[Trade] = []
    exchange.trade_listeners.append(lambda m, t: tape.append(t) if m.code == "005930" else None)
    _play(exchange, (exchange.session.auction_ends_at - START).total_seconds() + 1)
    assert tape[-1].auction and tape[-1].price == FLAT.close


def test_a_resting_buy_at_the_recorded_low_fills_in_the_matching_engine(
    make_exchange: MakeExchange,
) -> None:
    exchange = _exchange(make_exchange, _day())
    exchange.advance(START + timedelta(seconds=0.1))
    request = OrderRequest("005930", Side.BUY, "00", 5, RISING.low)
    order = exchange.matching.place(request, exchange.now(), exchange.phase())
    assert order.filled_qty == 0  # the recorded price is still at the open
    _play(exchange, CANDLE_SECONDS)
    assert order.filled_qty == 5
    assert {fill.price for fill in order.fills} == {RISING.low}


def test_the_replay_is_the_same_on_every_run(make_exchange: MakeExchange) -> None:
    def tape() -> list[tuple[int, int]]:
        exchange = _exchange(make_exchange, _day())
        seen: list[tuple[int, int]] = []
        exchange.trade_listeners.append(lambda m, t: seen.append((t.price, t.qty)))
        _play(exchange, 20)
        return seen

    assert tape() == tape()


def test_before_and_after_the_recording_the_price_is_the_first_open_and_last_close() -> None:
    recorded = _day().symbols[0]
    source = RecordedPrices(recorded, 7, START.timestamp(), CANDLE_SECONDS, 20)
    assert source.price_at(START.timestamp() - 30) == RISING.open
    assert source.price_at(START.timestamp() + 3 * CANDLE_SECONDS + 0.01) == FLAT.close


@pytest.mark.parametrize(
    "bar",
    [
        dict(open=100, high=90, low=80, close=85, volume=1),
        dict(open=100, high=110, low=0, close=105, volume=1),
        dict(open=100, high=110, low=90, close=105, volume=-1),
    ],
)
def test_an_impossible_candle_is_refused(bar: dict[str, int]) -> None:
    with pytest.raises(RecordingError):
        MinuteBar(**bar)


def test_a_day_without_symbols_or_a_symbol_without_candles_is_refused() -> None:
    with pytest.raises(RecordingError):
        RecordedDay(date(2026, 11, 2), time(9, 0), ())
    with pytest.raises(RecordingError):
        RecordedSymbol(SymbolSpec("005930", "x", 100, 1), ())
