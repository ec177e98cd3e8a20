"""One day's minute candles as columns: what the reader returns and the fast writer takes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from stock_manager.domain.candles import Candle


@dataclass(frozen=True, slots=True)
class DayCandles:
    """One day's minute candles for many symbols, as parallel lists sorted by (start, symbol).

    Row ``i`` is ``symbol[i]``'s candle starting at ``start[i]`` (aware KST; equal starts are
    the same object); prices in won, ``volume`` in shares, ``turnover`` in won.
    """

    day: date
    symbol: list[str]
    start: list[datetime]
    open: list[int]
    high: list[int]
    low: list[int]
    close: list[int]
    volume: list[int]
    turnover: list[int]

    def __len__(self) -> int:
        return len(self.symbol)

    def candles(self) -> Iterator[Candle]:
        """The rows as :class:`Candle` objects, in time order."""
        for row in zip(
            self.symbol,
            self.start,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.turnover,
            strict=True,
        ):
            yield Candle(*row)

    @classmethod
    def of(cls, day: date, candles: Sequence[Candle]) -> DayCandles:
        """Columns of ``candles`` in the order given."""
        return cls(
            day,
            [c.symbol for c in candles],
            [c.start for c in candles],
            [c.open for c in candles],
            [c.high for c in candles],
            [c.low for c in candles],
            [c.close for c in candles],
            [c.volume for c in candles],
            [c.turnover for c in candles],
        )
