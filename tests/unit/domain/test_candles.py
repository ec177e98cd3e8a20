"""Candle checks and an instrument's price limits from its base price (krx.md §3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from stock_manager.domain.broker import Candle as BrokerCandle
from stock_manager.domain.candles import (
    Candle,
    InstrumentType,
    InvalidCandle,
    RecordedInstrument,
    UnknownBasePrice,
    check_candle,
)
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket

GOOD = Candle("005930", datetime(2026, 3, 2, 9, 0, tzinfo=KST), 100, 110, 95, 105, 7)


def test_the_strategies_candle_is_this_candle() -> None:
    assert BrokerCandle is Candle


def test_a_good_candle_passes() -> None:
    assert check_candle(GOOD) is GOOD


@pytest.mark.parametrize(
    "bad",
    [
        replace(GOOD, start=datetime(2026, 3, 2, 9, 0)),  # noqa: DTZ001 - naive on purpose
        replace(GOOD, low=0),
        replace(GOOD, low=101),
        replace(GOOD, high=104),
        replace(GOOD, volume=-1),
    ],
)
def test_a_bad_candle_raises(bad: Candle) -> None:
    with pytest.raises(InvalidCandle):
        check_candle(bad)


def test_limits_follow_the_days_base_price_and_leverage() -> None:
    day = date(2026, 3, 2)
    stock = RecordedInstrument(
        "005930", "삼성전자", ListingMarket.KOSPI, InstrumentType.STOCK, {day: 9_980}
    )
    assert (stock.limits(day).upper, stock.limits(day).lower) == (12_970, 6_990)
    lev = replace(stock, instrument_type=InstrumentType.ETF, base_prices={day: 10_000}, leverage=2)
    assert (lev.limits(day).upper, lev.limits(day).lower) == (16_000, 4_000)
    with pytest.raises(UnknownBasePrice):
        stock.limits(date(2026, 3, 3))
