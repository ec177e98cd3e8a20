"""What a broker tells us, as typed records, and how a broker call can fail.

The KIS adapter translates wire JSON into these; services never see broker field names.
Every error type says what to do about it (see the tree below).

::

    BrokerError
    ├── BrokerConfigError      settings are wrong: fix them, never retry
    ├── BrokerAuthError        token or key refused: refresh once, then stop
    ├── BrokerRateLimited      refused before execution: back off and retry
    ├── BrokerUnavailable      transient failure of a read: retry with backoff
    │   └── BrokerReadIncomplete  a list could not be read to its end: nothing is proven absent
    ├── BrokerRejected         the broker said no to this request: do not retry it as is
    │   └── OrderTypeRefused   ... for its order type in this session state: send another type
    ├── BrokerValidationError  our request or its reply is malformed: a bug, do not retry
    └── OrderOutcomeUnknown    an order was sent but its fate is unknown: resolve, never resend
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from stock_manager.domain.candles import Candle as Candle  # its home moved; old imports work
from stock_manager.domain.orders import OrderType, Side


class BrokerError(Exception):
    """Base class of everything a broker call can raise."""

    retryable: bool = False


class BrokerConfigError(BrokerError):
    pass


class BrokerAuthError(BrokerError):
    pass


class BrokerRateLimited(BrokerError):
    retryable = True


class BrokerUnavailable(BrokerError):
    retryable = True


class BrokerReadIncomplete(BrokerUnavailable):
    """A list (order history, open orders, balance) could not be read to its last page: a
    page cap, an error mid-paging, or a continuation key KIS repeated. What was read is not
    a complete picture, so a row missing from it proves nothing."""


class BrokerRejected(BrokerError):
    """The broker refused the request; ``code`` is its message code (e.g. ``40580000``)."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class OrderTypeRefused(BrokerRejected):
    """The order type is not accepted now (e.g. ``03`` in a VI auction or the closing call):
    the same intent with an accepted type may be sent instead."""


class BrokerValidationError(BrokerError):
    pass


class OrderOutcomeUnknown(BrokerError):
    """The order request left us, but no trustworthy answer came back."""


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    price: int
    open: int
    high: int
    low: int
    base_price: int  # 기준가: usually the previous close
    change_rate: Decimal
    volume: int
    turnover: int
    upper_limit: int
    lower_limit: int
    name: str = ""
    ask: int | None = None
    bid: int | None = None
    halted: bool = False
    warning_code: str = "00"  # mrkt_warn_cls_code: 00 none, 01 caution, 02 warning, 03 danger
    at: datetime | None = None
    vi_code: str = ""  # vi_cls_code: N none; Y, 1 static, 2 dynamic, 3 both (trading_state.py)


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: int
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderBook:
    symbol: str
    asks: tuple[BookLevel, ...]  # best (lowest) first
    bids: tuple[BookLevel, ...]  # best (highest) first
    at: datetime | None = None
    # from the same reply's summary (output2), 0 / "" where it said nothing
    last: int = 0  # stck_prpr
    base_price: int = 0  # stck_sdpr: the day's limits follow from it
    vi_code: str = ""  # vi_cls_code, as in a quote

    @property
    def best_ask(self) -> int | None:
        return next((level.price for level in self.asks if level.price), None)

    @property
    def best_bid(self) -> int | None:
        return next((level.price for level in self.bids if level.price), None)


@dataclass(frozen=True, slots=True)
class RankedStock:
    rank: int
    symbol: str
    name: str
    price: int
    change_rate: Decimal
    volume: int
    turnover: int


@dataclass(frozen=True, slots=True)
class Holding:
    symbol: str
    quantity: int
    orderable_quantity: int
    average_price: Decimal
    purchase_amount: int
    price: int
    name: str = ""

    @property
    def market_value(self) -> int:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class AccountBalance:
    holdings: tuple[Holding, ...]
    cash: int  # 예수금 D+0
    settled_cash_d2: int  # D+2 예수금
    total_evaluation: int
    costs_today: int | None = None  # thdt_tlex_amt: today's commission and tax; None if absent

    def holding(self, symbol: str) -> Holding | None:
        return next((h for h in self.holdings if h.symbol == symbol and h.quantity), None)


@dataclass(frozen=True, slots=True)
class BuyingPower:
    cash: int  # ord_psbl_cash
    max_amount: int  # nrcvb_buy_amt: without creating an unpaid (미수) buy
    max_quantity: int


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: Side
    quantity: int
    order_type: OrderType
    price: int = 0  # ignored unless the order type carries a price


@dataclass(frozen=True, slots=True)
class OrderAck:
    broker_order_no: str  # ODNO, a 10-digit zero-padded string
    branch: str  # KRX_FWDG_ORD_ORGNO
    ordered_at: datetime


@dataclass(frozen=True, slots=True)
class BrokerOrder:
    """One row of the broker's daily order history (inquire-daily-ccld)."""

    trading_day: date
    broker_order_no: str
    original_order_no: str
    branch: str
    symbol: str
    side: Side
    order_type: OrderType | None
    quantity: int
    price: int
    ordered_at: datetime
    filled_quantity: int
    filled_amount: int
    remaining_quantity: int
    cancelled: bool = False
    rejected_quantity: int = 0
    cancel_order: bool = False  # a 취소 row: the cancel of ``original_order_no``, never a fill

    @property
    def is_open(self) -> bool:
        return self.remaining_quantity > 0 and not self.cancelled

    @property
    def is_new_order(self) -> bool:
        """Whether this row is an order of its own, not a revise (정정) or cancel (취소) of
        ``original_order_no``: KIS lists those with a new ODNO and ``orgn_odno`` set (REST
        leaves it empty for a new order, the real-time notice all zeros)."""
        return not self.original_order_no.strip().strip("0")


@dataclass(frozen=True, slots=True)
class ExecutionNotice:
    """A real-time order or fill notice (H0STCNI0 / H0STCNI9)."""

    broker_order_no: str
    original_order_no: str
    symbol: str
    side: Side
    is_fill: bool  # CNTG_YN 2: a fill; 1: an accept/modify/cancel/reject receipt
    rejected: bool
    quantity: int  # fill quantity for fills, order quantity for receipts
    price: int
    at: datetime
    order_quantity: int = 0
    # a receipt that only says the order was taken (RCTF_CLS 0, ACPT_YN 1, RFUS_YN 0): it
    # changes nothing we know; False where the frame says otherwise or cannot tell
    accept_only: bool = False
    # how many notices identical to this one (order, kind, time, quantity, price) the stream
    # saw before it: two same-second fills of one order stay two, a redelivery stays one
    sequence: int = 0

    @property
    def fill_key(self) -> str:
        """This fill's identity among the order's notices (KIS gives a notice no id)."""
        return f"{self.at:%H%M%S}:{self.quantity}@{self.price}#{self.sequence}"


@dataclass(frozen=True, slots=True)
class Tick:
    """A real-time trade print (H0STCNT0)."""

    symbol: str
    price: int
    volume: int
    cumulative_volume: int
    at: datetime
    ask: int | None = None
    bid: int | None = None
    hour_code: str = ""  # HOUR_CLS_CODE: "0" regular, "C" VI, "A" closing call; "" unsent
    halted: bool | None = None  # TRHT_YN; None: the record did not say
