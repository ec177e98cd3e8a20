"""Which real-time ticks can change anything for a position: the stream's filter.

A held symbol prints many trades a second and nearly all of them change nothing: no exit
rule breaks and no new high moves the trailing stop. The stream asks this gate before it
sends a tick to the workers, so they only see ticks worth a lease. It judges from a
snapshot of the ledger (re-read every second or so) plus the highs it has seen itself since;
the worker judges again under the lease, and the 2-second price check is the backstop.

:meth:`TickGate.exit_due` tells the stream which of those ticks cross an exit level: they
skip the stream's per-symbol pacing (issue 16), the others wait their turn.
"""

from __future__ import annotations

from collections.abc import Iterable

from stock_manager.domain.broker import Tick
from stock_manager.domain.clock import kst_date
from stock_manager.domain.exits import ExitPolicy
from stock_manager.domain.tick_sanity import TickFault, TickSanity
from stock_manager.domain.trade import SymbolState, SymbolTrade

_JUDGED = (SymbolState.HOLDING, SymbolState.QUARANTINED)
_IGNORED = (SymbolState.EXITING, SymbolState.FLAT)  # a sell is out, or nothing is held


class TickGate:
    def __init__(self, exits: ExitPolicy, sanity: TickSanity | None = None) -> None:
        self.exits = exits
        self.sanity = sanity or TickSanity()
        self.last_fault: TickFault | None = None
        self._trades: dict[str, SymbolTrade] = {}
        self._peaks: dict[tuple[str, int], int] = {}  # (symbol, trade_seq) -> highest seen

    def watch(self, trades: Iterable[SymbolTrade]) -> None:
        """Judge from this snapshot from now on (highs seen for the same trades are kept)."""
        snapshot = {t.symbol: t for t in trades}
        self._peaks = {
            key: peak
            for key, peak in self._peaks.items()
            if key[0] in snapshot and snapshot[key[0]].trade_seq == key[1]
        }
        self._trades = snapshot

    def passes(self, tick: Tick) -> bool:
        """Whether the workers should see ``tick``: a new high, an exit, or a symbol whose
        state the snapshot cannot judge (unknown, or an entry that may have just filled).
        An impossible price (``tick_sanity``: outside the day's band, off the grid) never
        passes; it is counted in ``sanity.dropped`` and kept in ``last_fault``."""
        self.last_fault = self.sanity.admit(tick.symbol, kst_date(tick.at), tick.price)
        if self.last_fault is not None:
            return False
        trade = self._trades.get(tick.symbol)
        if trade is None:
            return True
        if trade.state in _IGNORED:
            return False
        if trade.state not in _JUDGED:
            return True
        key = (trade.symbol, trade.trade_seq)
        peak = max(trade.high_water, self._peaks.get(key, 0))
        if tick.price > peak:
            self._peaks[key] = tick.price
            return True
        return self._breaks_exit(trade, peak, tick)

    def exit_due(self, tick: Tick) -> bool:
        """Whether ``tick`` crosses an exit level of a position the snapshot judges (stop-loss,
        take-profit, trailing stop from the highest price known, holding time): such a tick
        must reach a worker at once. Changes nothing; ask after :meth:`passes`."""
        trade = self._trades.get(tick.symbol)
        if trade is None or trade.state not in _JUDGED:
            return False
        peak = max(trade.high_water, self._peaks.get((trade.symbol, trade.trade_seq), 0))
        return self._breaks_exit(trade, peak, tick)

    def _breaks_exit(self, trade: SymbolTrade, peak: int, tick: Tick) -> bool:
        reason = self.exits.evaluate(
            trade.average_price, peak, tick.price, trade.entered_at, tick.at
        )
        return reason is not None
