"""Reconciliation: the ledger against the broker's balance and orders. The broker is right.

Order facts are applied first (so fills are never counted twice), then ledger rows are read
with their versions, then the balance. A difference is fixed only under the symbol's lease
and only if the row has not moved since it was read, so a stale snapshot never acts.

Before the quantities are compared, orders we did not send are recorded as they are at the
broker (``services/external.py``), and each symbol's opening lot is recorded where the day's
book cannot explain the broker's quantity (``services/basis.py``), so FIFO finds a lot for
every sell and a manual sale books its whole realized PnL.

=================  =========================================  ===========================
kind               what                                       fix
=================  =========================================  ===========================
orphan             broker holds shares, ledger holds none     adopt as HOLDING ("external"),
                                                              or IGNORED with
                                                              EXTERNAL_HOLDINGS=ignore
missing            ledger holds shares, broker holds none     FLAT
quantity_drift     both hold, different quantities            take the broker's quantity
stuck_order        ENTERING/EXITING with no order in flight   settle by the broker's qty
=================  =========================================  ===========================

A symbol with orders in flight (ours or someone else's) is left to order sync this cycle.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, replace
from functools import partial

from stock_manager.domain.broker import AccountBalance, BrokerOrder, Holding
from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import Side
from stock_manager.domain.records import RecoveryEntry, RecoveryKind
from stock_manager.domain.trade import SymbolEvent, SymbolState, SymbolTrade
from stock_manager.ports import Lane, NoticeLevel, using_lane
from stock_manager.services.basis import ensure_basis
from stock_manager.services.context import ServiceContext
from stock_manager.services.external import EXTERNAL_STRATEGY, record_external
from stock_manager.services.instruments import record_instrument
from stock_manager.services.isolation import per_symbol
from stock_manager.services.leasing import HeldLease, symbol_lease
from stock_manager.services.ledger import Writer, save_symbol
from stock_manager.services.resolver import read_view
from stock_manager.services.sync import UNSETTLED, sync_symbols
from stock_manager.services.writes import send_notices, writer


@dataclass(frozen=True, slots=True)
class Difference:
    symbol: str
    kind: RecoveryKind
    ledger_quantity: int
    broker_quantity: int
    action: str = ""


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    differences: tuple[Difference, ...]
    skipped: tuple[str, ...]  # busy or moved while we looked: next cycle
    balance: AccountBalance | None = None  # the complete read it was judged on

    @property
    def fixed(self) -> int:
        return sum(1 for d in self.differences if d.action not in ("", "none", "skipped"))


@dataclass(frozen=True, slots=True)
class _Snapshot:
    trades: dict[str, SymbolTrade]
    in_flight: set[str]  # symbols with orders that may still be live at the broker
    holdings: dict[str, Holding]
    ignore: bool  # EXTERNAL_HOLDINGS=ignore: shares we did not open are left alone
    balance: AccountBalance


log = logging.getLogger(__name__)


def reconcile(ctx: ServiceContext) -> ReconcileReport:
    day = kst_date(ctx.clock.now())
    view = read_view(ctx, day)  # complete, or BrokerReadIncomplete: nothing is fixed from less
    with ctx.uow as uow:
        unsettled = {o.symbol for o in uow.orders.find(day=day, statuses=UNSETTLED)}
    sync_symbols(ctx, unsettled, view)
    record_external(ctx, view)
    snapshot = _snapshot(ctx, list(view.rows))
    symbols = sorted(set(snapshot.trades) | set(snapshot.holdings))
    for symbol in _unexplained(ctx, symbols, snapshot.holdings):
        if symbol not in snapshot.in_flight:
            step = partial(
                ensure_basis,
                ctx,
                symbol,
                snapshot.holdings.get(symbol),
                snapshot.trades.get(symbol),
            )
            per_symbol(ctx, symbol, "opening lot", step, None)
    differences, skipped = [], []
    for symbol in symbols:
        difference = classify(snapshot, symbol)
        if difference is None:
            continue
        skipped_one = replace(difference, action="skipped")
        fixed = per_symbol(
            ctx, symbol, "reconcile", partial(_fix, ctx, snapshot, difference), skipped_one
        )
        differences.append(fixed)
        if fixed.action == "skipped":
            skipped.append(symbol)
    return ReconcileReport(tuple(differences), tuple(skipped), snapshot.balance)


def _unexplained(
    ctx: ServiceContext, symbols: list[str], holdings: dict[str, Holding]
) -> list[str]:
    """The symbols whose broker quantity the day's book (fills and opening lots, one read of
    each) does not explain: only these need ``ensure_basis``, which looks again under the
    symbol's lease. The rest cost no lease and no read of their own (a hundred symbols: a
    hundred leases and ten thousand rows fewer)."""
    day = kst_date(ctx.clock.now())
    with ctx.uow as uow:
        fills = uow.fills.for_day(day)
        adjustments = uow.adjustments.for_day(day)
    net: Counter[str] = Counter()
    for fill in fills:
        net[fill.symbol] += fill.quantity if fill.side is Side.BUY else -fill.quantity
    for adjustment in adjustments:
        net[adjustment.symbol] += adjustment.quantity
    return [s for s in symbols if (h.quantity if (h := holdings.get(s)) else 0) != net[s]]


def _snapshot(ctx: ServiceContext, rows: list[BrokerOrder]) -> _Snapshot:
    day = kst_date(ctx.clock.now())
    with ctx.uow as uow:
        trades = {t.symbol: t for t in uow.symbols.find()}
        ours = uow.orders.find(day=day)
    known = {o.broker_order_no for o in ours if o.broker_order_no}
    in_flight = {o.symbol for o in ours if o.status.may_be_live}
    # An open order nobody has recorded yet (its symbol was busy, or an order of ours there
    # is undecided): quantities are in motion, as with our own.
    in_flight |= {r.symbol for r in rows if r.is_open and r.broker_order_no not in known}
    with using_lane(Lane.SYNC):
        balance: AccountBalance = ctx.broker.balance()
    holdings = {h.symbol: h for h in balance.holdings if h.quantity > 0}
    ignore = ctx.trading.external_holdings == "ignore"
    return _Snapshot(trades, in_flight, holdings, ignore, balance)


def classify(s: _Snapshot, symbol: str) -> Difference | None:
    trade = s.trades.get(symbol) or SymbolTrade(symbol)
    held = s.holdings[symbol].quantity if symbol in s.holdings else 0
    mine = trade.quantity
    if symbol in s.in_flight:
        return None  # quantities are in motion; order sync owns this symbol now
    if trade.state.in_flight:
        return Difference(symbol, RecoveryKind.STUCK_ORDER, mine, held)
    if trade.state is SymbolState.IGNORED and held and not s.ignore:
        return Difference(symbol, RecoveryKind.ORPHAN, mine, held)  # now to be managed
    if held == mine:
        return None
    if mine == 0:
        return Difference(symbol, RecoveryKind.ORPHAN, mine, held)
    if held == 0:
        return Difference(symbol, RecoveryKind.MISSING, mine, held)
    return Difference(symbol, RecoveryKind.QUANTITY_DRIFT, mine, held)


def _fix(ctx: ServiceContext, s: _Snapshot, d: Difference) -> Difference:
    version = s.trades[d.symbol].version if d.symbol in s.trades else 0
    record_instrument(ctx, d.symbol)  # an adopted ETF's sale is costed as an ETF's
    with symbol_lease(ctx, d.symbol) as lease:
        if lease is None:
            return replace(d, action="skipped")
        action = _fix_under_lease(ctx, lease, s, d, version)
    return replace(d, action=action)


def _fix_under_lease(
    ctx: ServiceContext, lease: HeldLease, s: _Snapshot, d: Difference, version: int
) -> str:
    w = writer(ctx, lease)
    with ctx.uow as uow:
        trade = uow.symbols.get(d.symbol) or SymbolTrade(d.symbol)
        if trade.version != version:
            return "skipped"  # it moved since we looked; the next cycle sees it afresh
        after = _corrected(trade, d, s.holdings.get(d.symbol), w, s.ignore)
        if after is None or after == trade:
            return "none"
        save_symbol(uow, w, trade, after, f"reconcile:{d.kind.value}")
        action = (
            f"{trade.state.value}->{after.state.value} qty {d.ledger_quantity}->{d.broker_quantity}"
        )
        uow.recovery.record(
            RecoveryEntry(
                d.kind,
                action,
                w.at,
                d.symbol,
                {"ledger": d.ledger_quantity, "broker": d.broker_quantity},
            )
        )
        uow.commit()
    _alert(ctx, w, d, action)
    return action


def _corrected(
    trade: SymbolTrade, d: Difference, holding: Holding | None, w: Writer, ignore: bool
) -> SymbolTrade | None:
    quantity = d.broker_quantity
    cost = int((holding.average_price * quantity).to_integral_value()) if holding else 0
    kind = d.kind
    if trade.state is SymbolState.QUARANTINED:
        return replace(trade, quantity=quantity, cost=cost)  # stays quarantined; exits sell this
    if kind is RecoveryKind.STUCK_ORDER:
        return _unstick(trade, quantity, cost)
    if kind is RecoveryKind.ORPHAN:
        if ignore:
            return trade.apply(SymbolEvent.IGNORE_HOLDING, quantity=quantity, cost=cost)
        return trade.apply(
            SymbolEvent.ADOPT_HOLDING,
            quantity=quantity,
            cost=cost,
            strategy=EXTERNAL_STRATEGY,
            entered_at=w.at,
            high_water=int(holding.average_price) if holding else 0,
        )
    if kind is RecoveryKind.MISSING:
        return trade.apply(SymbolEvent.POSITION_GONE, quantity=0, cost=0)
    return trade.apply(SymbolEvent.ADJUST_QUANTITY, quantity=quantity, cost=cost)


def _unstick(trade: SymbolTrade, quantity: int, cost: int) -> SymbolTrade:
    entering = trade.state is SymbolState.ENTERING
    if quantity:
        event = SymbolEvent.BUY_ENDED_PARTIAL if entering else SymbolEvent.SELL_ENDED_PARTIAL
    else:
        event = SymbolEvent.BUY_ENDED_EMPTY if entering else SymbolEvent.SELL_FILLED
    return trade.apply(event, quantity=quantity, cost=cost)


def _alert(ctx: ServiceContext, w: Writer, d: Difference, action: str) -> None:
    level: NoticeLevel = "error" if action == "quarantined" else "warning"
    w.alert(
        "reconciliation",
        level,
        f"{d.symbol}: {d.kind.value}",
        f"ledger {d.ledger_quantity}, broker {d.broker_quantity}: {action}",
        thread_key=f"reconcile:{d.symbol}",
    )
    send_notices(ctx, w)
