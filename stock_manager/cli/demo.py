"""``stock-manager demo``: a whole compressed trading day against the built-in simulator."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console

from stock_manager.demo.plan import DemoOptions
from stock_manager.demo.runner import Demo


@click.command()
@click.option(
    "--minutes",
    type=float,
    default=3.0,
    show_default=True,
    help="Length of the simulated continuous session.",
)
@click.option("--symbols", type=int, default=30, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("demo-out"),
    show_default=True,
    help="Workspace: database, logs, report.",
)
@click.option("--flower", is_flag=True, help="Also run Flower on http://127.0.0.1:5555.")
def demo(minutes: float, symbols: int, seed: int, out: Path, flower: bool) -> None:
    """Trade a compressed session on the simulator with real worker, beat and stream
    processes; liquidate before the close; print the summary and write the report. Once a
    position is held, a volatility interruption is set off on it below its stop (the exit
    goes into the VI's single-price auction).

    Exits 0 only if the account ended flat and the ledger matches the simulator."""
    if minutes < 1:
        raise click.BadParameter("at least 1 minute", param_hint="--minutes")
    from stock_manager.demo.drills import ViDrill

    options = DemoOptions(minutes, symbols, seed, out, flower)
    code = Demo(options, Console(), observers=[ViDrill()]).run()
    raise SystemExit(code)
