"""Both sides of the comparison as round trips: the replay's ledger fills (on the replay's
wall clock, mapped back to the recorded day's) and the backtest's trades."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from stock_manager.backtest.results import Trade
from stock_manager.domain.orders import Fill, OrderPurpose, Side
from stock_manager.replay.compare import RoundTrip, TimeMap


@dataclass(slots=True)
class _Open:
    fills: list[tuple[Fill, OrderPurpose]] = field(default_factory=list)
    held: int = 0


def replay_trips(
    fills: Iterable[tuple[Fill, OrderPurpose]],
    strategy_of: Mapping[str, str],
    clock: TimeMap,
) -> list[RoundTrip]:
    """Per symbol, a trip runs from the buy fill that leaves flat to the sell fill that
    returns to flat; its exit reason is the purpose of its last sell (``exit`` or
    ``liquidation``). A trip still open at the end is left out (the day ends flat)."""
    open_trips: dict[str, _Open] = defaultdict(_Open)
    trips: list[RoundTrip] = []
    for fill, purpose in sorted(fills, key=lambda pair: pair[0].filled_at):
        trip = open_trips[fill.symbol]
        trip.fills.append((fill, purpose))
        trip.held += fill.quantity if fill.side is Side.BUY else -fill.quantity
        if trip.held <= 0:
            trips.append(_trip(trip.fills, strategy_of.get(fill.symbol, ""), clock))
            del open_trips[fill.symbol]
    return sorted(trips, key=lambda t: t.entered_at)


def _trip(fills: Sequence[tuple[Fill, OrderPurpose]], strategy: str, clock: TimeMap) -> RoundTrip:
    buys = [f for f, _ in fills if f.side is Side.BUY]
    sells = [f for f, _ in fills if f.side is Side.SELL]
    exit_purpose = [p for f, p in fills if f.side is Side.SELL][-1]
    bought, sold = sum(f.notional for f in buys), sum(f.notional for f in sells)
    costs = sum(f.commission + f.tax for f, _ in fills)
    quantity = sum(f.quantity for f in buys)
    return RoundTrip(
        symbol=buys[0].symbol if buys else sells[0].symbol,
        strategy=strategy,
        quantity=quantity,
        entered_at=clock.recorded(buys[0].filled_at if buys else sells[0].filled_at),
        entry_price=Decimal(bought) / quantity if quantity else Decimal(0),
        exited_at=clock.recorded(sells[-1].filled_at),
        exit_price=Decimal(sold) / sum(f.quantity for f in sells),
        exit_reason=exit_purpose.value,
        pnl=sold - bought - costs,
    )


def backtest_trips(trades: Iterable[Trade]) -> list[RoundTrip]:
    return [
        RoundTrip(
            symbol=t.symbol,
            strategy=t.strategy,
            quantity=t.quantity,
            entered_at=t.entered_at,
            entry_price=Decimal(t.buy_notional) / t.quantity,
            exited_at=t.exited_at,
            exit_price=Decimal(t.sell_notional) / t.quantity,
            exit_reason=t.exit_reason,
            pnl=t.pnl,
        )
        for t in trades
    ]
