"""The daily report as terminal tables."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from stock_manager.domain.clock import KST
from stock_manager.services.report import DailyReport


def rate(value: object) -> str:
    """A rate (0.1818, a Decimal or its text) as a percentage with one decimal, ``18.2%``:
    the one format of win rates everywhere (the per-strategy table showed ``0.1818``)."""
    return "-" if value is None or value == "" else f"{float(str(value)) * 100:.1f}%"


def print_report(report: DailyReport, console: Console) -> None:
    s = report.summary
    summary = Table(
        "", "", title=f"daily summary {s.trading_day}", title_justify="left", show_header=False
    )
    rows = [
        ("realized PnL", f"{s.realized_pnl:+,} won"),
        ("unrealized PnL", f"{s.unrealized_pnl:+,} won"),
        ("commission", f"{s.commission:,} won"),
        ("tax", f"{s.tax:,} won"),
        ("trades", f"{s.trades} ({s.wins} won, {s.losses} lost)"),
        ("win rate", rate(s.win_rate)),
        ("profit factor", "-" if s.profit_factor is None else f"{s.profit_factor:.2f}"),
        ("max drawdown", f"{s.max_drawdown:,} won"),
    ]
    if report.settlement is not None:
        st = report.settlement
        rows.append(("net cash flow (ledger)", f"{st.net_cash_flow:+,} won"))
        if st.difference is not None:
            rows.append(("difference to broker", f"{st.difference:+,} won"))
    for name, value in rows:
        summary.add_row(name, value)
    console.print(summary)
    if s.per_strategy:
        strategies = Table(
            "strategy",
            "trades",
            "net",
            "win rate",
            "profit factor",
            title="per strategy",
            title_justify="left",
        )
        for name, st in s.per_strategy.items():
            strategies.add_row(
                name,
                str(st["trades"]),
                f"{st['net']:+,}",
                rate(st["win_rate"]),
                str(st["profit_factor"] or "-"),
            )
        console.print(strategies)
    trades = Table(
        "closed",
        "symbol",
        "qty",
        "bought",
        "sold",
        "costs",
        "PnL",
        title="closed trades",
        title_justify="left",
    )
    for t in report.trades:
        trades.add_row(
            f"{t.closed_at.astimezone(KST):%H:%M:%S}",
            t.symbol,
            f"{t.quantity:,}",
            f"{t.buy_cost:,}",
            f"{t.sell_proceeds:,}",
            f"{t.commission + t.tax:,}",
            f"{t.pnl:+,}",
        )
    console.print(trades)
