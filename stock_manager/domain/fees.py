"""Brokerage commission and the securities transaction tax, in whole won.

2026 defaults from ``shared/reference/krx.md`` §4: KIS non-face-to-face commission 0.0140527 %
on both sides (ETF/ETN 0.0146527 % 🟡); sell tax 0.20 % (0.05 % STT + 0.15 % rural tax) on
sells of stocks only: ETF and ETN sales pay none. How KIS rounds to the won is not
confirmed, so the rounding mode is a setting (default: truncate). KIS (and the simulator)
compute costs on each execution, so an order filled in three executions can cost up to 2 won
less than one filled at once; whether costs are charged per execution or on the order's
cumulative amount is the :class:`FeeBasis` setting (⚠ default per execution, unconfirmed).
Pure: the backtest uses the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import Enum

from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.orders import Side

DEFAULT_COMMISSION_RATE = Decimal("0.000140527")
DEFAULT_ETP_COMMISSION_RATE = Decimal("0.000146527")
DEFAULT_SELL_TAX_RATE = Decimal("0.0020")
_STOCK = InstrumentKind.STOCK


class FeeBasis(Enum):
    """What the broker rounds costs on: each execution, or the order's cumulative amount."""

    EXECUTION = "execution"
    ORDER = "order"


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
    """Rates are fractions (0.000140527 = 0.0140527 %); amounts are whole won."""

    commission_rate: Decimal = DEFAULT_COMMISSION_RATE
    sell_tax_rate: Decimal = DEFAULT_SELL_TAX_RATE
    rounding: FeeRounding = FeeRounding.FLOOR
    etp_commission_rate: Decimal = DEFAULT_ETP_COMMISSION_RATE
    basis: FeeBasis = FeeBasis.EXECUTION

    def __post_init__(self) -> None:
        for name in ("commission_rate", "sell_tax_rate", "etp_commission_rate"):
            rate = getattr(self, name)
            if not (Decimal(0) <= rate < Decimal(1)):
                raise ValueError(f"{name} must be in [0, 1), got {rate}")

    def _won(self, amount: Decimal) -> int:
        return int(amount.quantize(Decimal(1), rounding=self.rounding.decimal_mode))

    def commission(self, notional: int, kind: InstrumentKind = _STOCK) -> int:
        rate = self.etp_commission_rate if kind.is_exchange_traded_product else self.commission_rate
        return self._won(Decimal(notional) * rate)

    def sell_tax(self, notional: int, kind: InstrumentKind = _STOCK) -> int:
        """The securities transaction tax on a sale: none for ETFs and ETNs."""
        if kind.is_exchange_traded_product:
            return 0
        return self._won(Decimal(notional) * self.sell_tax_rate)

    def costs(self, side: Side, notional: int, kind: InstrumentKind = _STOCK) -> TradeCosts:
        """What one execution of ``notional`` won costs: commission on both sides; tax on
        sells of stocks only."""
        tax = self.sell_tax(notional, kind) if side is Side.SELL else 0
        return TradeCosts(commission=self.commission(notional, kind), tax=tax)

    def fill_costs(
        self, side: Side, filled_before: int, filled_after: int, kind: InstrumentKind = _STOCK
    ) -> TradeCosts:
        """What an order's fills from cumulative amount ``filled_before`` to ``filled_after``
        won cost. Per execution: the increment is one execution, charged on its own amount.
        Per order: the difference of the costs of the two cumulative amounts, so the order's
        total never depends on how its fills were batched."""
        if self.basis is FeeBasis.EXECUTION:
            return self.costs(side, filled_after - filled_before, kind)
        before = self.costs(side, filled_before, kind)
        after = self.costs(side, filled_after, kind)
        return TradeCosts(after.commission - before.commission, after.tax - before.tax)

    def buy_cash_needed(self, notional: int, kind: InstrumentKind = _STOCK) -> int:
        """Cash a buy of ``notional`` consumes, commission included."""
        return notional + self.commission(notional, kind)

    def sell_cash_received(self, notional: int, kind: InstrumentKind = _STOCK) -> int:
        """Cash a sell of ``notional`` yields after commission and tax."""
        return notional - self.costs(Side.SELL, notional, kind).total

    def affordable_quantity(self, price: int, budget: int, kind: InstrumentKind = _STOCK) -> int:
        """The most shares at ``price`` whose cost, commission included, fits ``budget``."""
        if price <= 0 or budget <= 0:
            return 0
        quantity = budget // price
        while quantity > 0 and self.buy_cash_needed(quantity * price, kind) > budget:
            quantity -= 1
        return quantity
