"""A symbol's position: quantity and cost basis, following from fills."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from stock_manager.domain.errors import InvalidQuantity
from stock_manager.domain.orders import Side


@dataclass(frozen=True, slots=True)
class Position:
    """Shares held and what they cost (notional only; fees are tracked by PnL)."""

    symbol: str
    quantity: int = 0
    cost: int = 0

    @property
    def average_price(self) -> Decimal:
        if not self.quantity:
            return Decimal(0)
        return (Decimal(self.cost) / self.quantity).quantize(Decimal("0.0001"))

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    def market_value(self, mark: int) -> int:
        return self.quantity * mark

    def unrealized(self, mark: int) -> int:
        return self.market_value(mark) - self.cost

    def apply_fill(self, side: Side, quantity: int, price: int) -> Position:
        """The position after a fill; a sell reduces the cost basis at the average price."""
        if quantity <= 0:
            raise InvalidQuantity(f"fill quantity must be positive, got {quantity}")
        if side is Side.BUY:
            return Position(self.symbol, self.quantity + quantity, self.cost + quantity * price)
        if quantity > self.quantity:
            raise InvalidQuantity(
                f"cannot sell {quantity} {self.symbol}: only {self.quantity} held"
            )
        remaining = self.quantity - quantity
        cost = 0 if remaining == 0 else self.cost - (self.cost * quantity) // self.quantity
        return Position(self.symbol, remaining, cost)
