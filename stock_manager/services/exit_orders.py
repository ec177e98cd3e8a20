"""The exit's order type and price for the symbol's trading state, and the day's price band.

An exit is priced from a fresh quote (one ``inquire-price``: its ``vi_cls_code``,
``temp_stop_yn`` and limits) plus the clock (the closing call), through the domain's table
(:mod:`stock_manager.domain.trading_state`). A quote that cannot be read leaves the
configured type: a refusal for the type is answered by :func:`after_refusal` (``orders.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from stock_manager.domain.broker import BrokerError, OrderBook, Quote
from stock_manager.domain.clock import kst_date
from stock_manager.domain.instruments import Instrument
from stock_manager.domain.krx import PriceLimits, instrument_limits
from stock_manager.domain.trading_state import (
    ExitOrder,
    StateSignals,
    TickState,
    TradingState,
    exit_order,
    trading_state,
)
from stock_manager.ports import Lane, using_lane
from stock_manager.services.context import ServiceContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExitChoice:
    state: TradingState
    order: ExitOrder | None  # None: nothing is accepted now (a halt); the exit waits


def band_of(quote: Quote) -> PriceLimits:
    return PriceLimits(quote.base_price, quote.upper_limit, quote.lower_limit)


def learn_band(ctx: ServiceContext, quote: Quote, now: datetime) -> None:
    """Keep the quote's band (base, upper, lower) as the symbol's for today."""
    ctx.sanity.learn(quote.symbol, kst_date(now), band_of(quote))


def in_closing_call(ctx: ServiceContext, now: datetime) -> bool:
    session = ctx.calendar.session(kst_date(now))
    return session is not None and session.continuous_ends_at <= now < session.auction_ends_at


def book_band(ctx: ServiceContext, symbol: str, book: OrderBook) -> PriceLimits | None:
    """The day's band of ``symbol``: known already, or KRX's limits for the book's base
    price and the stored instrument (krx.md §3), learned for the day; ``None`` without."""
    day = kst_date(ctx.clock.now())
    known = ctx.sanity.band(symbol, day)
    if known is not None or book.base_price <= 0:
        return known
    with ctx.uow as uow:
        stored = uow.instruments.get(symbol)
    band = instrument_limits(book.base_price, stored[0] if stored else Instrument(symbol))
    ctx.sanity.learn(symbol, day, band)
    return band


def choose_exit_from_book(ctx: ServiceContext, symbol: str, book: OrderBook) -> ExitChoice:
    """The exit for the state an orderbook read says (its VI code and price, the clock for
    the closing call), so a liquidation reads one list per symbol, not a quote as well. A
    halt is not in the book: the broker refuses the sell, and the next round tries again."""
    now = ctx.clock.now()
    band = book_band(ctx, symbol, book)
    signals = StateSignals(
        vi_code=book.vi_code,
        closing_call=in_closing_call(ctx, now),
        price=book.last or (book.best_bid or 0),
        band=band,
    )
    state = trading_state(signals)
    order = exit_order(state, band, ctx.trading.exit_order_type, ctx.trading.auction_exit)
    return ExitChoice(state, order)


def choose_exit(
    ctx: ServiceContext, symbol: str, seen: TickState | None = None, price: int = 0
) -> ExitChoice:
    """The sell to send for an exit of ``symbol`` now (EXIT_ORDERS of its trading state):
    from what a real-time record at ``price`` said (``seen``, when it said whether the
    symbol is halted), else from a fresh quote."""
    now = ctx.clock.now()
    configured = ctx.trading.exit_order_type
    if seen is not None and seen.halted is not None:
        band = ctx.sanity.band(symbol, kst_date(now)) or seen.band
        signals = StateSignals(
            halted=seen.halted,
            hour_code=seen.hour_code,
            closing_call=in_closing_call(ctx, now),
            price=price,
            band=band,
        )
        state = trading_state(signals)
        return ExitChoice(state, exit_order(state, band, configured, ctx.trading.auction_exit))
    try:
        with using_lane(Lane.EXIT):
            quote = ctx.broker.quote(symbol)
    except BrokerError as exc:  # the refusal fallback still covers an auction
        log.warning("no quote to price the exit of %s: %s", symbol, exc)
        closing = in_closing_call(ctx, now)
        state = TradingState.CLOSING_CALL if closing else TradingState.CONTINUOUS
        band = ctx.sanity.band(symbol, kst_date(now))
        return ExitChoice(state, exit_order(state, band, configured, ctx.trading.auction_exit))
    learn_band(ctx, quote, now)
    band = ctx.sanity.band(symbol, kst_date(now))
    signals = StateSignals(
        vi_code=quote.vi_code,
        halted=quote.halted,
        closing_call=in_closing_call(ctx, now),
        price=quote.price,
        band=band,
    )
    state = trading_state(signals)
    return ExitChoice(state, exit_order(state, band, configured, ctx.trading.auction_exit))
