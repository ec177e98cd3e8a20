"""The ``Broker`` port over KIS REST: what services use. Lanes come from ``using_lane``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from stock_manager.adapters.kis.errors import KISNotSupported
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.adapters.kis.rest import KisRestClient
from stock_manager.domain.broker import (
    AccountBalance,
    BrokerOrder,
    BuyingPower,
    Candle,
    OrderAck,
    OrderBook,
    OrderRequest,
    Quote,
    RankedStock,
)
from stock_manager.domain.instruments import Instrument
from stock_manager.domain.orders import Side


class KisBroker:
    """Implements ``stock_manager.ports.Broker``; paper lacks some TRs, handled here."""

    def __init__(
        self, rest: KisRestClient, orders: KisOrderClient, scan_etfs: bool = False
    ) -> None:
        self.rest, self.order_client = rest, orders
        self.scan_etfs = scan_etfs  # the volume ranking lists ETFs too (SCAN_ETFS)

    def __repr__(self) -> str:
        return f"KisBroker({self.rest.http!r})"

    @property
    def _paper(self) -> bool:
        return self.rest.http.env.is_paper

    def quote(self, symbol: str) -> Quote:
        return self.rest.quote(symbol)

    def quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        """One multprice request per 30 symbols on live; one inquire-price each on paper."""
        unique = list(dict.fromkeys(symbols))
        if not unique:
            return {}
        if not self._paper:
            return self.rest.multi_quote(unique)
        return {symbol: self.rest.quote(symbol) for symbol in unique}

    def orderbook(self, symbol: str) -> OrderBook:
        return self.rest.orderbook(symbol)

    def minute_candles(self, symbol: str) -> list[Candle]:
        return self.rest.minute_candles(symbol)

    def daily_candles(self, symbol: str, start: date, end: date) -> list[Candle]:
        return self.rest.daily_candles(symbol, start, end)

    def volume_rank(self) -> list[RankedStock] | None:
        try:
            return self.rest.volume_rank(etfs=self.scan_etfs)
        except KISNotSupported:
            return None

    def balance(self) -> AccountBalance:
        return self.rest.balance()

    def buying_power(self, symbol: str, price: int) -> BuyingPower:
        return self.rest.buying_power(symbol, price)

    def instrument(self, symbol: str) -> Instrument:
        """주식기본조회 on live; paper lacks it, so the quote's fields there (⚠)."""
        if self._paper:
            return self.rest.instrument_from_quote(symbol)
        return self.rest.instrument(symbol)

    def submit(self, request: OrderRequest) -> OrderAck:
        return self.order_client.submit(request)

    def cancel(self, broker_order_no: str, branch: str, quantity: int | None = None) -> OrderAck:
        return self.order_client.cancel(broker_order_no, branch, quantity)

    def modify(
        self, broker_order_no: str, branch: str, request: OrderRequest, all_remaining: bool = True
    ) -> OrderAck:
        return self.order_client.modify(broker_order_no, branch, request, all_remaining)

    def orders(
        self,
        day: date,
        symbol: str | None = None,
        side: Side | None = None,
        order_no: str | None = None,
    ) -> list[BrokerOrder]:
        return self.rest.daily_orders(day, symbol=symbol or "", side=side, order_no=order_no or "")

    def open_orders(self) -> list[BrokerOrder]:
        """Cancellable orders: inquire-psbl-rvsecncl on live, unfilled daily-ccld rows on paper."""
        if self._paper:
            return [o for o in self.rest.daily_orders(self.rest.today()) if o.is_open]
        return self.rest.pending_orders()

    def is_trading_day(self, day: date) -> bool | None:
        try:
            return self.rest.is_trading_day(day)
        except KISNotSupported:
            return None
