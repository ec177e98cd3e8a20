"""``stock-manager``: run, inspect and control the trading system.

Subcommands live in their own modules and are loaded only when invoked, so ``--help``
and the simulator start fast.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from stock_manager.config import ConfigError

# name -> "module:attribute" of a click command or group.
COMMANDS = {
    "migrate": "stock_manager.cli.admin:migrate",
    "config": "stock_manager.cli.admin:config",
    "status": "stock_manager.cli.status:status",
    "report": "stock_manager.cli.report:report",
    "kis": "stock_manager.cli.kis:kis",
    "stream": "stock_manager.adapters.kis.stream:stream_command",
    "sim": "stock_manager.sim.cli:sim",
    "metrics": "stock_manager.cli.metrics:metrics",
    "demo": "stock_manager.cli.demo:demo",
    "liquidate": "stock_manager.cli.control:liquidate",
    "halt": "stock_manager.cli.control:halt",
    "resume": "stock_manager.cli.control:resume",
    "release": "stock_manager.cli.control:release_symbol",
    "market": "stock_manager.cli.control:market_group",
    "health": "stock_manager.cli.health:health",
    "backtest": "stock_manager.cli.backtest:backtest",
    "replay": "stock_manager.cli.replay:replay",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.secho(str(exc), fg="red", err=True)
            sys.exit(2)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log at DEBUG level.")
def cli(verbose: bool) -> None:
    """Automated intraday KRX trading on the KIS Open API, run by Celery."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    cli(prog_name="stock-manager")
