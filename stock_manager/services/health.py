"""Task health: when each scheduled task last succeeded, and the price-check dead-man switch."""

from __future__ import annotations

import logging
from datetime import timedelta

from stock_manager.domain.clock import kst_date
from stock_manager.domain.market import MarketState
from stock_manager.ports import Notice
from stock_manager.services import market
from stock_manager.services.context import ServiceContext

log = logging.getLogger(__name__)
PRICE_CHECK = "tasks.prices.check_prices"


def dead_man_check(ctx: ServiceContext) -> bool:
    """Halt entries (and alert) if price checks have not succeeded for too long while TRADING.

    Returns whether it tripped. Without price checks nobody watches the stops, so no new
    position may be opened; exits and liquidation keep running.
    """
    now = ctx.clock.now()
    day = kst_date(now)
    session = ctx.calendar.session(day)
    with ctx.uow as uow:
        state = uow.market.get(day)
        run = uow.task_runs.get(PRICE_CHECK)
    if state is not MarketState.TRADING or session is None:
        return False
    since = max(filter(None, (run.last_success_at if run else None, session.opens_at)))
    silence = now - since
    if silence <= timedelta(seconds=ctx.policy.dead_man_seconds):
        return False
    market.halt(
        ctx.uow, ctx.clock, f"price checks silent for {silence.total_seconds():.0f}s", ctx.actor
    )
    ctx.notifier.send(
        Notice(
            "dead_man",
            "critical",
            "Price checks stopped: entries halted",
            f"no successful price check for {silence.total_seconds():.0f} s while trading; "
            "stops are not being watched. Exits and liquidation still run.",
            thread_key=f"dead_man:{day}",
        )
    )
    log.critical(
        "dead-man switch tripped after %.0f s without price checks", silence.total_seconds()
    )
    return True
