"""The trading day's session as the tasks drive it: initialization does real work."""

from __future__ import annotations

import logging

from stock_manager.ports import Lane, using_lane
from stock_manager.services import market
from stock_manager.services.context import ServiceContext
from stock_manager.services.instruments import record_instrument
from stock_manager.services.reconcile import reconcile

log = logging.getLogger(__name__)


def initialize_day(ctx: ServiceContext) -> int:
    """INITIALIZING: the broker answers (token), the balance is read, the ledger reconciled,
    and each held symbol's instrument type read (so selling an ETF held since yesterday is
    charged as one).

    Returns the opening D+2 cash, against which the day's settlement is checked.
    """
    with using_lane(Lane.SYNC):
        balance = ctx.broker.balance()
        for holding in balance.holdings:
            record_instrument(ctx, holding.symbol)
    reconcile(ctx)
    return balance.settled_cash_d2


def advance_day(ctx: ServiceContext) -> market.MarketStatus:
    return market.advance(
        ctx.uow, ctx.calendar, ctx.clock, ctx.actor, initialize=lambda: initialize_day(ctx)
    )
