"""Pre-trade risk checks: every entry passes all of them or is not sent.

Each check returns a :class:`Refusal` naming its :class:`Cap` when it refuses;
``check_entry`` returns them all, so a refusal says everything that was wrong at once. The
checks that depend on the whole book run where the entry is admitted, in the transaction
that writes its intent (``services/admission.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from stock_manager.domain.broker import BookLevel
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.krx import PriceLimits, is_on_tick
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import OrderType
from stock_manager.domain.session import TradingSession


@dataclass(frozen=True, slots=True)
class RiskLimits:
    max_positions: int = 5
    max_notional_per_symbol: int = 2_000_000
    max_total_notional: int = 10_000_000
    max_daily_loss: int = 300_000
    max_orders_per_minute: int = 60


class Cap(Enum):
    """What refused an entry: a risk limit by its setting's name, or a rule of the order."""

    MARKET = "market_state"
    SESSION = "session"
    POSITIONS = "max_positions"
    SYMBOL_NOTIONAL = "max_notional_per_symbol"
    TOTAL_NOTIONAL = "max_total_notional"
    DAILY_LOSS = "max_daily_loss"
    ORDER_RATE = "max_orders_per_minute"
    BUYING_POWER = "buying_power"
    QUANTITY = "quantity"
    PRICE = "price"
    ORDER_TYPE = "order_type"
    SYMBOL = "symbol"  # unknown, or no price to reserve by


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an entry was not sent: the cap and what it saw (``"max_positions: ..."``)."""

    cap: Cap
    detail: str

    def __str__(self) -> str:
        return f"{self.cap.value}: {self.detail}"


@dataclass(frozen=True, slots=True)
class EntryProposal:
    symbol: str
    quantity: int
    price: int  # the limit price; a market-type order's own price is not used
    order_type: OrderType
    kind: InstrumentKind = InstrumentKind.STOCK
    # Won per share the entry is risked at: the limit price, or for a market-type order what
    # a fresh quote says it could cost (``reserve_price``); 0 means "use ``price``".
    reserve: int = 0

    @property
    def reserve_price(self) -> int:
        return self.reserve or self.price

    @property
    def notional(self) -> int:
        return self.quantity * self.reserve_price


@dataclass(frozen=True, slots=True)
class Exposure:
    """The account as the risk checks see it at one moment."""

    now: datetime
    market: MarketState
    session: TradingSession | None
    open_positions: int  # symbols not FLAT
    total_notional: int  # cost of everything held, plus what every live buy reserved
    daily_pnl: int  # realized + unrealized, costs included
    buying_power: int | None  # the broker's figure less what it cannot know yet; None: unread
    orders_last_minute: int
    limits: PriceLimits | None
    allowed_order_types: frozenset[OrderType]
    fees: FeeSchedule = field(default_factory=FeeSchedule)


def check_entry(p: EntryProposal, e: Exposure, r: RiskLimits) -> list[Refusal]:
    """Every reason this entry may not be sent; empty when it may."""
    checks = (
        _market,
        _session,
        _quantity,
        _positions,
        _notional,
        _daily_loss,
        _buying_power,
        _rate,
        _price,
        _order_type,
    )
    return [refusal for check in checks if (refusal := check(p, e, r)) is not None]


def check_order(p: EntryProposal) -> list[Refusal]:
    """The checks that need nothing but the proposal: a quantity and a limit price."""
    return [refusal for refusal in (_quantity(p), _positive_price(p)) if refusal is not None]


def reserve_price(
    order_type: OrderType,
    limit_price: int,
    quantity: int,
    asks: Sequence[BookLevel],
    upper_limit: int,
) -> int:
    """Won per share an entry risks: its limit price, or for a market-type order (market,
    best, priority and their IOC/FOK forms, which carry no price) the ask level at which
    the visible book would complete ``quantity`` — the best ask when it covers it — and the
    day's upper price limit when the book has no asks or too few (KRX fills a buy no higher).
    """
    if order_type.has_price:
        return limit_price
    needed = quantity
    for level in asks:
        if level.price <= 0:
            continue
        needed -= level.quantity
        if needed <= 0:
            return min(level.price, upper_limit) if upper_limit > 0 else level.price
    return upper_limit


def daily_loss_breached(e: Exposure, r: RiskLimits) -> bool:
    return e.daily_pnl <= -r.max_daily_loss


def affordable_quantity(price: int, budget: int) -> int:
    return max(budget // price, 0) if price > 0 else 0


Check = Refusal | None


def _market(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if e.market.allows_entries:
        return None
    return Refusal(Cap.MARKET, f"market is {e.market.value}")


def _session(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if e.session is None:
        return Refusal(Cap.SESSION, "KRX is closed today")
    return (
        None
        if e.session.accepts_entries(e.now)
        else Refusal(Cap.SESSION, "outside the entry window")
    )


def _quantity(p: EntryProposal, e: Exposure | None = None, r: RiskLimits | None = None) -> Check:
    return (
        None if p.quantity > 0 else Refusal(Cap.QUANTITY, f"quantity {p.quantity} is not positive")
    )


def _positive_price(p: EntryProposal) -> Check:
    if p.order_type.has_price and p.price <= 0:
        return Refusal(Cap.PRICE, f"limit price {p.price:,} is not positive")
    return None


def _positions(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if e.open_positions < r.max_positions:
        return None
    return Refusal(Cap.POSITIONS, f"already {e.open_positions} positions (max {r.max_positions})")


def _notional(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if p.quantity <= 0:
        return None
    if p.notional > r.max_notional_per_symbol:
        return Refusal(
            Cap.SYMBOL_NOTIONAL,
            f"{p.notional:,} won exceeds {r.max_notional_per_symbol:,} per symbol",
        )
    total = e.total_notional + p.notional
    if total > r.max_total_notional:
        return Refusal(Cap.TOTAL_NOTIONAL, f"total {total:,} won exceeds {r.max_total_notional:,}")
    return None


def _daily_loss(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if not daily_loss_breached(e, r):
        return None
    return Refusal(Cap.DAILY_LOSS, f"daily loss {e.daily_pnl:,} won reached the limit")


def _buying_power(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    """The buy's cost with its commission must fit: 1,000,000 won of shares need 1,000,140."""
    if e.buying_power is None:
        return None
    need = e.fees.buy_cash_needed(p.notional, p.kind)
    if need <= e.buying_power:
        return None
    return Refusal(Cap.BUYING_POWER, f"needs {need:,} won, can buy {e.buying_power:,}")


def _rate(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if e.orders_last_minute < r.max_orders_per_minute:
        return None
    return Refusal(Cap.ORDER_RATE, f"{e.orders_last_minute} orders in the last minute")


def _price(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if not p.order_type.has_price:
        return None
    if p.price <= 0:
        return _positive_price(p)
    if not is_on_tick(p.price, p.kind):
        return Refusal(Cap.PRICE, f"price {p.price:,} is off the tick grid")
    if e.limits is not None and not e.limits.contains(p.price):
        return Refusal(
            Cap.PRICE, f"price {p.price:,} is outside {e.limits.lower:,}..{e.limits.upper:,}"
        )
    return None


def _order_type(p: EntryProposal, e: Exposure, r: RiskLimits) -> Check:
    if p.order_type in e.allowed_order_types:
        return None
    return Refusal(Cap.ORDER_TYPE, f"{p.order_type.name} is not available in this environment")
