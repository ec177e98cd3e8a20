"""The market session lifecycle: the day's state follows the calendar and the clock.

``advance`` is idempotent: it walks today's state forward through the transition table
to where the session says it should be, and records every step. ``open_session`` (08:50),
``close_session`` (15:35) and the frequent tasks' guards all call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from stock_manager.domain.clock import KST, kst_date
from stock_manager.domain.errors import InvalidTransition, StaleWrite
from stock_manager.domain.market import MARKET_TRANSITIONS, MarketEvent, MarketState
from stock_manager.domain.records import Transition
from stock_manager.domain.session import TradingSession
from stock_manager.ports import Clock, MarketCalendar, Notice, UnitOfWork

log = logging.getLogger(__name__)
_S, _E = MarketState, MarketEvent


@dataclass(frozen=True, slots=True)
class MarketStatus:
    day: date
    state: MarketState
    session: TradingSession | None


def target_state(session: TradingSession | None, now: datetime) -> MarketState:
    """Where the day's state belongs at ``now``, ignoring the kill switch."""
    if session is None:
        return _S.OFFLINE
    if now < session.opens_at:
        return _S.READY
    if now < session.liquidation_starts_at:
        return _S.TRADING
    if now < session.auction_ends_at:
        return _S.CLOSING
    return _S.CLOSED


# The events that move a state one step toward each target.
_STEP_TOWARD: dict[MarketState, dict[MarketState, MarketEvent]] = {
    _S.READY: {_S.OFFLINE: _E.INITIALIZE, _S.INITIALIZING: _E.INITIALIZED},
    _S.TRADING: {_S.OFFLINE: _E.INITIALIZE, _S.INITIALIZING: _E.INITIALIZED, _S.READY: _E.OPEN},
    _S.CLOSING: {
        _S.OFFLINE: _E.INITIALIZE,
        _S.INITIALIZING: _E.INITIALIZED,
        _S.READY: _E.START_CLOSING,
        _S.TRADING: _E.START_CLOSING,
        _S.STOPPED: _E.START_CLOSING,
    },
    _S.CLOSED: {
        _S.OFFLINE: _E.CLOSE,
        _S.INITIALIZING: _E.INITIALIZED,
        _S.READY: _E.CLOSE,
        _S.TRADING: _E.START_CLOSING,
        _S.STOPPED: _E.START_CLOSING,
        _S.CLOSING: _E.CLOSE,
    },
}


def advance(
    uow: UnitOfWork,
    calendar: MarketCalendar,
    clock: Clock,
    actor: str = "",
    initialize: Callable[[], int | None] | None = None,
) -> MarketStatus:
    """Move today's market state to where the calendar says it belongs, step by step.

    ``initialize`` is the INITIALIZING work (token, balance, reconciliation); it runs outside
    any transaction and returns the opening D+2 cash. If it raises, the day goes back to
    OFFLINE and the next call tries again. Steps another process took first are skipped.
    """
    now = clock.now()
    day = kst_date(now)
    session = calendar.session(day)
    goal = target_state(session, now)
    state = _walk(uow, day, goal, now, actor, stop_before_init=initialize is not None)
    if state is _S.INITIALIZING and initialize is not None and goal is not _S.OFFLINE:
        _initialize(uow, day, now, actor, initialize)
        state = _walk(uow, day, goal, now, actor, stop_before_init=False)
    return MarketStatus(day, state, session)


def _walk(
    uow: UnitOfWork, day: date, goal: MarketState, now: datetime, actor: str, stop_before_init: bool
) -> MarketState:
    with uow:
        state = uow.market.get(day)
        while (event := _STEP_TOWARD.get(goal, {}).get(state)) is not None:
            if stop_before_init and event is _E.INITIALIZED:
                break
            try:
                state = _apply(uow, day, state, event, now, actor, f"calendar: {goal.value} due")
            except StaleWrite:
                return uow.market.get(day)  # another process moved it; it carries on from there
        uow.commit()
    return state


def _initialize(
    uow: UnitOfWork, day: date, now: datetime, actor: str, initialize: Callable[[], int | None]
) -> None:
    try:
        cash = initialize()
        event, reason = _E.INITIALIZED, "initialized: token, balance, reconciliation"
    except Exception as exc:  # the day must not stay half-initialized: record and retry later
        log.exception("market initialization failed")
        cash, event, reason = None, _E.INIT_FAILED, f"initialization failed: {exc}"[:200]
    with uow:
        state = uow.market.get(day)
        if state is not _S.INITIALIZING:
            return
        try:
            _apply(uow, day, state, event, now, actor, reason)
        except StaleWrite:
            return
        if cash is not None and uow.market.opening_cash(day) is None:
            # The first initialization's D+2 cash is the day's opening, even if the day is
            # initialized again after a reopen: the settlement counts from it.
            uow.market.set_opening_cash(day, cash)
        uow.commit()


def halt(uow: UnitOfWork, clock: Clock, reason: str, actor: str = "") -> MarketState:
    """The kill switch: STOPPED blocks entries everywhere; exits and liquidation still run."""
    now = clock.now()
    with uow:
        state = uow.market.get(kst_date(now))
        if state is _S.STOPPED or not MARKET_TRANSITIONS.allows(state, _E.HALT):
            return state
        state = _apply(uow, kst_date(now), state, _E.HALT, now, actor, reason)
        uow.commit()
    return state


def resume(uow: UnitOfWork, clock: Clock, reason: str, actor: str = "") -> MarketState:
    now = clock.now()
    with uow:
        state = uow.market.get(kst_date(now))
        if state is not _S.STOPPED:
            return state
        state = _apply(uow, kst_date(now), state, _E.RESUME, now, actor, reason)
        uow.commit()
    return state


class ReopenRefused(Exception):
    """The day cannot be reopened; the message says why and what to do."""


def reopen(
    uow: UnitOfWork, calendar: MarketCalendar, clock: Clock, reason: str, actor: str = ""
) -> MarketStatus:
    """Take a day closed by mistake back to OFFLINE (recorded with ``reason``); the next
    ``advance`` (any frequent task, or the caller) initializes it again and walks it to
    where the calendar says. Raises :class:`ReopenRefused` when the day is not CLOSED, or
    when the calendar still says it is over (it would close again at once: fix
    SESSION_OPEN/SESSION_CLOSE or the simulator's session first)."""
    now = clock.now()
    day = kst_date(now)
    session = calendar.session(day)
    goal = target_state(session, now)
    with uow:
        state = uow.market.get(day)
        if state is not _S.CLOSED:
            raise ReopenRefused(f"the market of {day} is {state.value}, not CLOSED")
        if goal is _S.CLOSED:
            raise ReopenRefused(
                f"the calendar says the session of {day} is over (it ended "
                f"{_hm(session.auction_ends_at) if session else '-'}); reopening would close "
                "it again: fix SESSION_OPEN/SESSION_CLOSE or the simulator's session first"
            )
        state = _apply(uow, day, state, _E.REOPEN, now, actor, f"reopened by hand: {reason}"[:200])
        uow.commit()
    return MarketStatus(day, state, session)


def _hm(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%H:%M:%S")


def daily_loss_notice(pnl: int) -> Notice:
    return Notice(
        "daily_loss",
        "critical",
        "Daily loss limit reached: entries halted",
        f"today's PnL is {pnl:,} won; exits and liquidation continue",
        thread_key="daily_loss",
    )


def current(uow: UnitOfWork, clock: Clock) -> MarketState:
    with uow:
        return uow.market.get(kst_date(clock.now()))


def _apply(
    uow: UnitOfWork,
    day: date,
    state: MarketState,
    event: MarketEvent,
    now: datetime,
    actor: str,
    reason: str,
) -> MarketState:
    try:
        new = MARKET_TRANSITIONS.next(state, event)
    except InvalidTransition:
        log.exception("market %s: refusing %s", day, event.value)
        raise
    uow.market.save(day, state, new, reason)
    uow.audit.record(
        Transition(
            "market",
            day.isoformat(),
            state.value,
            new.value,
            event.value,
            now,
            actor=actor,
            detail={"reason": reason},
        )
    )
    log.info("market %s: %s -> %s (%s)", day, state.value, new.value, reason)
    return new
