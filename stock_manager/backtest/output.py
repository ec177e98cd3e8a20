"""A run's files: ``trades.csv``, ``days.csv``, ``strategies.csv``, ``summary.json`` and
``equity.png`` in the output folder (layout in docs/backtest.md)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stock_manager.backtest.results import DayResult, Trade
from stock_manager.domain.clock import KST

TRADE_COLUMNS = [
    "day",
    "symbol",
    "strategy",
    "quantity",
    "entered_at",
    "entry_price",
    "exited_at",
    "exit_price",
    "exit_reason",
    "buy_notional",
    "sell_notional",
    "gross",
    "commission",
    "tax",
    "pnl",
]


def trade_row(t: Trade) -> list[Any]:
    return [
        t.day.isoformat(),
        t.symbol,
        t.strategy,
        t.quantity,
        t.entered_at.astimezone(KST).isoformat(),
        t.entry_price,
        t.exited_at.astimezone(KST).isoformat(),
        t.exit_price,
        t.exit_reason,
        t.buy_notional,
        t.sell_notional,
        t.gross,
        t.commission,
        t.tax,
        t.pnl,
    ]


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        writer.writerows(rows)
    return path


def _table(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    columns = list(rows[0]) if rows else []
    return write_csv(path, columns, [[r[c] for c in columns] for r in rows])


def write_run(
    out: Path, days: Sequence[DayResult], summary: dict[str, Any], chart: bool = True
) -> dict[str, Path]:
    """Write every file of a run into ``out`` (created) and return them by name."""
    out.mkdir(parents=True, exist_ok=True)
    trades = [t for d in days for t in d.trades]
    files = {
        "trades": write_csv(out / "trades.csv", TRADE_COLUMNS, [trade_row(t) for t in trades]),
        "days": _table(out / "days.csv", summary["days"]),
        "strategies": _table(out / "strategies.csv", summary["strategies"]),
    }
    if chart:
        from stock_manager.backtest.chart import render

        files["equity"] = render(days, summary, out / "equity.png")
    path = out / "summary.json"
    path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    files["summary"] = path
    return files
