"""The figures of a run: per day, per strategy and overall, as plain JSON-ready values.

Win rate, profit factor and drawdown come from ``domain.pnl`` (the daily report's code);
drawdown is measured on the equity after every minute, not only at trade closes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from stock_manager.backtest.results import DayResult, Trade
from stock_manager.domain.pnl import ClosedTrade, TradeStats, max_drawdown, trade_stats

METRICS = ("net_pnl", "return_pct", "profit_factor", "win_rate", "max_drawdown", "trades")


def closed(trades: Sequence[Trade]) -> list[ClosedTrade]:
    return [
        ClosedTrade(
            t.symbol,
            t.quantity,
            t.buy_notional,
            t.sell_notional,
            t.commission,
            t.tax,
            t.exited_at,
            t.strategy,
        )
        for t in trades
    ]


def _number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _stats(stats: TradeStats) -> dict[str, Any]:
    return {
        "trades": stats.trades,
        "wins": stats.wins,
        "losses": stats.losses,
        "gross_profit": stats.gross_profit,
        "gross_loss": stats.gross_loss,
        "net_pnl": stats.net,
        "win_rate": _number(stats.win_rate),
        "profit_factor": _number(stats.profit_factor),
    }


def summarize(days: Sequence[DayResult], initial_cash: int) -> dict[str, Any]:
    """Overall figures, then ``days`` and ``strategies`` tables (lists of dicts)."""
    trades = [t for d in days for t in d.trades]
    equity = [initial_cash] + [value for d in days for _, value in d.equity]
    drawdown = max_drawdown(equity)
    minutes = sum(len(d.equity) for d in days)
    end = days[-1].end_cash if days else initial_cash
    overall = _stats(trade_stats(closed(trades)))
    overall.update(
        {
            "commission": sum(t.commission for t in trades),
            "tax": sum(t.tax for t in trades),
            "initial_cash": initial_cash,
            "final_cash": end,
            "return_pct": round((end - initial_cash) * 100 / initial_cash, 4),
            "max_drawdown": drawdown.amount,
            "max_drawdown_pct": float(drawdown.fraction * 100),
            "exposure": round(sum(d.exposed_minutes for d in days) / minutes, 4) if minutes else 0,
            "days": len(days),
            "candles": sum(d.candles for d in days),
        }
    )
    return {
        "overall": overall,
        "days": [_day(d) for d in days],
        "strategies": _per_strategy(trades),
        "refusals": _refusals(days),
    }


def _day(d: DayResult) -> dict[str, Any]:
    return {
        "day": d.day.isoformat(),
        "trades": len(d.trades),
        "wins": sum(1 for t in d.trades if t.pnl > 0),
        "gross": sum(t.gross for t in d.trades),
        "commission": sum(t.commission for t in d.trades),
        "tax": sum(t.tax for t in d.trades),
        "net_pnl": d.pnl,
        "end_cash": d.end_cash,
    }


def _per_strategy(trades: Sequence[Trade]) -> list[dict[str, Any]]:
    groups: dict[str, list[Trade]] = defaultdict(list)
    for t in trades:
        groups[t.strategy].append(t)
    rows = []
    for name, group in sorted(groups.items()):
        row = {"strategy": name, **_stats(trade_stats(closed(group)))}
        row["commission"] = sum(t.commission for t in group)
        row["tax"] = sum(t.tax for t in group)
        rows.append(row)
    return rows


def _refusals(days: Sequence[DayResult]) -> dict[str, int]:
    total: dict[str, int] = defaultdict(int)
    for d in days:
        for reason, count in d.refusals.items():
            total[reason] += count
    return dict(sorted(total.items()))
