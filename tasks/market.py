"""Market session tasks (08:50 open, 15:35 close) and the kill switch."""

from __future__ import annotations

from stock_manager.adapters import task_args
from stock_manager.celery_app import app
from stock_manager.services import market
from stock_manager.services.session import advance_day
from tasks._runtime import RETRY_READS, contained, context


@app.task(**RETRY_READS)
@contained
def open_session() -> str:
    """Initialize the day (token, balance, reconciliation) and walk it to READY or TRADING."""
    return advance_day(context()).state.value


@app.task(**RETRY_READS)
@contained
def close_session() -> str:
    """Walk today's market state to CLOSED once the closing auction is over."""
    return advance_day(context()).state.value


@app.task
@contained
def halt(reason: str = "halted by hand") -> str:
    why = task_args.text("tasks.market.halt", "reason", reason)
    ctx = context()
    return market.halt(ctx.uow, ctx.clock, why, ctx.actor).value


@app.task
@contained
def resume(reason: str = "resumed by hand") -> str:
    why = task_args.text("tasks.market.resume", "reason", reason)
    ctx = context()
    return market.resume(ctx.uow, ctx.clock, why, ctx.actor).value
