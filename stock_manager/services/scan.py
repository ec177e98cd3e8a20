"""Candidate scans: pick liquid symbols, let the strategies judge them, plan entries.

Candidates come from the volume ranking where the environment has it (live), else from the
configured universe with quotes (paper). Filters drop what is too cheap, too dear, too thin
or flagged; custom filters can be registered by name. The scan only plans: each accepted
entry is sent by its own task, which checks risk again under the symbol's lease.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from stock_manager.domain.broker import Quote
from stock_manager.domain.clock import kst_date
from stock_manager.domain.exits import ExitReason
from stock_manager.domain.krx import Rounding, round_to_tick
from stock_manager.domain.orders import OrderType
from stock_manager.domain.risk import RiskLimits, affordable_quantity
from stock_manager.domain.trade import SymbolTrade
from stock_manager.ports import Lane, using_lane
from stock_manager.services.context import ScanPolicy, ServiceContext
from stock_manager.services.entry import EntryPlan
from stock_manager.services.exposure import Book, read_book
from stock_manager.services.isolation import per_symbol
from stock_manager.services.prices import HELD, ExitPlan
from stock_manager.strategies.base import Holding, MarketView, Signal, Strategy

log = logging.getLogger(__name__)

# A filter returns why a quote is refused, or "".
CandidateFilter = Callable[[Quote], str]
FILTERS: dict[str, CandidateFilter] = {}


def register_filter(name: str, check: CandidateFilter) -> None:
    """The hook for custom filters: select them with the ``SCAN_FILTERS`` setting."""
    FILTERS[name] = check


@dataclass(frozen=True, slots=True)
class ScanResult:
    plans: tuple[EntryPlan, ...] = ()
    considered: int = 0
    refused: dict[str, str] = field(default_factory=dict)
    skipped: str = ""  # why nothing was scanned at all


def scan(ctx: ServiceContext) -> ScanResult:
    now = ctx.clock.now()
    session = ctx.calendar.session(kst_date(now))
    with ctx.uow as uow:
        state = uow.market.get(kst_date(now))
    if not state.allows_entries or session is None or not session.accepts_entries(now):
        return ScanResult(skipped=f"market {state.value}, entries not open")
    book = read_book(ctx.uow, now)
    room = ctx.trading.risk.max_positions - book.open_positions
    if room <= 0:
        return ScanResult(skipped="position limit reached")
    quotes = _candidates(ctx)
    refused = {q.symbol: why for q in quotes if (why := refusal(q, ctx.trading.scan))}
    eligible = [q for q in quotes if q.symbol not in refused and q.symbol not in book.held_symbols]
    plans = _judge(ctx, eligible, book, room)
    return ScanResult(tuple(plans), len(quotes), refused)


def _candidates(ctx: ServiceContext) -> list[Quote]:
    with using_lane(Lane.SCAN):
        ranked = ctx.broker.volume_rank()
        symbols = (
            [r.symbol for r in ranked] if ranked is not None else list(ctx.trading.scan.universe)
        )
        symbols = symbols[: ctx.trading.scan.max_candidates]
        return list(ctx.broker.quotes(symbols).values()) if symbols else []


def refusal(quote: Quote, policy: ScanPolicy) -> str:
    if quote.halted:
        return "trading halted"
    if quote.warning_code not in ("", "00"):
        return f"market warning {quote.warning_code}"
    if not policy.min_price <= quote.price <= policy.max_price:
        return f"price {quote.price:,} outside {policy.min_price:,}..{policy.max_price:,}"
    if quote.volume < policy.min_volume:
        return f"volume {quote.volume:,} below {policy.min_volume:,}"
    if quote.turnover < policy.min_turnover:
        return f"turnover {quote.turnover:,} below {policy.min_turnover:,}"
    for name in policy.filters:
        if why := FILTERS[name](quote):
            return f"{name}: {why}"
    return ""


def _judge(ctx: ServiceContext, quotes: Sequence[Quote], book: Book, room: int) -> list[EntryPlan]:
    budget = ctx.trading.risk.max_total_notional - book.total_notional

    def signal_of(quote: Quote) -> tuple[Strategy, Signal] | None:
        return per_symbol(ctx, quote.symbol, "scan", partial(_signal, ctx, quote), None)

    return judge(quotes, room, budget, ctx.trading.risk, signal_of)


def judge(
    quotes: Sequence[Quote],
    room: int,
    budget: int,
    risk: RiskLimits,
    signal_of: Callable[[Quote], tuple[Strategy, Signal] | None],
) -> list[EntryPlan]:
    """The entries to plan, most turnover first, until ``room`` positions or ``budget`` won
    are used up. ``signal_of`` asks the strategies about one quote (live: under the symbol's
    lease with the broker's candles; the backtest: over recorded candles)."""
    plans: list[EntryPlan] = []
    for quote in sorted(quotes, key=lambda q: q.turnover, reverse=True):
        if len(plans) >= room or budget <= 0:
            break
        best = signal_of(quote)
        if best is None:
            continue
        strategy, signal = best
        plan = plan_entry(quote, strategy.name, signal, budget, risk)
        if plan is not None:
            plans.append(plan)
            budget -= plan.quantity * plan.price
    return plans


def _signal(ctx: ServiceContext, quote: Quote) -> tuple[Strategy, Signal] | None:
    with using_lane(Lane.SCAN):
        candles = ctx.broker.minute_candles(quote.symbol)
    return best_signal(ctx.trading.strategies, MarketView(quote, candles))


def best_signal(strategies: Sequence[Strategy], view: MarketView) -> tuple[Strategy, Signal] | None:
    """The most confident strategy that wants to buy, or ``None``."""
    signals = [(s, s.should_buy(view)) for s in strategies]
    acting = [(s, sig) for s, sig in signals if sig.act]
    return max(acting, key=lambda pair: pair[1].confidence) if acting else None


def plan_entry(
    quote: Quote, strategy: str, signal: Signal, budget: int, risk: RiskLimits
) -> EntryPlan | None:
    """A marketable limit buy at the ask, sized to the per-symbol cap and the budget left."""
    price = min(round_to_tick(quote.ask or quote.price, Rounding.UP), quote.upper_limit)
    quantity = affordable_quantity(price, min(risk.max_notional_per_symbol, budget))
    if quantity <= 0:
        return None
    return EntryPlan(quote.symbol, quantity, price, OrderType.LIMIT, strategy, signal.reason)


def strategy_exits(ctx: ServiceContext) -> list[ExitPlan]:
    """Ask each held symbol's own strategy whether to sell (every scan, all session long)."""
    with ctx.uow as uow:
        held = uow.symbols.find(HELD)
    by_name = {s.name: s for s in ctx.trading.strategies}
    plans = []
    for trade in held:
        strategy = by_name.get(trade.strategy)
        if strategy is None or trade.quantity <= 0:
            continue
        step = partial(_strategy_exit, ctx, trade, strategy)
        plan = per_symbol(ctx, trade.symbol, "strategy exit", step, None)
        if plan is not None:
            plans.append(plan)
    return plans


def _strategy_exit(ctx: ServiceContext, trade: SymbolTrade, strategy: Strategy) -> ExitPlan | None:
    with using_lane(Lane.SCAN):
        view = MarketView(ctx.broker.quote(trade.symbol), ctx.broker.minute_candles(trade.symbol))
    return strategy_exit(strategy, view, trade)


def strategy_exit(strategy: Strategy, view: MarketView, trade: SymbolTrade) -> ExitPlan | None:
    """The held symbol's own strategy's sell verdict, as an exit plan."""
    signal = strategy.should_sell(view, Holding(trade.quantity, trade.average_price))
    return ExitPlan(trade.symbol, ExitReason.STRATEGY, signal.reason) if signal.act else None
