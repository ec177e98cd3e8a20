from __future__ import annotations

from decimal import Decimal

import pytest

from stock_manager.domain.errors import InvalidPrice
from stock_manager.domain.krx import (
    Rounding,
    is_on_tick,
    price_limits,
    round_to_tick,
    tick_size,
    ticks_away,
)


@pytest.mark.parametrize(
    ("price", "tick"),
    [
        (1, 1),
        (1_999, 1),
        (2_000, 5),
        (4_995, 5),
        (4_999, 5),
        (5_000, 10),
        (19_990, 10),
        (20_000, 50),
        (49_950, 50),
        (50_000, 100),
        (199_900, 100),
        (200_000, 500),
        (499_500, 500),
        (500_000, 1_000),
        (3_000_000, 1_000),
    ],
)
def test_tick_table_edges(price: int, tick: int) -> None:
    assert tick_size(price) == tick


def test_tick_of_a_non_positive_price_is_an_error() -> None:
    with pytest.raises(InvalidPrice):
        tick_size(0)


def test_krx_price_limit_example() -> None:
    limits = price_limits(9_980)
    assert (limits.upper, limits.lower) == (12_970, 6_990)


@pytest.mark.parametrize("base", [1_000, 2_000, 4_995, 9_980, 19_990, 50_000, 71_500, 499_500])
def test_limits_are_on_tick_and_within_thirty_percent(base: int) -> None:
    limits = price_limits(base)
    assert is_on_tick(limits.upper) and is_on_tick(limits.lower)
    assert limits.upper <= base * Decimal("1.3") and limits.lower >= base * Decimal("0.7")
    # The upper limit is the base plus 30 % truncated to the tick of its own level.
    assert limits.upper + tick_size(limits.upper) > base * Decimal("1.3")


def test_limit_rate_is_configurable() -> None:
    assert price_limits(10_000, Decimal("0.10")).upper == 11_000


def test_limits_check_rejects_off_tick_and_out_of_band() -> None:
    limits = price_limits(10_000)
    limits.check(12_990)
    with pytest.raises(InvalidPrice, match="tick"):
        limits.check(10_005)
    with pytest.raises(InvalidPrice, match="outside"):
        limits.check(13_100)


@pytest.mark.parametrize(
    ("raw", "down", "up"),
    [
        (5_003, 5_000, 5_010),
        (4_997, 4_995, 5_000),
        (19_995, 19_990, 20_000),
        (71_550, 71_500, 71_600),
        (1_234, 1_234, 1_234),
    ],
)
def test_round_to_tick(raw: int, down: int, up: int) -> None:
    assert round_to_tick(raw, Rounding.DOWN) == down
    assert round_to_tick(raw, Rounding.UP) == up


def test_ticks_away_crosses_tiers_on_valid_prices() -> None:
    assert ticks_away(4_995, 1) == 5_000
    assert ticks_away(5_000, 1) == 5_010
    assert ticks_away(5_000, -1) == 4_995
    assert ticks_away(20_000, -2) == 19_980
