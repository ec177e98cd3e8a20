"""Price checks (every 2 s while holding anything). A lost run is harmless: no late ack."""

from __future__ import annotations

from stock_manager.bootstrap import container, process_identity
from stock_manager.celery_app import app
from stock_manager.services import market


@app.task(acks_late=False)
def check_prices() -> str:
    """Keep the session state current. Quotes, marks and exits arrive with the trading
    loop (issue 6); until then this task only advances the market state."""
    c = container()
    return market.advance(c.uow(), c.calendar, c.clock, process_identity()).state.value
