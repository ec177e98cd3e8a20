"""``migrate`` and ``config check``."""

from __future__ import annotations

import click
from rich.table import Table

from stock_manager.adapters.probes import Probe, run_all
from stock_manager.bootstrap import container
from stock_manager.cli.output import console, emit_json
from stock_manager.config import get_settings, mask_url, masked_settings


@click.command()
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def migrate(revision: str) -> None:
    """Bring the database schema to REVISION with Alembic (the only way it changes)."""
    from stock_manager.adapters.db.migrate import upgrade

    url = get_settings().effective_database_url
    upgrade(url, revision)
    click.echo(f"database at {revision}: {mask_url(url)}")


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@click.option(
    "--connect",
    is_flag=True,
    help="Also reach the database (migrated?), Redis, the Celery broker and KIS (a token).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def check(connect: bool, as_json: bool) -> None:
    """Validate settings and print the effective values, secrets masked; exit 1 if a server
    named by them cannot be used (with --connect)."""
    shown = masked_settings(get_settings())
    probes = run_all(container()) if connect else []
    failed = [p for p in probes if not p.ok]
    if as_json:
        emit_json({"settings": shown, "connections": probes, "ok": not failed})
    else:
        _print_check(shown, probes)
    if failed:
        raise SystemExit(1)


def _print_check(shown: dict[str, str], probes: list[Probe]) -> None:
    out = console()
    table = Table("setting", "value", title="effective settings", title_justify="left")
    for name, value in shown.items():
        table.add_row(name.upper(), value)
    out.print(table)
    click.secho("configuration OK", fg="green")
    if not probes:
        return
    reached = Table("server", "result", "ms", "detail", title="connections", title_justify="left")
    for p in probes:
        mark = "[green]OK[/]" if p.ok else "[red]FAILED[/]"
        reached.add_row(p.name, mark, f"{p.ms:.0f}", p.detail)
    out.print(reached)
