"""One symbol's trouble stays with that symbol.

Every use case that walks many symbols (price checks, reconciliation, scans, sync,
liquidation) runs each symbol's step through :func:`per_symbol`: whatever goes wrong there is
dealt with there, and the walk goes on for every other symbol.

=====================================  ================================================
what went wrong                        what happens to that symbol
=====================================  ================================================
``StaleWrite``, ``LeaseLost``          skipped: another worker moved it; the next pass sees it
``BrokerError`` (a failed read, ...)   skipped with a warning: the next pass tries again
another ``DomainError`` (the ledger    quarantined (no entries; exits still allowed) with
contradicts itself: a bad transition,  an error alert: a person looks
a quantity that cannot be)
anything else (a bug)                  skipped with an error alert carrying the traceback
=====================================  ================================================
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from stock_manager.domain.broker import BrokerError
from stock_manager.domain.errors import DomainError, StaleWrite
from stock_manager.domain.trade import SymbolState, SymbolTrade
from stock_manager.ports import Notice
from stock_manager.services.context import ServiceContext
from stock_manager.services.leasing import LeaseLost, symbol_lease
from stock_manager.services.ledger import quarantine
from stock_manager.services.writes import send_notices, writer

log = logging.getLogger(__name__)
_T = TypeVar("_T")


def per_symbol(
    ctx: ServiceContext, symbol: str, what: str, step: Callable[[], _T], default: _T
) -> _T:
    """``step()`` for ``symbol``, or ``default`` once its failure has been dealt with."""
    try:
        return step()
    except (StaleWrite, LeaseLost) as exc:
        log.info("%s %s: moved under us (%s); next pass", what, symbol, exc)
    except BrokerError as exc:
        log.warning(
            "%s %s: the broker failed (%s: %s); next pass", what, symbol, type(exc).__name__, exc
        )
    except DomainError as exc:
        log.error("%s %s: the ledger contradicts itself: %s", what, symbol, exc)
        quarantine_symbol(ctx, symbol, f"{what}: {type(exc).__name__}: {exc}")
    except Exception as exc:
        log.exception("%s %s failed", what, symbol)
        _alert(ctx, symbol, what, exc)
    return default


def guarded(ctx: ServiceContext, what: str, step: Callable[[], _T], default: _T) -> _T:
    """``step()`` for a step that is no one symbol's (the daily-loss check): any failure is
    logged and alerted, and ``default`` returned, so the use case around it goes on."""
    try:
        return step()
    except Exception as exc:
        log.exception("%s failed", what)
        _alert(ctx, "the account", what, exc)
        return default


def quarantine_symbol(ctx: ServiceContext, symbol: str, reason: str) -> bool:
    """Quarantine ``symbol`` under its lease (entries stop, exits go on); False if busy."""
    try:
        with symbol_lease(ctx, symbol) as lease:
            if lease is None:
                return False
            w = writer(ctx, lease)
            with ctx.uow as uow:
                trade = uow.symbols.get(symbol) or SymbolTrade(symbol)
                if trade.state is not SymbolState.QUARANTINED:
                    quarantine(uow, w, trade, reason)
                    uow.commit()
            send_notices(ctx, w)
            return True
    except Exception:  # quarantining must never add a second failure to the first
        log.exception("could not quarantine %s", symbol)
        return False


def _alert(ctx: ServiceContext, symbol: str, what: str, exc: Exception) -> None:
    try:
        ctx.notifier.send(
            Notice(
                "symbol_error",
                "error",
                f"{what} failed for {symbol}",
                f"{type(exc).__name__}: {exc}; other symbols go on, this one is tried again",
                thread_key=f"symbol_error:{what}:{symbol}",
            )
        )
    except Exception:
        log.exception("could not alert about %s", symbol)
