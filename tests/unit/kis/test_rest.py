"""Typed reads: fixtures written from the reference become the right records; paging."""

from __future__ import annotations

import threading
from datetime import date, datetime, time
from decimal import Decimal

import httpx
import pytest

from stock_manager.adapters.kis import mapping
from stock_manager.adapters.kis.broker import KisBroker
from stock_manager.adapters.kis.errors import KISIncompleteRead
from stock_manager.adapters.kis.mapping import KISUnknownSymbol
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.adapters.kis.parsing import Row
from stock_manager.adapters.kis.rest import KisRestClient
from stock_manager.domain.clock import KST
from stock_manager.domain.instruments import InstrumentKind, ListingMarket
from stock_manager.domain.orders import OrderType, Side
from stock_manager.ports import Lane, using_lane
from tests.unit.kis.conftest import Harness, fixture, make_harness, reply

NOW = datetime(2026, 11, 20, 10, 30, tzinfo=KST)


def rest(h: Harness) -> KisRestClient:
    return KisRestClient(h.http, now=lambda: NOW)


def broker(h: Harness) -> KisBroker:
    return KisBroker(rest(h), KisOrderClient(h.http, now=lambda: NOW))


def test_quote(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("inquire_price"))
    q = rest(harness).quote("005930")
    assert (q.symbol, q.price, q.open, q.high, q.low) == ("005930", 71500, 71800, 72100, 71200)
    assert (q.base_price, q.upper_limit, q.lower_limit) == (71800, 93300, 50300)
    assert q.change_rate == Decimal("-0.42")
    assert (q.volume, q.turnover) == (14125375, 1010328451500)
    assert not q.halted and q.warning_code == "00" and q.at == NOW


def test_an_unknown_symbol_is_a_rejection_not_a_zero_price(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("inquire_price_unknown"))
    with pytest.raises(KISUnknownSymbol):
        rest(harness).quote("999999")


def test_multi_quote_sends_numbered_params_and_skips_empty_slots(live_harness: Harness) -> None:
    live_harness.kis.on("intstock-multprice", reply("multprice"))
    quotes = rest(live_harness).multi_quote(["005930", "000660"])
    assert set(quotes) == {"005930", "000660"}
    assert (quotes["000660"].ask, quotes["000660"].bid) == (131500, 131000)
    assert quotes["005930"].name == "삼성전자"
    params = live_harness.kis.calls("intstock-multprice")[0].url.params
    assert params["FID_INPUT_ISCD_2"] == "000660" and params["FID_COND_MRKT_DIV_CODE_1"] == "J"


def test_multi_quote_splits_into_requests_of_thirty(live_harness: Harness) -> None:
    live_harness.kis.on("intstock-multprice", reply("multprice"))
    rest(live_harness).multi_quote([f"{n:06d}" for n in range(65)])
    assert len(live_harness.kis.calls("intstock-multprice")) == 3


def test_broker_quotes_fall_back_to_single_quotes_on_paper(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("inquire_price"))
    quotes = broker(harness).quotes(["005930", "005930"])
    assert list(quotes) == ["005930"] and len(harness.kis.calls("inquire-price")) == 1


def test_orderbook_best_first_and_empty_levels_dropped(harness: Harness) -> None:
    harness.kis.on("inquire-asking-price-exp-ccn", reply("asking_price"))
    book = rest(harness).orderbook("005930")
    assert book.best_ask == 71600 and book.best_bid == 71500
    assert len(book.asks) == 9 and len(book.bids) == 10  # askp10 was "0"
    assert book.asks[0].quantity == 1000 and book.bids[-1].price == 70600
    assert book.at == datetime(2026, 11, 20, 9, 30, 15, tzinfo=KST)
    # output2: what a liquidation prices its sell by, without a quote (issue 16)
    assert (book.last, book.base_price, book.vi_code) == (71500, 71800, "N")


def test_an_orderbook_with_a_malformed_summary_keeps_its_book() -> None:
    from stock_manager.adapters.kis import mapping
    from stock_manager.adapters.kis.parsing import Row

    levels = Row({"bidp1": "71500", "bidp_rsqn1": "10"}, "output1")
    summary = Row({"stck_prpr": "seventy", "vi_cls_code": "1"}, "output2")
    book = mapping.orderbook("005930", levels, date(2026, 11, 20), summary)
    assert book.best_bid == 71500
    assert (book.last, book.base_price, book.vi_code) == (0, 0, "")


def test_daily_candles_page_back_by_date_and_come_oldest_first(harness: Harness) -> None:
    harness.kis.on(
        "inquire-daily-itemchartprice", reply("daily_chart_page1"), reply("daily_chart_page2")
    )
    candles = rest(harness).daily_candles("005930", date(2026, 1, 1), date(2026, 11, 20))
    assert len(candles) == 120  # 100 + 20, the blank row skipped
    assert candles[-1].start == datetime(2026, 11, 20, tzinfo=KST)
    assert candles == sorted(candles, key=lambda c: c.start)
    second = harness.kis.calls("inquire-daily-itemchartprice")[1].url.params
    oldest_first_page = fixture("daily_chart_page1")["output2"][-1]["stck_bsop_date"]
    assert second["FID_INPUT_DATE_2"] < oldest_first_page
    assert second["FID_INPUT_DATE_1"] == "20260101" and second["FID_PERIOD_DIV_CODE"] == "D"


def test_minute_candles(harness: Harness) -> None:
    harness.kis.on("inquire-time-itemchartprice", reply("time_chart"))
    candles = rest(harness).minute_candles("005930")
    assert len(candles) == 30
    assert candles[0].start.time() == time(10, 0) and candles[-1].start.time() == time(10, 29)
    assert (candles[-1].close, candles[-1].volume) == (71500, 1000)
    params = harness.kis.calls("inquire-time-itemchartprice")[0].url.params
    assert params["FID_INPUT_HOUR_1"] == "103000" and params["FID_PW_DATA_INCU_YN"] == "Y"


def test_daily_prices(harness: Harness) -> None:
    harness.kis.on("inquire-daily-price", reply("daily_price"))
    candles = rest(harness).daily_prices("005930")
    assert len(candles) == 30 and candles[-1].close == 70200


def test_volume_rank(live_harness: Harness) -> None:
    live_harness.kis.on("volume-rank", reply("volume_rank"))
    ranked = broker(live_harness).volume_rank()
    assert ranked is not None
    assert [r.symbol for r in ranked] == ["005930", "000660", "035420"]
    assert ranked[1].rank == 2 and ranked[0].volume == 30000000
    params = live_harness.kis.calls("volume-rank")[0].url.params
    assert params["FID_COND_SCR_DIV_CODE"] == "20171"


def test_environment_gaps_are_none_through_the_broker(harness: Harness) -> None:
    assert broker(harness).volume_rank() is None
    assert broker(harness).is_trading_day(date(2026, 11, 20)) is None
    assert harness.kis.requests == []


def test_holiday_check(live_harness: Harness) -> None:
    live_harness.kis.on("chk-holiday", reply("chk_holiday"))
    assert broker(live_harness).is_trading_day(date(2026, 11, 20)) is True
    assert broker(live_harness).is_trading_day(date(2026, 11, 21)) is False


def test_balance_follows_tr_cont_across_pages(harness: Harness) -> None:
    harness.kis.on(
        "inquire-balance",
        reply("balance_page1", tr_cont="F"),
        reply("balance_page2", tr_cont="D"),
    )
    balance = rest(harness).balance()
    assert [h.symbol for h in balance.holdings] == ["005930", "000660", "035420"]
    assert balance.holding("035420") is None  # sold out, kept until D+2 with quantity 0
    hynix = balance.holding("000660")
    assert hynix is not None and hynix.orderable_quantity == 5
    assert hynix.average_price == Decimal("130000.5000")
    assert (balance.cash, balance.settled_cash_d2, balance.total_evaluation) == (
        8500000,
        8300000,
        11165500,
    )
    first, second = harness.kis.calls("inquire-balance")
    assert first.headers["tr_cont"] == "" and second.headers["tr_cont"] == "N"
    page1 = fixture("balance_page1")
    assert second.url.params["CTX_AREA_NK100"] == page1["ctx_area_nk100"].strip()
    assert second.url.params["CTX_AREA_FK100"] == page1["ctx_area_fk100"].strip()
    assert second.url.params["CANO"] == "50071234"
    assert first.url.params["INQR_DVSN"] == "01"  # KIS refuses 02 since 2026-02-10


def test_a_repeated_continuation_key_is_an_incomplete_read(harness: Harness) -> None:
    harness.kis.on("inquire-balance", reply("balance_page1", tr_cont="M"))
    with pytest.raises(KISIncompleteRead, match="repeated the continuation key"):
        rest(harness).balance()
    assert len(harness.kis.calls("inquire-balance")) == 2


def page_of(rows: int, first: int, more: bool) -> httpx.Response:
    """A paper-sized page of the daily order history: ``rows`` orders from number ``first``."""
    body = fixture("daily_ccld_page1")
    template = body["output1"][0]
    body["output1"] = [{**template, "odno": f"{first + n:010d}"} for n in range(rows)]
    body["ctx_area_nk100"] = f"NK{first + rows:08d}"
    return httpx.Response(200, json=body, headers={"tr_cont": "M" if more else "D"})


def test_a_busy_paper_day_is_read_to_its_last_page(harness: Harness) -> None:
    pages = [page_of(15, 1 + 15 * n, more=n < 99) for n in range(100)]  # 1,500 orders
    harness.kis.on("inquire-daily-ccld", *pages)
    rows = broker(harness).orders(date(2026, 11, 20))
    assert len(rows) == 1500 and rows[-1].broker_order_no == "0000001500"
    assert len(harness.kis.calls("inquire-daily-ccld")) == 100


def test_paging_past_the_cap_is_an_incomplete_read_not_a_short_list(harness: Harness) -> None:
    harness.kis.on("inquire-daily-ccld", *[page_of(15, 1 + 15 * n, more=True) for n in range(9)])
    client = KisRestClient(harness.http, max_pages=8)
    with pytest.raises(KISIncompleteRead, match="more than 8 pages"):
        client.daily_orders(date(2026, 11, 20))


def test_an_error_after_the_first_page_is_an_incomplete_read(harness: Harness) -> None:
    failing = httpx.Response(500, json={"rt_cd": "1", "msg_cd": "EGW00001", "msg1": "오류"})
    harness.kis.on("inquire-daily-ccld", page_of(15, 1, more=True), failing)
    with pytest.raises(KISIncompleteRead, match="page 2 failed"):
        broker(harness).orders(date(2026, 11, 20))


def test_order_history_is_narrowed_by_symbol_and_side(harness: Harness) -> None:
    harness.kis.on("inquire-daily-ccld", reply("daily_ccld_page2", tr_cont="E"))
    broker(harness).orders(date(2026, 11, 20), symbol="005930", side=Side.SELL)
    params = harness.kis.calls("inquire-daily-ccld")[0].url.params
    assert (params["PDNO"], params["SLL_BUY_DVSN_CD"]) == ("005930", "01")


def test_daily_orders_across_pages(harness: Harness) -> None:
    harness.kis.on(
        "inquire-daily-ccld",
        reply("daily_ccld_page1", tr_cont="M"),
        reply("daily_ccld_page2", tr_cont="E"),
    )
    rows = broker(harness).orders(date(2026, 11, 20))
    assert [r.broker_order_no for r in rows] == [f"00000110{n:02d}" for n in range(1, 6)]
    filled, partial, cancelled, cancel_order, rejected = rows
    assert (filled.filled_quantity, filled.filled_amount, filled.is_open) == (10, 715000, False)
    assert (partial.remaining_quantity, partial.is_open) == (15, True)
    assert partial.side is Side.BUY and partial.order_type is OrderType.LIMIT
    assert partial.ordered_at == datetime(2026, 11, 20, 9, 2, 30, tzinfo=KST)
    assert cancelled.cancelled and not cancelled.is_open and cancelled.side is Side.SELL
    assert cancel_order.original_order_no == "0000011003"
    assert rejected.rejected_quantity == 3 and not rejected.is_open
    params = harness.kis.calls("inquire-daily-ccld")[0].url.params
    assert params["INQR_STRT_DT"] == params["INQR_END_DT"] == "20261120"
    assert harness.kis.calls("inquire-daily-ccld")[0].headers["tr_id"] == "VTTC0081R"


def test_old_orders_use_the_before_three_months_tr(harness: Harness) -> None:
    harness.kis.on("inquire-daily-ccld", reply("error_70070000"))
    assert rest(harness).daily_orders(date(2026, 5, 1)) == []
    assert harness.kis.calls("inquire-daily-ccld")[0].headers["tr_id"] == "VTSC9215R"


def test_pending_orders_on_live(live_harness: Harness) -> None:
    live_harness.kis.on("inquire-psbl-rvsecncl", reply("psbl_rvsecncl"))
    (row,) = broker(live_harness).open_orders()
    assert (row.broker_order_no, row.remaining_quantity, row.filled_quantity) == (
        "0000011002",
        15,
        5,
    )


def test_open_orders_on_paper_come_from_daily_ccld(harness: Harness) -> None:
    harness.kis.on("inquire-daily-ccld", reply("daily_ccld_page1"))
    assert [o.broker_order_no for o in broker(harness).open_orders()] == ["0000011002"]


def test_buying_power(harness: Harness) -> None:
    harness.kis.on("inquire-psbl-order", reply("psbl_order"))
    power = broker(harness).buying_power("005930", 71500)
    assert (power.cash, power.max_amount, power.max_quantity) == (8500000, 8498800, 118)
    params = harness.kis.calls("inquire-psbl-order")[0].url.params
    assert (params["ORD_UNPR"], params["PDNO"]) == ("71500", "005930")


def test_parsing_ignores_key_case_unknown_fields_and_missing_optionals() -> None:
    h = make_harness()
    body = {
        "RT_CD": "0",
        "MSG_CD": "MCA00000",
        "OUTPUT": {"STCK_PRPR": "1,234", "Stck_Oprc": "+1200", "brand_new": {"x": 1}},
    }
    h.kis.on("inquire-price", httpx.Response(200, json=body))
    q = rest(h).quote("123456")
    assert (q.symbol, q.price, q.open, q.high, q.volume) == ("123456", 1234, 1200, 0, 0)
    assert q.change_rate == Decimal(0)


def test_the_instrument_comes_from_search_stock_info_on_live(live_harness: Harness) -> None:
    live_harness.kis.on("search-stock-info", reply("stock_info_etf"), reply("stock_info_stock"))
    etf = broker(live_harness).instrument("122630")
    assert (etf.kind, etf.market, etf.multiple) == (
        InstrumentKind.ETF,
        ListingMarket.KOSPI,
        Decimal("2.00"),
    )
    stock = broker(live_harness).instrument("000660")
    assert (stock.kind, stock.multiple, stock.name) == (InstrumentKind.STOCK, 1, "SK하이닉스")
    request = live_harness.kis.calls("search-stock-info")[0]
    assert request.headers["tr_id"] == "CTPF1002R"
    assert request.url.params["PRDT_TYPE_CD"] == "300"


def test_paper_reads_the_instrument_from_the_quote(harness: Harness) -> None:
    """Paper has no 주식기본조회 (EGW02006): the quote's rprs_mrkt_kor_name stands in (⚠)."""
    harness.kis.on("inquire-price", reply("inquire_price"))
    assert broker(harness).instrument("005930").kind is InstrumentKind.STOCK
    assert harness.kis.calls("search-stock-info") == []
    etf = mapping.instrument_from_quote(
        "069500", Row({"stck_prpr": "1", "rprs_mrkt_kor_name": "ETF"})
    )
    etn = mapping.instrument_from_quote("Q500001", Row({"stck_prpr": "1"}))
    assert (etf.kind, etn.kind) == (InstrumentKind.ETF, InstrumentKind.ETN)


def test_the_balance_carries_the_brokers_costs_of_the_day(harness: Harness) -> None:
    harness.kis.on("inquire-balance", reply("balance_empty"))
    assert rest(harness).balance().costs_today == 200  # thdt_tlex_amt


def test_multi_quote_keeps_two_requests_in_flight_in_the_callers_lane(
    live_harness: Harness,
) -> None:
    """The limiter paces the requests; the next one waits at the limiter, not behind the
    previous one's answer (issue 16: 1,000 held symbols priced at the request limit)."""
    both_in_flight = threading.Barrier(2, timeout=5)

    def answer(request: httpx.Request) -> httpx.Response:
        both_in_flight.wait()  # breaks (and the test fails) if requests go one at a time
        return reply("multprice")

    live_harness.kis.on("intstock-multprice", answer)
    live_harness.http.tokens.get()  # the token first (its request has a lane of its own)
    live_harness.limiter.lanes.clear()
    with using_lane(Lane.EXIT):
        quotes = rest(live_harness).multi_quote([f"{n:06d}" for n in range(60)])
    assert set(quotes) == {"005930", "000660"}
    assert len(live_harness.kis.calls("intstock-multprice")) == 2
    assert set(live_harness.limiter.lanes) == {Lane.EXIT}
