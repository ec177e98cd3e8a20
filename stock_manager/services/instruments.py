"""Each symbol's instrument type, read from the broker once a day and stored for the ledger.

The ledger never calls the broker, so it reads what is stored (a stock until the broker
said otherwise); entries call :func:`instrument_of` first, which reads KIS 주식기본조회 when
the stored answer is missing or from an earlier day.
"""

from __future__ import annotations

import logging

from stock_manager.domain.broker import BrokerError, BrokerRejected
from stock_manager.domain.clock import kst_date
from stock_manager.domain.instruments import Instrument
from stock_manager.services.context import ServiceContext

log = logging.getLogger(__name__)


def record_instrument(ctx: ServiceContext, symbol: str) -> None:
    """Know ``symbol``'s instrument before its fills are costed (held, adopted or traded);
    a code the broker does not list stays a stock, with a warning, never an error."""
    try:
        instrument_of(ctx, symbol)
    except BrokerRejected as exc:  # delisted or renamed: charged as a stock, never fatal
        log.warning("no instrument for %s: %s", symbol, exc)


def instrument_of(ctx: ServiceContext, symbol: str) -> Instrument:
    """The symbol's instrument, fresh from the broker at most once a day.

    Raises ``BrokerRejected`` for a code the broker does not list. When the broker cannot be
    read (a transient error), yesterday's answer is used, else a stock (its tick table is
    valid for ETFs and ETNs too; its sale tax is the conservative estimate)."""
    day = kst_date(ctx.clock.now())
    with ctx.uow as uow:
        stored = uow.instruments.get(symbol)
    if stored is not None and stored[1] >= day:
        return stored[0]
    try:
        fresh = ctx.broker.instrument(symbol)
    except BrokerRejected:
        raise
    except BrokerError as exc:
        log.warning("instrument of %s unread (%s); using what is known", symbol, exc)
        return stored[0] if stored else Instrument(symbol)
    with ctx.uow as uow:
        uow.instruments.save(fresh, day)
        uow.commit()
    return fresh
