"""Record candles from a broker into a store, resumably (``stock-manager kis candles``).

Order of work, each step skipped when the store says it is complete::

    for each symbol: instrument -> daily candles (with base prices) of FROM..TO
    for each trading day of FROM..TO (days with a daily candle), for each symbol: minutes

Trading days come from the daily candles, so no calendar is needed and a suspended
symbol's missing day costs no request. Days from today on are never recorded (their
candles are still forming). Interrupted anywhere, a rerun with the same arguments does only
the rest and ends with the same files (tests/integration/kis/test_candles_download.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from stock_manager.domain.broker import BrokerError
from stock_manager.domain.candles import InstrumentType, RecordedInstrument
from stock_manager.domain.instruments import ListingMarket
from stock_manager.ports import CandleHistory, CandleStore

log = logging.getLogger("stock_manager.recording")


@dataclass(frozen=True, slots=True)
class Step:
    """One unit of work done or skipped: ``kind`` is instrument, daily or minute."""

    kind: str
    symbol: str
    day: date | None
    skipped: bool
    candles: int = 0


@dataclass
class RecordingReport:
    fetched: int = 0  # units fetched from the broker
    skipped: int = 0  # units the store already had
    candles: int = 0
    warnings: list[str] = field(default_factory=list)


Progress = Callable[[Step, int, int], None]  # (step, units done so far, units known so far)


def _quiet(step: Step, done: int, total: int) -> None:
    return None


class CandleRecorder:
    def __init__(
        self, history: CandleHistory, store: CandleStore, progress: Progress | None = None
    ) -> None:
        self.history, self.store, self.progress = history, store, progress or _quiet
        self.report = RecordingReport()
        self._done = self._total = 0
        self._minutes_offered = True

    def record(self, symbols: Sequence[str], start: date, end: date) -> RecordingReport:
        """Record ``symbols`` over ``start..end`` (inclusive); broker errors propagate."""
        if start > end:
            raise ValueError(f"--from {start} is after --to {end}")
        # Today's candles are still forming: a day is recorded only once it is over.
        last_final = min(end, self.history.today() - timedelta(days=1))
        if last_final < start:
            self.report.warnings.append(f"nothing final in {start}..{end}: today is not over")
            return self.report
        self._total = 2 * len(symbols)
        for symbol in symbols:
            self._instrument(symbol)
            self._daily(symbol, start, last_final)
        days = {s: self.store.trading_days(s, start, last_final) for s in symbols}
        self._total += sum(len(d) for d in days.values())
        for day in sorted({d for ds in days.values() for d in ds}):
            for symbol in symbols:
                if day in days[symbol]:
                    self._minute(symbol, day)
        return self.report

    def _step(self, step: Step) -> None:
        self._done += 1
        if step.skipped:
            self.report.skipped += 1
        else:
            self.report.fetched += 1
            self.report.candles += step.candles
        self.progress(step, self._done, self._total)

    def _instrument(self, symbol: str) -> None:
        if self.store.has_instrument(symbol):
            self._step(Step("instrument", symbol, None, skipped=True))
            return
        found = self.history.instrument(symbol)
        if found is None:
            self.report.warnings.append(
                f"{symbol}: the broker does not say its market and type (paper?); "
                "recorded as a KOSPI stock"
            )
            found = RecordedInstrument(symbol, "", ListingMarket.KOSPI, InstrumentType.STOCK)
        self.store.save_instrument(found)
        self._step(Step("instrument", symbol, None, skipped=False))

    def _daily(self, symbol: str, start: date, end: date) -> None:
        if self.store.daily_covers(symbol, start, end):
            self._step(Step("daily", symbol, None, skipped=True))
            return
        candles, bases = self.history.daily_history(symbol, start, end)
        self.store.save_daily(symbol, start, end, candles, bases)
        self._step(Step("daily", symbol, None, skipped=False, candles=len(candles)))

    def _minute(self, symbol: str, day: date) -> None:
        if self.store.minute_done(day, symbol) or not self._minutes_offered:
            self._step(Step("minute", symbol, day, skipped=True))
            return
        try:
            candles = self.history.minute_history(symbol, day)
        except BrokerError as exc:
            if not _not_offered(exc):
                raise
            self.report.warnings.append(f"past-day minute candles are not offered here ({exc})")
            self._minutes_offered = False
            self._step(Step("minute", symbol, day, skipped=True))
            return
        self.store.save_minute(day, symbol, candles, final=True)
        self._step(Step("minute", symbol, day, skipped=False, candles=len(candles)))


def _not_offered(exc: BrokerError) -> bool:
    # KIS paper has no past-day minute chart (EGW02006); the rest of the download stands.
    return getattr(exc, "code", "") == "EGW02006"
