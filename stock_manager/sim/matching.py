"""The matching engine: accept, modify and cancel orders; fill them against the market.

Every check an order fails raises :class:`Rejection` before anything is recorded, so a
refused order leaves no trace. An accepted order gets the next ODNO, an ``accepted`` notice,
and (in continuous trading) crosses the book at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from stock_manager.domain.krx import is_on_tick
from stock_manager.domain.orders import Side
from stock_manager.sim.account import Account
from stock_manager.sim.config import SimConfig
from stock_manager.sim.faults import FaultInjector
from stock_manager.sim.fills import available_in_book, share_trade, take_from_book
from stock_manager.sim.market import SymbolMarket, Trade
from stock_manager.sim.messages import Msg, Rejection
from stock_manager.sim.orders import (
    AUCTION_TYPES,
    BEST_TYPES,
    FOK_TYPES,
    IOC_TYPES,
    MARKET_TYPES,
    Notice,
    NoticeKind,
    OrderKind,
    OrderStatus,
    SimFill,
    SimOrder,
)
from stock_manager.sim.session import Phase

PRICED_TYPES = frozenset({"00", "02", "11", "12"})


@dataclass(frozen=True, slots=True)
class OrderRequest:
    symbol: str
    side: Side
    ord_dvsn: str
    qty: int
    price: int


class Matching:
    def __init__(
        self,
        config: SimConfig,
        account: Account,
        markets: dict[str, SymbolMarket],
        notify: Callable[[Notice], None],
        faults: FaultInjector,
    ) -> None:
        self.config = config
        self.account = account
        self.markets = markets
        self.notify = notify
        self.faults = faults
        self.orders: dict[int, SimOrder] = {}
        self.open_orders: dict[str, list[SimOrder]] = {}
        self._next_odno = 1
        self._fill_seq = 0

    # -- queries -----------------------------------------------------------------------------
    def reserved_cash(self) -> int:
        return sum(
            self.account.buy_cost(order.remaining * order.reserve_price, order.symbol)
            for orders in self.open_orders.values()
            for order in orders
            if order.is_buy
        )

    def buying_power(self) -> int:
        return self.account.cash_d2 - self.reserved_cash()

    def open_sell_qty(self, symbol: str) -> int:
        return sum(o.remaining for o in self.open_orders.get(symbol, ()) if not o.is_buy)

    def open_list(self) -> list[SimOrder]:
        return [order for orders in self.open_orders.values() for order in orders]

    # -- checks --------------------------------------------------------------------------------
    def _check_phase(self, phase: Phase, ord_dvsn: str) -> None:
        if phase is Phase.PRE:
            raise Rejection(Msg.BEFORE_OPEN)
        if phase is Phase.CLOSED:
            raise Rejection(Msg.AFTER_CLOSE)
        if phase is Phase.AUCTION and ord_dvsn not in AUCTION_TYPES:
            raise Rejection(Msg.NOT_IN_AUCTION, ord_dvsn)

    def _market(self, symbol: str) -> SymbolMarket:
        market = self.markets.get(symbol)
        if market is None:
            raise Rejection(Msg.BAD_SYMBOL, symbol)
        return market

    def _limit(self, market: SymbolMarket, side: Side, ord_dvsn: str, price: int) -> int | None:
        """The price the order works at; ``None`` for market orders."""
        if ord_dvsn not in self.config.dialect.order_types:
            raise Rejection(Msg.BAD_ORDER_TYPE, ord_dvsn)
        if ord_dvsn in PRICED_TYPES:
            if not (is_on_tick(price, market.limits.kind) and market.limits.contains(price)):
                raise Rejection(Msg.BAD_PRICE, str(price))
            return price
        if ord_dvsn in MARKET_TYPES:
            return None
        book = market.book()
        quote = book.best(side is Side.BUY) if ord_dvsn in BEST_TYPES else 0
        if ord_dvsn == "04":
            quote = book.best_same_side(side is Side.BUY)
        return quote or market.last

    def _check_funds(
        self, market: SymbolMarket, side: Side, qty: int, limit: int | None, released: int = 0
    ) -> int:
        """Check buying power (buys) or sellable shares (sells); return the reserve price."""
        if side is Side.SELL:
            held = self.account.holdings.get(market.code)
            if held is None or held.qty <= 0:
                raise Rejection(Msg.NO_HOLDING, market.code)
            if qty > held.qty - self.open_sell_qty(market.code) + released:
                raise Rejection(Msg.NO_SELLABLE, market.code)
            return 0
        reserve = market.limits.upper if limit is None else limit
        if self.account.buy_cost(qty * reserve, market.code) > self.buying_power() + released:
            raise Rejection(Msg.NO_CASH)
        return reserve

    # -- order entry ---------------------------------------------------------------------------
    def _new_record(
        self,
        kind: OrderKind,
        origin: SimOrder | None,
        market: SymbolMarket,
        req: OrderRequest,
        limit: int | None,
        now: datetime,
    ) -> SimOrder:
        order = SimOrder(
            odno=self._next_odno,
            orgn_odno=origin.odno if origin else None,
            kind=kind,
            symbol=market.code,
            name=market.spec.name,
            side=req.side,
            ord_dvsn=req.ord_dvsn,
            qty=req.qty,
            price=req.price if req.ord_dvsn in PRICED_TYPES else 0,
            limit=limit,
            created_at=now,
        )
        self._next_odno += 1
        self.orders[order.odno] = order
        return order

    def crossing_qty(self, symbol: str, price: int) -> int:
        """Shares of open orders an uncross at ``price`` reaches (the auction's other side)."""
        return sum(
            o.remaining
            for o in self.open_orders.get(symbol, ())
            if o.limit is None or (o.limit <= price if not o.is_buy else o.limit >= price)
        )

    def _symbol_phase(self, market: SymbolMarket, phase: Phase) -> Phase:
        """A halt refuses every order; a VI is a single-price auction of its own."""
        if market.halted and phase in (Phase.CONTINUOUS, Phase.AUCTION):
            raise Rejection(Msg.HALTED, market.code)
        if market.vi is not None and phase is Phase.CONTINUOUS:
            return Phase.AUCTION
        return phase

    def place(self, req: OrderRequest, now: datetime, phase: Phase) -> SimOrder:
        market = self._market(req.symbol)
        phase = self._symbol_phase(market, phase)
        self._check_phase(phase, req.ord_dvsn)
        limit = self._limit(market, req.side, req.ord_dvsn, req.price)
        reserve = self._check_funds(market, req.side, req.qty, limit)
        order = self._new_record(OrderKind.NEW, None, market, req, limit, now)
        order.reserve_price = reserve
        self.notify(Notice(NoticeKind.ACCEPTED, order, order.qty, order.price, now))
        if self.faults.exchange_reject():
            order.status, order.reason = OrderStatus.REJECTED, "exchange reject (fault)"
            self.notify(Notice(NoticeKind.REJECTED, order, order.qty, order.price, now))
            return order
        self._work(order, market, now, phase)
        return order

    def _work(self, order: SimOrder, market: SymbolMarket, now: datetime, phase: Phase) -> None:
        if phase is Phase.CONTINUOUS:
            self._cross(order, market, now)
        if order.is_open:
            self.open_orders.setdefault(order.symbol, []).append(order)

    def _cross(self, order: SimOrder, market: SymbolMarket, now: datetime) -> None:
        book = market.book()
        if order.ord_dvsn in FOK_TYPES and available_in_book(order, book) < order.remaining:
            self._expire(order, now)
            return
        if order.ord_dvsn != "04":
            for qty, price in take_from_book(order, book, order.remaining):
                self._fill(order, qty, price, now)
        if order.ord_dvsn in IOC_TYPES | FOK_TYPES and order.is_open:
            self._expire(order, now)

    # -- modify and cancel ---------------------------------------------------------------------
    def _original(self, odno: int) -> SimOrder:
        order = self.orders.get(odno)
        if order is None or order.kind is OrderKind.CANCEL:
            raise Rejection(Msg.NO_SUCH_ORDER, str(odno))
        if not order.is_open:
            raise Rejection(Msg.NOTHING_TO_CHANGE, str(odno))
        return order

    def _change_qty(self, original: SimOrder, qty: int, all_qty: bool) -> int:
        wanted = original.remaining if all_qty else qty
        if wanted <= 0 or wanted > original.remaining:
            raise Rejection(Msg.NOTHING_TO_CHANGE, f"{wanted} of {original.remaining}")
        return wanted

    def modify(
        self, odno: int, req: OrderRequest, all_qty: bool, now: datetime, phase: Phase
    ) -> SimOrder:
        """Move ``qty`` (or all) of the remainder to a new order at a new price or type."""
        original = self._original(odno)
        market = self._market(original.symbol)
        phase = self._symbol_phase(market, phase)
        self._check_phase(phase, req.ord_dvsn)
        qty = self._change_qty(original, req.qty, all_qty)
        changed = OrderRequest(original.symbol, original.side, req.ord_dvsn, qty, req.price)
        limit = self._limit(market, original.side, req.ord_dvsn, req.price)
        released = (
            qty
            if not original.is_buy
            else self.account.buy_cost(qty * original.reserve_price, original.symbol)
        )
        reserve = self._check_funds(market, original.side, qty, limit, released)
        order = self._new_record(OrderKind.MODIFY, original, market, changed, limit, now)
        order.reserve_price = reserve
        original.replaced_qty += qty
        self._settle(original)
        self.notify(Notice(NoticeKind.MODIFIED, order, qty, order.price, now))
        self._work(order, market, now, phase)
        return order

    def cancel(self, odno: int, qty: int, all_qty: bool, now: datetime, phase: Phase) -> SimOrder:
        original = self._original(odno)
        self._check_phase(phase, "00")
        qty = self._change_qty(original, qty, all_qty)
        market = self._market(original.symbol)
        req = OrderRequest(original.symbol, original.side, original.ord_dvsn, qty, original.price)
        record = self._new_record(OrderKind.CANCEL, original, market, req, original.limit, now)
        record.status = OrderStatus.CONFIRMED
        original.cancelled_qty += qty
        self._settle(original)
        self.notify(Notice(NoticeKind.CANCELLED, record, qty, original.price, now))
        return record

    # -- market events -------------------------------------------------------------------------
    def on_trade(self, trade: Trade) -> None:
        orders = self.open_orders.get(trade.symbol)
        if not orders:
            return
        for order, qty, price in share_trade(
            orders, trade.price, trade.qty, self.config.fill_on_touch, uniform=trade.auction
        ):
            self._fill(order, qty, price, trade.at)

    def prepare_auction(self) -> None:
        """조건부지정가 (02) remainders turn into market orders for the closing call."""
        for order in self.open_list():
            if order.ord_dvsn == "02":
                order.limit = None

    def expire_all(self, now: datetime) -> int:
        """End of day: every unfilled remainder is cancelled by the exchange."""
        expired = self.open_list()
        for order in expired:
            self._expire(order, now)
        return len(expired)

    # -- bookkeeping ---------------------------------------------------------------------------
    def _fill(self, order: SimOrder, qty: int, price: int, at: datetime) -> None:
        costs = self.account.apply_fill(order.symbol, order.name, order.side, qty, price)
        self._fill_seq += 1
        order.filled_qty += qty
        order.filled_amount += qty * price
        order.fills.append(SimFill(self._fill_seq, qty, price, at, costs.commission, costs.tax))
        self._settle(order)
        self.notify(Notice(NoticeKind.FILLED, order, qty, price, at))

    def _expire(self, order: SimOrder, now: datetime) -> None:
        qty = order.remaining
        order.cancelled_qty += qty
        self._settle(order)
        self.notify(Notice(NoticeKind.EXPIRED, order, qty, order.price, now))

    def _settle(self, order: SimOrder) -> None:
        order.settle_status()
        if not order.is_open:
            working = self.open_orders.get(order.symbol)
            if working and order in working:
                working.remove(order)
