"""Market session tasks (08:50 open, 15:35 close) and the kill switch."""

from __future__ import annotations

from stock_manager.bootstrap import container, process_identity
from stock_manager.celery_app import app
from stock_manager.services import market


@app.task
def open_session() -> str:
    """Walk today's market state to READY (or further, if the session is already on)."""
    c = container()
    return market.advance(c.uow(), c.calendar, c.clock, process_identity()).state.value


@app.task
def close_session() -> str:
    """Walk today's market state to CLOSED once the closing auction is over."""
    c = container()
    return market.advance(c.uow(), c.calendar, c.clock, process_identity()).state.value


@app.task
def halt(reason: str = "halted by hand") -> str:
    c = container()
    return market.halt(c.uow(), c.clock, reason, process_identity()).value


@app.task
def resume(reason: str = "resumed by hand") -> str:
    c = container()
    return market.resume(c.uow(), c.clock, reason, process_identity()).value
