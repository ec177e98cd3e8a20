"""Admission: an entry's risk caps are checked and reserved in one step the cluster shares.

Max positions, per-symbol and total notional, the daily loss and the order rate depend on
what every worker is doing at once. So they are judged inside the transaction that writes
the entry's intent, after that transaction has locked the day's market row
(``MarketRepository.lock``: ``SELECT ... FOR UPDATE`` on PostgreSQL, the database's write lock
on SQLite); every buy that may still fill counts at the price it was admitted at, whatever
its status (NEW, SUBMITTED, UNKNOWN, partly filled); and the NEW order row is inserted
before the commit releases the lock. Whoever is admitted next sees it. Only then is the
order sent (``services/orders.py``).

Pricing comes first, outside the lock, from the broker: a fresh quote (unknown symbols stop
here), the book for a market-type order, and buying power (:func:`price_entry`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stock_manager.domain.broker import BrokerRejected
from stock_manager.domain.clock import kst_date
from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.orders import OrderType
from stock_manager.domain.risk import Cap, EntryProposal, Refusal, check_entry, reserve_price
from stock_manager.ports import UnitOfWork
from stock_manager.services.context import ServiceContext
from stock_manager.services.exposure import book_in, exposure
from stock_manager.services.instruments import instrument_of


@dataclass(frozen=True, slots=True)
class Pricing:
    """What the market said about an entry just before it was admitted.

    ``reserve_price`` is won per share the entry risks; ``buying_power`` the broker's figure
    read at ``asked_at`` (``None``: not read, the broker's own check still applies);
    ``limits`` the day's price band (``None``: not checked here)."""

    reserve_price: int
    buying_power: int | None = None
    limits: PriceLimits | None = None
    asked_at: datetime | None = None
    kind: InstrumentKind = InstrumentKind.STOCK

    @classmethod
    def at_limit(
        cls, order_type: OrderType, price: int, kind: InstrumentKind = InstrumentKind.STOCK
    ) -> Pricing:
        """A limit order priced by its own limit, without asking the broker; a market-type
        order cannot be priced so (0: it is refused)."""
        return cls(price if order_type.has_price else 0, kind=kind)


def price_entry(
    ctx: ServiceContext, symbol: str, quantity: int, price: int, order_type: OrderType
) -> Pricing | Refusal:
    """Ask the broker what this entry would risk now: the quote (an unknown symbol, or one
    without a price, is refused), the ask side of the book for a market-type order
    (``domain.risk.reserve_price``), and buying power at that price."""
    try:
        quote = ctx.broker.quote(symbol)
    except BrokerRejected as exc:
        return Refusal(Cap.SYMBOL, f"{symbol}: {exc}")
    if quote.price <= 0 or quote.upper_limit <= 0:
        return Refusal(Cap.SYMBOL, f"{symbol} has no price to reserve by")
    asks = () if order_type.has_price else ctx.broker.orderbook(symbol).asks
    reserve = reserve_price(order_type, price, quantity, asks, quote.upper_limit)
    asked_at = ctx.clock.now()
    power = ctx.broker.buying_power(symbol, reserve)
    kind = instrument_of(ctx, symbol).kind  # ticks, limits and costs follow it
    limits = PriceLimits(quote.base_price, quote.upper_limit, quote.lower_limit, kind)
    return Pricing(reserve, power.max_amount, limits, asked_at, kind)


def admit(
    uow: UnitOfWork, ctx: ServiceContext, at: datetime, proposal: EntryProposal, pricing: Pricing
) -> list[Refusal]:
    """Inside the open unit of work that will write the entry's intent: lock the day's
    market row, read the whole book, and return every cap the entry breaks (empty: admit
    it, and write the intent before committing)."""
    if pricing.reserve_price <= 0:
        return [Refusal(Cap.PRICE, f"{proposal.order_type.name} entry has no price to reserve")]
    market = uow.market.lock(kst_date(at))
    book = book_in(uow, at, since=pricing.asked_at)
    power = pricing.buying_power
    if power is not None:
        power -= book.unseen_buy_notional
    current = exposure(ctx, book, market, power, pricing.limits)
    priced = EntryProposal(
        proposal.symbol,
        proposal.quantity,
        proposal.price,
        proposal.order_type,
        kind=pricing.kind,
        reserve=pricing.reserve_price,
    )
    return check_entry(priced, current, ctx.trading.risk)
