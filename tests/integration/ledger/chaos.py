"""A seeded trading day against the simulator with random faults, and the invariants that
must hold at its close (issue 12, "randomized invariant test").

Every step is what a worker, beat, the stream or a person does: entries (marketable and
resting), ticks through the exit levels, price checks, order sync (sometimes delivered twice),
reconciliation, the lease sweep, cancels, orders placed by hand in the HTS, and the follow-up
look-ups a worker would run at their countdown. Faults come and go: HTTP 5xx on the order
paths, replies that never come, replies that are no KIS answer, rate-limit bursts; a worker
killed between the send and the record (its lease is left to run out, as after SIGKILL); and,
with leases on Redis, Redis losing its memory. The day ends with liquidation rounds; on half
the days one position is left to the closing call, where its stop must send an order the
auction accepts and fill at the uncross.

Then, whatever happened:

1. exactly one broker order per intent: every order at the broker is a ledger order of ours
   (one each) or one placed by hand;
2. the ledger equals the broker: each order's fills, each symbol's quantity;
3. realized PnL equals the cash that moved, to the won (fees and tax included);
4. flat by the close;
5. no exception escaped a step, except the ones Celery would retry.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from stock_manager.domain.broker import BrokerRateLimited, BrokerUnavailable, OrderRequest
from stock_manager.domain.krx import Rounding, round_to_tick
from stock_manager.domain.orders import OrderPurpose, OrderStatus, OrderType, Side
from stock_manager.domain.pnl import fifo
from stock_manager.domain.session import TradingSession
from stock_manager.domain.trade import SymbolState
from stock_manager.ports import Lease, PendingTasks
from stock_manager.services.context import ServiceContext
from stock_manager.services.liquidation import liquidate_round
from stock_manager.services.orders import cancel_order, enter
from stock_manager.services.prices import check_prices, exit_now, on_tick
from stock_manager.services.reconcile import reconcile
from stock_manager.services.resolver import resolve_with_follow_up
from stock_manager.services.sweep import sweep_locks
from stock_manager.services.sync import UNSETTLED, sync_orders
from tests.integration.ledger.stack import Stack

RETRIED = (BrokerUnavailable, BrokerRateLimited)
FAULTS: list[dict[str, Any]] = [
    {},
    {"http500_rate": 0.5, "paths": ["order-cash", "order-rvsecncl"]},
    {"order_timeout_rate": 0.5, "order_timeout_hang_s": 1.5},
    {"order_reply_fault_rate": 0.6},
    {"rate_limit_burst_rate": 0.2, "rate_limit_burst_len": 3},
    {"http500_rate": 0.2},
]


CLOSING_CALL_SECONDS = 6.0
AUCTION = (OrderType.LIMIT, OrderType.MARKET)  # what KRX accepts in a single-price auction


class ClosingCall:
    """Our calendar, except that today's continuous trading ended at ``ends_continuous``:
    the hard cut is past and the closing call runs to ``ends``."""

    def __init__(self, inner: Any, ends_continuous: datetime, ends: datetime) -> None:
        self._inner, self._continuous, self._ends = inner, ends_continuous, ends

    def is_trading_day(self, day: date) -> bool:
        return bool(self._inner.is_trading_day(day))

    def session(self, day: date) -> TradingSession | None:
        session: TradingSession | None = self._inner.session(day)
        if session is None:
            return None
        opens = min(session.opens_at, self._continuous - timedelta(minutes=5))
        return replace(
            session, opens_at=opens, continuous_ends_at=self._continuous, auction_ends_at=self._ends
        )


class Killed(BaseException):
    """The worker died here (SIGKILL): nothing after this line ran, no lease was released."""


class KillableBroker:
    """The broker as a worker sees it; ``arm`` kills the worker at its next order send."""

    def __init__(self, inner: Any, locks: KillableLocks) -> None:
        self._inner, self._locks, self.armed = inner, locks, ""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def submit(self, request: OrderRequest) -> Any:
        mode, self.armed = self.armed, ""
        if mode == "before":
            self._locks.frozen = True
            raise Killed("before the send")
        ack = self._inner.submit(request)
        if mode == "after":
            self._locks.frozen = True
            raise Killed("after the send, before the record")
        return ack


class KillableLocks:
    """Leases as usual, except that a killed worker releases nothing."""

    def __init__(self, inner: Any) -> None:
        self._inner, self.frozen = inner, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def release(self, lease: Lease) -> bool:
        return False if self.frozen else bool(self._inner.release(lease))


@dataclass
class Day:
    stack: Stack
    rng: random.Random
    redis_keys: Callable[[], None] | None = None  # forgets Redis's memory, if leases are there
    manual: set[str] = field(default_factory=set)
    halted: set[str] = field(default_factory=set)
    escaped: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    follow_ups: list[tuple[float, int, int]] = field(default_factory=list)
    closing_sells: list[OrderType] = field(default_factory=list)

    def __post_init__(self) -> None:
        base = self.stack.ctx
        self.locks = KillableLocks(base.locks)
        self.broker = KillableBroker(base.broker, self.locks)
        self.ctx: ServiceContext = replace(
            base,
            broker=self.broker,
            locks=self.locks,
            tasks=PendingTasks(),  # type: ignore[arg-type]
        )
        listed = self.stack.admin("symbols")["symbols"]
        stocks = [s["symbol"] for s in listed if s["instrument"] == "stock"]
        etfs = [s["symbol"] for s in listed if s["instrument"] == "ETF"]
        self.etfs = etfs[:2]  # ETFs tick, are limited and are taxed their own way
        self.symbols = stocks[:4] + self.etfs
        self.stack.admin("account", {"cash": 2_000_000_000})
        self.opening_cash = self._cash()

    # -- the day -------------------------------------------------------------------------------
    def run(self, steps: int) -> None:
        actions = [
            (6, self.enter),
            (4, self.tick),
            (3, self.price_check),
            (3, self.sync),
            (2, self.reconcile),
            (1, self.sweep),
            (1, self.cancel),
            (2, self.faults),
            (1, self.by_hand),
            (1, self.kill_next_send),
            (1, self.forget_redis),
            (1, self.impossible_tick),
            (1, self.halt),
        ]
        weights = [w for w, _ in actions]
        self.step("enter", lambda: self.enter(self.rng.choice(self.etfs)))  # one ETF at least
        for _ in range(steps):
            (_, action) = self.rng.choices(actions, weights)[0]
            self.step(action.__name__, action)
            if self.rng.random() < 0.15:  # a message delivered twice
                self.step(f"{action.__name__} again", action)
            self.run_follow_ups()
        self.close()

    def step(self, name: str, action: Callable[[], object]) -> None:
        self.log.append(name)
        try:
            action()
        except Killed:
            self.locks.frozen = False
            self.log.append("  killed")
        except RETRIED as exc:
            self.log.append(f"  retried by Celery: {type(exc).__name__}")
        except Exception as exc:
            self.escaped.append(f"{name}: {type(exc).__name__}: {exc}")

    def run_follow_ups(self) -> None:
        pending: PendingTasks = self.ctx.tasks  # type: ignore[assignment]
        now = time.monotonic()
        for _, args, countdown in pending.pending:
            self.follow_ups.append((now + countdown, int(args[0]), int(args[1])))  # type: ignore[call-overload]
        pending.pending.clear()
        due = [f for f in self.follow_ups if f[0] <= now]
        self.follow_ups = [f for f in self.follow_ups if f[0] > now]
        for _, order_id, attempt in due:
            self.step(
                "resolve_order",
                lambda o=order_id, a=attempt: resolve_with_follow_up(self.ctx, o, a),
            )

    # -- steps ---------------------------------------------------------------------------------
    def enter(self, symbol: str | None = None) -> None:
        symbol = symbol or self.rng.choice(self.symbols)
        market = self.stack.market(symbol)
        resting = self.rng.random() < 0.3
        price = int(market["lower"] if resting else market["upper"])
        enter(self.ctx, symbol, self.rng.randint(1, 30), price, OrderType.LIMIT, "chaos")

    def tick(self) -> None:
        held = self._held()
        if not held:
            return
        trade = self.rng.choice(held)
        move = self.rng.choice([94, 96, 101, 107])  # percent: stops, trailing, take-profit
        price = round_to_tick(int(trade.average_price * move / 100), Rounding.DOWN)
        self.stack.admin("price", {"symbol": trade.symbol, "path": [price], "vi": True})
        on_tick(self.ctx, trade.symbol, price)

    def impossible_tick(self) -> None:
        """A tick no exchange could print (price 1, far below the band): it never sells."""
        held = self._held()
        if not held:
            return
        trade = self.rng.choice(held)
        sells = len([o for o in self.stack.orders(trade.symbol) if o.side is Side.SELL])
        # below the day's band whatever the instrument (a 2x ETF may fall 60 %, krx.md §4)
        lower = int(self.stack.market(trade.symbol)["lower"])
        on_tick(self.ctx, trade.symbol, self.rng.choice([1, max(lower // 2, 1)]))
        after = len([o for o in self.stack.orders(trade.symbol) if o.side is Side.SELL])
        if after != sells:
            self.escaped.append(f"impossible tick on {trade.symbol} sent a sell")

    def halt(self) -> None:
        """A symbol is halted (거래정지) or resumed: orders for it are refused meanwhile."""
        symbol = self.rng.choice(self.symbols)
        halting = symbol not in self.halted
        self.stack.admin("halt", {"symbol": symbol, "halted": halting})
        (self.halted.add if halting else self.halted.discard)(symbol)

    def price_check(self) -> None:
        for plan in check_prices(self.ctx).exits:
            exit_now(self.ctx, plan)

    def sync(self) -> None:
        sync_orders(self.ctx)

    def reconcile(self) -> None:
        reconcile(self.ctx)

    def sweep(self) -> None:
        sweep_locks(self.ctx)

    def cancel(self) -> None:
        with self.ctx.uow as uow:
            live = [o for o in uow.orders.find(day=self.stack.day, statuses=UNSETTLED)]
        ours = [o for o in live if o.purpose is not OrderPurpose.EXTERNAL and o.broker_order_no]
        if ours:
            cancel_order(self.ctx, self.rng.choice(ours).id or 0)

    def faults(self) -> None:
        self.stack.faults(**self.rng.choice(FAULTS))

    def by_hand(self) -> None:
        """Someone trades in the HTS: a buy, or a sell of what the broker holds."""
        symbol = self.rng.choice(self.symbols)
        held = self.stack.broker_holding(symbol)
        side = Side.SELL if held and self.rng.random() < 0.5 else Side.BUY
        quantity = self.rng.randint(1, held) if side is Side.SELL else self.rng.randint(1, 10)
        market = self.stack.market(symbol)
        price = int(market["lower"] if side is Side.SELL else market["upper"])
        self.stack.faults()  # a person's HTS order meets none of our gateway's faults
        request = OrderRequest(symbol, side, quantity, OrderType.LIMIT, price)
        try:
            self.manual.add(self.stack.ctx.broker.submit(request).broker_order_no)
        except Exception as exc:  # the HTS refused it (not enough shares, cash): nothing placed
            self.log.append(f"  by hand refused: {type(exc).__name__}")

    def kill_next_send(self) -> None:
        self.broker.armed = self.rng.choice(["before", "after"])

    def forget_redis(self) -> None:
        if self.redis_keys is not None:
            self.redis_keys()

    # -- the close -----------------------------------------------------------------------------
    def close(self) -> None:
        self.broker.armed = ""
        self.stack.faults()
        for symbol in self.halted:  # trading resumes before the close
            self.stack.admin("halt", {"symbol": symbol, "halted": False})
        if self.rng.random() < 0.5:
            self.step("closing call", self.closing_call)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            self.run_follow_ups()
            self.step("sweep", self.sweep)
            report = liquidate_round(self.ctx)
            if report.flat and not self._undecided():
                break
            time.sleep(0.5)
        self.step("final sync", self.sync)
        self.step("final reconcile", self.reconcile)

    def closing_call(self) -> None:
        """Half the days reach the closing call (장 마감 동시호가) with one position left: the
        others are liquidated first, then the exchange and our calendar move into the closing
        call together and the position falls through its stop. Its exit must be one the
        auction accepts (a limit at the lower limit, or market; never 03) and fill at the
        uncross. Past the hard cut the day's liquidation only tidies up."""
        self.step("reconcile", self.reconcile)
        held = self._held()
        if not held:
            return
        kept = self.rng.choice(held)
        others = sorted(set(self.symbols) - {kept.symbol})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.run_follow_ups()
            self.step("sweep", self.sweep)
            if all([liquidate_round(self.ctx, symbol=s).flat for s in others]):
                break
            time.sleep(0.5)
        now = self.ctx.clock.now()
        ends = now + timedelta(seconds=CLOSING_CALL_SECONDS)
        self.stack.admin(
            "session",
            {
                "opens_at": (now - timedelta(minutes=5)).isoformat(),
                "continuous_ends_at": now.isoformat(),
                "auction_ends_at": ends.isoformat(),
            },
        )
        self.ctx = replace(self.ctx, calendar=ClosingCall(self.ctx.calendar, now, ends))
        self.step("stop in the closing call", lambda: self._stop_out(kept))
        self.closing_sells += [
            o.order_type
            for o in self.stack.orders(kept.symbol)
            if o.side is Side.SELL and o.created_at and o.created_at >= now
        ]
        if not self.closing_sells:
            self.escaped.append(f"no exit of {kept.symbol} in the closing call")
        time.sleep(max((ends - self.ctx.clock.now()).total_seconds(), 0) + 0.5)

    def _stop_out(self, trade: Any) -> None:
        market = self.stack.market(trade.symbol)
        price = max(
            round_to_tick(int(trade.average_price * 94 / 100), Rounding.UP), market["lower"]
        )
        self.stack.admin("price", {"symbol": trade.symbol, "path": [price]})
        on_tick(self.ctx, trade.symbol, price)

    # -- the invariants -----------------------------------------------------------------------
    def violations(self) -> list[str]:
        problems = [f"escaped: {e}" for e in self.escaped]
        problems += self._one_order_per_intent() + self._ledger_is_the_broker()
        problems += self._pnl_is_the_cash() + self._flat()
        problems += [
            f"a {t.name} sell in the closing call" for t in self.closing_sells if t not in AUCTION
        ]
        return problems

    def _one_order_per_intent(self) -> list[str]:
        at_broker = {o["odno"] for o in self.stack.broker_orders()}
        ledger = self.stack.orders()
        ours = [o for o in ledger if o.purpose is not OrderPurpose.EXTERNAL and o.broker_order_no]
        numbers = [o.broker_order_no for o in ours]
        problems = [f"two ledger orders share {n}" for n in set(numbers) if numbers.count(n) > 1]
        unexplained = at_broker - set(numbers) - self.manual
        problems += [
            f"broker order {n} belongs to no intent (sent twice?)" for n in sorted(unexplained)
        ]
        foreign = [
            o
            for o in ledger
            if o.purpose is OrderPurpose.EXTERNAL and o.broker_order_no not in self.manual
        ]
        problems += [f"{o.idempotency_key} recorded as external but was ours" for o in foreign]
        return problems

    def _ledger_is_the_broker(self) -> list[str]:
        rows = {o["odno"]: o for o in self.stack.broker_orders()}
        problems = []
        for order in self.stack.orders():
            row = rows.get(order.broker_order_no or "")
            if row is None:
                if order.status not in (OrderStatus.REJECTED,):
                    problems.append(
                        f"{order.idempotency_key} {order.status.value} has no broker order"
                    )
                continue
            if (order.filled_quantity, order.filled_amount) != (
                row["filled_qty"],
                row["filled_amount"],
            ):
                problems.append(f"{order.idempotency_key}: fills differ from the broker's")
            if order.status.may_be_live:
                problems.append(
                    f"{order.idempotency_key} still {order.status.value} after the close"
                )
        for symbol in {o.symbol for o in self.stack.orders()} | set(self.symbols):
            ledger, broker = self.stack.symbol(symbol).quantity, self.stack.broker_holding(symbol)
            if ledger != broker:
                problems.append(f"{symbol}: ledger holds {ledger}, broker {broker}")
        return problems

    def _pnl_is_the_cash(self) -> list[str]:
        with self.ctx.uow as uow:
            fills = uow.fills.for_day(self.stack.day)
            adjustments = uow.adjustments.for_day(self.stack.day)
        flow = sum(f.notional if f.side is Side.SELL else -f.notional for f in fills)
        flow -= sum(f.commission + f.tax for f in fills)
        cash = self._cash() - self.opening_cash
        result = fifo(fills, adjustments=adjustments)
        problems = [] if flow == cash else [f"ledger cash flow {flow:,} != broker {cash:,}"]
        if result.realized != cash:
            problems.append(f"realized PnL {result.realized:,} != cash change {cash:,}")
        return problems

    def _flat(self) -> list[str]:
        held = {h["symbol"]: h["qty"] for h in self.stack.admin("state")["holdings"] if h["qty"]}
        return [f"still held at the close: {held}"] if held else []

    def summary(self) -> dict[str, int]:
        """What the day went through, for the log of a passing run."""
        orders = self.stack.orders()
        counts = {f"orders {s.value}": sum(o.status is s for o in orders) for s in OrderStatus}
        counts = {k: v for k, v in counts.items() if v}
        counts["broker orders"] = len(self.stack.broker_orders())
        counts["by hand"] = len(self.manual)
        counts["volatility interruptions"] = int(self.stack.admin("state")["interruptions"])
        counts["kills"] = self.log.count("  killed")
        counts["exits in the closing call"] = len(self.closing_sells)
        counts["steps"] = len(self.log)
        return counts

    # -- helpers -------------------------------------------------------------------------------
    def _held(self) -> list[Any]:
        with self.ctx.uow as uow:
            return [t for t in uow.symbols.find([SymbolState.HOLDING]) if t.quantity > 0]

    def _undecided(self) -> bool:
        with self.ctx.uow as uow:
            return bool(uow.orders.find(day=self.stack.day, statuses=UNSETTLED))

    def _cash(self) -> int:
        return int(self.stack.admin("state")["cash"]["cash_d2"])
