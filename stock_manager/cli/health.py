"""``stock-manager health``: exit 0 if a process is alive, 1 (with one line) if not.

Compose's healthchecks and the runbook's systemd units run these; workers and beat use
``celery -A stock_manager inspect ping -d <node>`` instead.
"""

from __future__ import annotations

import click
import httpx

from stock_manager.adapters.health import STALE_AFTER, age, heartbeat_path
from stock_manager.config import get_settings, mask_url


@click.group()
def health() -> None:
    """Is a process alive? (exit status 0 yes, 1 no)"""


@health.command("stream")
@click.option("--max-age", type=float, default=STALE_AFTER, show_default=True)
def stream(max_age: float) -> None:
    """``stock-manager stream`` touched its heartbeat within MAX_AGE seconds."""
    path = heartbeat_path(get_settings().data_dir, "stream")
    seconds = age(path)
    if seconds is None or seconds > max_age:
        when = "never" if seconds is None else f"{seconds:.0f}s ago"
        click.echo(f"stream: unhealthy, last heartbeat {when} ({path})", err=True)
        raise SystemExit(1)
    click.echo(f"stream: alive, heartbeat {seconds:.0f}s ago")


@health.command("url")
@click.argument("url")
@click.option("--timeout", type=float, default=5.0, show_default=True)
def url(url: str, timeout: float) -> None:
    """URL answers with a 2xx status (Flower's /healthcheck, /metrics, the simulator)."""
    try:
        status = httpx.get(url, timeout=timeout).status_code
    except httpx.HTTPError as exc:
        click.echo(f"{mask_url(url)}: unhealthy ({type(exc).__name__})", err=True)
        raise SystemExit(1) from None
    if not 200 <= status < 300:
        click.echo(f"{mask_url(url)}: unhealthy (HTTP {status})", err=True)
        raise SystemExit(1)
    click.echo(f"{mask_url(url)}: alive (HTTP {status})")
