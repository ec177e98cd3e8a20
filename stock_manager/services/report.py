"""The daily report: the summary plus what a person wants to look at (equity, trades)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from stock_manager.domain.pnl import ClosedTrade, fifo
from stock_manager.domain.records import DailySettlement, DailySummary
from stock_manager.ports import UnitOfWork
from stock_manager.services.summary import daily_summary


@dataclass(frozen=True, slots=True)
class DailyReport:
    summary: DailySummary
    settlement: DailySettlement | None
    trades: tuple[ClosedTrade, ...]
    equity: tuple[tuple[datetime, int], ...]  # 0 at the first fill, then after each closed trade


def build_report(uow: UnitOfWork, day: date) -> DailyReport:
    """Recompute and store the summary, then gather the rest of the day's picture."""
    summary = daily_summary(uow, day)
    with uow:
        fills = uow.fills.for_day(day)
        adjustments = uow.adjustments.for_day(day)
        strategies = {t.symbol: t.strategy for t in uow.symbols.find()}
        settlement = uow.reports.settlement(day)
    closed = fifo(fills, strategies, adjustments).closed
    trades = tuple(sorted(closed, key=lambda t: t.closed_at))
    equity: list[tuple[datetime, int]] = [(fills[0].filled_at, 0)] if fills else []
    running = 0
    for trade in trades:
        running += trade.pnl
        equity.append((trade.closed_at, running))
    return DailyReport(summary, settlement, trades, tuple(equity))
