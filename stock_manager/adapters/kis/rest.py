"""Typed KIS reads: one method per quotation or account TR, paging handled.

Paging: account TRs continue while the reply header ``tr_cont`` is ``F``/``M``, sending
``tr_cont: N`` and the ``CTX_AREA_*`` keys of the previous body (kis-api §3.3); charts page
by moving their end date/time back. A list is read to its last page or not at all: hitting
``max_pages``, a continuation key KIS repeats, or an error after the first page raises
``KISIncompleteRead``, so nobody mistakes part of a list for the whole of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta

from stock_manager.adapters.kis import mapping, trids
from stock_manager.adapters.kis.errors import KISError, KISIncompleteRead, KISRejectedError
from stock_manager.adapters.kis.http import KisHttp
from stock_manager.adapters.kis.parsing import Row, parse_date
from stock_manager.adapters.kis.wire import KisResponse
from stock_manager.domain.broker import (
    AccountBalance,
    BrokerOrder,
    BuyingPower,
    Candle,
    Holding,
    OrderBook,
    Quote,
    RankedStock,
)
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import Instrument
from stock_manager.domain.orders import Side
from stock_manager.ports import Lane, current_lane

log = logging.getLogger("stock_manager.kis")
MARKET = "J"  # KRX
# Two multi-quotes in flight hide one request's latency behind the limiter's pacing; more
# would only wait at the limiter.
QUOTES_IN_FLIGHT = 2


class KisRestClient:
    """Quotations and account queries for the account of ``http.credentials``."""

    def __init__(
        self,
        http: KisHttp,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(KST),
        max_pages: int = 500,
    ) -> None:
        self.http, self._now, self.max_pages = http, now, max_pages

    def __repr__(self) -> str:
        return f"KisRestClient({self.http!r})"

    def today(self) -> date:
        """Today in Korea (the trading calendar's date)."""
        return self._now().astimezone(KST).date()

    @property
    def _account(self) -> dict[str, str]:
        creds = self.http.credentials
        return {"CANO": creds.cano, "ACNT_PRDT_CD": creds.product_code}

    # -- quotations -------------------------------------------------------------------------
    def quote(self, symbol: str) -> Quote:
        reply = self.http.request(trids.INQUIRE_PRICE, params=_symbol(symbol))
        return mapping.quote(symbol, reply.body.row("output"), self._now())

    def multi_quote(self, symbols: Sequence[str]) -> dict[str, Quote]:
        """``intstock-multprice`` (live only), 30 symbols per request, ``QUOTES_IN_FLIGHT``
        requests at a time: the limiter paces them, and the next request waits there rather
        than behind the previous one's answer (1,000 symbols: 34 requests in 34 slots)."""
        size = self.http.env.pages.multprice
        chunks = [symbols[start : start + size] for start in range(0, len(symbols), size)]
        lane = current_lane()  # a worker thread does not see this context's lane
        if len(chunks) <= 1:
            replies = [self._multi_quote(chunk, lane) for chunk in chunks]
        else:
            with ThreadPoolExecutor(QUOTES_IN_FLIGHT, "multprice") as pool:
                replies = list(pool.map(lambda c: self._multi_quote(c, lane), chunks))
        return {q.symbol: q for found in replies for q in found}

    def _multi_quote(self, symbols: Sequence[str], lane: Lane) -> list[Quote]:
        params: dict[str, str] = {}
        for n, symbol in enumerate(symbols, 1):
            params[f"FID_COND_MRKT_DIV_CODE_{n}"] = MARKET
            params[f"FID_INPUT_ISCD_{n}"] = symbol
        reply = self.http.request(trids.MULTPRICE, params=params, lane=lane)
        rows = (mapping.multi_quote(row, self._now()) for row in reply.body.rows("output"))
        return [q for q in rows if q is not None]

    def orderbook(self, symbol: str) -> OrderBook:
        reply = self.http.request(trids.ASKING_PRICE, params=_symbol(symbol))
        body = reply.body
        return mapping.orderbook(symbol, body.row("output1"), self.today(), body.row("output2"))

    def daily_candles(
        self, symbol: str, start: date, end: date, period: str = "D", adjusted: bool = True
    ) -> list[Candle]:
        """Oldest first; pages of 100 rows by moving the end date back."""
        rows = self.daily_rows(symbol, start, end, period, adjusted)
        return _candles(rows, lambda r: mapping.daily_candle(symbol, r))

    def daily_rows(
        self, symbol: str, start: date, end: date, period: str = "D", adjusted: bool = True
    ) -> list[Row]:
        """The daily chart's ``output2`` rows from ``start`` to ``end``, oldest first, each
        date once; pages of 100 rows by moving ``FID_INPUT_DATE_2`` back (kis-api §4.4)."""
        found: dict[date, Row] = {}
        until = end
        for _ in range(self.max_pages):
            params = {
                **_symbol(symbol),
                "FID_INPUT_DATE_1": f"{start:%Y%m%d}",
                "FID_INPUT_DATE_2": f"{until:%Y%m%d}",
                "FID_PERIOD_DIV_CODE": period,
                "FID_ORG_ADJ_PRC": "0" if adjusted else "1",
            }
            reply = self.http.request(trids.DAILY_CHART, params=params)
            page = [r for r in reply.body.rows("output2") if mapping.daily_candle(symbol, r)]
            days = [parse_date(r.text("stck_bsop_date")) for r in page]
            fresh = [
                (d, r) for d, r in zip(days, page, strict=True) if d not in found and d >= start
            ]
            found.update(fresh)
            if not fresh or len(page) < self.http.env.pages.daily_candles:
                break
            until = min(d for d, _ in fresh) - timedelta(days=1)
            if until < start:
                break
        return [found[d] for d in sorted(found)]

    def minute_candles(
        self, symbol: str, until: time | None = None, pages: int = 1
    ) -> list[Candle]:
        """Today's one-minute bars, oldest first: 30 per page ending at ``until`` (now)."""
        found: dict[datetime, Candle] = {}
        hour = until or self._now().astimezone(KST).time()
        for _ in range(max(1, min(pages, self.max_pages))):
            params = {
                "FID_ETC_CLS_CODE": "",
                **_symbol(symbol),
                "FID_INPUT_HOUR_1": f"{hour:%H%M%S}",
                "FID_PW_DATA_INCU_YN": "Y",
            }
            reply = self.http.request(trids.TIME_CHART, params=params)
            page = _candles(reply.body.rows("output2"), lambda r: mapping.minute_candle(symbol, r))
            fresh = [c for c in page if c.start not in found]
            found.update((c.start, c) for c in fresh)
            if not fresh:
                break
            earliest = min(c.start for c in fresh)
            if earliest.time() <= time(9, 0):
                break
            hour = (earliest - timedelta(minutes=1)).time()
        return sorted(found.values(), key=lambda c: c.start)

    def daily_prices(self, symbol: str) -> list[Candle]:
        """``inquire-daily-price``: the last 30 trading days, oldest first."""
        params = {**_symbol(symbol), "FID_PERIOD_DIV_CODE": "D", "FID_ORG_ADJ_PRC": "0"}
        reply = self.http.request(trids.DAILY_PRICE, params=params)
        candles = _candles(reply.body.rows("output"), lambda r: mapping.daily_candle(symbol, r))
        return sorted(candles, key=lambda c: c.start)

    def volume_rank(
        self, sort: str = "0", price_range: tuple[int, int] | None = None, etfs: bool = False
    ) -> list[RankedStock]:
        """``volume-rank`` (live only): up to 30 rows, no continuation. ``sort``: BLNG code.
        Common stock only, or with ``etfs`` ETFs too (kis-api §4.6: the 7th exclusion flag);
        ETNs, preferred shares, warned, halted and SPAC issues are always left out."""
        low, high = price_range or (0, 0)
        params = {
            "FID_COND_MRKT_DIV_CODE": MARKET,
            "FID_COND_SCR_DIV_CODE": "20171",
            "FID_INPUT_ISCD": "0000",
            "FID_DIV_CLS_CODE": "0" if etfs else "1",  # all, or common stock only
            "FID_BLNG_CLS_CODE": sort,
            "FID_TRGT_CLS_CODE": "111111111",
            # 위험, 관리, 정리매매, 불성실공시, 우선주, 거래정지, ETF, ETN, 신용불가, SPAC
            "FID_TRGT_EXLS_CLS_CODE": "1111110101" if etfs else "1111111101",
            "FID_INPUT_PRICE_1": str(low) if low else "",
            "FID_INPUT_PRICE_2": str(high) if high else "",
            "FID_VOL_CNT": "",
            "FID_INPUT_DATE_1": "",
        }
        reply = self.http.request(trids.VOLUME_RANK, params=params)
        rows = (mapping.ranked(row, n) for n, row in enumerate(reply.body.rows("output"), 1))
        return [r for r in rows if r is not None]

    def is_trading_day(self, day: date) -> bool:
        """``chk-holiday`` (live only): ``opnd_yn`` of ``day``."""
        params = {"BASS_DT": f"{day:%Y%m%d}", "CTX_AREA_NK": "", "CTX_AREA_FK": ""}
        reply = self.http.request(trids.HOLIDAY, params=params)
        for row in reply.body.rows("output"):
            if row.text("bass_dt") and parse_date(row.text("bass_dt")) == day:
                return row.flag("opnd_yn")
        raise KISRejectedError(f"chk-holiday did not list {day}")

    # -- account ----------------------------------------------------------------------------
    def balance(self) -> AccountBalance:
        params = {
            **self._account,
            "AFHR_FLPR_YN": "N",
            "OFL_YN": "",
            "INQR_DVSN": "01",  # 02 (by symbol) refused since 2026-02-10 (python-kis#81)
            "UNPR_DVSN": "01",
            "FUND_STTL_ICLD_YN": "N",
            "FNCG_AMT_AUTO_RDPT_YN": "N",
            "PRCS_DVSN": "00",
        }
        holdings: list[Holding] = []
        summary = Row({})
        for reply in self._pages(trids.BALANCE, params):
            holdings.extend(h for h in map(mapping.holding, reply.body.rows("output1")) if h)
            summary = reply.body.row("output2") or summary
        return mapping.balance(holdings, summary)

    def daily_orders(
        self,
        start: date,
        end: date | None = None,
        symbol: str = "",
        side: Side | None = None,
        order_no: str = "",
    ) -> list[BrokerOrder]:
        """``inquire-daily-ccld``: every order of the period with cumulative fills, narrowed by
        ``symbol`` (PDNO), ``side`` (SLL_BUY_DVSN_CD) and ``order_no`` (ODNO) where given.

        Read to the last page (100 rows a page on live, 15 on paper) or ``KISIncompleteRead``."""
        end = end or start
        recent = (self.today() - start).days <= 90
        params = {
            **self._account,
            "INQR_STRT_DT": f"{start:%Y%m%d}",
            "INQR_END_DT": f"{end:%Y%m%d}",
            "SLL_BUY_DVSN_CD": {None: "00", Side.SELL: "01", Side.BUY: "02"}[side],
            "INQR_DVSN": "01",
            "PDNO": symbol,
            "CCLD_DVSN": "00",
            "ORD_GNO_BRNO": "",
            "ODNO": order_no,
            "INQR_DVSN_3": "00",
            "INQR_DVSN_1": "",
            "EXCG_ID_DVSN_CD": "KRX",
        }
        endpoint = trids.DAILY_CCLD if recent else trids.DAILY_CCLD_BEFORE_3M
        found: dict[tuple[date, str], BrokerOrder] = {}
        for reply in self._pages(endpoint, params):
            for row in reply.body.rows("output1"):
                order = mapping.broker_order(row)
                if order is not None:
                    found[(order.trading_day, order.broker_order_no)] = order
        return sorted(found.values(), key=lambda o: (o.ordered_at, o.broker_order_no))

    def pending_orders(self) -> list[BrokerOrder]:
        """``inquire-psbl-rvsecncl`` (live only): today's orders that can still be cancelled."""
        params = {**self._account, "INQR_DVSN_1": "0", "INQR_DVSN_2": "0"}
        today = self.today()
        rows: list[BrokerOrder] = []
        for reply in self._pages(trids.PSBL_RVSECNCL, params):
            rows.extend(
                o for o in (mapping.pending_order(r, today) for r in reply.body.rows("output")) if o
            )
        return rows

    def instrument(self, symbol: str) -> Instrument:
        """``search-stock-info`` (CTPF1002R, live only): instrument type, market, multiple."""
        params = {"PRDT_TYPE_CD": "300", "PDNO": symbol}  # 300: stock, ETF, ETN, ELW
        reply = self.http.request(trids.STOCK_INFO, params=params)
        return mapping.instrument(symbol, reply.body.row("output"))

    def instrument_from_quote(self, symbol: str) -> Instrument:
        """Paper's fallback: the instrument as far as ``inquire-price`` tells (⚠)."""
        reply = self.http.request(trids.INQUIRE_PRICE, params=_symbol(symbol))
        return mapping.instrument_from_quote(symbol, reply.body.row("output"))

    def buying_power(self, symbol: str, price: int, order_division: str = "00") -> BuyingPower:
        """``inquire-psbl-order``: cash and the most shares buyable at ``price`` (0 = market)."""
        params = {
            **self._account,
            "PDNO": symbol,
            "ORD_UNPR": str(price) if price else "",
            "ORD_DVSN": order_division if price else "01",
            "CMA_EVLU_AMT_ICLD_YN": "N",
            "OVRS_ICLD_YN": "N",
        }
        reply = self.http.request(trids.PSBL_ORDER, params=params)
        return mapping.buying_power(reply.body.row("output"))

    def _pages(self, endpoint: trids.Endpoint, params: dict[str, str]) -> Iterator[KisResponse]:
        """Every page of a ``tr_cont`` TR, or ``KISIncompleteRead`` once one was yielded."""
        context = {"CTX_AREA_FK100": "", "CTX_AREA_NK100": ""}
        tr_cont = ""
        for page in range(1, self.max_pages + 1):
            try:
                reply = self.http.request(endpoint, params={**params, **context}, tr_cont=tr_cont)
            except KISError as exc:
                if page == 1:
                    raise
                raise KISIncompleteRead(
                    f"{endpoint.name}: page {page} failed ({type(exc).__name__}: {exc})",
                    code=exc.code,
                    tr_id=exc.tr_id,
                ) from exc
            yield reply
            if not reply.has_next or reply.empty:
                return
            following = reply.context()
            if following == context:
                raise KISIncompleteRead(
                    f"{endpoint.name}: KIS said more follows after page {page} but repeated "
                    "the continuation key",
                    tr_id=reply.tr_id,
                )
            context, tr_cont = following, "N"
        raise KISIncompleteRead(f"{endpoint.name}: more than {self.max_pages} pages")


def _symbol(symbol: str) -> dict[str, str]:
    return {"FID_COND_MRKT_DIV_CODE": MARKET, "FID_INPUT_ISCD": symbol}


def _candles(rows: list[Row], convert: Callable[[Row], Candle | None]) -> list[Candle]:
    return [c for c in map(convert, rows) if c is not None]
