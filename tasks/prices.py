"""Price checks (every 2 s) and ticks from the stream. A lost run is harmless: early ack."""

from __future__ import annotations

from stock_manager.adapters import task_args
from stock_manager.celery_app import app
from stock_manager.services import prices
from stock_manager.services.liquidation import liquidation_due
from stock_manager.services.session import advance_day
from tasks._runtime import contained, context, send_exits


@app.task(acks_late=False)
@contained
def check_prices() -> int:
    """Mark held symbols, fan out the exits due, and start liquidation if it was missed."""
    ctx = context()
    advance_day(ctx)
    result = prices.check_prices(ctx)
    send_exits(app, result.exits)
    if liquidation_due(ctx):
        app.send_task("tasks.liquidation.liquidate_all")
    return result.marked


@app.task(acks_late=False)
@contained
def on_tick(
    symbol: str,
    price: int,
    volume: int = 0,
    at: str | None = None,
    high: int = 0,
    hour_code: str = "",
    halted: bool | None = None,
    band: list[int] | None = None,
    exit_due: bool = False,
) -> str:
    """A trade print from the stream: evaluate exits for the symbol and sell at once."""
    t = task_args.tick(symbol, price, volume, at, high, hour_code, halted, band, exit_due)
    result = prices.on_tick(context(), t.symbol, t.price, t.high, t.seen, t.exit_due)
    return result.outcome.value if result else "none"
