"""The equity chart of a backtest (PNG, matplotlib's Agg backend: files only)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from stock_manager.backtest.results import DayResult

GAIN, LOSS, LINE = "#2e7d32", "#c62828", "#1565c0"


def render(days: Sequence[DayResult], summary: dict[str, Any], path: Path) -> Path:
    """Equity after every minute (top) and net PnL per day (bottom)."""
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), constrained_layout=True)
    o = summary["overall"]
    figure.suptitle(
        f"{o['days']} days, {o['trades']} trades: net {o['net_pnl']:+,} won "
        f"(fees {o['commission']:,}, tax {o['tax']:,}), max drawdown {o['max_drawdown']:,}"
    )
    values = [value for d in days for _, value in d.equity]
    top.plot(range(len(values)), values, color=LINE, linewidth=1.0)
    top.set_title("equity after each minute (cash + marked positions, won)")
    top.set_xlabel("trading minute")
    top.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    top.grid(alpha=0.3)
    pnls = [d.pnl for d in days]
    bottom.bar(range(len(pnls)), pnls, color=[GAIN if p >= 0 else LOSS for p in pnls])
    bottom.axhline(0, color="#999", linewidth=0.8)
    bottom.set_title("net PnL per day (won, fees and tax included)")
    bottom.set_xlabel("trading day")
    bottom.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    bottom.grid(alpha=0.3, axis="y")
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
