"""Pre-trade risk checks: every entry passes all of them or is not sent.

Each check returns a reason string when it refuses; ``check_entry`` returns them all, so a
refusal says everything that was wrong at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

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


@dataclass(frozen=True, slots=True)
class EntryProposal:
    symbol: str
    quantity: int
    price: int  # the limit price, or the reference price of a market-type order
    order_type: OrderType
    kind: InstrumentKind = InstrumentKind.STOCK


@dataclass(frozen=True, slots=True)
class Exposure:
    """The account as the risk checks see it at one moment."""

    now: datetime
    market: MarketState
    session: TradingSession | None
    open_positions: int  # symbols not FLAT
    total_notional: int  # cost of everything held or being bought
    daily_pnl: int  # realized + unrealized, costs included
    buying_power: int
    orders_last_minute: int
    limits: PriceLimits | None
    allowed_order_types: frozenset[OrderType]
    fees: FeeSchedule = field(default_factory=FeeSchedule)


def check_entry(p: EntryProposal, e: Exposure, r: RiskLimits) -> list[str]:
    """Every reason this entry may not be sent; empty when it may."""
    checks = (
        _market,
        _session,
        _positions,
        _notional,
        _daily_loss,
        _buying_power,
        _rate,
        _price,
        _order_type,
    )
    return [reason for check in checks if (reason := check(p, e, r))]


def daily_loss_breached(e: Exposure, r: RiskLimits) -> bool:
    return e.daily_pnl <= -r.max_daily_loss


def affordable_quantity(price: int, budget: int) -> int:
    return max(budget // price, 0) if price > 0 else 0


def _market(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    return "" if e.market.allows_entries else f"market is {e.market.value}"


def _session(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    if e.session is None:
        return "KRX is closed today"
    return "" if e.session.accepts_entries(e.now) else "outside the entry window"


def _positions(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    full = e.open_positions >= r.max_positions
    return f"already {e.open_positions} positions (max {r.max_positions})" if full else ""


def _notional(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    notional = p.quantity * p.price
    if notional > r.max_notional_per_symbol:
        return f"{notional:,} won exceeds {r.max_notional_per_symbol:,} per symbol"
    if e.total_notional + notional > r.max_total_notional:
        return f"total {e.total_notional + notional:,} won exceeds {r.max_total_notional:,}"
    return "" if p.quantity > 0 else "quantity must be positive"


def _daily_loss(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    breached = daily_loss_breached(e, r)
    return f"daily loss {e.daily_pnl:,} won reached the limit" if breached else ""


def _buying_power(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    """The buy's cost with its commission must fit: 1,000,000 won of shares need 1,000,140."""
    need = e.fees.buy_cash_needed(p.quantity * p.price, p.kind)
    return f"needs {need:,} won, can buy {e.buying_power:,}" if need > e.buying_power else ""


def _rate(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    busy = e.orders_last_minute >= r.max_orders_per_minute
    return f"{e.orders_last_minute} orders in the last minute" if busy else ""


def _price(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    if not p.order_type.has_price:
        return ""
    if not is_on_tick(p.price, p.kind):
        return f"price {p.price:,} is off the tick grid"
    if e.limits is not None and not e.limits.contains(p.price):
        return f"price {p.price:,} is outside {e.limits.lower:,}..{e.limits.upper:,}"
    return ""


def _order_type(p: EntryProposal, e: Exposure, r: RiskLimits) -> str:
    allowed = p.order_type in e.allowed_order_types
    return "" if allowed else f"{p.order_type.name} is not available in this environment"
