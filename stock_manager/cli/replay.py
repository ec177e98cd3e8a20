"""``stock-manager replay``: a recorded day through the real pipeline, beside the backtest."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from rich.console import Console

from stock_manager.cli.options import (
    SEED,
    Decorator,
    day_option,
    window_options,
    workspace_option,
)
from stock_manager.demo.plan import DemoOptions
from stock_manager.replay.compare import Tolerance
from stock_manager.replay.day import ReplayDataError, plan_replay
from stock_manager.replay.runner import Replay

DATA = click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Market-data directory (docs/market-data.md).",
)
DEFAULT = Tolerance()


def _tolerance(flag: str, kind: type, default: object, allows: str) -> Decorator:
    """One of the comparison's tolerances; its default is ``replay.compare.Tolerance``'s."""
    return click.option(
        flag, type=kind, default=default, show_default=True, help=f"Tolerance: {allows}."
    )


@click.command()
@DATA
@day_option("YYYY-MM-DD.", required=True)
@click.option(
    "--speed",
    type=float,
    default=30.0,
    show_default=True,
    help="Recorded minutes per real minute (30: a minute candle every 2 s).",
)
@window_options("Window start, HH:MM KST.", "Window end (exclusive), HH:MM KST.")
@SEED
@workspace_option("replay-out", "database, logs, report, comparison.json")
@_tolerance(
    "--entry-minutes",
    float,
    DEFAULT.entry_minutes,
    "paired entries/exits at most this many recorded minutes apart",
)
@_tolerance(
    "--price-pct",
    str,
    str(DEFAULT.price_pct),
    "paired average prices at most this many percent apart",
)
@_tolerance("--unpaired", int, DEFAULT.unpaired, "trades allowed without a partner")
def replay(
    data: Path,
    day: date,
    speed: float,
    start: time | None,
    end: time | None,
    seed: int,
    out: Path,
    entry_minutes: float,
    price_pct: str,
    unpaired: int,
) -> None:
    """Play a recorded day on the simulator (its prices from the file, compressed SPEED
    times) with real worker, beat and stream processes, then run the backtest of the same
    window and put the two sets of trades side by side, each difference explained.

    Exits 0 only if the account ended flat, the ledger matches the simulator and the
    trades agree within the tolerance."""
    if not 1 <= speed <= 240:
        raise click.BadParameter("between 1 and 240", param_hint="--speed")
    try:
        plan = plan_replay(data, day, candle_seconds=60.0 / speed, start=start, end=end)
        tolerance = Tolerance(entry_minutes, _decimal(price_pct), unpaired)
    except ReplayDataError as exc:
        raise click.BadParameter(str(exc), param_hint="--data/--date/--from/--to") from exc
    options = DemoOptions(minutes=plan.minutes / speed, seed=seed, out=out, replay=plan)
    raise SystemExit(Replay(options, Console(), tolerance).run())


def _decimal(text: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise click.BadParameter(f"not a number: {text!r}", param_hint="--price-pct") from exc
    if value < 0:
        raise click.BadParameter("must not be negative", param_hint="--price-pct")
    return value
