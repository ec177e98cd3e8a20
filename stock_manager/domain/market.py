"""The market session lifecycle of one trading day, and the kill switch.

::

    OFFLINE -> INITIALIZING -> READY -> TRADING -> CLOSING -> CLOSED
    STOPPED: no new entries anywhere; exits and liquidation still run.
    CLOSED -> OFFLINE: reopened by hand (``stock-manager market reopen``) when a wrong
    calendar closed the day; the lifecycle then walks it to where the calendar says.
"""

from __future__ import annotations

from enum import Enum

from stock_manager.domain.fsm import TransitionTable


class MarketState(Enum):
    OFFLINE = "OFFLINE"
    INITIALIZING = "INITIALIZING"
    READY = "READY"
    TRADING = "TRADING"
    CLOSING = "CLOSING"
    CLOSED = "CLOSED"
    STOPPED = "STOPPED"

    @property
    def allows_entries(self) -> bool:
        return self is MarketState.TRADING

    @property
    def allows_exits(self) -> bool:
        return self in {MarketState.TRADING, MarketState.CLOSING, MarketState.STOPPED}


class MarketEvent(Enum):
    INITIALIZE = "initialize"
    INITIALIZED = "initialized"
    INIT_FAILED = "init_failed"
    OPEN = "open"
    START_CLOSING = "start_closing"
    CLOSE = "close"
    HALT = "halt"
    RESUME = "resume"
    REOPEN = "reopen"


_S, _E = MarketState, MarketEvent
MARKET_TRANSITIONS: TransitionTable[MarketState, MarketEvent] = TransitionTable(
    "market",
    {
        (_S.OFFLINE, _E.INITIALIZE): _S.INITIALIZING,
        (_S.INITIALIZING, _E.INITIALIZED): _S.READY,
        (_S.INITIALIZING, _E.INIT_FAILED): _S.OFFLINE,
        (_S.READY, _E.OPEN): _S.TRADING,
        (_S.READY, _E.START_CLOSING): _S.CLOSING,
        (_S.TRADING, _E.START_CLOSING): _S.CLOSING,
        (_S.STOPPED, _E.START_CLOSING): _S.CLOSING,
        (_S.CLOSING, _E.CLOSE): _S.CLOSED,
        (_S.OFFLINE, _E.CLOSE): _S.CLOSED,
        (_S.READY, _E.CLOSE): _S.CLOSED,
        (_S.OFFLINE, _E.HALT): _S.STOPPED,
        (_S.INITIALIZING, _E.HALT): _S.STOPPED,
        (_S.READY, _E.HALT): _S.STOPPED,
        (_S.TRADING, _E.HALT): _S.STOPPED,
        (_S.STOPPED, _E.HALT): _S.STOPPED,
        # Resuming goes through READY; the lifecycle opens it again if the session is on.
        (_S.STOPPED, _E.RESUME): _S.READY,
        # A day closed by mistake starts over: initialization runs again (token, balance,
        # reconciliation) before anything trades.
        (_S.CLOSED, _E.REOPEN): _S.OFFLINE,
    },
)
