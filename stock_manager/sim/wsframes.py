"""WebSocket records: H0STCNT0 (46/47 fields), H0STASP0 (59/63) and the 26-field notice (§6).

A data frame is ``"<enc>|<tr_id>|<count>|<payload>"`` with the fields joined by ``^``.
The extended layout (the default ⚠) appends what KRX added for its after-market session on
2026-09-14 (kis-trader 0.12.2, "live probes"): H0STCNT0 ``MARKET_CLS_CODE`` (1 pre, 2
regular, 3 after, 5 closing call); H0STASP0 ``MID_PRC``, ``MIDP_TOTAL_RSQN``,
``MIDP_CLS_CODE`` and ``MARKET_CLS_CODE``. The simulator has no mid-price orders: those are 0.
"""

from __future__ import annotations

from datetime import datetime

from stock_manager.domain.session import TradingSession
from stock_manager.sim.clock import hhmmss
from stock_manager.sim.fields import change_rate, diff_sign, pct, sign, strength
from stock_manager.sim.market import SymbolMarket, Trade
from stock_manager.sim.orders import Notice, NoticeKind, OrderKind

NO_ORIGIN = "0000000000"
REGULAR_SESSION, CLOSING_CALL = "2", "5"  # MARKET_CLS_CODE of the extended layout


def data_frame(tr_id: str, payload: str, encrypted: bool = False, count: int = 1) -> str:
    return f"{1 if encrypted else 0}|{tr_id}|{count:03d}|{payload}"


def _versus(price: int, other: int) -> tuple[str, str]:
    return diff_sign(price - other), str(price - other)


def _prior_volume(market: SymbolMarket, session: TradingSession, at: datetime) -> int:
    """Yesterday's volume up to the same point of the session (pro rata)."""
    span = (session.continuous_ends_at - session.opens_at).total_seconds()
    done = (at - session.opens_at).total_seconds()
    return int(market.prev_volume * min(1.0, max(0.0, done / span))) if span > 0 else 0


def trade_record(
    market: SymbolMarket, trade: Trade, session: TradingSession, extended: bool = True
) -> str:
    """H0STCNT0 실시간체결가: one trade of one symbol (47 fields, or 46 without ``extended``)."""
    book = market.book()
    price = trade.price
    prior = _prior_volume(market, session, trade.at)
    fields = [
        market.code,
        hhmmss(trade.at),
        str(price),
        sign(market),
        str(market.change),
        change_rate(price, market.prev_close),
        f"{market.vwap:.2f}",
        str(market.open),
        str(market.high),
        str(market.low),
        str(book.asks[0]),
        str(book.bids[0]),
        str(trade.qty),
        str(market.volume),
        str(market.amount),
        str(market.sell_count),
        str(market.buy_count),
        str(market.buy_count - market.sell_count),
        strength(market),
        str(market.sell_volume),
        str(market.buy_volume),
        "1" if trade.buyer_initiated else "5",
        pct(market.buy_volume, market.volume),
        pct(market.volume, market.prev_volume),
        hhmmss(market.open_at),
        *_versus(price, market.open),
        hhmmss(market.high_at),
        *_versus(price, market.high),
        hhmmss(market.low_at),
        *_versus(price, market.low),
        trade.at.strftime("%Y%m%d"),
        "21" if trade.auction else "20",
        "Y" if market.halted else "N",  # TRHT_YN
        str(book.ask_qty[0]),
        str(book.bid_qty[0]),
        str(book.total_ask),
        str(book.total_bid),
        pct(market.volume, market.spec.listed_shares),
        str(prior),
        pct(market.volume, prior),
        "C" if market.vi else "0",  # HOUR_CLS_CODE: C = VI (or the expected price after 9:00)
        "",
        str(market.vi_reference),  # VI_STND_PRC: the static VI's reference
    ]
    if extended:
        fields.append(CLOSING_CALL if trade.auction else REGULAR_SESSION)
    return "^".join(fields)


def book_record(market: SymbolMarket, at: datetime, in_auction: bool, extended: bool = True) -> str:
    """H0STASP0 실시간호가: the 10-level book after a trade (63 fields, or 59)."""
    book = market.book()
    expected = market.last if in_auction else 0
    fields = [
        market.code,
        hhmmss(at),
        "A" if in_auction else ("C" if market.vi else "0"),
        *map(str, book.asks),
        *map(str, book.bids),
        *map(str, book.ask_qty),
        *map(str, book.bid_qty),
        str(book.total_ask),
        str(book.total_bid),
        "0",
        "0",
        str(expected),
        str(market.last_qty if in_auction else 0),
        "0",
        str(expected - market.prev_close if expected else 0),
        diff_sign(expected - market.prev_close) if expected else "3",
        change_rate(expected, market.prev_close) if expected else "0.00",
        str(market.volume),
        "0",
        "0",
        "0",
        "0",
        "0",
    ]
    if extended:
        fields += ["0", "0", "0", CLOSING_CALL if in_auction else REGULAR_SESSION]
    return "^".join(fields)


_RCTF = {NoticeKind.MODIFIED: "1", NoticeKind.CANCELLED: "2"}
_ACPT = {
    NoticeKind.MODIFIED: "2",
    NoticeKind.CANCELLED: "2",
    NoticeKind.EXPIRED: "3",
    NoticeKind.FILLED: "2",
}


def notice_record(notice: Notice, hts_id: str, account: str, branch: str) -> str:
    """H0STCNI0/H0STCNI9 체결통보, 26 fields (CNTG_YN 2 for fills, 1 otherwise).

    For receipts (CNTG_YN 1) fields 9/10 carry the affected quantity and the order price;
    for fills the fill quantity and price. Field 16/25 always carry the order's quantity and
    price.
    """
    order = notice.order
    filled = notice.kind is NoticeKind.FILLED
    origin = f"{order.orgn_odno:010d}" if order.orgn_odno is not None else NO_ORIGIN
    fields = [
        hts_id,
        account,
        f"{order.odno:010d}",
        origin,
        "02" if order.is_buy else "01",
        _RCTF.get(notice.kind, "1" if order.kind is OrderKind.MODIFY and not filled else "0"),
        order.ord_dvsn,
        order.condition,
        order.symbol,
        str(notice.qty),
        str(notice.price),
        hhmmss(notice.at),
        "1" if notice.kind is NoticeKind.REJECTED else "0",
        "2" if filled else "1",
        _ACPT.get(notice.kind, "1"),
        branch,
        str(order.qty),
        "시뮬레이터",
        "",
        "1",
        "N",
        "",
        "10",
        "",
        order.name,
        str(order.price),
    ]
    return "^".join(fields)
