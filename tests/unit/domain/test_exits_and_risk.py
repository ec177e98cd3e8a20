from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from stock_manager.domain.clock import KST
from stock_manager.domain.exits import ExitPolicy, ExitReason
from stock_manager.domain.krx import price_limits
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import LIVE_ORDER_TYPES, PAPER_ORDER_TYPES, OrderType
from stock_manager.domain.risk import EntryProposal, Exposure, RiskLimits, check_entry
from stock_manager.domain.session import regular_session

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=KST)
POLICY = ExitPolicy(Decimal("3"), Decimal("5"), Decimal("2"), timedelta(minutes=60))


@pytest.mark.parametrize(
    ("price", "high_water", "held_minutes", "reason"),
    [
        (9_700, 10_000, 1, ExitReason.STOP_LOSS),
        (9_710, 10_000, 1, None),
        (10_500, 10_500, 1, ExitReason.TAKE_PROFIT),
        (10_190, 10_400, 1, ExitReason.TRAILING_STOP),
        (10_200, 10_400, 1, None),
        (10_000, 10_000, 60, ExitReason.MAX_HOLDING),
    ],
)
def test_exit_policy(
    price: int, high_water: int, held_minutes: int, reason: ExitReason | None
) -> None:
    entered = NOW - timedelta(minutes=held_minutes)
    assert POLICY.evaluate(Decimal(10_000), high_water, price, entered, NOW) is reason


def exposure(**changes: object) -> Exposure:
    base = dict(
        now=NOW,
        market=MarketState.TRADING,
        session=regular_session(date(2026, 11, 20)),
        open_positions=0,
        total_notional=0,
        daily_pnl=0,
        buying_power=10_000_000,
        orders_last_minute=0,
        limits=price_limits(10_000),
        allowed_order_types=LIVE_ORDER_TYPES,
    )
    base.update(changes)
    return Exposure(**base)  # type: ignore[arg-type]


GOOD = EntryProposal("005930", 100, 10_000, OrderType.LIMIT)


def test_a_sound_entry_passes_every_check() -> None:
    assert check_entry(GOOD, exposure(), RiskLimits()) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"market": MarketState.STOPPED}, "market is STOPPED"),
        ({"now": NOW.replace(hour=15, minute=5)}, "entry window"),
        ({"session": None}, "closed today"),
        ({"open_positions": 5}, "positions"),
        ({"total_notional": 9_500_000}, "total"),
        ({"daily_pnl": -300_000}, "daily loss"),
        ({"buying_power": 500_000}, "can buy"),
        ({"orders_last_minute": 60}, "last minute"),
        ({"allowed_order_types": PAPER_ORDER_TYPES}, "not available"),
    ],
)
def test_each_check_refuses_with_its_reason(changes: dict[str, object], expected: str) -> None:
    proposal = (
        GOOD
        if "allowed_order_types" not in changes
        else EntryProposal("005930", 100, 10_000, OrderType.IOC_LIMIT)
    )
    reasons = check_entry(proposal, exposure(**changes), RiskLimits())
    assert len(reasons) == 1
    assert expected in str(reasons[0])


def test_price_must_be_on_tick_and_inside_the_limits() -> None:
    off_tick = EntryProposal("005930", 1, 10_005, OrderType.LIMIT)
    assert "tick" in str(check_entry(off_tick, exposure(), RiskLimits())[0])
    too_high = EntryProposal("005930", 1, 13_100, OrderType.LIMIT)
    assert "outside" in str(check_entry(too_high, exposure(), RiskLimits())[0])


def test_notional_per_symbol_is_capped() -> None:
    big = EntryProposal("005930", 300, 10_000, OrderType.LIMIT)
    assert "per symbol" in str(check_entry(big, exposure(), RiskLimits())[0])
