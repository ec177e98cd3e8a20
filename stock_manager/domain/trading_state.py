"""A symbol's trading state on KRX, and the exit order the exchange accepts in it.

KRX accepts 최유리지정가 (``03``), 최우선 (``04``) and IOC/FOK only in continuous trading
(krx.md §5). During a volatility interruption (VI: a 2-minute single-price auction, static
or dynamic, krx.md §3) and the closing call (15:20-15:30) they are refused, so an exit sent
as ``03`` there would never leave. This module reads the state from the broker's fields and
looks the exit's order type and price up in one table, :data:`EXIT_ORDERS`.

Sources of the state (kis-api.md §4.1, §4.3, §6): the quote's ``vi_cls_code`` (``N`` none;
``Y``, or ``1`` static / ``2`` dynamic / ``3`` both as some feeds send it ⚠) and
``temp_stop_yn`` (halt); the real-time ``HOUR_CLS_CODE`` (``C``: VI, ``A``: the closing
call's expected price) and ``TRHT_YN`` (halt); the clock for the closing call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from stock_manager.domain.krx import PriceLimits
from stock_manager.domain.orders import OrderType


class TradingState(Enum):
    CONTINUOUS = "continuous"
    STATIC_VI = "static_vi"  # 정적 VI: single-price auction
    DYNAMIC_VI = "dynamic_vi"  # 동적 VI: single-price auction
    VI = "vi"  # a VI whose kind the source does not say
    CLOSING_CALL = "closing_call"  # 장 마감 동시호가
    HALTED = "halted"  # 거래정지: no order is accepted
    UPPER_LIMIT = "upper_limit"  # continuous, trading at 상한가
    LOWER_LIMIT = "lower_limit"  # continuous, trading at 하한가

    @property
    def is_auction(self) -> bool:
        return self in _AUCTIONS


_AUCTIONS = frozenset(
    {TradingState.STATIC_VI, TradingState.DYNAMIC_VI, TradingState.VI, TradingState.CLOSING_CALL}
)


class ExitPricing(Enum):
    """How an exit is priced in a state."""

    CONFIGURED = "configured"  # the configured exit type (EXIT_ORDER_TYPE, default 03)
    AUCTION = "auction"  # the configured auction exit: 00 at the lower limit, or 01
    AT_LOWER_LIMIT = "at_lower_limit"  # 00 at 하한가: a sell that crosses any price of the day
    HOLD = "hold"  # nothing is accepted: send nothing; the exit fires when trading resumes


EXIT_ORDERS: dict[TradingState, ExitPricing] = {
    TradingState.CONTINUOUS: ExitPricing.CONFIGURED,
    TradingState.UPPER_LIMIT: ExitPricing.CONFIGURED,  # bids stand at the limit
    TradingState.LOWER_LIMIT: ExitPricing.AT_LOWER_LIMIT,  # no bid above it: queue there
    TradingState.STATIC_VI: ExitPricing.AUCTION,
    TradingState.DYNAMIC_VI: ExitPricing.AUCTION,
    TradingState.VI: ExitPricing.AUCTION,
    TradingState.CLOSING_CALL: ExitPricing.AUCTION,
    TradingState.HALTED: ExitPricing.HOLD,
}

# Order types KRX accepts in a single-price auction (krx.md §5: 00, 01, 02⚠).
AUCTION_ORDER_TYPES = frozenset({OrderType.LIMIT, OrderType.MARKET})


@dataclass(frozen=True, slots=True)
class ExitOrder:
    order_type: OrderType
    price: int  # won; 0 for order types without a price


@dataclass(frozen=True, slots=True)
class StateSignals:
    """What the broker said about a symbol, as raw codes (blank: not sent)."""

    vi_code: str = ""
    halted: bool = False
    hour_code: str = ""
    closing_call: bool = False  # the clock says 15:20-15:30 (the session's closing call)
    price: int = 0
    band: PriceLimits | None = None


@dataclass(frozen=True, slots=True)
class TickState:
    """What a real-time trade record (H0STCNT0) said of its symbol, and the day's band the
    stream knew: enough to price an exit without a quote. ``halted`` ``None``: the record
    did not say (then the state comes from a quote)."""

    hour_code: str = ""
    halted: bool | None = None
    band: PriceLimits | None = None


_VI_CODES = {
    "1": TradingState.STATIC_VI,
    "S": TradingState.STATIC_VI,
    "3": TradingState.STATIC_VI,  # both at once: the static one's auction
    "2": TradingState.DYNAMIC_VI,
    "D": TradingState.DYNAMIC_VI,
    "Y": TradingState.VI,
}


def trading_state(signals: StateSignals) -> TradingState:
    """The state these signals mean: a halt first, then a VI, the closing call, a limit."""
    if signals.halted:
        return TradingState.HALTED
    vi = _VI_CODES.get(signals.vi_code.strip().upper())
    if vi is None and signals.hour_code.strip().upper() == "C":
        vi = TradingState.VI
    if vi is not None:
        return vi
    if signals.closing_call or signals.hour_code.strip().upper() == "A":
        return TradingState.CLOSING_CALL
    band = signals.band
    if band is not None and signals.price > 0:
        if signals.price <= band.lower:
            return TradingState.LOWER_LIMIT
        if signals.price >= band.upper:
            return TradingState.UPPER_LIMIT
    return TradingState.CONTINUOUS


def exit_order(
    state: TradingState,
    band: PriceLimits | None,
    configured: OrderType,
    auction: OrderType = OrderType.LIMIT,
) -> ExitOrder | None:
    """The sell order for an exit in ``state`` (``None``: hold, nothing is accepted now).

    ``configured`` is the continuous-trading exit type; ``auction`` the auction one (``00``
    at the lower limit, or ``01``). Without a band a limit cannot be priced: market then.
    A configured type the auction refuses is never returned for an auction state."""
    pricing = EXIT_ORDERS[state]
    if pricing is ExitPricing.HOLD:
        return None
    if pricing is ExitPricing.CONFIGURED:
        return _priced(configured, band)
    if pricing is ExitPricing.AUCTION and auction in AUCTION_ORDER_TYPES:
        return _priced(auction, band)
    return _priced(OrderType.LIMIT, band)


def after_refusal(refused: OrderType, band: PriceLimits | None) -> ExitOrder | None:
    """The exit to send after the broker refused ``refused`` for its type: a limit at the
    lower limit (accepted in every session state but a halt), then market; ``None`` after
    a market order was refused (nothing else is left to try)."""
    if refused is OrderType.MARKET:
        return None
    if refused is OrderType.LIMIT:
        return ExitOrder(OrderType.MARKET, 0)
    return _priced(OrderType.LIMIT, band)


def _priced(order_type: OrderType, band: PriceLimits | None) -> ExitOrder:
    if not order_type.has_price:
        return ExitOrder(order_type, 0)
    if band is None:
        return ExitOrder(OrderType.MARKET, 0)
    return ExitOrder(order_type, band.lower)
