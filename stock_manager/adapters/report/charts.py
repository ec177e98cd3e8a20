"""Charts of a daily report: the equity curve and each trade's PnL, as one PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never a window

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from stock_manager.adapters.report.text import rate
from stock_manager.domain.clock import KST
from stock_manager.services.report import DailyReport

GAIN, LOSS, LINE = "#2e7d32", "#c62828", "#1565c0"


def render(report: DailyReport, path: Path) -> Path:
    """Write the equity curve and the per-trade PnL bars to ``path`` (PNG) and return it."""
    figure, (equity, trades) = plt.subplots(2, 1, figsize=(9, 7), constrained_layout=True)
    s = report.summary
    figure.suptitle(
        f"{s.trading_day}  realized {s.realized_pnl:+,} won  "
        f"({s.trades} trades, win rate {rate(s.win_rate)}, fees+tax {s.commission + s.tax:,})"
    )
    _equity(equity, report)
    _trades(trades, report)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _equity(ax: Axes, report: DailyReport) -> None:
    ax.set_title("equity (cumulative realized PnL, won)")
    ax.axhline(0, color="#999", linewidth=0.8)
    if not report.equity:
        ax.text(0.5, 0.5, "no closed trades", ha="center", va="center", transform=ax.transAxes)
        return
    times = mdates.date2num([t.astimezone(KST) for t, _ in report.equity])
    values = [v for _, v in report.equity]
    ax.step(times, values, where="post", color=LINE, linewidth=1.8)
    ax.fill_between(times, values, 0, step="post", alpha=0.15, color=LINE)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=KST))
    ax.grid(alpha=0.3)


def _trades(ax: Axes, report: DailyReport) -> None:
    ax.set_title("PnL per closed trade (won, fees and tax included)")
    ax.axhline(0, color="#999", linewidth=0.8)
    if not report.trades:
        ax.text(0.5, 0.5, "no closed trades", ha="center", va="center", transform=ax.transAxes)
        return
    labels = [f"{t.symbol}\n{t.closed_at.astimezone(KST):%H:%M:%S}" for t in report.trades]
    values = [t.pnl for t in report.trades]
    ax.bar(range(len(values)), values, color=[GAIN if v >= 0 else LOSS for v in values])
    ax.set_xticks(range(len(values)), labels, fontsize=7, rotation=45, ha="right")
    ax.grid(axis="y", alpha=0.3)
