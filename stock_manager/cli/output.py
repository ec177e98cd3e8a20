"""How every command prints: tables at their full width, or JSON.

Rich draws tables at 80 columns when the output is not a terminal, cutting them when piped
or redirected (issue 14); :func:`console` gives a pipe 240 columns instead (tables take only
the width they need). ``--json`` (:func:`emit_json`) prints the same data for scripts.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

import click
from rich.console import Console

PIPE_WIDTH = 240


def console() -> Console:
    """The terminal's width on a terminal; ``PIPE_WIDTH`` columns on a pipe or a file."""
    return Console() if sys.stdout.isatty() else Console(width=PIPE_WIDTH)


def plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses as objects, enums by value, times in ISO."""
    if is_dataclass(value) and not isinstance(value, type):
        return {k: plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | Path):
        return str(value)
    return value


def emit_json(value: Any) -> None:
    click.echo(json.dumps(plain(value), ensure_ascii=False, indent=2))
