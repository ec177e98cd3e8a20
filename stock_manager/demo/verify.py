"""The demo's verdict: flat by the simulator's own state, and the ledger equal to its orders
and fills one to one (costs to the won, within per-fill rounding the broker applies)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stock_manager.domain.trade import SymbolState
from stock_manager.ports import UnitOfWork


@dataclass
class Verdict:
    flat: bool = True
    ledger_matches: bool = True
    problems: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.flat and self.ledger_matches

    def fail(self, problem: str, flat: bool = False) -> None:
        self.problems.append(problem)
        if flat:
            self.flat = False
        else:
            self.ledger_matches = False


def verify(uow: UnitOfWork, day: date, sim: dict[str, Any]) -> Verdict:
    verdict = Verdict()
    _check_flat(verdict, uow, sim)
    _check_orders(verdict, uow, day, sim)
    _check_costs(verdict, uow, day, sim)
    return verdict


def _check_flat(v: Verdict, uow: UnitOfWork, sim: dict[str, Any]) -> None:
    held = {h["symbol"]: h["qty"] for h in sim["holdings"] if h["qty"]}
    for symbol, qty in held.items():
        v.fail(f"the simulator still holds {qty} {symbol}", flat=True)
    with uow:
        open_symbols = [t for t in uow.symbols.find() if t.state is not SymbolState.FLAT]
    for trade in open_symbols:
        v.fail(f"the ledger has {trade.symbol} {trade.state.value} ({trade.quantity})", flat=True)
    v.figures["broker_holdings"] = held


def _check_orders(v: Verdict, uow: UnitOfWork, day: date, sim: dict[str, Any]) -> None:
    theirs = {o["odno"]: o for o in sim["orders"] if o["kind"] == "new"}
    with uow:
        ours = uow.orders.find(day=day)
        fills = {o.id: uow.fills.for_order(o.id or 0) for o in ours}
    sent = {o.broker_order_no: o for o in ours if o.broker_order_no}
    for number in sorted(set(theirs) - set(sent)):
        v.fail(f"simulator order {number} is missing from the ledger")
    for number in sorted(set(sent) - set(theirs)):
        v.fail(f"ledger order {number} is unknown to the simulator")
    for number in sorted(set(sent) & set(theirs)):
        order, row = sent[number], theirs[number]
        ledger = (
            order.symbol,
            order.side.value,
            order.quantity,
            order.filled_quantity,
            order.filled_amount,
        )
        broker = (row["symbol"], row["side"], row["qty"], row["filled_qty"], row["filled_amount"])
        if ledger != broker:
            v.fail(f"order {number}: ledger {ledger} != simulator {broker}")
        recorded = fills[order.id]
        if (sum(f.quantity for f in recorded), sum(f.notional for f in recorded)) != broker[3:]:
            v.fail(f"order {number}: fills do not add up to {broker[3:]}")
    for order in ours:
        if not order.status.is_terminal:
            v.fail(f"order {order.idempotency_key} is still {order.status.value}")
    v.figures.update(
        orders=len(theirs),
        ledger_orders=len(ours),
        fills=sum(len(o["fills"]) for o in theirs.values()),
    )


def _check_costs(v: Verdict, uow: UnitOfWork, day: date, sim: dict[str, Any]) -> None:
    with uow:
        fills = uow.fills.for_day(day)
    ours = sum(f.commission + f.tax for f in fills)
    cash = sim["cash"]
    theirs = cash["commission_today"] + cash["tax_today"]
    per_order: dict[str, int] = defaultdict(int)
    for order in sim["orders"]:
        per_order[order["odno"]] = len(order["fills"])
    # The broker rounds each execution; the ledger each fill increment it reads (FEE_BASIS
    # execution), and several executions between two reads make one increment.
    tolerance = sum(max(n - 1, 0) for n in per_order.values()) * 2
    v.figures.update(costs_ledger=ours, costs_broker=theirs, costs_tolerance=tolerance)
    if abs(ours - theirs) > tolerance:
        v.fail(f"costs differ by {ours - theirs:+,} won (ledger {ours:,}, broker {theirs:,})")
