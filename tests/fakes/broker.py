"""``FakeBroker``: the ``Broker`` port in memory, deterministic, driven by the test.

Market data — set what the services will read::

    broker = FakeBroker(clock)                      # clock: anything with now() (FakeClock)
    broker.set_quote("005930", 71_500)              # other Quote fields via keywords
    broker.set_book("005930", asks=[(71_600, 10)], bids=[(71_500, 7)])
    broker.minute[symbol] = [Candle, ...]           # oldest first; broker.daily[symbol] too
    broker.rank = [RankedStock, ...] or None        # None: "not offered" (paper)
    broker.holidays.add(date(2026, 12, 25))         # broker.calendar_known = False -> None

Account — ``broker.cash`` (won), holdings follow fills; ``set_holding(symbol, qty, avg)``
seeds a position. Fees: ``commission_rate`` and ``sell_tax_rate`` (Decimal, default 0).

Orders — ``submit`` accepts with sequential 10-digit ODNOs ("0000000001", ...) on branch
"00950" and keeps the order open until the test acts:

    broker.fill(odno, qty, price)       # a partial or full fill; cash and holdings move
    broker.cancel_by_exchange(odno)     # the exchange cancels the rest (IOC, close, VI)
    broker.reject(odno)                 # the exchange rejects what remains
    broker.fail_next_submit(exc)        # the next submit raises exc, nothing is created
    broker.fail_next_submit(OrderOutcomeUnknown("timeout"), accepted=True)
                                        # accept-then-timeout: the order exists, the caller
                                        # got an exception (what the resolver must find)
    broker.fail_next("cancel", exc)     # any method: its next call raises exc

``cancel`` cancels what remains at once and, like KIS, adds a cancel-order row (new ODNO,
``original_order_no`` = the cancelled one, ``cancelled=True``) to ``orders(day)``; nothing
left to cancel raises ``BrokerRejected(code="40330000")``. ``modify`` moves what remains to a
new order number and leaves the original with nothing remaining (as KIS shows it).
``orders(day)`` returns ``BrokerOrder`` rows with cumulative fills. Submits refused for lack
of cash or shares raise ``BrokerRejected`` with code "INSUFFICIENT_CASH" / "INSUFFICIENT_QTY".
Every call is recorded in ``broker.calls`` as ``(method, args)``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Protocol

from stock_manager.domain.broker import (
    AccountBalance,
    BookLevel,
    BrokerError,
    BrokerOrder,
    BrokerRejected,
    BuyingPower,
    Candle,
    Holding,
    OrderAck,
    OrderBook,
    OrderRequest,
    Quote,
    RankedStock,
)
from stock_manager.domain.clock import KST, kst_date
from stock_manager.domain.instruments import Instrument
from stock_manager.domain.orders import Side

BRANCH = "00950"


class _Clock(Protocol):
    def now(self) -> datetime: ...


class _FixedClock:
    def now(self) -> datetime:
        return datetime(2026, 11, 20, 10, 0, tzinfo=KST)


@dataclass
class _Position:
    quantity: int = 0
    cost: int = 0  # purchase amount of what is held


class FakeBroker:
    def __init__(
        self,
        clock: _Clock | None = None,
        cash: int = 10_000_000,
        commission_rate: Decimal = Decimal(0),
        sell_tax_rate: Decimal = Decimal(0),
    ) -> None:
        self.clock = clock or _FixedClock()
        self.cash = cash
        self.commission_rate, self.sell_tax_rate = commission_rate, sell_tax_rate
        self.quotes_by_symbol: dict[str, Quote] = {}
        self.books: dict[str, OrderBook] = {}
        self.minute: dict[str, list[Candle]] = {}
        self.daily: dict[str, list[Candle]] = {}
        self.rank: list[RankedStock] | None = []
        self.holidays: set[date] = set()
        self.calendar_known = True
        self.positions: dict[str, _Position] = defaultdict(_Position)
        self.rows: dict[str, BrokerOrder] = {}  # by ODNO, in submission order
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self._failures: dict[str, deque[tuple[BrokerError, bool]]] = defaultdict(deque)
        self._next_no = 0
        self.instruments: dict[str, Instrument] = {}
        self.costs_today: int | None = None  # thdt_tlex_amt, when a test sets it

    # -- test controls ----------------------------------------------------------------------
    def set_quote(self, symbol: str, price: int, **fields: Any) -> Quote:
        values: dict[str, Any] = {
            "symbol": symbol,
            "price": price,
            "open": price,
            "high": price,
            "low": price,
            "base_price": price,
            "change_rate": Decimal(0),
            "volume": 0,
            "turnover": 0,
            "upper_limit": price * 13 // 10,
            "lower_limit": price * 7 // 10,
            "at": self.clock.now(),
        }
        values.update(fields)
        self.quotes_by_symbol[symbol] = Quote(**values)
        return self.quotes_by_symbol[symbol]

    def set_book(
        self, symbol: str, asks: Sequence[tuple[int, int]], bids: Sequence[tuple[int, int]]
    ) -> None:
        self.books[symbol] = OrderBook(
            symbol,
            tuple(BookLevel(p, q) for p, q in asks),
            tuple(BookLevel(p, q) for p, q in bids),
            self.clock.now(),
        )

    def set_holding(self, symbol: str, quantity: int, average_price: int) -> None:
        self.positions[symbol] = _Position(quantity, quantity * average_price)

    def fail_next(self, method: str, exc: BrokerError) -> None:
        self._failures[method].append((exc, False))

    def fail_next_submit(self, exc: BrokerError, accepted: bool = False) -> None:
        self._failures["submit"].append((exc, accepted))

    def fill(self, odno: str, quantity: int, price: int) -> BrokerOrder:
        row = self._open_row(odno)
        if quantity <= 0 or quantity > row.remaining_quantity:
            raise ValueError(f"cannot fill {quantity} of {odno}: {row.remaining_quantity} left")
        self._settle(row.symbol, row.side, quantity, price)
        return self._update(
            row,
            filled_quantity=row.filled_quantity + quantity,
            filled_amount=row.filled_amount + quantity * price,
            remaining_quantity=row.remaining_quantity - quantity,
        )

    def cancel_by_exchange(self, odno: str) -> BrokerOrder:
        row = self._open_row(odno)
        return self._update(row, remaining_quantity=0, cancelled=True)

    def reject(self, odno: str) -> BrokerOrder:
        row = self._open_row(odno)
        return self._update(row, remaining_quantity=0, rejected_quantity=row.remaining_quantity)

    def open_orders(self) -> list[BrokerOrder]:
        return [r for r in self.rows.values() if r.is_open]

    # -- the Broker port --------------------------------------------------------------------
    def quote(self, symbol: str) -> Quote:
        self._enter("quote", symbol)
        if symbol not in self.quotes_by_symbol:
            raise BrokerRejected(f"no quote for {symbol}", code="UNKNOWN_SYMBOL")
        return self.quotes_by_symbol[symbol]

    def quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        self._enter("quotes", tuple(symbols))
        return {s: self.quotes_by_symbol[s] for s in symbols if s in self.quotes_by_symbol}

    def orderbook(self, symbol: str) -> OrderBook:
        """The book set, with the quote's price, base price and VI code as its summary
        (KIS's output2 carries them from the same market state)."""
        self._enter("orderbook", symbol)
        book = self.books.get(symbol) or OrderBook(symbol, (), (), self.clock.now())
        quote = self.quotes_by_symbol.get(symbol)
        if quote is None:
            return book
        return replace(book, last=quote.price, base_price=quote.base_price, vi_code=quote.vi_code)

    def minute_candles(self, symbol: str) -> list[Candle]:
        self._enter("minute_candles", symbol)
        return list(self.minute.get(symbol, []))

    def daily_candles(self, symbol: str, start: date, end: date) -> list[Candle]:
        self._enter("daily_candles", symbol, start, end)
        return [c for c in self.daily.get(symbol, []) if start <= c.start.date() <= end]

    def volume_rank(self) -> list[RankedStock] | None:
        self._enter("volume_rank")
        return None if self.rank is None else list(self.rank)

    def balance(self) -> AccountBalance:
        self._enter("balance")
        holdings = tuple(self._holding(s, p) for s, p in sorted(self.positions.items()))
        value = sum(h.market_value for h in holdings)
        return AccountBalance(
            holdings, self.cash, self.cash, self.cash + value, costs_today=self.costs_today
        )

    def buying_power(self, symbol: str, price: int) -> BuyingPower:
        self._enter("buying_power", symbol, price)
        unit = price or self._price(symbol)
        return BuyingPower(self.cash, self.cash, self.cash // unit if unit else 0)

    def submit(self, request: OrderRequest) -> OrderAck:
        failure = self._pop_failure("submit", request)
        if failure is not None:
            exc, accepted = failure
            if accepted:
                self._accept(request)
            raise exc
        self._check_affordable(request)
        return self._ack(self._accept(request))

    def cancel(self, broker_order_no: str, branch: str, quantity: int | None = None) -> OrderAck:
        self._enter("cancel", broker_order_no, branch, quantity)
        row = self.rows.get(broker_order_no)
        if row is None or not row.is_open:
            raise BrokerRejected("모의투자 정정/취소할 수량이 없습니다.", code="40330000")
        amount = min(quantity or row.remaining_quantity, row.remaining_quantity)
        left = row.remaining_quantity - amount
        self._update(row, remaining_quantity=left, cancelled=left == 0)
        # the row keeps the original's price, as the simulator lists it: only ``orgn_odno``
        # tells it from a new order of the same symbol, side, quantity and price
        cancel_row = self._new_row(
            replace_of=row, quantity=amount, price=row.price, remaining=0, cancelled=True
        )
        return self._ack(cancel_row)

    def modify(
        self, broker_order_no: str, branch: str, request: OrderRequest, all_remaining: bool = True
    ) -> OrderAck:
        self._enter("modify", broker_order_no, branch, request, all_remaining)
        row = self.rows.get(broker_order_no)
        if row is None or not row.is_open:
            raise BrokerRejected("모의투자 정정/취소할 수량이 없습니다.", code="40330000")
        moved = (
            row.remaining_quantity
            if all_remaining
            else min(request.quantity, row.remaining_quantity)
        )
        self._update(row, remaining_quantity=row.remaining_quantity - moved)
        new = self._new_row(
            replace_of=row, quantity=moved, price=request.price, remaining=moved, cancelled=False
        )
        self.rows[new.broker_order_no] = replace(new, order_type=request.order_type)
        return self._ack(new)

    def orders(
        self,
        day: date,
        symbol: str | None = None,
        side: Side | None = None,
        order_no: str | None = None,
    ) -> list[BrokerOrder]:
        self._enter("orders", day, symbol, side, order_no)
        return [
            r
            for r in self.rows.values()
            if r.trading_day == day
            and symbol in (None, r.symbol)
            and side in (None, r.side)
            and order_no in (None, r.broker_order_no)
        ]

    def instrument(self, symbol: str) -> Instrument:
        self._enter("instrument", symbol)
        if symbol in self.instruments:
            return self.instruments[symbol]
        if symbol not in self.quotes_by_symbol:
            raise BrokerRejected(f"no stock info for {symbol}", code="7")
        return Instrument(symbol)

    def is_trading_day(self, day: date) -> bool | None:
        self._enter("is_trading_day", day)
        if not self.calendar_known:
            return None
        return day.weekday() < 5 and day not in self.holidays

    # -- internals --------------------------------------------------------------------------
    def _enter(self, method: str, *args: Any) -> None:
        self.calls.append((method, args))
        failure = self._pop_failure(method, None, record=False)
        if failure is not None:
            raise failure[0]

    def _pop_failure(
        self, method: str, request: OrderRequest | None, record: bool = True
    ) -> tuple[BrokerError, bool] | None:
        if record:
            self.calls.append((method, (request,)))
        queue = self._failures.get(method)
        return queue.popleft() if queue else None

    def _next_odno(self) -> str:
        self._next_no += 1
        return f"{self._next_no:010d}"

    def _accept(self, request: OrderRequest) -> BrokerOrder:
        now = self.clock.now()
        row = BrokerOrder(
            trading_day=kst_date(now),
            broker_order_no=self._next_odno(),
            original_order_no="",
            branch=BRANCH,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            quantity=request.quantity,
            price=request.price if request.order_type.has_price else 0,
            ordered_at=now,
            filled_quantity=0,
            filled_amount=0,
            remaining_quantity=request.quantity,
        )
        self.rows[row.broker_order_no] = row
        return row

    def _new_row(
        self, replace_of: BrokerOrder, quantity: int, price: int, remaining: int, cancelled: bool
    ) -> BrokerOrder:
        row = replace(
            replace_of,
            broker_order_no=self._next_odno(),
            original_order_no=replace_of.broker_order_no,
            quantity=quantity,
            price=price,
            ordered_at=self.clock.now(),
            filled_quantity=0,
            filled_amount=0,
            remaining_quantity=remaining,
            cancelled=cancelled,
            rejected_quantity=0,
            cancel_order=cancelled,  # a 취소 row, as KIS lists it
        )
        self.rows[row.broker_order_no] = row
        return row

    def _ack(self, row: BrokerOrder) -> OrderAck:
        return OrderAck(row.broker_order_no, row.branch, row.ordered_at)

    def _open_row(self, odno: str) -> BrokerOrder:
        row = self.rows.get(odno)
        if row is None or not row.is_open:
            raise ValueError(f"{odno} is not an open order")
        return row

    def _update(self, row: BrokerOrder, **changes: Any) -> BrokerOrder:
        updated = replace(row, **changes)
        self.rows[row.broker_order_no] = updated
        return updated

    def _check_affordable(self, request: OrderRequest) -> None:
        if request.side is Side.BUY:
            need = request.quantity * (request.price or self._price(request.symbol))
            reserved = sum(
                r.remaining_quantity * r.price for r in self.open_orders() if r.side is Side.BUY
            )
            if need + reserved > self.cash:
                raise BrokerRejected("주문가능금액을 초과 했습니다", code="INSUFFICIENT_CASH")
        elif request.quantity > self._orderable(request.symbol):
            raise BrokerRejected("주문가능수량을 초과 했습니다", code="INSUFFICIENT_QTY")

    def _orderable(self, symbol: str) -> int:
        selling = sum(
            r.remaining_quantity
            for r in self.open_orders()
            if r.symbol == symbol and r.side is Side.SELL
        )
        return self.positions[symbol].quantity - selling

    def _price(self, symbol: str) -> int:
        quote = self.quotes_by_symbol.get(symbol)
        return quote.price if quote else 0

    def _fee(self, amount: int, rate: Decimal) -> int:
        return int((Decimal(amount) * rate).to_integral_value(ROUND_FLOOR))

    def _settle(self, symbol: str, side: Side, quantity: int, price: int) -> None:
        amount = quantity * price
        commission = self._fee(amount, self.commission_rate)
        position = self.positions[symbol]
        if side is Side.BUY:
            self.cash -= amount + commission
            position.quantity += quantity
            position.cost += amount
            return
        tax = self._fee(amount, self.sell_tax_rate)
        self.cash += amount - commission - tax
        released = position.cost * quantity // position.quantity if position.quantity else 0
        position.quantity -= quantity
        position.cost -= released

    def _holding(self, symbol: str, position: _Position) -> Holding:
        average = Decimal(position.cost) / position.quantity if position.quantity else Decimal(0)
        price = self._price(symbol) or int(average)
        return Holding(
            symbol=symbol,
            quantity=position.quantity,
            orderable_quantity=self._orderable(symbol),
            average_price=average,
            purchase_amount=position.cost,
            price=price,
        )
