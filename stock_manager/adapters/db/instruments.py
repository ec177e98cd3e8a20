"""Each symbol's instrument type and market, as last read from the broker."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from stock_manager.adapters.db.models import InstrumentRow
from stock_manager.domain.instruments import Instrument, InstrumentKind, ListingMarket


class SqlInstrumentRepository:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, symbol: str) -> tuple[Instrument, date] | None:
        row = self._s.get(InstrumentRow, symbol, populate_existing=True)
        if row is None:
            return None
        instrument = Instrument(
            row.symbol,
            InstrumentKind(row.kind),
            ListingMarket(row.market),
            Decimal(row.multiple),
            row.name,
        )
        return instrument, row.read_on

    def save(self, instrument: Instrument, day: date) -> None:
        self._s.merge(
            InstrumentRow(
                symbol=instrument.symbol,
                kind=instrument.kind.value,
                market=instrument.market.value,
                multiple=instrument.multiple,
                name=instrument.name[:80],
                read_on=day,
            )
        )
