"""Holding a symbol's lease while a transition runs, and renewing it at checkpoints."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from stock_manager.ports import Lease
from stock_manager.services.context import ServiceContext

log = logging.getLogger(__name__)


class LeaseLost(Exception):
    """The lease expired (or was taken) while we held it: stop, write nothing more."""


class HeldLease:
    """A lease we hold; ``fence`` goes into every write made under it."""

    def __init__(self, ctx: ServiceContext, lease: Lease) -> None:
        self._ctx = ctx
        self.lease = lease

    @property
    def symbol(self) -> str:
        return self.lease.symbol

    @property
    def fence(self) -> int:
        return self.lease.fence

    def ensure(self) -> None:
        """Renew now, or raise :class:`LeaseLost` if it is no longer ours.

        Call it right before any side effect at the broker."""
        renewed = self._ctx.locks.renew(self.lease, self._ctx.policy.lease_ttl)
        if renewed is None:
            raise LeaseLost(f"lease on {self.symbol} (fence {self.fence}) was lost")
        self.lease = renewed


@contextmanager
def symbol_lease(ctx: ServiceContext, symbol: str) -> Iterator[HeldLease | None]:
    """Hold ``symbol``'s lease for the block, or yield ``None`` if someone else holds it."""
    owner = f"{ctx.actor}/{uuid.uuid4().hex[:8]}"
    lease = ctx.locks.acquire(symbol, owner, ctx.policy.lease_ttl)
    if lease is None:
        log.debug("lease on %s is held elsewhere", symbol)
        yield None
        return
    held = HeldLease(ctx, lease)
    try:
        yield held
    finally:
        if not ctx.locks.release(held.lease):
            log.warning("lease on %s (fence %d) had already expired", symbol, held.fence)
