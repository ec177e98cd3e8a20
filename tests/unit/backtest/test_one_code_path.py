"""A change to a strategy or to the exit policy shows up in the backtest and the live
services alike: both call the same objects (issue 17)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from stock_manager.backtest.engine import run_day
from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.session import regular_session
from stock_manager.services.prices import check_prices
from stock_manager.services.scan import scan
from stock_manager.strategies.base import MarketView, Signal
from stock_manager.strategies.momentum import MomentumBreakout
from tests.unit.backtest.series import BASES, DAY, config, series
from tests.unit.services.conftest import make_world
from tests.unit.services.test_trading_loop import breakout, holding


def backtest_trades() -> list[tuple[str, str]]:
    result = run_day(config(), regular_session(DAY), series(), BASES)
    return [(t.symbol, t.exit_reason) for t in result.trades]


def live_plans() -> int:
    world = make_world(strategies=(MomentumBreakout(lookback=3, volume_factor=Decimal("1.5")),))
    breakout(world)
    return len(scan(world.ctx).plans)


def live_exits() -> list[str]:
    world = make_world(exits=ExitPolicy(Decimal(3), Decimal(50), Decimal(2), timedelta(hours=10)))
    holding(world, price=10_000)
    world.broker.set_quote("005930", 9_650)  # below the 3 % stop
    return [p.reason.value for p in check_prices(world.ctx).exits]


def test_a_strategy_change_shows_in_both(monkeypatch: pytest.MonkeyPatch) -> None:
    assert live_plans() == 1
    assert len(backtest_trades()) == 3

    def never(self: MomentumBreakout, view: MarketView) -> Signal:
        return Signal.no("changed")

    monkeypatch.setattr(MomentumBreakout, "should_buy", never)
    assert live_plans() == 0
    assert backtest_trades() == []


def test_an_exit_policy_change_shows_in_both(monkeypatch: pytest.MonkeyPatch) -> None:
    assert live_exits() == ["stop_loss"]
    assert ("005930", "stop_loss") in backtest_trades()

    monkeypatch.setattr(ExitPolicy, "stop_price", lambda self, entry: entry / 2)
    assert live_exits() == []
    assert ("005930", "stop_loss") not in backtest_trades()
