"""Past candles from KIS for recording (:class:`~stock_manager.ports.CandleHistory`).

- Daily: ``inquire-daily-itemchartprice`` (adjusted prices), paged back 100 days a call. A
  day's base price (기준가) is ``stck_clpr - prdy_vrss``: KIS states the change against the
  base price, which is the previous close except after a corporate action ⚠.
- Minutes of a past day: ``inquire-time-dailychartprice`` (live only; paper raises
  ``KISNotSupported``), 120 a call, paged back from 15:30 by asking for the minute before
  the earliest one received. Today's minutes are not final and are not recorded.
- Instrument: ``search-stock-info`` (live only): ``mket_id_cd`` STK/KSQ, ``scty_grp_id_cd``
  ST/EF/EN. Paper answers None and the caller decides.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from stock_manager.adapters.kis import mapping, trids
from stock_manager.adapters.kis.errors import KISIncompleteRead, KISNotSupported
from stock_manager.adapters.kis.parsing import parse_date
from stock_manager.adapters.kis.rest import MARKET, KisRestClient
from stock_manager.domain.candles import Candle, InstrumentType, RecordedInstrument
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import ListingMarket

SESSION_OPEN = time(9, 0)
LAST_CANDLE = time(15, 30)  # the closing call's candle; after-hours sessions are not recorded
MARKETS = {"STK": ListingMarket.KOSPI, "KSQ": ListingMarket.KOSDAQ}
TYPES = {"EF": InstrumentType.ETF, "EN": InstrumentType.ETN}  # anything else: a stock ⚠


class KisCandleHistory:
    def __init__(self, rest: KisRestClient) -> None:
        self.rest = rest

    def __repr__(self) -> str:
        return f"KisCandleHistory({self.rest!r})"

    def today(self) -> date:
        return self.rest.today()

    def instrument(self, symbol: str) -> RecordedInstrument | None:
        params = {"PRDT_TYPE_CD": "300", "PDNO": symbol}
        try:
            reply = self.rest.http.request(trids.STOCK_INFO, params=params)
        except KISNotSupported:
            return None
        out = reply.body.row("output")
        market = MARKETS.get(out.text("mket_id_cd"))
        if market is None:
            return None
        return RecordedInstrument(
            symbol=symbol,
            name=out.text("prdt_abrv_name") or out.text("prdt_name"),
            market=market,
            instrument_type=TYPES.get(out.text("scty_grp_id_cd"), InstrumentType.STOCK),
        )

    def daily_history(
        self, symbol: str, start: date, end: date
    ) -> tuple[list[Candle], dict[date, int]]:
        candles: list[Candle] = []
        bases: dict[date, int] = {}
        for row in self.rest.daily_rows(symbol, start, end):
            candle = mapping.daily_candle(symbol, row)
            if candle is None:
                continue
            candles.append(candle)
            bases[parse_date(row.text("stck_bsop_date"))] = candle.close - row.num("prdy_vrss")
        return candles, bases

    def minute_history(self, symbol: str, day: date) -> list[Candle]:
        found: dict[datetime, Candle] = {}
        hour = LAST_CANDLE
        for _ in range(self.rest.max_pages):
            params = {
                "FID_COND_MRKT_DIV_CODE": MARKET,
                "FID_INPUT_ISCD": symbol,
                "FID_INPUT_HOUR_1": f"{hour:%H%M%S}",
                "FID_INPUT_DATE_1": f"{day:%Y%m%d}",
                "FID_PW_DATA_INCU_YN": "Y",
                "FID_FAKE_TICK_INCU_YN": "",
            }
            reply = self.rest.http.request(trids.TIME_DAILY_CHART, params=params)
            page = [mapping.minute_candle(symbol, r) for r in reply.body.rows("output2")]
            # KIS may run on into the previous day ⚠: only the day asked for counts.
            ours = [c for c in page if c and c.start.astimezone(KST).date() == day]
            fresh = [c for c in ours if c.start not in found]
            found.update((c.start, c) for c in fresh)
            earliest = min((c.start for c in fresh), default=None)
            if earliest is None or earliest.time() <= SESSION_OPEN or len(ours) < len(page):
                return sorted(found.values(), key=lambda c: c.start)
            hour = (earliest - timedelta(minutes=1)).time()
        raise KISIncompleteRead(
            f"minute chart of {symbol} {day}: more than {self.rest.max_pages} pages"
        )
