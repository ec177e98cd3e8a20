"""The exit policy applied to every position: stop-loss, take-profit, trailing stop and
maximum holding time. Strategy sells and forced liquidation are exits too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum


class ExitReason(Enum):
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    MAX_HOLDING = "max_holding"
    STRATEGY = "strategy"
    LIQUIDATION = "liquidation"
    MANUAL = "manual"
    EXTERNAL = "external"  # shares the system did not open, with EXTERNAL_HOLDINGS=liquidate


@dataclass(frozen=True, slots=True)
class ExitPolicy:
    stop_loss_pct: Decimal = Decimal("3")
    take_profit_pct: Decimal = Decimal("5")
    trailing_stop_pct: Decimal = Decimal("2")
    max_holding: timedelta = timedelta(minutes=120)

    def stop_price(self, entry: Decimal) -> Decimal:
        return entry * (1 - self.stop_loss_pct / 100)

    def evaluate(
        self,
        entry: Decimal,
        high_water: int,
        price: int,
        entered_at: datetime | None,
        now: datetime,
    ) -> ExitReason | None:
        """The first exit rule ``price`` breaks, in order of urgency, or ``None``."""
        if entry <= 0 or price <= 0:
            return None
        if price <= self.stop_price(entry):
            return ExitReason.STOP_LOSS
        if price >= entry * (1 + self.take_profit_pct / 100):
            return ExitReason.TAKE_PROFIT
        peak = max(Decimal(high_water), entry)
        if peak > entry and price <= peak * (1 - self.trailing_stop_pct / 100):
            return ExitReason.TRAILING_STOP
        if entered_at is not None and now - entered_at >= self.max_holding:
            return ExitReason.MAX_HOLDING
        return None
