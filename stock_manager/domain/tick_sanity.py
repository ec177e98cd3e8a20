"""Whether a traded price can be real before anything acts on it (issue 13, item 4).

A tick at price 1 on a held position once sold all of it. Every price an exit may act on
(a real-time tick, a polled quote) is judged here first: a price that is not positive, lies
outside the day's price band (base ±30 %, KRX's daily limit, krx.md §3) or off every KRX
tick grid is *insane*: the caller drops it, counts it and logs a warning, and never acts.

The grid check is the coarsest one valid for every instrument type (stock or ETF/ETN tick
tables, krx.md §2): 1 won below 2,000, a multiple of 5 from 2,000. A finer check needs the
instrument type, which a tick does not carry.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from enum import Enum

from stock_manager.domain.krx import PriceLimits

COMMON_GRID = ((2_000, 5),)  # (from price, tick every instrument's table divides)


class TickFault(Enum):
    NOT_POSITIVE = "not_positive"
    BELOW_BAND = "below_band"
    ABOVE_BAND = "above_band"
    OFF_GRID = "off_grid"


def judge_price(price: int, band: PriceLimits | None) -> TickFault | None:
    """Why ``price`` (won) cannot be a trade of the day with ``band``, or ``None`` if it can.

    ``band`` ``None`` (not known yet) checks sign and grid only."""
    if price <= 0:
        return TickFault.NOT_POSITIVE
    if band is not None and price < band.lower:
        return TickFault.BELOW_BAND
    if band is not None and price > band.upper:
        return TickFault.ABOVE_BAND
    for start, tick in COMMON_GRID:
        if price >= start and price % tick:
            return TickFault.OFF_GRID
    return None


class TickSanity:
    """The day's bands per symbol and the count of prices dropped, per fault.

    ``learn`` records a band (from a quote: ``stck_sdpr``/``stck_mxpr``/``stck_llam``);
    ``admit`` judges a price against the symbol's band and counts a refusal."""

    def __init__(self) -> None:
        self._bands: dict[str, tuple[date, PriceLimits]] = {}
        self.dropped: Counter[TickFault] = Counter()

    def learn(self, symbol: str, day: date, band: PriceLimits) -> bool:
        """Record ``symbol``'s band for ``day``; a band that is not one is ignored."""
        if not 0 < band.lower <= band.base <= band.upper:
            return False
        self._bands[symbol] = (day, band)
        return True

    def band(self, symbol: str, day: date) -> PriceLimits | None:
        known = self._bands.get(symbol)
        return known[1] if known is not None and known[0] == day else None

    def admit(self, symbol: str, day: date, price: int) -> TickFault | None:
        """``None`` if ``price`` may be acted on; else the fault, counted."""
        fault = judge_price(price, self.band(symbol, day))
        if fault is not None:
            self.dropped[fault] += 1
        return fault

    def forget_except(self, symbols: set[str]) -> None:
        self._bands = {s: b for s, b in self._bands.items() if s in symbols}
