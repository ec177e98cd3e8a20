"""Who writes, and the notices a write collects: shared by every use case that writes under
a symbol's lease."""

from __future__ import annotations

from stock_manager.services.context import ServiceContext
from stock_manager.services.leasing import HeldLease
from stock_manager.services.ledger import Writer


def writer(ctx: ServiceContext, lease: HeldLease) -> Writer:
    """A writer under ``lease``'s fence, at the context's now."""
    return Writer(lease.fence, ctx.clock.now(), ctx.actor)


def send_notices(ctx: ServiceContext, w: Writer) -> None:
    """Send what ``w`` collected (after its transaction committed) and forget it."""
    for notice in w.notices:
        ctx.notifier.send(notice)
    w.notices.clear()
