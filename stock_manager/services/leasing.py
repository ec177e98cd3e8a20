"""Holding a symbol's lease while a transition runs, and renewing it at checkpoints."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from stock_manager.ports import Lease
from stock_manager.services.context import ServiceContext

log = logging.getLogger(__name__)

# A lease younger than this share of its TTL is still ours without asking: it was granted
# for the whole TTL, counted from after we asked, and nobody may take an unexpired lease.
TRUSTED_SHARE = 1 / 3
LEASE_POLL = 0.005  # seconds between asks while waiting for a lease (one round trip each)


class LeaseLost(Exception):
    """The lease expired (or was taken) while we held it: stop, write nothing more."""


class HeldLease:
    """A lease we hold; ``fence`` goes into every write made under it."""

    def __init__(self, ctx: ServiceContext, lease: Lease, asked_at: float) -> None:
        self._ctx = ctx
        self.lease = lease
        self._asked_at = asked_at  # monotonic, taken before the request that granted it

    @property
    def symbol(self) -> str:
        return self.lease.symbol

    @property
    def fence(self) -> int:
        return self.lease.fence

    def ensure(self) -> None:
        """Make sure the lease is ours for a good while yet, or raise :class:`LeaseLost`.

        Call it right before any side effect at the broker. A lease granted or renewed less
        than a third of its TTL ago needs no round trip (the stop → sell path is one such);
        an older one is renewed, which also proves nobody has taken it."""
        clock, ttl = self._ctx.clock, self._ctx.policy.lease_ttl
        asked_at = clock.monotonic()
        if asked_at - self._asked_at < ttl * TRUSTED_SHARE:
            return
        renewed = self._ctx.locks.renew(self.lease, ttl)
        if renewed is None:
            raise LeaseLost(f"lease on {self.symbol} (fence {self.fence}) was lost")
        self.lease, self._asked_at = renewed, asked_at


_held_said: dict[str, float] = {}  # symbol -> when this process last said it was held
HELD_SAID_EVERY = 60.0


def _say_held(symbol: str, now: float, ttl: float) -> None:
    """Work skipped for a held lease is logged, once a minute per symbol: the holder is
    working on it, or died and the lease expires within ``ttl`` seconds."""
    if now - _held_said.get(symbol, float("-inf")) < HELD_SAID_EVERY:
        log.debug("lease on %s is held elsewhere", symbol)
        return
    _held_said[symbol] = now
    log.info(
        "lease on %s is held by another worker: skipped here, the next run retries "
        "(a dead holder's lease expires within %gs)",
        symbol,
        ttl,
    )


@contextmanager
def symbol_lease(ctx: ServiceContext, symbol: str, wait: float = 0.0) -> Iterator[HeldLease | None]:
    """Hold ``symbol``'s lease for the block, or yield ``None`` if someone else holds it —
    after asking again every ``LEASE_POLL`` seconds for up to ``wait`` seconds (wall time):
    an exit that arrives while a quick task of the symbol holds it takes it next."""
    owner = f"{ctx.actor}/{uuid.uuid4().hex[:8]}"
    asked_at = ctx.clock.monotonic()
    lease = ctx.locks.acquire(symbol, owner, ctx.policy.lease_ttl)
    give_up = time.monotonic() + wait
    while lease is None and time.monotonic() < give_up:
        time.sleep(LEASE_POLL)
        asked_at = ctx.clock.monotonic()
        lease = ctx.locks.acquire(symbol, owner, ctx.policy.lease_ttl)
    if lease is None:
        _say_held(symbol, ctx.clock.monotonic(), ctx.policy.lease_ttl)
        yield None
        return
    held = HeldLease(ctx, lease, asked_at)
    try:
        yield held
    finally:
        if not ctx.locks.release(held.lease):
            log.warning("lease on %s (fence %d) had already expired", symbol, held.fence)
