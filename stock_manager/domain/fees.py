"""Brokerage commission and the securities transaction tax, in whole won.

2026 defaults from ``shared/reference/krx.md`` §4: KIS non-face-to-face commission 0.0140527 %
on both sides; sell tax 0.20 % (0.05 % STT + 0.15 % rural tax) on sells only. How KIS rounds
to the won is not confirmed, so the rounding mode is a setting (default: truncate).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import Enum

from stock_manager.domain.orders import Side

DEFAULT_COMMISSION_RATE = Decimal("0.000140527")
DEFAULT_SELL_TAX_RATE = Decimal("0.0020")


class FeeRounding(Enum):
    FLOOR = "floor"
    HALF_UP = "half_up"
    CEIL = "ceil"

    @property
    def decimal_mode(self) -> str:
        return {
            FeeRounding.FLOOR: ROUND_FLOOR,
            FeeRounding.HALF_UP: ROUND_HALF_UP,
            FeeRounding.CEIL: ROUND_CEILING,
        }[self]


@dataclass(frozen=True, slots=True)
class TradeCosts:
    """What one execution costs on top of its notional value."""

    commission: int
    tax: int

    @property
    def total(self) -> int:
        return self.commission + self.tax


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    commission_rate: Decimal = DEFAULT_COMMISSION_RATE
    sell_tax_rate: Decimal = DEFAULT_SELL_TAX_RATE
    rounding: FeeRounding = FeeRounding.FLOOR

    def __post_init__(self) -> None:
        if not (Decimal(0) <= self.commission_rate < Decimal(1)):
            raise ValueError(f"commission_rate must be in [0, 1), got {self.commission_rate}")
        if not (Decimal(0) <= self.sell_tax_rate < Decimal(1)):
            raise ValueError(f"sell_tax_rate must be in [0, 1), got {self.sell_tax_rate}")

    def _won(self, amount: Decimal) -> int:
        return int(amount.quantize(Decimal(1), rounding=self.rounding.decimal_mode))

    def commission(self, notional: int) -> int:
        return self._won(Decimal(notional) * self.commission_rate)

    def sell_tax(self, notional: int) -> int:
        return self._won(Decimal(notional) * self.sell_tax_rate)

    def costs(self, side: Side, notional: int) -> TradeCosts:
        """Commission on both sides; tax on sells only."""
        tax = self.sell_tax(notional) if side is Side.SELL else 0
        return TradeCosts(commission=self.commission(notional), tax=tax)

    def buy_cash_needed(self, notional: int) -> int:
        """Cash a buy of ``notional`` consumes, commission included."""
        return notional + self.commission(notional)

    def sell_cash_received(self, notional: int) -> int:
        """Cash a sell of ``notional`` yields after commission and tax."""
        return notional - self.costs(Side.SELL, notional).total
