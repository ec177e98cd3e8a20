"""Orders: sides, KRX order types, the order lifecycle table, intents and fills.

Lifecycle (ARCHITECTURE §3)::

    NEW -> SUBMITTED -> PARTIALLY_FILLED -> FILLED
    SUBMITTED/PARTIALLY_FILLED -> CANCEL_PENDING -> CANCELED
    NEW -> REJECTED            NEW -> UNKNOWN (the broker may have it)
    UNKNOWN -> SUBMITTED (found and adopted) | REJECTED (proven absent)

KIS ``order-cash`` has no client order id, so ``UNKNOWN`` is never retried blindly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum

from stock_manager.domain.clock import require_aware
from stock_manager.domain.errors import InvalidQuantity
from stock_manager.domain.fsm import TransitionTable


class Side(Enum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(Enum):
    """KRX order types by their KIS ``ORD_DVSN`` code (krx.md §5)."""

    LIMIT = "00"  # 지정가
    MARKET = "01"  # 시장가
    CONDITIONAL_LIMIT = "02"  # 조건부지정가
    BEST = "03"  # 최유리지정가: priced at the best opposite quote
    PRIORITY = "04"  # 최우선지정가: priced at the best same-side quote
    IOC_LIMIT = "11"
    FOK_LIMIT = "12"
    IOC_MARKET = "13"
    FOK_MARKET = "14"
    IOC_BEST = "15"
    FOK_BEST = "16"

    @property
    def code(self) -> str:
        return self.value

    @property
    def has_price(self) -> bool:
        """Whether ``ORD_UNPR`` carries a limit price (else it is sent as ``"0"``)."""
        return self in {
            OrderType.LIMIT,
            OrderType.CONDITIONAL_LIMIT,
            OrderType.IOC_LIMIT,
            OrderType.FOK_LIMIT,
        }

    @property
    def is_immediate(self) -> bool:
        """IOC/FOK: whatever does not fill at once is cancelled by the exchange."""
        return self.value in {"11", "12", "13", "14", "15", "16"}


PAPER_ORDER_TYPES = frozenset(
    {
        OrderType.LIMIT,
        OrderType.MARKET,
        OrderType.CONDITIONAL_LIMIT,
        OrderType.BEST,
        OrderType.PRIORITY,
    }
)
LIVE_ORDER_TYPES = frozenset(OrderType)


class OrderStatus(Enum):
    NEW = "NEW"
    SUBMITTED = "SUBMITTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCEL_PENDING = "CANCEL_PENDING"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    UNKNOWN = "UNKNOWN"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_ORDER_STATUSES

    @property
    def may_be_live(self) -> bool:
        """The broker may be working this order: no new order for the intent meanwhile."""
        return not self.is_terminal


TERMINAL_ORDER_STATUSES = frozenset(
    {OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED}
)


class OrderEvent(Enum):
    ACCEPTED = "accepted"  # the broker acknowledged it with an order number
    REJECTED = "rejected"  # the broker said no, or proved it never had it
    OUTCOME_UNKNOWN = "outcome_unknown"  # sent, but no answer we can trust
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCEL_REQUESTED = "cancel_requested"
    CANCELED = "canceled"  # by us, by IOC/FOK, or by the exchange at the close
    CANCEL_FAILED = "cancel_failed"  # nothing left to cancel, or the cancel was refused


_S, _E = OrderStatus, OrderEvent
ORDER_TRANSITIONS: TransitionTable[OrderStatus, OrderEvent] = TransitionTable(
    "order",
    {
        (_S.NEW, _E.ACCEPTED): _S.SUBMITTED,
        (_S.NEW, _E.REJECTED): _S.REJECTED,
        (_S.NEW, _E.OUTCOME_UNKNOWN): _S.UNKNOWN,
        (_S.UNKNOWN, _E.ACCEPTED): _S.SUBMITTED,
        (_S.UNKNOWN, _E.REJECTED): _S.REJECTED,
        (_S.SUBMITTED, _E.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.SUBMITTED, _E.FILLED): _S.FILLED,
        (_S.SUBMITTED, _E.CANCEL_REQUESTED): _S.CANCEL_PENDING,
        (_S.SUBMITTED, _E.CANCELED): _S.CANCELED,  # IOC/FOK remainder, exchange close
        (_S.PARTIALLY_FILLED, _E.PARTIALLY_FILLED): _S.PARTIALLY_FILLED,
        (_S.PARTIALLY_FILLED, _E.FILLED): _S.FILLED,
        (_S.PARTIALLY_FILLED, _E.CANCEL_REQUESTED): _S.CANCEL_PENDING,
        (_S.PARTIALLY_FILLED, _E.CANCELED): _S.CANCELED,
        # A fill may land while our cancel is in flight; the cancel then finds less or nothing.
        (_S.CANCEL_PENDING, _E.PARTIALLY_FILLED): _S.CANCEL_PENDING,
        (_S.CANCEL_PENDING, _E.FILLED): _S.FILLED,
        (_S.CANCEL_PENDING, _E.CANCELED): _S.CANCELED,
        (_S.CANCEL_PENDING, _E.CANCEL_FAILED): _S.SUBMITTED,
    },
)


class OrderPurpose(Enum):
    ENTRY = "entry"
    EXIT = "exit"
    LIQUIDATION = "liquidation"
    EXTERNAL = "external"  # placed at the broker by someone else (by hand, another program)


def idempotency_key(trading_day: date, symbol: str, side: Side, trade: int, attempt: int) -> str:
    """The ledger's unique key for one order intent: day, symbol, side, trade and attempt."""
    return f"{trading_day:%Y%m%d}:{symbol}:{side.value}:{trade}:{attempt}"


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution against an order, as the broker reported it."""

    broker_fill_id: str
    symbol: str
    side: Side
    quantity: int
    price: int
    filled_at: datetime
    commission: int = 0
    tax: int = 0

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidQuantity(f"fill quantity must be positive, got {self.quantity}")
        require_aware(self.filled_at, "filled_at")

    @property
    def notional(self) -> int:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class Order:
    """An order in our ledger; ``apply`` is its one mutator and returns a new value."""

    idempotency_key: str
    trading_day: date
    symbol: str
    side: Side
    order_type: OrderType
    quantity: int
    price: int
    purpose: OrderPurpose
    status: OrderStatus = OrderStatus.NEW
    broker_order_no: str | None = None
    broker_branch: str | None = None
    filled_quantity: int = 0
    filled_amount: int = 0
    fence: int = 0
    id: int | None = None
    created_at: datetime | None = None
    # When the ledger last changed this order: for an UNKNOWN order, when the send ended
    # without a trustworthy answer (the resolver proves absence from then on).
    updated_at: datetime | None = None
    # Won per share this order was admitted at (a buy's risk): its limit price, or what a
    # fresh quote said a market-type buy could cost; 0 for orders admitted by no check.
    reserve_price: int = 0

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidQuantity(f"order quantity must be positive, got {self.quantity}")
        if not 0 <= self.filled_quantity <= self.quantity:
            raise InvalidQuantity(
                f"filled {self.filled_quantity} is outside 0..{self.quantity} for {self.symbol}"
            )

    @property
    def remaining_quantity(self) -> int:
        return self.quantity - self.filled_quantity

    @property
    def reserved_notional(self) -> int:
        """What is still at risk on this order: remaining shares at the admitted price."""
        return self.remaining_quantity * (self.reserve_price or self.price)

    @property
    def average_fill_price(self) -> int | None:
        if not self.filled_quantity:
            return None
        return round(self.filled_amount / self.filled_quantity)

    def apply(self, event: OrderEvent, **changes: object) -> Order:
        """Return this order after ``event``; raises ``InvalidTransition`` on a bad pair."""
        status = ORDER_TRANSITIONS.next(self.status, event)
        return replace(self, status=status, **changes)  # type: ignore[arg-type]

    def with_cumulative_fill(self, quantity: int, amount: int) -> Order:
        """Apply the broker's cumulative fill totals (idempotent; never moves backwards)."""
        if quantity < self.filled_quantity:
            raise InvalidQuantity(
                f"cumulative fill {quantity} is below the recorded {self.filled_quantity}"
            )
        if quantity == self.filled_quantity:
            return self
        event = OrderEvent.FILLED if quantity == self.quantity else OrderEvent.PARTIALLY_FILLED
        return self.apply(event, filled_quantity=quantity, filled_amount=amount)
