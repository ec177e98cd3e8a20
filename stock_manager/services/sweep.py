"""The lease sweep (every 30 s): recover what dead or stalled workers left behind.

1. Symbols left mid-transition (ENTERING/EXITING, or with orders that may be live) whose
   lease nobody holds are taken over (an expired lease is taken with a higher fence),
   reconciled with the broker through order sync (NEW intents become UNKNOWN and are
   resolved), and only then released.
2. Any other expired lease is released and written to the recovery log.
3. Workers whose heartbeat stopped are recorded as gone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from stock_manager.domain.clock import kst_date
from stock_manager.domain.orders import OrderStatus
from stock_manager.domain.records import RecoveryEntry, RecoveryKind
from stock_manager.domain.trade import SymbolState
from stock_manager.ports import Lease
from stock_manager.services.context import ServiceContext
from stock_manager.services.reconcile import reconcile
from stock_manager.services.sync import UNSETTLED, sync_symbols

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SweepResult:
    recovered: tuple[str, ...]
    released: tuple[Lease, ...]
    stale_workers: tuple[str, ...]


def sweep_locks(ctx: ServiceContext) -> SweepResult:
    recovered = _recover_unattended(ctx)
    released = tuple(ctx.locks.sweep_expired())
    stale = _stale_workers(ctx)
    now = ctx.clock.now()
    with ctx.uow as uow:
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
    if released:
        log.warning(
            "released %d expired lease(s): %s",
            len(released),
            ", ".join(f"{x.symbol}#{x.fence}" for x in released),
        )
    return SweepResult(recovered, released, stale)


def _recover_unattended(ctx: ServiceContext) -> tuple[str, ...]:
    day = kst_date(ctx.clock.now())
    with ctx.uow as uow:
        in_flight = {
            t.symbol for t in uow.symbols.find([SymbolState.ENTERING, SymbolState.EXITING])
        }
        unsettled = uow.orders.find(day=day, statuses=UNSETTLED)
    # Orders SUBMITTED and waiting are order sync's; the sweep takes what nobody will finish:
    # intents never recorded as sent, unresolved sends, and symbols stuck with no order.
    abandoned = {o.symbol for o in unsettled if o.status in (OrderStatus.NEW, OrderStatus.UNKNOWN)}
    stuck = in_flight - {o.symbol for o in unsettled}
    held = {lease.symbol for lease in ctx.locks.held()}
    unattended = sorted((abandoned | stuck) - held)
    if not unattended:
        return ()
    result = sync_symbols(ctx, unattended)  # each from a complete read of its own orders
    if stuck:
        reconcile(ctx)  # settles symbols stuck in flight by the broker's balance
    recovered = tuple(s for s in unattended if s not in result.busy + result.failed)
    with ctx.uow as uow:
        for symbol in recovered:
            uow.recovery.record(
                RecoveryEntry(RecoveryKind.EXPIRED_LEASE, "reconciled", ctx.clock.now(), symbol, {})
            )
        uow.commit()
    return recovered


def _stale_workers(ctx: ServiceContext) -> tuple[str, ...]:
    now = ctx.clock.now()
    with ctx.uow as uow:
        stale = uow.workers.stale(now - ctx.policy.stale_worker_after)
        for worker in stale:
            uow.workers.stopped(worker.worker_id, now)
            uow.recovery.record(
                RecoveryEntry(
                    RecoveryKind.STALE_WORKER,
                    "marked stopped",
                    now,
                    None,
                    {
                        "worker": worker.worker_id,
                        "last_heartbeat": worker.last_heartbeat_at.isoformat(),
                    },
                )
            )
        uow.commit()
    return tuple(w.worker_id for w in stale)
