"""The simulated cash account: deposit, today's unsettled trades, holdings and realized PnL.

Trades settle T+2, so the D+0 deposit (``dnca_tot_amt``) does not move during the day; the
D+2 projection (``prvs_rcdl_excc_amt``) is the deposit plus today's net trade cash. A buy
is allowed only if its cost and commission fit in D+2 cash minus what open buys reserve
(krx.md §6, "Simulator rule").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stock_manager.domain.fees import FeeSchedule, TradeCosts
from stock_manager.domain.instruments import InstrumentKind
from stock_manager.domain.orders import Side


@dataclass(slots=True)
class Holding:
    symbol: str
    name: str
    qty: int = 0
    cost: int = 0  # purchase amount of the shares held (pchs_amt), fees excluded
    buy_fees: int = 0  # buy commission not yet matched by a sale
    start_qty: int = 0  # held at the start of the day
    bought_qty: int = 0
    sold_qty: int = 0
    bought_amount: int = 0
    sold_amount: int = 0

    @property
    def average_price(self) -> float:
        return self.cost / self.qty if self.qty else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "name": self.name,
            "qty": self.qty,
            "avg_price": round(self.average_price, 4),
            "cost": self.cost,
            "today_buy_qty": self.bought_qty,
            "today_sell_qty": self.sold_qty,
        }


class Account:
    def __init__(
        self, cash: int, fees: FeeSchedule, kinds: dict[str, InstrumentKind] | None = None
    ) -> None:
        self.fees = fees
        self.kinds = kinds or {}  # ETFs and ETNs: their commission, no sale tax
        self.deposit = cash  # D+0
        self.net_trades = 0  # today's trade cash, signed, fees and tax included
        self.bought = self.sold = self.commission = self.tax = 0
        self.holdings: dict[str, Holding] = {}
        self.realized: dict[str, int] = {}

    @property
    def cash_d2(self) -> int:
        return self.deposit + self.net_trades

    def holding(self, symbol: str, name: str) -> Holding:
        held = self.holdings.get(symbol)
        if held is None:
            held = self.holdings[symbol] = Holding(symbol, name)
        return held

    def kind(self, symbol: str) -> InstrumentKind:
        return self.kinds.get(symbol, InstrumentKind.STOCK)

    def buy_cost(self, notional: int, symbol: str = "") -> int:
        return self.fees.buy_cash_needed(notional, self.kind(symbol))

    def apply_fill(self, symbol: str, name: str, side: Side, qty: int, price: int) -> TradeCosts:
        """Book one execution; return the commission and tax it cost."""
        notional = qty * price
        costs = self.fees.costs(side, notional, self.kind(symbol))
        held = self.holding(symbol, name)
        self.commission += costs.commission
        self.tax += costs.tax
        if side is Side.BUY:
            self.net_trades -= notional + costs.total
            self.bought += notional
            held.qty += qty
            held.cost += notional
            held.buy_fees += costs.commission
            held.bought_qty += qty
            held.bought_amount += notional
        else:
            self.net_trades += notional - costs.total
            self.sold += notional
            self._sell(held, qty, notional, costs)
        return costs

    def _sell(self, held: Holding, qty: int, notional: int, costs: TradeCosts) -> None:
        share = qty / held.qty if held.qty else 1.0
        basis = round(held.cost * share)
        fees = round(held.buy_fees * share)
        held.qty -= qty
        held.cost -= basis
        held.buy_fees -= fees
        held.sold_qty += qty
        held.sold_amount += notional
        pnl = notional - basis - fees - costs.total
        self.realized[held.symbol] = self.realized.get(held.symbol, 0) + pnl

    def set_cash(self, cash: int) -> None:
        self.deposit = cash

    def set_holding(self, symbol: str, name: str, qty: int, avg_price: float) -> None:
        """Seed a position directly (reconciliation tests): it counts as held since yesterday."""
        held = self.holding(symbol, name)
        held.qty = held.start_qty = qty
        held.cost = round(qty * avg_price)
        held.buy_fees = 0
        if qty == 0 and not (held.bought_qty or held.sold_qty):
            del self.holdings[symbol]

    def to_json(self) -> dict[str, Any]:
        return {
            "cash_d0": self.deposit,
            "cash_d2": self.cash_d2,
            "bought_today": self.bought,
            "sold_today": self.sold,
            "commission_today": self.commission,
            "tax_today": self.tax,
        }
