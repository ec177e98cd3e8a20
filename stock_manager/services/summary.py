"""The daily summary: realized and unrealized PnL with fees and tax, and trade statistics."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from stock_manager.domain.pnl import ClosedTrade, fifo, trade_stats
from stock_manager.domain.records import DailySummary
from stock_manager.ports import UnitOfWork


def daily_summary(uow: UnitOfWork, day: date) -> DailySummary:
    """Compute the day's summary from the ledger's fills and store it (idempotent)."""
    with uow:
        fills = uow.fills.for_day(day)
        adjustments = uow.adjustments.for_day(day)
        symbols = uow.symbols.find()
        strategy_of = {s.symbol: s.strategy for s in symbols}
        marks = {s.symbol: s.last_price for s in symbols if s.last_price}
        result = fifo(fills, strategy_of, adjustments)
        stats = trade_stats(result.closed)
        summary = DailySummary(
            trading_day=day,
            realized_pnl=result.realized,
            unrealized_pnl=result.unrealized(marks),
            commission=sum(f.commission for f in fills),
            tax=sum(f.tax for f in fills),
            trades=stats.trades,
            wins=stats.wins,
            losses=stats.losses,
            win_rate=stats.win_rate,
            profit_factor=stats.profit_factor,
            max_drawdown=stats.max_drawdown.amount,
            per_strategy=_per_strategy(result.closed),
        )
        uow.reports.save_summary(summary)
        uow.commit()
    return summary


def _per_strategy(trades: tuple[ClosedTrade, ...]) -> dict[str, Any]:
    groups: dict[str, list[ClosedTrade]] = defaultdict(list)
    for trade in trades:
        groups[trade.strategy or "unknown"].append(trade)
    out: dict[str, Any] = {}
    for name, group in sorted(groups.items()):
        stats = trade_stats(group)
        out[name] = {
            "trades": stats.trades,
            "net": stats.net,
            "win_rate": _text(stats.win_rate),
            "profit_factor": _text(stats.profit_factor),
        }
    return out


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
