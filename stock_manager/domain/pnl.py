"""Profit and loss: FIFO realized PnL per round trip, unrealized marks, day statistics.

Every won is accounted for: buy commissions are allocated to the shares they bought (the
last share of a lot takes the remainder), so the realized PnL of all closed trades plus the
cost of the open lots always equals the cash that moved.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

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

    @property
    def realized(self) -> int:
        return sum(t.pnl for t in self.closed)

    def unrealized(self, marks: dict[str, int]) -> int:
        """Mark-to-market of open lots against their cost and unallocated buy commission."""
        return sum(
            lot.quantity * (marks.get(lot.symbol, lot.price) - lot.price) - lot.commission
            for lot in self.open_lots
        )


def fifo(fills: Iterable[Fill], strategy_of: dict[str, str] | None = None) -> FifoResult:
    """Match sells against earlier buys per symbol, in the order the fills happened.

    Each sell fill closes one :class:`ClosedTrade` per lot it consumes, merged per sell fill.
    A sell for more shares than are open raises ``ValueError``: the ledger is inconsistent.
    """
    lots: dict[str, deque[_Lot]] = defaultdict(deque)
    closed: list[ClosedTrade] = []
    for fill in sorted(fills, key=lambda f: f.filled_at):
        if fill.side is Side.BUY:
            lots[fill.symbol].append(_Lot(fill.quantity, fill.price, fill.commission))
            continue
        closed.append(_close(lots[fill.symbol], fill, (strategy_of or {}).get(fill.symbol, "")))
    open_lots = tuple(
        OpenLot(symbol, lot.quantity, lot.price, lot.commission)
        for symbol, queue in lots.items()
        for lot in queue
        if lot.quantity
    )
    return FifoResult(tuple(closed), open_lots)


def _close(queue: deque[_Lot], sell: Fill, strategy: str) -> ClosedTrade:
    remaining, cost, buy_commission = sell.quantity, 0, 0
    while remaining:
        if not queue:
            raise ValueError(f"sell of {sell.quantity} {sell.symbol} exceeds the open lots")
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
    return ClosedTrade(
        symbol=sell.symbol,
        quantity=sell.quantity,
        buy_cost=cost,
        sell_proceeds=sell.notional,
        commission=buy_commission + sell.commission,
        tax=sell.tax,
        closed_at=sell.filled_at,
        strategy=strategy,
    )


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
