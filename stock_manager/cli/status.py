"""``stock-manager status``: market state, symbols, open orders, leases, workers."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table

from stock_manager.bootstrap import Container, container
from stock_manager.cli.output import console, emit_json, plain
from stock_manager.cli.tables import orders_table
from stock_manager.domain.clock import KST
from stock_manager.services.status import StatusSnapshot, snapshot

_EXTERNAL = {
    "manage": "managed (EXTERNAL_HOLDINGS=manage: exit rules and liquidation apply)",
    "ignore": "left alone (EXTERNAL_HOLDINGS=ignore: state IGNORED, outside liquidation)",
    "liquidate": "sold at once (EXTERNAL_HOLDINGS=liquidate)",
}


def _hms(moment: datetime | None) -> str:
    return moment.astimezone(KST).strftime("%H:%M:%S") if moment else "-"


def render(snap: StatusSnapshot, console: Console, external_holdings: str = "manage") -> None:
    console.print(f"[bold]market[/] {snap.day}  [bold cyan]{snap.market.value}[/]")
    console.print(f"[bold]holdings the system did not open[/] {_EXTERNAL[external_holdings]}")
    symbols = Table(
        "symbol",
        "state",
        "strategy",
        "qty",
        "avg price",
        "last",
        "fence",
        "note",
        title="symbols",
        title_justify="left",
    )
    for s in snap.symbols:
        symbols.add_row(
            s.symbol,
            s.state.value,
            s.strategy,
            f"{s.quantity:,}",
            f"{s.average_price:,.0f}",
            f"{s.last_price:,}",
            str(s.fence),
            s.note,
        )
    orders = orders_table(snap.open_orders)
    leases = Table("symbol", "owner", "fence", "expires", title="leases", title_justify="left")
    for lease in snap.leases:
        leases.add_row(lease.symbol, lease.owner, str(lease.fence), _hms(lease.expires_at))
    workers = Table(
        "worker",
        "pid",
        "started",
        "last heartbeat",
        "age s",
        "stopped",
        title="workers",
        title_justify="left",
    )
    now = datetime.now(UTC)
    for w in snap.workers:
        age = (now - w.last_heartbeat_at).total_seconds()
        workers.add_row(
            w.worker_id,
            str(w.pid),
            _hms(w.started_at),
            _hms(w.last_heartbeat_at),
            f"{age:.0f}",
            _hms(w.stopped_at),
        )
    for table in (symbols, orders, leases, workers):
        console.print(table)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the snapshot as JSON.")
def status(as_json: bool) -> None:
    """Show the market state, symbol states, open orders, leases and workers."""
    c = container()
    snap = snapshot(c.uow(), c.lease_lock, c.clock)
    leader = beat_leader(c)
    if as_json:
        emit_json(
            {
                **plain(snap),
                "beat_leader": leader,
                "external_holdings": c.settings.external_holdings,
            }
        )
        return
    out = console()
    render(snap, out, c.settings.external_holdings)
    out.print(f"[bold]beat[/] {leader or 'no beat leads (none running, or Redis unreachable)'}")


def beat_leader(c: Container) -> str | None:
    """The leading beat (``host:pid:id``) and how long its lock lasts without a renewal."""
    from stock_manager.adapters.beat import LEADER_KEY

    try:
        holder, ttl = c.redis.get(LEADER_KEY), c.redis.pttl(LEADER_KEY)
    except Exception:  # status shows what it can; Redis may be down
        return None
    if not holder:
        return None
    name = holder.decode() if isinstance(holder, bytes) else str(holder)
    return f"{name} leads (lock {max(ttl, 0) / 1000:.0f}s left)"
