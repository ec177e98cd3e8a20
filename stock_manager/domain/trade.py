"""The per-symbol trade lifecycle: any worker may run any transition, one at a time.

::

    FLAT --buy_signal--> ENTERING --buy_filled--> HOLDING
    HOLDING --exit_signal--> EXITING --sell_filled--> FLAT
    ENTERING --buy_ended_empty--> FLAT            (cancelled or rejected, nothing filled)
    ENTERING --buy_ended_partial--> HOLDING       (partial fill, remainder cancelled)
    EXITING --sell_ended_partial--> HOLDING       (remaining quantity; the exit is retried)
    any --quarantine--> QUARANTINED               (a mismatch nobody can explain)
    QUARANTINED --exit_signal--> EXITING          (no entries, but exits still run)
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from stock_manager.domain.fsm import TransitionTable


class SymbolState(Enum):
    FLAT = "FLAT"
    ENTERING = "ENTERING"
    HOLDING = "HOLDING"
    EXITING = "EXITING"
    QUARANTINED = "QUARANTINED"
    IGNORED = "IGNORED"  # shares the system did not open, left alone (EXTERNAL_HOLDINGS=ignore)

    @property
    def in_flight(self) -> bool:
        """An order may be working at the broker for this symbol."""
        return self in {SymbolState.ENTERING, SymbolState.EXITING}


class SymbolEvent(Enum):
    BUY_SIGNAL = "buy_signal"
    BUY_PARTIALLY_FILLED = "buy_partially_filled"
    BUY_FILLED = "buy_filled"
    BUY_ENDED_EMPTY = "buy_ended_empty"
    BUY_ENDED_PARTIAL = "buy_ended_partial"
    EXIT_SIGNAL = "exit_signal"
    SELL_PARTIALLY_FILLED = "sell_partially_filled"
    SELL_FILLED = "sell_filled"
    SELL_ENDED_PARTIAL = "sell_ended_partial"
    QUARANTINE = "quarantine"
    RELEASE_FLAT = "release_flat"
    RELEASE_HOLDING = "release_holding"
    ADOPT_HOLDING = "adopt_holding"  # reconciliation: the broker holds shares we did not know of
    ADJUST_QUANTITY = "adjust_quantity"  # reconciliation: the broker holds a different quantity
    POSITION_GONE = "position_gone"  # reconciliation: the broker holds none of what we recorded
    IGNORE_HOLDING = "ignore_holding"  # reconciliation: shares we did not open, to leave alone


_S, _E = SymbolState, SymbolEvent
SYMBOL_TRANSITIONS: TransitionTable[SymbolState, SymbolEvent] = TransitionTable(
    "symbol",
    {
        (_S.FLAT, _E.BUY_SIGNAL): _S.ENTERING,
        (_S.ENTERING, _E.BUY_PARTIALLY_FILLED): _S.ENTERING,
        (_S.ENTERING, _E.BUY_FILLED): _S.HOLDING,
        (_S.ENTERING, _E.BUY_ENDED_EMPTY): _S.FLAT,
        (_S.ENTERING, _E.BUY_ENDED_PARTIAL): _S.HOLDING,
        (_S.HOLDING, _E.EXIT_SIGNAL): _S.EXITING,
        (_S.QUARANTINED, _E.EXIT_SIGNAL): _S.EXITING,
        (_S.EXITING, _E.SELL_PARTIALLY_FILLED): _S.EXITING,
        (_S.EXITING, _E.SELL_FILLED): _S.FLAT,
        (_S.EXITING, _E.SELL_ENDED_PARTIAL): _S.HOLDING,
        (_S.FLAT, _E.QUARANTINE): _S.QUARANTINED,
        (_S.ENTERING, _E.QUARANTINE): _S.QUARANTINED,
        (_S.HOLDING, _E.QUARANTINE): _S.QUARANTINED,
        (_S.EXITING, _E.QUARANTINE): _S.QUARANTINED,
        (_S.QUARANTINED, _E.QUARANTINE): _S.QUARANTINED,
        (_S.QUARANTINED, _E.RELEASE_FLAT): _S.FLAT,
        (_S.QUARANTINED, _E.RELEASE_HOLDING): _S.HOLDING,
        (_S.FLAT, _E.ADOPT_HOLDING): _S.HOLDING,
        (_S.HOLDING, _E.ADJUST_QUANTITY): _S.HOLDING,
        (_S.HOLDING, _E.POSITION_GONE): _S.FLAT,
        (_S.FLAT, _E.IGNORE_HOLDING): _S.IGNORED,
        (_S.IGNORED, _E.ADJUST_QUANTITY): _S.IGNORED,
        (_S.IGNORED, _E.POSITION_GONE): _S.FLAT,
        # The setting changed to manage or liquidate: the shares are taken on after all.
        (_S.IGNORED, _E.ADOPT_HOLDING): _S.HOLDING,
    },
)


@dataclass(frozen=True, slots=True)
class SymbolTrade:
    """One symbol's trading state and position, as the ledger records it."""

    symbol: str
    state: SymbolState = SymbolState.FLAT
    quantity: int = 0
    cost: int = 0  # notional paid for the shares held
    fence: int = 0  # fencing token of the lease under which it was last written
    version: int = 0  # 0: not stored yet
    trade_seq: int = 0  # the current (or last) round trip of the day
    strategy: str = ""
    entered_at: datetime | None = None
    high_water: int = 0  # highest mark since entry, for trailing stops
    last_price: int = 0
    note: str = ""

    @property
    def average_price(self) -> Decimal:
        if not self.quantity:
            return Decimal(0)
        return (Decimal(self.cost) / self.quantity).quantize(Decimal("0.0001"))

    def apply(self, event: SymbolEvent, **changes: Any) -> SymbolTrade:
        """This symbol after ``event``; raises ``InvalidTransition`` on a bad pair.

        An event that starts a trade (``STARTS_A_TRADE``) first resets every per-trade field
        (``PER_TRADE_FIELDS``) to its default: nothing of the last round trip (its peak, entry
        time, strategy, notes) may act on the next one."""
        state = SYMBOL_TRANSITIONS.next(self.state, event)
        base = self.fresh_trade() if event in STARTS_A_TRADE else self
        return replace(base, state=state, **changes)

    def marked(self, price: int) -> SymbolTrade:
        """This symbol with ``price`` as its last mark; the high-water mark rises only while
        shares are held, so a trade's peak starts at its first fill."""
        high = max(self.high_water, price) if self.quantity > 0 else self.high_water
        return replace(self, last_price=price, high_water=high)

    def fresh_trade(self) -> SymbolTrade:
        """This symbol with every per-trade field at its default."""
        return replace(self, **_PER_TRADE_DEFAULTS)


# What outlives a round trip: the row's identity, where its state machine stands, and the
# position, which follows from fills alone (and is zero whenever a new trade may start).
# Every other field belongs to one trade, so a field added later is reset by default.
SYMBOL_FIELDS = ("symbol", "state", "quantity", "cost", "fence", "version", "trade_seq")
PER_TRADE_FIELDS = tuple(f.name for f in fields(SymbolTrade) if f.name not in SYMBOL_FIELDS)
_PER_TRADE_DEFAULTS: dict[str, Any] = {
    name: getattr(SymbolTrade(""), name) for name in PER_TRADE_FIELDS
}
# The events that begin a new trade of the symbol: an entry, or shares taken on from the
# broker's balance (reconciliation), which then sets what it knows of them.
STARTS_A_TRADE = frozenset({SymbolEvent.BUY_SIGNAL, SymbolEvent.ADOPT_HOLDING})
