"""Wire rows → typed records (``domain/broker.py``). Field names: kis-api §4."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from stock_manager.adapters.kis.errors import KISRejectedError, KISValidationError
from stock_manager.adapters.kis.parsing import Row, kst, parse_date, parse_time
from stock_manager.domain.broker import (
    AccountBalance,
    BookLevel,
    BrokerOrder,
    BuyingPower,
    Candle,
    Holding,
    OrderAck,
    OrderBook,
    Quote,
    RankedStock,
)
from stock_manager.domain.candles import CandleInterval
from stock_manager.domain.instruments import (
    MARKET_IDS,
    Instrument,
    InstrumentKind,
    ListingMarket,
    kind_of,
)
from stock_manager.domain.orders import OrderType, Side

SIDES = {"01": Side.SELL, "02": Side.BUY}
_ORDER_TYPES = {t.code: t for t in OrderType}


class KISUnknownSymbol(KISRejectedError):
    """KIS answered a quote with price 0: there is no such symbol (kis-api §4.1)."""


def side_of(code: str) -> Side:
    side = SIDES.get(code.strip().zfill(2))
    if side is None:
        raise KISRejectedError(f"unknown sll_buy_dvsn_cd {code!r}")
    return side


def order_type_of(code: str) -> OrderType | None:
    return _ORDER_TYPES.get(code.strip().zfill(2)) if code.strip() else None


def quote(symbol: str, out: Row, at: datetime) -> Quote:
    """``inquire-price`` ``output``."""
    price = out.num("stck_prpr")
    if price <= 0:
        raise KISUnknownSymbol(f"no quote for {symbol}: unknown symbol or no price")
    return Quote(
        symbol=out.text("stck_shrn_iscd") or symbol,
        price=price,
        open=out.num("stck_oprc"),
        high=out.num("stck_hgpr"),
        low=out.num("stck_lwpr"),
        base_price=out.num("stck_sdpr"),
        change_rate=out.dec("prdy_ctrt"),
        volume=out.num("acml_vol"),
        turnover=out.num("acml_tr_pbmn"),
        upper_limit=out.num("stck_mxpr"),
        lower_limit=out.num("stck_llam"),
        name=out.text("hts_kor_isnm"),
        halted=out.flag("temp_stop_yn"),
        warning_code=out.text("mrkt_warn_cls_code", "00"),
        at=at,
        vi_code=out.text("vi_cls_code"),
    )


def instrument(symbol: str, out: Row) -> Instrument:
    """``search-stock-info`` ``output``: ``scty_grp_id_cd`` (ST 주권, EF ETF, EN ETN),
    ``mket_id_cd`` (STK KOSPI, KSQ KOSDAQ), ``etf_chas_erng_rt_dbnb`` (an ETF's multiple)."""
    if not out.text("scty_grp_id_cd") and not out.text("pdno"):
        raise KISUnknownSymbol(f"no stock info for {symbol}")
    kind = kind_of(out.text("scty_grp_id_cd"), symbol)
    market = MARKET_IDS.get(out.text("mket_id_cd").upper(), ListingMarket.KOSPI)
    multiple = out.dec("etf_chas_erng_rt_dbnb") if kind is InstrumentKind.ETF else Decimal(1)
    return Instrument(symbol, kind, market, multiple or Decimal(1), out.text("prdt_abrv_name"))


# inquire-price rprs_mrkt_kor_name ⚠: "ETF"/"ETN" for exchange-traded products is inferred
# from third-party fixtures, not KIS documentation; paper has no 주식기본조회 to ask instead.
_QUOTE_KINDS = {"ETF": InstrumentKind.ETF, "ETN": InstrumentKind.ETN}


def instrument_from_quote(symbol: str, out: Row) -> Instrument:
    """The best guess paper allows, from ``inquire-price``: ``rprs_mrkt_kor_name`` and the
    ETN code prefix ``Q``; the ETF multiple is unknown (1)."""
    if out.num("stck_prpr") <= 0:
        raise KISUnknownSymbol(f"no quote for {symbol}: unknown symbol or no price")
    label = out.text("rprs_mrkt_kor_name").upper()
    kind = _QUOTE_KINDS.get(label) or kind_of("", symbol)
    kosdaq = label.startswith(("KOSDAQ", "KSQ")) or label == "코스닥"
    market = ListingMarket.KOSDAQ if kosdaq else ListingMarket.KOSPI
    return Instrument(symbol, kind, market, name=out.text("hts_kor_isnm"))


def multi_quote(out: Row, at: datetime) -> Quote | None:
    """One ``intstock-multprice`` row; ``None`` for an empty slot."""
    symbol = out.text("inter_shrn_iscd")
    price = out.num("inter2_prpr")
    if not symbol or price <= 0:
        return None
    return Quote(
        symbol=symbol,
        price=price,
        open=out.num("inter2_oprc"),
        high=out.num("inter2_hgpr"),
        low=out.num("inter2_lwpr"),
        base_price=out.num("inter2_sdpr") or out.num("inter2_prdy_clpr"),
        change_rate=out.dec("prdy_ctrt"),
        volume=out.num("acml_vol"),
        turnover=out.num("acml_tr_pbmn"),
        upper_limit=out.num("inter2_mxpr"),
        lower_limit=out.num("inter2_llam"),
        name=out.text("inter_kor_isnm"),
        ask=out.num("inter2_askp") or None,
        bid=out.num("inter2_bidp") or None,
        at=at,
    )


def _levels(out: Row, side: str) -> tuple[BookLevel, ...]:
    levels = (BookLevel(out.num(f"{side}{i}"), out.num(f"{side}_rsqn{i}")) for i in range(1, 11))
    return tuple(level for level in levels if level.price > 0)


def orderbook(symbol: str, out: Row, day: date, summary: Row | None = None) -> OrderBook:
    """``inquire-asking-price-exp-ccn`` ``output1`` (the book) and ``output2`` (``summary``:
    the price, the base price and the VI code, kis-api §4.3)."""
    hour = out.text("aspr_acpt_hour")
    last, base, vi = _book_summary(summary)
    return OrderBook(
        symbol=symbol,
        asks=_levels(out, "askp"),
        bids=_levels(out, "bidp"),
        at=kst(day, parse_time(hour)) if hour else None,
        last=last,
        base_price=base,
        vi_code=vi,
    )


def _book_summary(summary: Row | None) -> tuple[int, int, str]:
    """The summary's price, base price and VI code; a malformed summary says nothing (the
    book itself still counts: a liquidation prices its sell from it)."""
    if summary is None:
        return 0, 0, ""
    try:
        return summary.num("stck_prpr"), summary.num("stck_sdpr"), summary.text("vi_cls_code")
    except KISValidationError:
        return 0, 0, ""


def daily_candle(symbol: str, out: Row) -> Candle | None:
    """One ``output2`` row of the daily chart, or of ``inquire-daily-price``; blank rows skipped."""
    day = out.text("stck_bsop_date")
    if not day or not out.num("stck_clpr"):
        return None
    return Candle(
        symbol=symbol,
        start=kst(parse_date(day), time(0)),
        open=out.num("stck_oprc"),
        high=out.num("stck_hgpr"),
        low=out.num("stck_lwpr"),
        close=out.num("stck_clpr"),
        volume=out.num("acml_vol"),
        turnover=out.num("acml_tr_pbmn"),
        interval=CandleInterval.DAY,
    )


def minute_candle(symbol: str, out: Row) -> Candle | None:
    """One ``output2`` row of ``inquire-time-itemchartprice`` (close is ``stck_prpr``)."""
    day, hour = out.text("stck_bsop_date"), out.text("stck_cntg_hour")
    if not day or not hour or not out.num("stck_prpr"):
        return None
    return Candle(
        symbol=symbol,
        start=kst(parse_date(day), parse_time(hour)),
        open=out.num("stck_oprc"),
        high=out.num("stck_hgpr"),
        low=out.num("stck_lwpr"),
        close=out.num("stck_prpr"),
        volume=out.num("cntg_vol"),
    )


def ranked(out: Row, position: int) -> RankedStock | None:
    symbol = out.text("mksc_shrn_iscd")
    if not symbol:
        return None
    return RankedStock(
        rank=out.num("data_rank", position),
        symbol=symbol,
        name=out.text("hts_kor_isnm"),
        price=out.num("stck_prpr"),
        change_rate=out.dec("prdy_ctrt"),
        volume=out.num("acml_vol"),
        turnover=out.num("acml_tr_pbmn"),
    )


def holding(out: Row) -> Holding | None:
    symbol = out.text("pdno")
    if not symbol:
        return None
    return Holding(
        symbol=symbol,
        quantity=out.num("hldg_qty"),
        orderable_quantity=out.num("ord_psbl_qty"),
        average_price=out.dec("pchs_avg_pric"),
        purchase_amount=out.num("pchs_amt"),
        price=out.num("prpr"),
        name=out.text("prdt_name"),
    )


def balance(holdings: list[Holding], summary: Row) -> AccountBalance:
    """``output2[0]`` of ``inquire-balance`` with the holdings of every page."""
    return AccountBalance(
        holdings=tuple(holdings),
        cash=summary.num("dnca_tot_amt"),
        settled_cash_d2=summary.num("prvs_rcdl_excc_amt"),
        total_evaluation=summary.num("tot_evlu_amt"),
        costs_today=summary.num("thdt_tlex_amt") if "thdt_tlex_amt" in summary else None,
    )


def buying_power(out: Row) -> BuyingPower:
    return BuyingPower(
        cash=out.num("ord_psbl_cash"),
        max_amount=out.num("nrcvb_buy_amt"),
        max_quantity=out.num("nrcvb_buy_qty"),
    )


def broker_order(out: Row) -> BrokerOrder | None:
    """One ``output1`` row of ``inquire-daily-ccld``."""
    number = out.text("odno")
    if not number:
        return None
    day = parse_date(out.need_text("ord_dt"))
    quantity, filled = out.num("ord_qty"), out.num("tot_ccld_qty")
    cancelled, rejected = out.num("cnc_cfrm_qty"), out.num("rjct_qty")
    remaining = out.num("rmn_qty", max(quantity - filled - cancelled - rejected, 0))
    return BrokerOrder(
        trading_day=day,
        broker_order_no=number,
        original_order_no=out.text("orgn_odno"),
        branch=out.text("ord_gno_brno"),
        symbol=out.need_text("pdno"),
        side=side_of(out.need_text("sll_buy_dvsn_cd")),
        order_type=order_type_of(out.text("ord_dvsn_cd")),
        quantity=quantity,
        price=out.num("ord_unpr"),
        ordered_at=kst(day, parse_time(out.text("ord_tmd", "000000"))),
        filled_quantity=filled,
        filled_amount=out.num("tot_ccld_amt"),
        remaining_quantity=remaining,
        cancelled=out.flag("cncl_yn") or (cancelled > 0 and remaining == 0),
        rejected_quantity=rejected,
        cancel_order=out.flag("cncl_yn") and bool(out.text("orgn_odno")) and not filled,
    )


def pending_order(out: Row, day: date) -> BrokerOrder | None:
    """One ``output`` row of ``inquire-psbl-rvsecncl`` (today's cancellable orders)."""
    number = out.text("odno")
    if not number:
        return None
    quantity, filled = out.num("ord_qty"), out.num("tot_ccld_qty")
    return BrokerOrder(
        trading_day=day,
        broker_order_no=number,
        original_order_no=out.text("orgn_odno"),
        branch=out.text("ord_gno_brno"),
        symbol=out.need_text("pdno"),
        side=side_of(out.need_text("sll_buy_dvsn_cd")),
        order_type=order_type_of(out.text("ord_dvsn_cd")),
        quantity=quantity,
        price=out.num("ord_unpr"),
        ordered_at=kst(day, parse_time(out.text("ord_tmd", "000000"))),
        filled_quantity=filled,
        filled_amount=out.num("tot_ccld_amt"),
        remaining_quantity=out.num("psbl_qty", max(quantity - filled, 0)),
    )


def order_ack(out: Row, at: datetime) -> OrderAck:
    """``output`` of order-cash / order-rvsecncl (keys upper or lower case)."""
    number = out.need_text("odno")
    hour = out.text("ord_tmd")
    ordered = kst(at.date(), parse_time(hour)) if hour else at
    return OrderAck(number, out.text("krx_fwdg_ord_orgno"), ordered)
