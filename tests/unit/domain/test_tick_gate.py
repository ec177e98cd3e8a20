"""The stream's gate: only ticks that can change something reach the workers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from stock_manager.domain.broker import Tick
from stock_manager.domain.clock import KST
from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.tick_gate import TickGate
from stock_manager.domain.trade import SymbolState, SymbolTrade

ENTERED = datetime(2026, 11, 20, 10, 0, tzinfo=KST)
EXITS = ExitPolicy(Decimal(3), Decimal(5), Decimal(2), timedelta(hours=1))


def held(high: int = 10_000, state: SymbolState = SymbolState.HOLDING, seq: int = 1) -> SymbolTrade:
    """10 shares bought at 10,000: stop 9,700, take-profit 10,500."""
    return SymbolTrade(
        "005930", state, 10, 100_000, trade_seq=seq, entered_at=ENTERED, high_water=high
    )


def tick(price: int, minutes: float = 1, symbol: str = "005930") -> Tick:
    return Tick(symbol, price, 1, 1, ENTERED + timedelta(minutes=minutes))


def gate_on(*trades: SymbolTrade) -> TickGate:
    gate = TickGate(EXITS)
    gate.watch(trades)
    return gate


def test_ticks_that_change_nothing_are_held_back() -> None:
    gate = gate_on(held())
    assert [gate.passes(tick(p)) for p in (9_990, 9_800, 9_701, 10_000)] == [False] * 4


def test_every_exit_rule_lets_a_tick_through() -> None:
    assert gate_on(held()).passes(tick(9_700))  # stop-loss
    assert gate_on(held(high=10_600)).passes(tick(10_500))  # take-profit
    assert gate_on(held(high=10_400)).passes(tick(10_190))  # trailing: 2 % under 10,400
    assert gate_on(held()).passes(tick(9_990, minutes=61))  # held too long


def test_a_new_high_passes_once_and_then_moves_the_trailing_stop() -> None:
    gate = gate_on(held(high=10_000))
    assert gate.passes(tick(10_300))  # a new high: the worker marks it
    assert not gate.passes(tick(10_300))
    assert not gate.passes(tick(10_200))  # 1 % under the high the gate saw itself
    assert gate.passes(tick(10_090))  # 2.04 % under it: trailing stop
    gate.watch([held(high=10_000)])  # a snapshot that lags the ticks keeps the seen high
    assert gate.passes(tick(10_090))


def test_a_new_trade_on_the_symbol_forgets_the_old_highs() -> None:
    gate = gate_on(held(high=10_000, seq=1))
    assert gate.passes(tick(10_400))
    gate.watch([held(high=10_000, seq=2)])
    assert not gate.passes(tick(10_000))  # the trailing stop from 10,400 was the first trade's


def test_what_the_snapshot_cannot_judge_passes_and_a_pending_sell_holds_back() -> None:
    gate = gate_on(held(state=SymbolState.ENTERING), held(state=SymbolState.EXITING))
    gate.watch([held(state=SymbolState.ENTERING)])
    assert gate.passes(tick(9_990))  # the buy may have filled since the snapshot
    assert gate.passes(tick(9_990, symbol="000660"))  # not in the snapshot at all
    gate.watch([held(state=SymbolState.EXITING)])
    assert not gate.passes(tick(9_000))  # a sell is already out


def test_an_impossible_tick_never_passes_and_is_counted() -> None:
    from stock_manager.domain.krx import price_limits
    from stock_manager.domain.tick_sanity import TickFault

    gate = gate_on(held())
    gate.sanity.learn("005930", ENTERED.date(), price_limits(10_000))
    assert not gate.passes(tick(1))  # a stop-loss price if it were real
    assert not gate.passes(tick(13_100))
    assert gate.sanity.dropped == {TickFault.BELOW_BAND: 1, TickFault.ABOVE_BAND: 1}
    assert gate.passes(tick(9_600))  # a real stop still passes


def test_exit_due_names_only_the_ticks_that_cross_an_exit_level() -> None:
    gate = gate_on(held(high=10_000), held(state=SymbolState.EXITING, seq=1))
    gate.watch([held(high=10_000)])
    assert gate.passes(tick(10_300)) and not gate.exit_due(tick(10_300))  # a new high: paced
    assert gate.exit_due(tick(10_090))  # trailing stop from the high the gate saw itself
    assert gate.exit_due(tick(9_700))  # stop-loss
    assert gate.exit_due(tick(10_500))  # take-profit, though it is a new high too
    assert not gate.exit_due(tick(9_700, symbol="000660"))  # unknown: the worker judges
    gate.watch([held(state=SymbolState.EXITING)])
    assert not gate.exit_due(tick(9_000))  # a sell is already out
