"""The lease sweep: expired leases are found, written to the recovery log, and released.

Symbols an expired holder left in ENTERING/EXITING are reconciled with the broker before
their lease is released (see ``services.recovery``, added with the order ledger).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stock_manager.domain.records import RecoveryEntry, RecoveryKind
from stock_manager.ports import Clock, Lease, LeaseLock, UnitOfWork

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepResult:
    released: tuple[Lease, ...]


def sweep_locks(locks: LeaseLock, uow: UnitOfWork, clock: Clock) -> SweepResult:
    released = tuple(locks.sweep_expired())
    if not released:
        return SweepResult(())
    now = clock.now()
    with uow:
        for lease in released:
            uow.recovery.record(
                RecoveryEntry(
                    RecoveryKind.EXPIRED_LEASE,
                    "released",
                    now,
                    lease.symbol,
                    {
                        "owner": lease.owner,
                        "fence": lease.fence,
                        "expired_at": lease.expires_at.isoformat(),
                    },
                )
            )
        uow.commit()
    log.warning(
        "released %d expired lease(s): %s",
        len(released),
        ", ".join(f"{x.symbol}#{x.fence}" for x in released),
    )
    return SweepResult(released)
