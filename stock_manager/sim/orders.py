"""The simulator's order records, fills and execution notices.

KIS keeps every order, modification and cancellation as its own numbered record: a modify
moves the unfilled quantity to a new ODNO (``orgn_odno`` points back), a cancel is a record
of the quantity it cancelled. The original keeps its fills.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from stock_manager.domain.orders import Side

MARKET_TYPES = frozenset({"01", "13", "14"})
BEST_TYPES = frozenset({"03", "15", "16"})  # 최유리: priced at the best opposite quote
IOC_TYPES = frozenset({"11", "13", "15"})
FOK_TYPES = frozenset({"12", "14", "16"})
AUCTION_TYPES = frozenset({"00", "01", "02"})


class OrderKind(Enum):
    NEW = "new"
    MODIFY = "modify"
    CANCEL = "cancel"


class OrderStatus(Enum):
    OPEN = "open"  # working (possibly partly filled)
    FILLED = "filled"
    CANCELLED = "cancelled"  # nothing left working: cancelled, expired, IOC/FOK remainder
    REPLACED = "replaced"  # the remainder moved to a modify order
    REJECTED = "rejected"  # refused by the exchange after the broker accepted it
    CONFIRMED = "confirmed"  # a cancel record


@dataclass(frozen=True, slots=True)
class SimFill:
    seq: int
    qty: int
    price: int
    at: datetime
    commission: int
    tax: int

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "qty": self.qty,
            "price": self.price,
            "time": self.at.isoformat(),
            "commission": self.commission,
            "tax": self.tax,
        }


@dataclass(slots=True)
class SimOrder:
    odno: int
    orgn_odno: int | None
    kind: OrderKind
    symbol: str
    name: str
    side: Side
    ord_dvsn: str
    qty: int
    price: int  # ORD_UNPR as entered (0 for market)
    limit: int | None  # effective limit used in matching; None = market
    created_at: datetime
    reserve_price: int = 0  # buys: the price cash is reserved at
    status: OrderStatus = OrderStatus.OPEN
    filled_qty: int = 0
    filled_amount: int = 0
    cancelled_qty: int = 0
    replaced_qty: int = 0
    fills: list[SimFill] = field(default_factory=list)
    reason: str = ""

    @property
    def remaining(self) -> int:
        if self.kind is OrderKind.CANCEL:
            return 0
        return self.qty - self.filled_qty - self.cancelled_qty - self.replaced_qty

    @property
    def is_open(self) -> bool:
        return self.status is OrderStatus.OPEN and self.remaining > 0

    @property
    def is_buy(self) -> bool:
        return self.side is Side.BUY

    @property
    def condition(self) -> str:
        """ODER_COND of the notice: 0 none, 1 IOC, 2 FOK."""
        if self.ord_dvsn in IOC_TYPES:
            return "1"
        return "2" if self.ord_dvsn in FOK_TYPES else "0"

    @property
    def average_price(self) -> float:
        return self.filled_amount / self.filled_qty if self.filled_qty else 0.0

    def settle_status(self) -> None:
        if self.status is OrderStatus.OPEN and self.remaining == 0:
            if self.replaced_qty:
                self.status = OrderStatus.REPLACED
            elif self.cancelled_qty:
                self.status = OrderStatus.CANCELLED
            else:
                self.status = OrderStatus.FILLED

    def to_json(self) -> dict[str, Any]:
        return {
            "odno": f"{self.odno:010d}",
            "orgn_odno": "" if self.orgn_odno is None else f"{self.orgn_odno:010d}",
            "kind": self.kind.value,
            "symbol": self.symbol,
            "side": self.side.value,
            "ord_dvsn": self.ord_dvsn,
            "qty": self.qty,
            "price": self.price,
            "status": self.status.value,
            "filled_qty": self.filled_qty,
            "filled_amount": self.filled_amount,
            "avg_fill_price": round(self.average_price, 2),
            "remaining_qty": self.remaining,
            "cancelled_qty": self.cancelled_qty,
            "replaced_qty": self.replaced_qty,
            "created_at": self.created_at.isoformat(),
            "reason": self.reason,
            "fills": [fill.to_json() for fill in self.fills],
        }


class NoticeKind(Enum):
    ACCEPTED = "accepted"
    MODIFIED = "modified"
    CANCELLED = "cancelled"  # by request
    EXPIRED = "expired"  # IOC/FOK remainder or end of day
    REJECTED = "rejected"
    FILLED = "filled"


@dataclass(frozen=True, slots=True)
class Notice:
    """One execution notice (체결통보) about an order, before it is formatted."""

    kind: NoticeKind
    order: SimOrder
    qty: int  # fill qty for fills; affected qty otherwise
    price: int  # fill price for fills; order price otherwise
    at: datetime
