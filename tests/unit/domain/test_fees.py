from __future__ import annotations

from decimal import Decimal

import pytest

from stock_manager.domain.fees import FeeRounding, FeeSchedule
from stock_manager.domain.orders import Side


def test_2026_defaults_round_trip_of_ten_million_won() -> None:
    fees = FeeSchedule()
    buy = fees.costs(Side.BUY, 10_000_000)
    sell = fees.costs(Side.SELL, 10_000_000)
    assert (buy.commission, buy.tax) == (1_405, 0)
    assert (sell.commission, sell.tax) == (1_405, 20_000)
    assert buy.total + sell.total == 22_810  # krx.md: about 22.8 k won, 0.228 % per round trip


def test_tax_is_charged_on_sells_only() -> None:
    assert FeeSchedule().costs(Side.BUY, 1_000_000).tax == 0
    assert FeeSchedule().costs(Side.SELL, 1_000_000).tax == 2_000


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(FeeRounding.FLOOR, 10), (FeeRounding.HALF_UP, 11), (FeeRounding.CEIL, 11)],
)
def test_rounding_to_the_won_is_configurable(rounding: FeeRounding, expected: int) -> None:
    fees = FeeSchedule(commission_rate=Decimal("0.000140527"), rounding=rounding)
    assert fees.commission(75_000) == expected  # 10.539... won


def test_cash_helpers_include_costs() -> None:
    fees = FeeSchedule(commission_rate=Decimal("0.001"), sell_tax_rate=Decimal("0.002"))
    assert fees.buy_cash_needed(100_000) == 100_100
    assert fees.sell_cash_received(100_000) == 99_700


def test_rates_outside_zero_to_one_are_refused() -> None:
    with pytest.raises(ValueError, match="commission_rate"):
        FeeSchedule(commission_rate=Decimal("1.5"))
