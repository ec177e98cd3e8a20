"""``stock-manager demo``: a whole compressed trading day against the built-in simulator."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import click
from rich.console import Console

from stock_manager.cli.options import SEED, day_option, window_options, workspace_option
from stock_manager.demo.plan import DemoOptions
from stock_manager.demo.runner import Demo
from stock_manager.replay.day import ReplayDataError, plan_replay


@click.command()
@click.option(
    "--minutes",
    type=float,
    default=3.0,
    show_default=True,
    help="Length of the simulated continuous session.",
)
@click.option("--symbols", type=int, default=30, show_default=True)
@SEED
@workspace_option("demo-out", "database, logs, report")
@click.option("--flower", is_flag=True, help="Also run Flower on http://127.0.0.1:5555.")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Replay a recorded day from this market-data directory instead of the random walk.",
)
@day_option("With --data: YYYY-MM-DD (default: latest).")
@window_options("With --data: window start, HH:MM.", "With --data: window end, HH:MM.")
def demo(
    minutes: float,
    symbols: int,
    seed: int,
    out: Path,
    flower: bool,
    data: Path | None,
    day: date | None,
    start: time | None,
    end: time | None,
) -> None:
    """Trade a compressed session on the simulator with real worker, beat and stream
    processes; liquidate before the close; print the summary and write the report. Once a
    position is held, a volatility interruption is set off on it below its stop (the exit
    goes into the VI's single-price auction).

    With --data the simulator plays a recorded day (its window spread over --minutes)
    instead of the random walk. Exits 0 only if the account ended flat and the ledger
    matches the simulator."""
    if minutes < 1:
        raise click.BadParameter("at least 1 minute", param_hint="--minutes")
    plan = None
    if data is not None:
        try:
            plan = plan_replay(data, day, session_minutes=minutes, start=start, end=end)
        except ReplayDataError as exc:
            raise click.BadParameter(str(exc), param_hint="--data/--date") from exc
    elif day or start or end:
        raise click.BadParameter("only with --data", param_hint="--date/--from/--to")
    options = DemoOptions(minutes, symbols, seed, out, flower, plan)
    from stock_manager.demo.drills import ViDrill

    # a replayed day keeps its recorded prices; a simulated one gets a VI below a stop
    observers = [ViDrill()] if plan is None else []
    raise SystemExit(Demo(options, Console(), observers=observers).run())
