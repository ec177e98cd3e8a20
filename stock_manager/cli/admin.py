"""``migrate`` and ``config check``."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

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
def check() -> None:
    """Validate settings and print the effective values, secrets masked."""
    shown = masked_settings(get_settings())
    table = Table("setting", "value", title="effective settings", title_justify="left")
    for name, value in shown.items():
        table.add_row(name.upper(), value)
    Console().print(table)
    click.secho("configuration OK", fg="green")
