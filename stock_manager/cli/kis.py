"""``stock-manager kis``: check the connection and look at quotes, balance and orders.

Works against any base URL (``KIS_REST_URL``/``KIS_WS_URL``): the simulator, KIS paper or
KIS live. Uses the same shared token store and rate limiter as the workers, so running it
during trading never causes an extra token issuance or a burst over the limit.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import click
from rich.table import Table

from stock_manager.adapters.kis.errors import KISError
from stock_manager.bootstrap import container
from stock_manager.cli.candles import candles
from stock_manager.cli.output import console, emit_json
from stock_manager.domain.broker import AccountBalance, BrokerOrder, Quote
from stock_manager.domain.clock import KST
from stock_manager.ports import Lane, using_lane


@dataclass
class Step:
    name: str
    ok: bool
    ms: float
    detail: str


def _step(name: str, action: Callable[[], str]) -> Step:
    started = time.perf_counter()
    try:
        detail, ok = action(), True
    except KISError as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    return Step(name, ok, (time.perf_counter() - started) * 1000, detail)


class _KisGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KISError as exc:  # already masked; a traceback adds nothing for an operator
            click.secho(f"{type(exc).__name__}: {exc}", fg="red", err=True)
            sys.exit(1)


def migrate_embedded() -> None:
    """On the embedded SQLite default, bring the schema to head before using the database."""
    settings = container().settings
    if settings.should_auto_migrate:
        from stock_manager.adapters.db.migrate import upgrade

        upgrade(settings.effective_database_url)


@click.group("kis", cls=_KisGroup)
def kis() -> None:
    """Talk to KIS (or the simulator) directly."""
    migrate_embedded()


@kis.command("check")
@click.option("--symbol", default="005930", show_default=True, help="Symbol to quote.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check(symbol: str, as_json: bool) -> None:
    """Authenticate, read the balance and one quote; report each step and its latency."""
    c = container()
    http, broker = c.kis, c.broker

    def token() -> str:
        credential = http.tokens.get()
        return f"generation {credential.generation}, valid until {_when(credential.expires_at)}"

    def balance() -> str:
        b = broker.balance()
        return f"cash {b.cash:,} won, {sum(1 for h in b.holdings if h.quantity)} holdings"

    def quote() -> str:
        q = broker.quote(symbol)
        return f"{q.symbol} {q.price:,} ({q.change_rate:+}%)"

    with using_lane(Lane.SYNC):
        steps = [_step("token", token)]
        if steps[0].ok:
            steps += [_step("balance", balance), _step("quote", quote)]
    env = http.env
    if as_json:
        emit_json({"env": env.name, "dialect": env.dialect, "url": env.rest_url, "steps": steps})
    else:
        table = Table(
            "step", "result", "ms", "detail", title=f"KIS {env.name} ({env.dialect}) {env.rest_url}"
        )
        for s in steps:
            table.add_row(
                s.name, "[green]ok[/]" if s.ok else "[red]FAILED[/]", f"{s.ms:.0f}", s.detail
            )
        console().print(table)
    if not all(s.ok for s in steps):
        sys.exit(1)


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, KST).strftime("%Y-%m-%d %H:%M:%S KST")


@kis.command("price")
@click.argument("symbols", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def price(symbols: tuple[str, ...], as_json: bool) -> None:
    """Current prices of SYMBOLS."""
    with using_lane(Lane.SYNC):
        quotes: dict[str, Quote] = container().broker.quotes(list(symbols))
    if as_json:
        emit_json(quotes)
        return
    table = Table("symbol", "name", "price", "change %", "volume", "high", "low", "limits")
    for q in quotes.values():
        table.add_row(
            q.symbol,
            q.name,
            f"{q.price:,}",
            f"{q.change_rate:+}",
            f"{q.volume:,}",
            f"{q.high:,}",
            f"{q.low:,}",
            f"{q.lower_limit:,}..{q.upper_limit:,}",
        )
    console().print(table)


@kis.command("balance")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def balance_command(as_json: bool) -> None:
    """Cash and holdings."""
    with using_lane(Lane.SYNC):
        b: AccountBalance = container().broker.balance()
    if as_json:
        emit_json(b)
        return
    out = console()
    out.print(
        f"cash {b.cash:,}  D+2 {b.settled_cash_d2:,}  total evaluation {b.total_evaluation:,}"
    )
    table = Table("symbol", "name", "qty", "orderable", "avg price", "price", "value")
    for h in b.holdings:
        table.add_row(
            h.symbol,
            h.name,
            f"{h.quantity:,}",
            f"{h.orderable_quantity:,}",
            f"{h.average_price:,.2f}",
            f"{h.price:,}",
            f"{h.market_value:,}",
        )
    out.print(table)


@kis.command("orders")
@click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="Trading day (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def orders(day: datetime | None, as_json: bool) -> None:
    """The day's orders with cumulative fills (inquire-daily-ccld)."""
    c = container()
    with using_lane(Lane.SYNC):
        rows: list[BrokerOrder] = c.broker.orders(day.date() if day else c.clock.now().date())
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"orders {day.date() if day else 'today'}", title_justify="left")
    for name in ("odno", "orig"):
        table.add_column(name, no_wrap=True, min_width=10)
    for name in ("time", "symbol", "side", "type", "qty", "price", "filled", "avg", "left"):
        table.add_column(name, no_wrap=True)
    table.add_column("state")
    for o in rows:
        avg = o.filled_amount // o.filled_quantity if o.filled_quantity else 0
        state = "cancelled" if o.cancelled else ("open" if o.is_open else "done")
        table.add_row(
            o.broker_order_no,
            o.original_order_no,
            o.ordered_at.strftime("%H:%M:%S"),
            o.symbol,
            o.side.value,
            o.order_type.name if o.order_type else "?",
            f"{o.quantity:,}",
            f"{o.price:,}",
            f"{o.filled_quantity:,}",
            f"{avg:,}",
            f"{o.remaining_quantity:,}",
            state,
        )
    console().print(table)


kis.add_command(candles)
