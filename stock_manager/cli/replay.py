"""``stock-manager replay``: a recorded day through the real pipeline, beside the backtest."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click
from rich.console import Console

from stock_manager.demo.plan import DemoOptions
from stock_manager.replay.compare import Tolerance
from stock_manager.replay.day import ReplayDataError, plan_replay
from stock_manager.replay.runner import Replay


def parse_day(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from exc


def parse_time(ctx: click.Context, param: click.Parameter, value: str | None) -> time | None:
    if value is None:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"expected HH:MM, got {value!r}") from exc


DATA = click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    required=True,
    help="Market-data directory (docs/market-data.md).",
)
FROM = click.option("--from", "start", callback=parse_time, help="Window start, HH:MM KST.")
DEFAULT = Tolerance()
TO = click.option("--to", "end", callback=parse_time, help="Window end (exclusive), HH:MM KST.")


@click.command()
@DATA
@click.option("--date", "day", callback=parse_day, required=True, help="YYYY-MM-DD.")
@click.option(
    "--speed",
    type=float,
    default=30.0,
    show_default=True,
    help="Recorded minutes per real minute (30: a minute candle every 2 s).",
)
@FROM
@TO
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("replay-out"),
    show_default=True,
    help="Workspace: database, logs, report, comparison.json.",
)
@click.option(
    "--entry-minutes",
    type=float,
    default=DEFAULT.entry_minutes,
    show_default=True,
    help="Tolerance: paired entries/exits at most this many recorded minutes apart.",
)
@click.option(
    "--price-pct",
    type=str,
    default=str(DEFAULT.price_pct),
    show_default=True,
    help="Tolerance: paired average prices at most this many percent apart.",
)
@click.option(
    "--unpaired",
    type=int,
    default=DEFAULT.unpaired,
    show_default=True,
    help="Tolerance: trades allowed without a partner.",
)
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
