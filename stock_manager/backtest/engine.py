"""The event-driven backtest: each minute of recorded candles, in time order, through the
decisions live trading makes (see the package docstring for which code that is).

Timing (docs/backtest.md): a minute candle is judged when it closes (``start`` + 1 minute),
with the close as the price, the way the 2-second price check and the 30-second scan see
the market; orders placed then fill in later candles by the :class:`FillModel`.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from stock_manager.backtest.fills import FillModel
from stock_manager.backtest.results import DayResult, Trade
from stock_manager.domain.broker import Candle, Quote
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.fees import FeeSchedule
from stock_manager.domain.krx import PriceLimits, price_limits
from stock_manager.domain.market import MarketState
from stock_manager.domain.orders import LIVE_ORDER_TYPES, Fill, OrderType, Side
from stock_manager.domain.pnl import fifo
from stock_manager.domain.position import Position
from stock_manager.domain.risk import EntryProposal, Exposure, check_entry, daily_loss_breached
from stock_manager.domain.session import TradingSession
from stock_manager.domain.trade import SymbolEvent, SymbolState, SymbolTrade
from stock_manager.services.context import TradingPolicy
from stock_manager.services.entry import EntryPlan
from stock_manager.services.prices import ExitPlan, exit_verdict
from stock_manager.services.scan import best_signal, judge, refusal, strategy_exit
from stock_manager.strategies.base import MarketView, Signal, Strategy

MINUTE = timedelta(minutes=1)
_VOLUME = operator.attrgetter("volume")


@dataclass(frozen=True, slots=True)
class BacktestConfig:
    """Everything a run depends on besides the candles: live's policies and the fill model."""

    trading: TradingPolicy
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    fills: FillModel = field(default_factory=FillModel)
    initial_cash: int = 100_000_000
    view_candles: int = 30  # minute candles a strategy sees: one page of KIS's minute chart
    scan_every: int = 1  # minutes between scans (live: 30 s, finer than a candle)
    order_types: frozenset[OrderType] = LIVE_ORDER_TYPES


@dataclass(slots=True)
class _Order:
    side: Side
    quantity: int
    price: int  # 0: market-type
    placed_at: datetime
    candles_left: int  # limit orders only
    filled: int = 0
    amount: int = 0

    @property
    def remaining(self) -> int:
        return self.quantity - self.filled


@dataclass(slots=True)
class _Trip:
    strategy: str
    fills: list[Fill] = field(default_factory=list)
    exit_reason: str = ""


@dataclass(slots=True)
class _Symbol:
    """One symbol's day: its candles, the running quote, its trade and any working order."""

    candles: list[Candle]
    limits: PriceLimits
    trade: SymbolTrade
    index: int = -1
    volume: int = 0
    turnover: int = 0
    high: int = 0
    low: int = 0
    order: _Order | None = None
    trip: _Trip | None = None

    @property
    def candle(self) -> Candle:
        return self.candles[self.index]

    def advance(self, candle: Candle) -> None:
        self.index += 1
        self.volume += candle.volume
        self.turnover += candle.turnover or candle.close * candle.volume
        self.high = max(self.high, candle.high)
        self.low = min(self.low, candle.low) if self.low else candle.low


class DayRun:
    """One trading day of the backtest; :meth:`run` returns its :class:`DayResult`."""

    def __init__(
        self,
        config: BacktestConfig,
        session: TradingSession,
        candles: Mapping[str, Sequence[Candle]],
        limits: Mapping[str, PriceLimits],
        cash: int,
    ) -> None:
        self.config, self.session, self.cash = config, session, cash
        self.start_cash = cash
        self.market = MarketState.TRADING
        self.symbols = {
            symbol: _Symbol(list(rows), limits[symbol], SymbolTrade(symbol))
            for symbol, rows in candles.items()
            if rows
        }
        self.strategies = {s.name: s for s in config.trading.strategies}
        self.fills: list[Fill] = []
        self.trades: list[Trade] = []
        self.equity: list[tuple[datetime, int]] = []
        self.order_times: list[datetime] = []
        self.refusals: dict[str, int] = {}
        self.exposed = 0
        # The narrowest buying-power decisions of the day, either way (see DayResult.admits).
        self.cash_slack: int | None = None
        self.cash_short: int | None = None

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> DayResult:
        by_minute: dict[datetime, list[tuple[str, Candle]]] = {}
        for symbol in sorted(self.symbols):  # so each minute's candles are in symbol order
            for candle in self.symbols[symbol].candles:
                by_minute.setdefault(candle.start, []).append((symbol, candle))
        for minute, start in enumerate(sorted(by_minute)):
            moved = [self._advance(symbol, candle) for symbol, candle in by_minute[start]]
            self._decide(start + MINUTE, moved, minute)
        self._close_out()
        return DayResult(
            self.session.day,
            tuple(self.trades),
            tuple(self.fills),
            tuple(self.equity),
            self.start_cash,
            self.cash,
            sum(len(s.candles) for s in self.symbols.values()),
            self.exposed,
            self.refusals,
            (self.cash_slack, self.cash_short),
        )

    def _advance(self, symbol: str, candle: Candle) -> _Symbol:
        s = self.symbols[symbol]
        s.advance(candle)
        if s.order is not None:
            self._fill(s, s.order, candle)
        return s

    def _decide(self, now: datetime, moved: list[_Symbol], minute: int) -> None:
        liquidate = self.session.must_liquidate(now)
        scan_due = minute % self.config.scan_every == 0
        for s in self.symbols.values():
            if s.trade.state is not SymbolState.FLAT and s.index >= 0:
                # a symbol without a candle this minute is judged at its last close again
                self._manage(s, now, liquidate, scan_due and s.candle.start + MINUTE == now)
        held = [s for s in self.symbols.values() if s.trade.quantity]
        self.exposed += bool(held)
        marked = sum(s.trade.quantity * s.candle.close for s in held)
        self.equity.append((now, self.cash + marked))
        if not liquidate and minute % self.config.scan_every == 0:
            self._scan(now, moved)

    # -- exits ------------------------------------------------------------------------------
    def _manage(self, s: _Symbol, now: datetime, liquidate: bool, scan_due: bool) -> None:
        if liquidate and s.order is not None and s.order.side is Side.BUY:
            self._end_order(s, s.order, now)  # liquidation cancels working buys first
        trade = s.trade
        if trade.state is not SymbolState.HOLDING or s.order is not None:
            return
        price = s.candle.close
        if price != trade.last_price:
            high = max(trade.high_water, price)
            trade = s.trade = replace(trade, last_price=price, high_water=high)
        plan = (
            ExitPlan(trade.symbol, ExitReason.LIQUIDATION, "pre-close liquidation")
            if liquidate
            else exit_verdict(self.config.trading, trade, price, now)
        )
        if plan is None and scan_due and trade.strategy in self.strategies:
            view = MarketView(self._quote(s, now), self._window(s))
            plan = strategy_exit(self.strategies[trade.strategy], view, trade)
        if plan is not None:
            s.trade = trade.apply(SymbolEvent.EXIT_SIGNAL)
            s.order = _Order(Side.SELL, trade.quantity, 0, now, 0)
            if s.trip is not None:
                s.trip.exit_reason = plan.reason.value
            self.order_times.append(now)

    # -- entries ----------------------------------------------------------------------------
    def _scan(self, now: datetime, moved: list[_Symbol]) -> None:
        """``services.scan.scan`` over the symbols that traded this minute."""
        if not self.market.allows_entries or not self.session.accepts_entries(now):
            return
        risk, policy = self.config.trading.risk, self.config.trading.scan
        busy = [s for s in self.symbols.values() if s.trade.state is not SymbolState.FLAT]
        room = risk.max_positions - len(busy)
        if room <= 0:
            return
        # live's candidates: the volume ranking's top ``max_candidates``, less what is held
        # or refused by the filters
        ranked = sorted(moved, key=_VOLUME, reverse=True)[: policy.max_candidates]
        flat = (s for s in ranked if s.trade.state is SymbolState.FLAT)
        quotes = [q for q in (self._quote(s, now) for s in flat) if not refusal(q, policy)]
        budget = risk.max_total_notional - self._total_notional()
        for plan in judge(quotes, room, budget, risk, self._signal_of):
            self._enter(plan, now)

    def _signal_of(self, quote: Quote) -> tuple[Strategy, Signal] | None:
        s = self.symbols[quote.symbol]
        return best_signal(self.config.trading.strategies, MarketView(quote, self._window(s)))

    def _enter(self, plan: EntryPlan, now: datetime) -> None:
        """``services.entry.enter_checked``: every risk check, then the order."""
        s = self.symbols[plan.symbol]
        exposure = self._exposure(now, s.limits)
        kind = s.limits.kind
        reasons = check_entry(
            EntryProposal(plan.symbol, plan.quantity, plan.price, plan.order_type, kind),
            exposure,
            self.config.trading.risk,
        )
        need = self.config.fees.buy_cash_needed(plan.quantity * plan.price, kind)
        self._note_cash((exposure.buying_power or 0) - need)
        if daily_loss_breached(exposure, self.config.trading.risk):
            self.market = MarketState.STOPPED  # live halts the market: no entries today
        for reason in reasons:  # counted by the cap it broke
            key = reason.cap.value
            self.refusals[key] = self.refusals.get(key, 0) + 1
        if reasons:
            return
        s.trade = s.trade.apply(SymbolEvent.BUY_SIGNAL, strategy=plan.strategy)
        s.order = _Order(
            Side.BUY, plan.quantity, plan.price, now, self.config.fills.limit_ttl_candles
        )
        s.trip = _Trip(plan.strategy)
        self.order_times.append(now)

    def _note_cash(self, margin: int) -> None:
        if margin >= 0:
            self.cash_slack = margin if self.cash_slack is None else min(self.cash_slack, margin)
        else:
            self.cash_short = margin if self.cash_short is None else max(self.cash_short, margin)

    def _exposure(self, now: datetime, limits: PriceLimits) -> Exposure:
        result = fifo(self.fills)
        marks = {sym: s.candle.close for sym, s in self.symbols.items() if s.index >= 0}
        pending = sum(o.remaining * o.price for o in self._buying())
        recent = now - MINUTE
        return Exposure(
            now=now,
            market=self.market,
            session=self.session,
            open_positions=sum(
                1 for s in self.symbols.values() if s.trade.state is not SymbolState.FLAT
            ),
            total_notional=self._total_notional(),
            daily_pnl=result.realized + result.unrealized(marks),
            buying_power=self.cash - pending,
            orders_last_minute=sum(1 for t in self.order_times if t >= recent),
            limits=limits,
            allowed_order_types=self.config.order_types,
            fees=self.config.fees,
        )

    def _buying(self) -> list[_Order]:
        orders = (s.order for s in self.symbols.values())
        return [o for o in orders if o is not None and o.side is Side.BUY]

    def _total_notional(self) -> int:
        held = sum(s.trade.cost for s in self.symbols.values())
        return held + sum(o.remaining * o.price for o in self._buying())

    # -- fills ------------------------------------------------------------------------------
    def _fill(self, s: _Symbol, order: _Order, candle: Candle) -> None:
        if candle.start < order.placed_at:
            return
        model = self.config.fills
        price = model.price(order.side, order.price, candle, s.limits)
        quantity = min(order.remaining, model.capacity(candle))
        if price is not None and quantity > 0:
            self._execute(s, order, quantity, price, candle.start)
        if order.remaining and order.price:
            order.candles_left -= 1
        if not order.remaining or (order.price and order.candles_left <= 0):
            self._end_order(s, order, candle.start + MINUTE)

    def _execute(self, s: _Symbol, order: _Order, quantity: int, price: int, at: datetime) -> None:
        before = order.amount  # per execution or per order, as FEE_BASIS says (live's rule)
        costs = self.config.fees.fill_costs(
            order.side, before, before + quantity * price, s.limits.kind
        )
        fill = Fill(
            f"{s.trade.symbol}:{at:%Y%m%d%H%M}:{order.side.value}",
            s.trade.symbol,
            order.side,
            quantity,
            price,
            at,
            costs.commission,
            costs.tax,
        )
        self.fills.append(fill)
        if s.trip is not None:
            s.trip.fills.append(fill)
        order.filled += quantity
        order.amount += quantity * price
        notional = quantity * price
        self.cash += -notional - costs.total if order.side is Side.BUY else notional - costs.total
        position = Position(s.trade.symbol, s.trade.quantity, s.trade.cost)
        position = position.apply_fill(order.side, quantity, price)
        s.trade = replace(s.trade, quantity=position.quantity, cost=position.cost)

    def _end_order(self, s: _Symbol, order: _Order, at: datetime) -> None:
        """The order is done (filled, or the rest cancelled): move the symbol's state as
        ``services.ledger.settle_symbol`` does."""
        trade, s.order = s.trade, None
        if order.side is Side.BUY:
            if not trade.quantity:
                s.trade, s.trip = trade.apply(SymbolEvent.BUY_ENDED_EMPTY), None
                return
            event = SymbolEvent.BUY_FILLED if not order.remaining else SymbolEvent.BUY_ENDED_PARTIAL
            s.trade = trade.apply(
                event, entered_at=at, high_water=max(trade.high_water, order.amount // order.filled)
            )
            return
        if trade.quantity:  # a sell never ends with shares left but at the close-out
            s.trade = trade.apply(SymbolEvent.SELL_ENDED_PARTIAL)
            return
        s.trade = trade.apply(SymbolEvent.SELL_FILLED)
        self._record(s)
        s.trade = SymbolTrade(trade.symbol, trade_seq=trade.trade_seq + 1)

    def _record(self, s: _Symbol) -> None:
        trip, s.trip = s.trip, None
        if trip is None:
            return
        buys = [f for f in trip.fills if f.side is Side.BUY]
        sells = [f for f in trip.fills if f.side is Side.SELL]
        self.trades.append(
            Trade(
                day=self.session.day,
                symbol=s.trade.symbol,
                strategy=trip.strategy,
                quantity=sum(f.quantity for f in buys),
                entered_at=buys[0].filled_at,
                buy_notional=sum(f.notional for f in buys),
                exited_at=sells[-1].filled_at,
                sell_notional=sum(f.notional for f in sells),
                exit_reason=trip.exit_reason,
                commission=sum(f.commission for f in trip.fills),
                tax=sum(f.tax for f in trip.fills),
            )
        )

    def _close_out(self) -> None:
        """Past the last candle: cancel buys; sell what is left at the last close (the
        closing auction, less the slippage), so every day ends flat as live does."""
        for s in self.symbols.values():
            if s.index < 0:
                continue
            last = s.candle
            at = last.start + MINUTE
            if s.order is not None and s.order.side is Side.BUY:
                self._end_order(s, s.order, at)
            if not s.trade.quantity:
                continue
            order = s.order
            if order is None:
                s.trade = s.trade.apply(SymbolEvent.EXIT_SIGNAL)
                order = s.order = _Order(Side.SELL, s.trade.quantity, 0, at, 0)
                if s.trip is not None:
                    s.trip.exit_reason = ExitReason.LIQUIDATION.value
            price = self.config.fills.market_price(Side.SELL, last.close, s.limits)
            self._execute(s, order, order.remaining, price, at)
            self._end_order(s, order, at)

    # -- views ------------------------------------------------------------------------------
    def _window(self, s: _Symbol) -> list[Candle]:
        return s.candles[max(0, s.index + 1 - self.config.view_candles) : s.index + 1]

    def _quote(self, s: _Symbol, now: datetime) -> Quote:
        candle, base = s.candle, s.limits.base
        return Quote(
            symbol=candle.symbol,
            price=candle.close,
            open=s.candles[0].open,
            high=s.high,
            low=s.low,
            base_price=base,
            change_rate=Decimal((candle.close - base) * 10_000 // base) / 100,
            volume=s.volume,
            turnover=s.turnover,
            upper_limit=s.limits.upper,
            lower_limit=s.limits.lower,
            ask=self.config.fills.ask(candle.close, s.limits),
            bid=candle.close,
            at=now,
        )


def run_day(
    config: BacktestConfig,
    session: TradingSession,
    candles: Mapping[str, Sequence[Candle]],
    limits: Mapping[str, PriceLimits | int],
    cash: int | None = None,
) -> DayResult:
    """One day of the backtest (its trades, fills and equity), e.g. to set beside a replay.

    ``candles``: each symbol's minute candles of the day, oldest first; ``limits``: each
    symbol's price limits, or its base price (기준가) to derive a stock's limits from
    (``ValueError`` if one is missing); ``cash``: won at the open (default
    ``config.initial_cash``)."""
    start = config.initial_cash if cash is None else cash
    missing = sorted(s for s, rows in candles.items() if rows and s not in limits)
    if missing:
        raise ValueError(f"no price limits or base price for {', '.join(missing)}")
    bands = {s: v if isinstance(v, PriceLimits) else price_limits(v) for s, v in limits.items()}
    return DayRun(config, session, candles, bands, start).run()


def day_of(candles: Mapping[str, Sequence[Candle]]) -> date:
    return next(c.start.date() for rows in candles.values() for c in rows)
