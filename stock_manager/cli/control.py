"""Buttons for a bad day: ``liquidate``, ``halt``, ``resume``."""

from __future__ import annotations

import time

import click

from stock_manager.bootstrap import container
from stock_manager.cli import output
from stock_manager.domain.trade import SymbolState
from stock_manager.ports import Lane, using_lane
from stock_manager.services import market

NOT_FLAT = [SymbolState.ENTERING, SymbolState.HOLDING, SymbolState.EXITING, SymbolState.QUARANTINED]


@click.command()
@click.option("--symbol", default=None, help="Only this symbol (default: everything).")
@click.option("--wait", is_flag=True, help="Show progress until the account is flat.")
@click.option(
    "--timeout",
    type=float,
    default=600.0,
    show_default=True,
    help="Give up waiting after this many seconds.",
)
def liquidate(symbol: str | None, wait: bool, timeout: float) -> None:
    """Enqueue forced liquidation on the liquidation queue now and print the task id.

    Entries stop at once (the market goes STOPPED); open buys are cancelled; everything held
    is sold, escalating to market orders, until the broker shows nothing held.
    """
    from stock_manager.celery_app import app

    if symbol:
        result = app.send_task(
            "tasks.liquidation.liquidate_symbol", args=[symbol], queue="liquidation"
        )
    else:
        result = app.send_task("tasks.liquidation.liquidate_all", queue="liquidation")
    click.echo(f"liquidation enqueued: task {result.id}")
    if wait and not _wait_until_flat(symbol, timeout):
        raise SystemExit(1)


def _wait_until_flat(symbol: str | None, timeout: float) -> bool:
    c = container()
    console = output.console()
    deadline = time.monotonic() + timeout
    with console.status("liquidating") as status:
        while time.monotonic() < deadline:
            with c.uow() as uow:
                left = [t for t in uow.symbols.find(NOT_FLAT) if symbol in (None, t.symbol)]
            if not left:
                break
            status.update(
                f"liquidating: {len(left)} left - "
                + ", ".join(f"{t.symbol} {t.state.value} {t.quantity:,}" for t in left[:8])
            )
            time.sleep(1)
        else:
            console.print("[red]timed out: positions are still open (see stock-manager status)")
            return False
    with using_lane(Lane.LIQUIDATION):
        held = [h for h in c.broker.balance().holdings if h.quantity and symbol in (None, h.symbol)]
    if held:
        console.print(
            "[red]the ledger is flat but the broker still holds: "
            + ", ".join(f"{h.symbol} {h.quantity:,}" for h in held)
        )
        return False
    console.print("[green]flat: the broker holds nothing[/]")
    return True


@click.command()
@click.option("--reason", default="halted by hand", show_default=True)
def halt(reason: str) -> None:
    """The kill switch: no new entries anywhere (exits and liquidation still run)."""
    c = container()
    state = market.halt(c.uow(), c.clock, reason, "cli")
    click.echo(f"market is {state.value}")


@click.command()
@click.option("--reason", default="resumed by hand", show_default=True)
def resume(reason: str) -> None:
    """Lift the kill switch; the session state follows the calendar again."""
    c = container()
    state = market.resume(c.uow(), c.clock, reason, "cli")
    click.echo(f"market is {state.value}")


@click.group("market")
def market_group() -> None:
    """The day's market state."""


@market_group.command("reopen")
@click.option("--reason", required=True, help="Why (kept in the market's transition history).")
def reopen(reason: str) -> None:
    """Reopen a day closed by mistake (CLOSED -> OFFLINE, then where the calendar says)."""
    from stock_manager.services.session import advance_day

    c = container()
    try:
        status = market.reopen(c.uow(), c.calendar, c.clock, reason, "cli")
    except market.ReopenRefused as exc:
        click.secho(f"not reopened: {exc}", fg="red", err=True)
        raise SystemExit(1) from None
    click.echo(f"market of {status.day} reopened ({status.state.value}); initializing")
    status = advance_day(c.context())  # token, balance, reconciliation, then the calendar
    click.echo(f"market of {status.day} is {status.state.value}")


@click.command("release")
@click.argument("symbol")
@click.option("--reason", default="released by hand", show_default=True)
def release_symbol(symbol: str, reason: str) -> None:
    """Lift SYMBOL's quarantine after checking it: it takes the broker's quantity."""
    from stock_manager.services.quarantine import release

    result = release(container().context(), symbol, reason)
    click.echo(result.detail)
    if not result.released:
        raise SystemExit(1)
