"""Task health: when each scheduled task last succeeded, and the price-check dead-man switch.

The switch halts entries when price checks go silent while TRADING, and lifts its own halt
(issue 13 item 9) once they have been healthy for ``dead_man_resume_seconds``, unless
``dead_man_hold_day`` keeps it for the day. It never lifts a halt it did not make (by hand,
daily loss): those carry another reason. "Healthy since" is the last moment the switch saw
silence or a price check failed; the switch records its sightings as failures of the
``dead_man`` task run, so every process shares them.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from stock_manager.domain.clock import kst_date
from stock_manager.domain.market import MarketState
from stock_manager.ports import Notice
from stock_manager.services import market
from stock_manager.services.context import ServiceContext

log = logging.getLogger(__name__)
PRICE_CHECK = "tasks.prices.check_prices"
DEAD_MAN = "dead_man"  # task-run name under which the switch records silence it saw
DEAD_MAN_REASON = "dead-man switch: "


def dead_man_check(ctx: ServiceContext) -> bool:
    """Halt entries (and alert) if price checks have not succeeded for too long while TRADING;
    lift that halt once they are healthy again (see the module docstring).

    Returns whether it tripped. Without price checks nobody watches the stops, so no new
    position may be opened; exits and liquidation keep running.
    """
    now = ctx.clock.now()
    day = kst_date(now)
    session = ctx.calendar.session(day)
    with ctx.uow as uow:
        state = uow.market.get(day)
        reason = uow.market.reason(day)
        run = uow.task_runs.get(PRICE_CHECK)
    if session is None:
        return False
    last_success = run.last_success_at if run else None
    silence = now - max(filter(None, (last_success, session.opens_at)))
    silent = silence > timedelta(seconds=ctx.policy.dead_man_seconds)
    if state is MarketState.STOPPED and reason.startswith(DEAD_MAN_REASON):
        _maybe_resume(ctx, now, silent)
        return False
    if state is not MarketState.TRADING or not silent:
        return False
    _record_silence(ctx, now)
    seconds = silence.total_seconds()
    market.halt(
        ctx.uow, ctx.clock, f"{DEAD_MAN_REASON}price checks silent for {seconds:.0f}s", ctx.actor
    )
    hold = ctx.policy.dead_man_hold_day
    then = "until tomorrow (DEAD_MAN_HOLD_DAY)" if hold else "until price checks are healthy"
    ctx.notifier.send(
        Notice(
            "dead_man",
            "critical",
            "Price checks stopped: entries halted",
            f"no successful price check for {seconds:.0f} s while trading; "
            f"stops are not being watched. Exits and liquidation still run. Entries stay "
            f"halted {then}.",
            thread_key=f"dead_man:{day}",
        )
    )
    log.critical("dead-man switch tripped after %.0f s without price checks", seconds)
    return True


def _maybe_resume(ctx: ServiceContext, now: datetime, silent: bool) -> None:
    """Lift the switch's own halt after ``dead_man_resume_seconds`` of healthy checks."""
    if silent:
        _record_silence(ctx, now)
        return
    if ctx.policy.dead_man_hold_day:
        return
    with ctx.uow as uow:
        seen = uow.task_runs.get(DEAD_MAN)
        checks = uow.task_runs.get(PRICE_CHECK)
    troubles = [
        seen.last_failure_at if seen else None,
        checks.last_failure_at if checks else None,
    ]
    healthy_since = max(filter(None, troubles), default=None)
    needed = timedelta(seconds=ctx.policy.dead_man_resume_seconds)
    if healthy_since is not None and now - healthy_since < needed:
        return
    healthy = needed.total_seconds()
    reason = f"price checks healthy for {healthy:.0f}s after a dead-man halt"
    state = market.resume(ctx.uow, ctx.clock, reason, ctx.actor)
    if state is MarketState.STOPPED:
        return  # someone else moved it meanwhile
    ctx.notifier.send(
        Notice(
            "dead_man_resumed",
            "warning",
            "Price checks healthy again: entries resume",
            f"price checks have succeeded for at least {healthy:.0f} s since the dead-man "
            "halt; entries resume. Set DEAD_MAN_HOLD_DAY=true to keep such a halt for the day.",
            thread_key=f"dead_man:{kst_date(now)}",
        )
    )
    log.warning("dead-man halt lifted: price checks healthy for %.0f s", healthy)


def _record_silence(ctx: ServiceContext, now: datetime) -> None:
    with ctx.uow as uow:
        uow.task_runs.failed(DEAD_MAN, now)
        uow.commit()
