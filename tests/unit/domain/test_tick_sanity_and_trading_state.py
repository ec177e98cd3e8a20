"""Impossible prices are refused (issue 13 item 4); exits follow the trading state (item 5)."""

from __future__ import annotations

from datetime import date

import pytest

from stock_manager.domain.krx import price_limits
from stock_manager.domain.orders import OrderType
from stock_manager.domain.tick_sanity import TickFault, TickSanity, judge_price
from stock_manager.domain.trading_state import (
    AUCTION_ORDER_TYPES,
    EXIT_ORDERS,
    ExitOrder,
    StateSignals,
    TradingState,
    after_refusal,
    exit_order,
    trading_state,
)

BAND = price_limits(10_000)  # 7,000 .. 13,000
DAY = date(2026, 11, 20)


@pytest.mark.parametrize(
    ("price", "fault"),
    [
        (1, TickFault.BELOW_BAND),
        (0, TickFault.NOT_POSITIVE),
        (-10_000, TickFault.NOT_POSITIVE),
        (6_990, TickFault.BELOW_BAND),
        (13_010, TickFault.ABOVE_BAND),
        (10_003, TickFault.OFF_GRID),  # no KRX table has a 1-won tick above 2,000
        (7_000, None),
        (13_000, None),
        (10_005, None),  # on the ETF grid (5 won): not refused without the instrument type
    ],
)
def test_a_price_outside_the_band_or_the_grid_is_refused(price: int, fault: TickFault) -> None:
    assert judge_price(price, BAND) is fault


def test_without_a_band_only_sign_and_grid_are_judged() -> None:
    assert judge_price(1, None) is None
    assert judge_price(0, None) is TickFault.NOT_POSITIVE


def test_sanity_counts_what_it_drops_and_keeps_bands_per_day() -> None:
    sanity = TickSanity()
    assert sanity.learn("005930", DAY, BAND)
    assert sanity.admit("005930", DAY, 1) is TickFault.BELOW_BAND
    assert sanity.admit("005930", DAY, 9_990) is None
    assert sanity.dropped[TickFault.BELOW_BAND] == 1
    assert sanity.band("005930", date(2026, 11, 23)) is None  # yesterday's band is not today's
    assert not sanity.learn("000660", DAY, price_limits(10_000).__class__(10_000, 0, 0))


@pytest.mark.parametrize(
    ("signals", "state"),
    [
        (StateSignals(), TradingState.CONTINUOUS),
        (StateSignals(vi_code="N"), TradingState.CONTINUOUS),
        (StateSignals(vi_code="1"), TradingState.STATIC_VI),
        (StateSignals(vi_code="2"), TradingState.DYNAMIC_VI),
        (StateSignals(vi_code="Y"), TradingState.VI),
        (StateSignals(hour_code="C"), TradingState.VI),
        (StateSignals(closing_call=True), TradingState.CLOSING_CALL),
        (StateSignals(hour_code="A"), TradingState.CLOSING_CALL),
        (StateSignals(halted=True, vi_code="2"), TradingState.HALTED),
        (StateSignals(price=7_000, band=BAND), TradingState.LOWER_LIMIT),
        (StateSignals(price=13_000, band=BAND), TradingState.UPPER_LIMIT),
    ],
)
def test_the_trading_state_is_read_from_the_brokers_fields(
    signals: StateSignals, state: TradingState
) -> None:
    assert trading_state(signals) is state


def test_every_state_has_an_exit_and_no_auction_gets_a_continuous_only_type() -> None:
    assert set(EXIT_ORDERS) == set(TradingState)
    for state in TradingState:
        order = exit_order(state, BAND, OrderType.BEST)
        if state is TradingState.HALTED:
            assert order is None
        else:
            assert order is not None
        if state.is_auction:
            assert order is not None and order.order_type in AUCTION_ORDER_TYPES


def test_an_auction_exit_is_a_limit_at_the_lower_limit_or_market() -> None:
    assert exit_order(TradingState.DYNAMIC_VI, BAND, OrderType.BEST) == ExitOrder(
        OrderType.LIMIT, 7_000
    )
    assert exit_order(
        TradingState.CLOSING_CALL, BAND, OrderType.BEST, OrderType.MARKET
    ) == ExitOrder(OrderType.MARKET, 0)
    assert exit_order(TradingState.CONTINUOUS, BAND, OrderType.BEST) == ExitOrder(OrderType.BEST, 0)
    assert exit_order(TradingState.LOWER_LIMIT, BAND, OrderType.BEST) == ExitOrder(
        OrderType.LIMIT, 7_000
    )
    assert exit_order(TradingState.VI, None, OrderType.BEST) == ExitOrder(OrderType.MARKET, 0)


def test_a_refused_type_falls_back_to_an_accepted_one_then_stops() -> None:
    assert after_refusal(OrderType.BEST, BAND) == ExitOrder(OrderType.LIMIT, 7_000)
    assert after_refusal(OrderType.LIMIT, BAND) == ExitOrder(OrderType.MARKET, 0)
    assert after_refusal(OrderType.MARKET, BAND) is None
