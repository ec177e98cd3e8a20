"""Options ``demo`` and ``replay`` share: the recorded day, its window, the seed, the workspace.

Each keeps its own help text (a demo replays only with ``--data``); the name, the parameter
it fills and how it is parsed are the same in both, so they are written once here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Any, TypeVar

import click

T = TypeVar("T")
Decorator = Callable[[Any], Any]
Callback = Callable[[click.Context, click.Parameter, str | None], T | None]


def _iso(parse: Callable[[str], T], expected: str) -> Callback[T]:
    """A click callback: ``None`` stays ``None``; anything else is parsed or refused."""

    def callback(ctx: click.Context, param: click.Parameter, value: str | None) -> T | None:
        if value is None:
            return None
        try:
            return parse(value)
        except ValueError as exc:
            raise click.BadParameter(f"expected {expected}, got {value!r}") from exc

    return callback


parse_day: Callback[date] = _iso(date.fromisoformat, "YYYY-MM-DD")
parse_time: Callback[time] = _iso(time.fromisoformat, "HH:MM")

SEED = click.option("--seed", type=int, default=7, show_default=True)


def day_option(help: str, required: bool = False) -> Decorator:
    """``--date`` into ``day``: the recorded day, YYYY-MM-DD."""
    return click.option("--date", "day", callback=parse_day, required=required, help=help)


def window_options(start_help: str, end_help: str) -> Decorator:
    """``--from`` and ``--to`` into ``start`` and ``end``: the recorded day's window, HH:MM."""
    start = click.option("--from", "start", callback=parse_time, help=start_help)
    end = click.option("--to", "end", callback=parse_time, help=end_help)
    return lambda fn: start(end(fn))


def workspace_option(default: str, holds: str) -> Decorator:
    """``--out``: the folder the run writes ``holds`` into."""
    return click.option(
        "--out",
        type=click.Path(path_type=Path),
        default=Path(default),
        show_default=True,
        help=f"Workspace: {holds}.",
    )
