"""What a backtest produces: round trips, days, and the figures two runs are compared by."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

from stock_manager.domain.orders import Fill


@dataclass(frozen=True, slots=True)
class Trade:
    """One round trip: shares bought by one entry and sold again, costs in whole won."""

    day: date
    symbol: str
    strategy: str
    quantity: int
    entered_at: datetime
    buy_notional: int
    exited_at: datetime
    sell_notional: int
    exit_reason: str
    commission: int  # buy and sell side
    tax: int

    @property
    def entry_price(self) -> Decimal:
        return (Decimal(self.buy_notional) / self.quantity).quantize(Decimal("0.01"))

    @property
    def exit_price(self) -> Decimal:
        return (Decimal(self.sell_notional) / self.quantity).quantize(Decimal("0.01"))

    @property
    def gross(self) -> int:
        return self.sell_notional - self.buy_notional

    @property
    def pnl(self) -> int:
        """Net of commission and tax."""
        return self.gross - self.commission - self.tax


@dataclass(frozen=True, slots=True)
class DayResult:
    day: date
    trades: tuple[Trade, ...]
    fills: tuple[Fill, ...]
    equity: tuple[tuple[datetime, int], ...]  # cash + marked positions after each minute
    start_cash: int
    end_cash: int
    candles: int
    exposed_minutes: int  # minutes that ended with shares held
    refusals: dict[str, int] = field(default_factory=dict)  # risk-check refusals by reason
    # (least buying power left by an accepted entry, largest shortfall of a refused one):
    # the only ways the day's opening cash entered a decision.
    cash_margins: tuple[int | None, int | None] = (None, None)

    def admits(self, delta: int) -> bool:
        """Whether the day would decide the same with ``delta`` won more (or less) cash at
        the open: no buying-power check would change its outcome."""
        slack, short = self.cash_margins
        return (slack is None or slack + delta >= 0) and (short is None or short + delta < 0)

    def shifted(self, delta: int) -> DayResult:
        """This day opened with ``delta`` won more cash (valid when :meth:`admits` it)."""
        slack, short = self.cash_margins
        return replace(
            self,
            start_cash=self.start_cash + delta,
            end_cash=self.end_cash + delta,
            equity=tuple((t, v + delta) for t, v in self.equity),
            cash_margins=(
                None if slack is None else slack + delta,
                None if short is None else short + delta,
            ),
        )

    @property
    def pnl(self) -> int:
        return self.end_cash - self.start_cash
