"""Profit and loss: FIFO realized PnL per round trip, unrealized marks, day statistics.

Every won is accounted for: buy commissions are allocated to the shares they bought (the
last share of a lot takes the remainder), so the realized PnL of all closed trades plus the
cost of the open lots always equals the cash that moved.

Positions the ledger did not open enter as :class:`PositionAdjustment`: shares held since an
earlier day, or found at the broker with no order to explain them, come in as a lot at the
broker's average purchase price (``pchs_avg_pric``); shares that left without a sale leave
their lots at cost. Fills of orders placed by hand are ordinary fills. So every sell finds
its lots, and :func:`fifo` never raises: a sell that finds too few shares (the ledger and the
broker disagree) is matched at its own price for the rest and reported in ``unmatched``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import Enum

from stock_manager.domain.orders import Fill, Side


@dataclass(slots=True)
class _Lot:
    quantity: int
    price: int
    commission: int  # buy commission not yet allocated to a sale

    def take(self, quantity: int) -> tuple[int, int]:
        """Remove ``quantity`` shares; return their notional cost and allocated commission."""
        share = (
            self.commission
            if quantity == self.quantity
            else (self.commission * quantity // self.quantity)
        )
        self.quantity -= quantity
        self.commission -= share
        return quantity * self.price, share


class AdjustmentKind(Enum):
    CARRIED = "carried"  # held at the broker when the day began
    ADOPTED = "adopted"  # appeared at the broker with no order of the day to explain it
    DRIFT = "drift"  # the broker holds more or less than the ledger, with no order why


@dataclass(frozen=True, slots=True)
class PositionAdjustment:
    """Shares that entered (``quantity`` > 0) or left (< 0) a position without a fill.

    ``price`` is the per-share cost basis in won: the broker's average purchase price for
    shares coming in; for shares going out it is informational (they leave at their cost)."""

    symbol: str
    quantity: int
    price: int
    at: datetime
    kind: AdjustmentKind
    note: str = ""


@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """Shares bought and sold again, matched first in, first out."""

    symbol: str
    quantity: int
    buy_cost: int
    sell_proceeds: int
    commission: int
    tax: int
    closed_at: datetime
    strategy: str = ""

    @property
    def pnl(self) -> int:
        return self.sell_proceeds - self.buy_cost - self.commission - self.tax


@dataclass(frozen=True, slots=True)
class OpenLot:
    symbol: str
    quantity: int
    price: int
    commission: int


@dataclass(frozen=True, slots=True)
class FifoResult:
    closed: tuple[ClosedTrade, ...]
    open_lots: tuple[OpenLot, ...]
    unmatched: tuple[tuple[str, int], ...] = ()  # (symbol, shares) sold beyond the lots

    @property
    def realized(self) -> int:
        return sum(t.pnl for t in self.closed)

    def unrealized(self, marks: dict[str, int]) -> int:
        """Mark-to-market of open lots against their cost and unallocated buy commission."""
        return sum(
            lot.quantity * (marks.get(lot.symbol, lot.price) - lot.price) - lot.commission
            for lot in self.open_lots
        )


def fifo(
    fills: Iterable[Fill],
    strategy_of: dict[str, str] | None = None,
    adjustments: Iterable[PositionAdjustment] = (),
) -> FifoResult:
    """Match sells against earlier lots per symbol, in the order things happened (an
    adjustment before a fill at the same moment).

    Each sell fill closes one :class:`ClosedTrade` per lot it consumes, merged per sell fill.
    Never raises: see the module docstring for what a sell without enough lots does."""
    lots: dict[str, deque[_Lot]] = defaultdict(deque)
    closed: list[ClosedTrade] = []
    unmatched: dict[str, int] = defaultdict(int)
    events: list[tuple[datetime, int, Fill | PositionAdjustment]] = [
        *((a.at, 0, a) for a in adjustments),
        *((f.filled_at, 1, f) for f in fills),
    ]
    for _, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        if isinstance(event, PositionAdjustment):
            _adjust(lots[event.symbol], event)
        elif event.side is Side.BUY:
            lots[event.symbol].append(_Lot(event.quantity, event.price, event.commission))
        else:
            trade, short = _close(
                lots[event.symbol], event, (strategy_of or {}).get(event.symbol, "")
            )
            closed.append(trade)
            if short:
                unmatched[event.symbol] += short
    open_lots = tuple(
        OpenLot(symbol, lot.quantity, lot.price, lot.commission)
        for symbol, queue in lots.items()
        for lot in queue
        if lot.quantity
    )
    return FifoResult(tuple(closed), open_lots, tuple(sorted(unmatched.items())))


def _adjust(queue: deque[_Lot], adjustment: PositionAdjustment) -> None:
    if adjustment.quantity > 0:
        queue.append(_Lot(adjustment.quantity, adjustment.price, 0))
        return
    remaining = -adjustment.quantity
    while remaining and queue:
        lot = queue[0]
        taken = min(remaining, lot.quantity)
        lot.take(taken)
        remaining -= taken
        if not lot.quantity:
            queue.popleft()


def _close(queue: deque[_Lot], sell: Fill, strategy: str) -> tuple[ClosedTrade, int]:
    """The trade this sell closes, and how many of its shares found no lot."""
    remaining, cost, buy_commission = sell.quantity, 0, 0
    while remaining and queue:
        lot = queue[0]
        taken = min(remaining, lot.quantity)
        notional, commission = lot.take(taken)
        cost, buy_commission, remaining = (
            cost + notional,
            buy_commission + commission,
            remaining - taken,
        )
        if not lot.quantity:
            queue.popleft()
    cost += remaining * sell.price  # shares without a lot: matched at the sell's own price
    trade = ClosedTrade(
        symbol=sell.symbol,
        quantity=sell.quantity,
        buy_cost=cost,
        sell_proceeds=sell.notional,
        commission=buy_commission + sell.commission,
        tax=sell.tax,
        closed_at=sell.filled_at,
        strategy=strategy,
    )
    return trade, remaining


@dataclass(frozen=True, slots=True)
class Drawdown:
    amount: int  # won, peak to trough
    fraction: Decimal  # of the peak equity; 0 when the peak is not positive


def max_drawdown(equity: Sequence[int]) -> Drawdown:
    """The largest fall from a running peak in an equity (or cumulative PnL) series."""
    peak: int | None = None
    worst = Drawdown(0, Decimal(0))
    for value in equity:
        peak = value if peak is None else max(peak, value)
        fall = peak - value
        if fall > worst.amount:
            fraction = Decimal(fall) / peak if peak > 0 else Decimal(0)
            worst = Drawdown(fall, fraction.quantize(Decimal("0.0001")))
    return worst


@dataclass(frozen=True, slots=True)
class TradeStats:
    trades: int
    wins: int
    losses: int
    gross_profit: int
    gross_loss: int  # a positive number of won
    net: int
    win_rate: Decimal | None
    profit_factor: Decimal | None  # None when there was no losing trade
    max_drawdown: Drawdown = field(default_factory=lambda: Drawdown(0, Decimal(0)))


def trade_stats(trades: Sequence[ClosedTrade], starting_equity: int = 0) -> TradeStats:
    """Win rate, profit factor and drawdown of a day's (or a strategy's) closed trades."""
    pnls = [t.pnl for t in sorted(trades, key=lambda t: t.closed_at)]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    gross_profit, gross_loss = sum(wins), -sum(losses)
    equity = [starting_equity]
    for p in pnls:
        equity.append(equity[-1] + p)
    return TradeStats(
        trades=len(pnls),
        wins=len(wins),
        losses=len(losses),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        net=sum(pnls),
        win_rate=(Decimal(len(wins)) / len(pnls)).quantize(Decimal("0.0001")) if pnls else None,
        profit_factor=(
            (Decimal(gross_profit) / gross_loss).quantize(Decimal("0.0001")) if gross_loss else None
        ),
        max_drawdown=max_drawdown(equity),
    )
