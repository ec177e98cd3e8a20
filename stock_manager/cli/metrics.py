"""``stock-manager metrics``: serve our Prometheus metrics (scrape ``/metrics``)."""

from __future__ import annotations

import time

import click
from prometheus_client import start_http_server

from stock_manager.bootstrap import container


@click.command()
@click.option("--port", type=int, default=None, help="Port (default: METRICS_PORT).")
@click.option("--address", default="127.0.0.1", show_default=True)
def metrics(port: int | None, address: str) -> None:
    """Serve queue depth, leases, task health, market state and KIS limiter/token metrics."""
    c = container()
    chosen = port if port is not None else c.settings.metrics_port
    server, _thread = start_http_server(chosen, address, registry=c.metrics_registry)
    click.echo(f"metrics on http://{address}:{server.server_port}/metrics", err=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()
