"""The demo's live terminal dashboard: session clock, positions, orders, PnL, task health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from stock_manager.cli.tables import orders_table
from stock_manager.domain.clock import KST
from stock_manager.domain.records import TaskRun
from stock_manager.services.exposure import Book
from stock_manager.services.status import StatusSnapshot

SHORT = {
    "tasks.prices.check_prices": "price checks",
    "tasks.orders.sync_orders": "order sync",
    "tasks.scan.scan_candidates": "scans",
    "tasks.locks.sweep_locks": "lease sweep",
    "tasks.reconcile.reconcile_positions": "reconcile",
    "tasks.orders.enter": "entries",
    "tasks.orders.exit": "exits",
    "tasks.liquidation.liquidate_all": "liquidation",
    "tasks.prices.on_tick": "stream ticks",
    "tasks.orders.on_execution_notices": "notices",
    "tasks.orders.on_execution_notice": "notices",
}


@dataclass(frozen=True)
class Frame:
    now: datetime
    clock: dict[str, Any]
    status: StatusSnapshot
    book: Book
    runs: list[TaskRun]
    sim_orders: int
    processes: dict[str, bool]


def render(f: Frame) -> Group:
    return Group(_header(f), _positions(f), _orders(f), _health(f))


def _header(f: Frame) -> Panel:
    session = f.clock.get("session", {})
    ends = datetime.fromisoformat(session["continuous_ends_at"]) if session else None
    left = f"{(ends - f.now).total_seconds():.0f}s to the close" if ends else ""
    alive = " ".join(f"[{'green' if ok else 'red'}]{name}[/]" for name, ok in f.processes.items())
    text = Text.from_markup(
        f"[bold]{f.now.astimezone(KST):%H:%M:%S} KST[/]  phase [cyan]{f.clock.get('phase', '?')}"
        f"[/]  market [bold cyan]{f.status.market.value}[/]  {left}\n"
        f"PnL today [bold]{f.book.daily_pnl:+,}[/] won (fees and tax included)   "
        f"positions {f.book.open_positions}   exposure {f.book.total_notional:,} won   "
        f"orders at the simulator {f.sim_orders}\n{alive}"
    )
    return Panel(text, title="stock-manager demo", border_style="blue")


def _positions(f: Frame) -> Table:
    table = Table(
        "symbol",
        "state",
        "qty",
        "avg",
        "last",
        "unrealized",
        "strategy",
        title="positions",
        title_justify="left",
        expand=True,
    )
    for t in f.status.symbols:
        if not t.quantity and t.state.value == "FLAT":
            continue
        unrealized = (t.last_price * t.quantity - t.cost) if t.last_price else 0
        table.add_row(
            t.symbol,
            t.state.value,
            f"{t.quantity:,}",
            f"{t.average_price:,.0f}",
            f"{t.last_price:,}",
            f"{unrealized:+,}",
            t.strategy,
        )
    return table


def _orders(f: Frame) -> Table:
    return orders_table(f.status.open_orders, expand=True)


def _health(f: Frame) -> Table:
    table = Table(
        "task",
        "last success",
        "age s",
        "runs",
        "failures",
        title="task health",
        title_justify="left",
        expand=True,
    )
    now = datetime.now(UTC)
    for run in sorted(f.runs, key=lambda r: r.name):
        age = (now - run.last_success_at).total_seconds() if run.last_success_at else None
        style = "red" if run.failures else ("yellow" if age and age > 10 else "")
        table.add_row(
            SHORT.get(run.name, run.name),
            run.last_success_at.astimezone(KST).strftime("%H:%M:%S")
            if run.last_success_at
            else "-",
            f"{age:.0f}" if age is not None else "-",
            str(run.successes),
            str(run.failures),
            style=style,
        )
    return table


def line(f: Frame) -> str:
    """One progress line for terminals that are not interactive (CI logs)."""
    return (
        f"{f.now.astimezone(KST):%H:%M:%S} {f.clock.get('phase', '?'):<10} "
        f"market={f.status.market.value:<9} positions={f.book.open_positions} "
        f"open_orders={len(f.status.open_orders)} sim_orders={f.sim_orders} "
        f"pnl={f.book.daily_pnl:+,}"
    )
