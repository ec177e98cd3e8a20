"""Issue 13 items 6 and 7: ticks, limits and costs follow the instrument type, and costs are
computed to the won as the broker charges them (pure functions the backtest reuses)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stock_manager.domain.fees import FeeBasis, FeeSchedule
from stock_manager.domain.instruments import Instrument, InstrumentKind, kind_of
from stock_manager.domain.krx import (
    Rounding,
    instrument_limits,
    is_on_tick,
    price_limits,
    round_to_tick,
    tick_size,
    ticks_away,
)
from stock_manager.domain.orders import Side
from stock_manager.domain.risk import EntryProposal, RiskLimits, check_entry
from tests.unit.domain.test_exits_and_risk import GOOD, exposure

STOCK, ETF, ETN = InstrumentKind.STOCK, InstrumentKind.ETF, InstrumentKind.ETN


@pytest.mark.parametrize(
    ("price", "stock", "etp"),
    [(1_999, 1, 1), (2_000, 5, 5), (12_345, 10, 5), (75_000, 100, 5), (600_000, 1_000, 5)],
)
def test_etf_and_etn_tick_1_won_below_2000_and_5_won_from_2000(
    price: int, stock: int, etp: int
) -> None:
    assert tick_size(price, STOCK) == stock
    assert tick_size(price, ETF) == tick_size(price, ETN) == etp


def test_rounding_and_stepping_use_the_instruments_table() -> None:
    assert is_on_tick(12_345, ETF) and not is_on_tick(12_345, STOCK)
    assert round_to_tick(12_347, Rounding.UP, ETF) == 12_350
    assert round_to_tick(12_347, Rounding.DOWN, ETF) == 12_345
    assert round_to_tick(12_347, Rounding.DOWN) == 12_340
    assert ticks_away(12_345, 1, ETF) == 12_350
    assert ticks_away(2_000, -1, ETF) == 1_999


def test_stock_ticks_are_always_valid_etf_prices() -> None:
    """So a price rounded as for a stock is never refused for an ETF (the safe default)."""
    for price in range(1, 700_000, 997):
        on_stock = round_to_tick(price, Rounding.DOWN, STOCK)
        assert is_on_tick(on_stock, ETF)


def test_etf_limits_use_its_ticks_and_a_leveraged_etf_its_multiple() -> None:
    etf = price_limits(12_345, kind=ETF)
    assert is_on_tick(etf.upper, ETF) and is_on_tick(etf.lower, ETF)
    assert (etf.upper, etf.lower) == (16_045, 8_645)  # the stock table would need tick 10
    etf.check(12_345)  # on the ETF grid
    leveraged = Instrument("122630", ETF, multiple=Decimal("2.0"))
    inverse = Instrument("114800", ETF, multiple=Decimal("-1.0"))
    assert instrument_limits(10_000, leveraged) == price_limits(10_000, Decimal("0.60"), ETF)
    assert (
        instrument_limits(10_000, leveraged).upper,
        instrument_limits(10_000, leveraged).lower,
    ) == (16_000, 4_000)
    assert instrument_limits(10_000, inverse).upper == 13_000


@pytest.mark.parametrize(
    ("group", "symbol", "kind"),
    [
        ("ST", "005930", STOCK),
        ("EF", "122630", ETF),
        ("FE", "195930", ETF),
        ("EN", "Q500001", ETN),
        ("", "Q500001", ETN),
        ("DR", "900110", STOCK),
    ],
)
def test_kis_security_groups(group: str, symbol: str, kind: InstrumentKind) -> None:
    assert kind_of(group, symbol) is kind


def test_etf_and_etn_sales_pay_no_tax_and_their_own_commission() -> None:
    fees = FeeSchedule()
    assert fees.costs(Side.SELL, 10_000_000, STOCK).tax == 20_000
    assert fees.costs(Side.SELL, 10_000_000, ETF).tax == 0
    assert fees.costs(Side.SELL, 10_000_000, ETN).tax == 0
    assert fees.costs(Side.SELL, 10_000_000, STOCK).commission == 1_405
    assert fees.costs(Side.SELL, 10_000_000, ETF).commission == 1_465


def test_costs_per_execution_or_per_order() -> None:
    """Three executions of 333,333 won cost 46 won each (138) where KIS rounds per
    execution; 140 on the cumulative 999,999 per order."""
    per_execution = FeeSchedule()
    per_order = FeeSchedule(basis=FeeBasis.ORDER)
    cuts = [(0, 333_333), (333_333, 666_666), (666_666, 999_999)]
    assert per_execution.basis is FeeBasis.EXECUTION  # the default, as KIS charges ⚠
    executions = [per_execution.fill_costs(Side.BUY, a, b).commission for a, b in cuts]
    orders = [per_order.fill_costs(Side.BUY, a, b).commission for a, b in cuts]
    assert executions == [46, 46, 46]
    assert sum(orders) == per_order.commission(999_999) == 140


def test_buying_power_includes_the_commission() -> None:
    """A buy needing 1,000,140 won (1,000,000 + commission 140) must not pass with 1,000,000."""
    buy = EntryProposal("005930", 100, 10_000, GOOD.order_type)
    short = check_entry(buy, exposure(buying_power=1_000_000), RiskLimits())
    assert [str(r) for r in short] == ["buying_power: needs 1,000,140 won, can buy 1,000,000"]
    assert check_entry(buy, exposure(buying_power=1_000_140), RiskLimits()) == []


def test_sizing_leaves_room_for_the_commission() -> None:
    fees = FeeSchedule()
    quantity = fees.affordable_quantity(10_000, 1_000_000)
    assert quantity == 99 and fees.buy_cash_needed(quantity * 10_000) <= 1_000_000


def test_an_etf_price_on_its_own_grid_passes_the_risk_check() -> None:
    etf_buy = EntryProposal("122630", 10, 12_345, GOOD.order_type, ETF)
    limits = price_limits(12_345, kind=ETF)
    assert check_entry(etf_buy, exposure(limits=limits), RiskLimits()) == []
    as_stock = EntryProposal("122630", 10, 12_345, GOOD.order_type)
    assert "tick" in str(check_entry(as_stock, exposure(limits=limits), RiskLimits())[0])
