"""Chart TRs: period candles, minute candles, daily prices, holidays (§4.4-4.5).

Inputs are as lenient as KIS where clients rely on it ⚠ (inferred from the clients' defaults
and their users' reports, not observed at KIS): a start date before year 1
(``FID_INPUT_DATE_1=00000101``, python-kis's daily chart) means "from the first bar"; an hour
``000000`` or empty (python-kis's and korea-investment-stock's minute charts) means "now".
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from stock_manager.domain.clock import KST
from stock_manager.sim.clock import hhmmss
from stock_manager.sim.envelope import KisReply, ok
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.fields import change_rate, diff_sign, pct
from stock_manager.sim.history import CandleBar, DailyBar, minute_bridge
from stock_manager.sim.market import SymbolMarket
from stock_manager.sim.messages import InputError, Msg
from stock_manager.sim.request import KisRequest, digits
from stock_manager.sim.rest_quotes import MARKET_CODES

PERIODS: dict[str, Callable[[date], Any]] = {
    "D": lambda day: day,
    "W": lambda day: day.isocalendar()[:2],
    "M": lambda day: (day.year, day.month),
    "Y": lambda day: day.year,
}
MAX_DAILY_ROWS, MAX_MINUTE_ROWS, DAILY_PRICE_ROWS = 100, 30, 30
MAX_DAY_MINUTE_ROWS = 120  # inquire-time-dailychartprice: "최대 120건" (official sample)


def _market(ex: Exchange, req: KisRequest) -> SymbolMarket | None:
    req.choice("FID_COND_MRKT_DIV_CODE", MARKET_CODES)
    return ex.markets.get(req.require("FID_INPUT_ISCD").strip().upper())


def all_daily(ex: Exchange, m: SymbolMarket) -> list[DailyBar]:
    """History plus today's bar so far, oldest first."""
    today = DailyBar(ex.trading_day, m.open, m.high, m.low, m.last, m.volume, m.amount)
    return [*m.daily(ex.trading_day, ex.config.history_days), today]


def aggregate(bars: list[DailyBar], period: str) -> list[DailyBar]:
    """Weekly, monthly or yearly bars (dated by their last day), oldest first."""
    key = PERIODS[period]
    groups: list[list[DailyBar]] = []
    for bar in bars:
        if groups and key(groups[-1][-1].day) == key(bar.day):
            groups[-1].append(bar)
        else:
            groups.append([bar])
    return [
        DailyBar(
            g[-1].day,
            g[0].open,
            max(b.high for b in g),
            min(b.low for b in g),
            g[-1].close,
            sum(b.volume for b in g),
            sum(b.amount for b in g),
        )
        for g in groups
    ]


def _date(req: KisRequest, name: str, blank: date | None = None) -> date:
    text = req.require(name).strip()
    if not text and blank is not None:
        return blank
    if len(text) == 8 and digits(text) and text[:4] == "0000":
        return date.min  # "since the beginning": python-kis sends 00000101
    try:
        return datetime.strptime(text, "%Y%m%d").replace(tzinfo=KST).date()
    except ValueError as exc:
        raise InputError(name) from exc


def _summary(m: SymbolMarket) -> dict[str, Any]:
    return {
        "prdy_vrss": m.change,
        "prdy_vrss_sign": diff_sign(m.change),
        "prdy_ctrt": change_rate(m.last, m.prev_close),
        "stck_prdy_clpr": m.prev_close,
        "acml_vol": m.volume,
        "acml_tr_pbmn": m.amount,
        "hts_kor_isnm": m.spec.name,
        "stck_prpr": m.last,
        "stck_shrn_iscd": m.code,
        "prdy_vol": m.prev_volume,
        "stck_mxpr": m.limits.upper,
        "stck_llam": m.limits.lower,
        "stck_oprc": m.open,
        "stck_hgpr": m.high,
        "stck_lwpr": m.low,
        "vol_tnrt": pct(m.volume, m.spec.listed_shares),
        "lstn_stcn": m.spec.listed_shares,
        "per": "10.00",
        "eps": "0.00",
        "pbr": "1.00",
    }


def _bar_row(bar: DailyBar, previous: int) -> dict[str, Any]:
    return {
        "stck_bsop_date": bar.day.strftime("%Y%m%d"),
        "stck_clpr": bar.close,
        "stck_oprc": bar.open,
        "stck_hgpr": bar.high,
        "stck_lwpr": bar.low,
        "acml_vol": bar.volume,
        "acml_tr_pbmn": bar.amount,
        "flng_cls_code": "00",
        "prtt_rate": "0.00",
        "mod_yn": "N",
        "prdy_vrss_sign": diff_sign(bar.close - previous),
        "prdy_vrss": bar.close - previous,
        "revl_issu_reas": "",
    }


def _with_previous(bars: list[DailyBar]) -> list[tuple[DailyBar, int]]:
    return [(bar, bars[i - 1].close if i else bar.open) for i, bar in enumerate(bars)]


def daily_chart(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    market = _market(ex, req)
    start = _date(req, "FID_INPUT_DATE_1", blank=date.min)
    end = _date(req, "FID_INPUT_DATE_2", blank=ex.trading_day)
    period = req.choice("FID_PERIOD_DIV_CODE", tuple(PERIODS))
    req.choice("FID_ORG_ADJ_PRC", ("0", "1"))
    if market is None:
        return ok(ex.config.env, Msg.QUOTE_OK, output1={}, output2=[])
    bars = aggregate(all_daily(ex, market), period)
    rows = [_bar_row(bar, prev) for bar, prev in _with_previous(bars) if start <= bar.day <= end]
    return ok(
        ex.config.env, Msg.QUOTE_OK, output1=_summary(market), output2=rows[::-1][:MAX_DAILY_ROWS]
    )


def daily_price(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    market = _market(ex, req)
    period = req.choice("FID_PERIOD_DIV_CODE", ("D", "W", "M"))
    req.choice("FID_ORG_ADJ_PRC", ("0", "1"))
    if market is None:
        return ok(ex.config.env, Msg.QUOTE_OK, output=[])
    rows = []
    for bar, prev in _with_previous(aggregate(all_daily(ex, market), period)):
        rows.append(
            {
                "stck_bsop_date": bar.day.strftime("%Y%m%d"),
                "stck_oprc": bar.open,
                "stck_hgpr": bar.high,
                "stck_lwpr": bar.low,
                "stck_clpr": bar.close,
                "acml_vol": bar.volume,
                "prdy_vrss_vol_rate": "0.00",
                "prdy_vrss": bar.close - prev,
                "prdy_vrss_sign": diff_sign(bar.close - prev),
                "prdy_ctrt": change_rate(bar.close, prev),
                "hts_frgn_ehrt": "0.00",
                "frgn_ntby_qty": 0,
                "flng_cls_code": "00",
                "acml_prtt_rate": "0.00",
            }
        )
    return ok(ex.config.env, Msg.QUOTE_OK, output=rows[::-1][:DAILY_PRICE_ROWS])


def _cutoff(req: KisRequest, now: datetime) -> datetime:
    """The latest candle start asked for; ``000000`` or empty mean now (⚠ see the module)."""
    text = req.require("FID_INPUT_HOUR_1").strip()
    if text in ("", "000000"):
        return now
    if len(text) != 6 or not digits(text):
        raise InputError("FID_INPUT_HOUR_1")
    try:
        moment = datetime.combine(
            now.date(), time(int(text[:2]), int(text[2:4]), int(text[4:])), tzinfo=KST
        )
    except ValueError as exc:
        raise InputError("FID_INPUT_HOUR_1") from exc
    return min(moment, now)


def minute_chart(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    """Today's candles starting at or before FID_INPUT_HOUR_1, newest first, at most 30."""
    market = _market(ex, req)
    cutoff = _cutoff(req, req.now)
    if market is None:
        return ok(ex.config.env, Msg.QUOTE_OK, output1={}, output2=[])
    rows = _minute_rows(market, cutoff, MAX_MINUTE_ROWS)
    return ok(ex.config.env, Msg.QUOTE_OK, output1=_summary(market), output2=rows)


def time_daily_chart(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    """FHKST03010230 주식일별분봉조회: one day's minute candles up to FID_INPUT_HOUR_1.

    ``FID_INPUT_DATE_1`` picks the day: the simulator's own trading day answers its candles;
    a day of its daily history answers that day's regular-session minutes (09:00-15:19 and
    the closing call at 15:30), generated to add up to the day's daily bar; any other day
    answers no rows (KIS keeps about a year) ⚠.
    """
    market = _market(ex, req)
    day = _date(req, "FID_INPUT_DATE_1", blank=ex.trading_day)
    if market is None:
        return ok(ex.config.env, Msg.QUOTE_OK, output1={}, output2=[])
    if day >= ex.trading_day:
        rows = _minute_rows(market, _cutoff(req, req.now), MAX_DAY_MINUTE_ROWS)
    else:
        rows = _past_rows(ex, market, day, _past_cutoff(req, day))
    return ok(ex.config.env, Msg.QUOTE_OK, output1=_summary(market), output2=rows)


PAST_DAY_MINUTES = 380  # 09:00 .. 15:19; the closing call's candle follows at 15:30


def _past_cutoff(req: KisRequest, day: date) -> datetime:
    text = req.require("FID_INPUT_HOUR_1").strip()
    if text in ("", "000000"):
        return datetime.combine(day, time(23, 59, 59), tzinfo=KST)
    if len(text) != 6 or not digits(text):
        raise InputError("FID_INPUT_HOUR_1")
    try:
        hour = time(int(text[:2]), int(text[2:4]), int(text[4:]))
    except ValueError as exc:
        raise InputError("FID_INPUT_HOUR_1") from exc
    return datetime.combine(day, hour, tzinfo=KST)


@functools.lru_cache(maxsize=512)  # a download asks for each day ~4 times, one page each
def _past_candles(seed: int, code: str, bar: DailyBar) -> list[CandleBar]:
    rng = random.Random(f"{seed}:{code}:m:{bar.day.isoformat()}")
    return minute_bridge(rng, bar, PAST_DAY_MINUTES + 1)


def _past_rows(
    ex: Exchange, market: SymbolMarket, day: date, cutoff: datetime
) -> list[dict[str, Any]]:
    bar = next(
        (b for b in market.daily(ex.trading_day, ex.config.history_days) if b.day == day), None
    )
    if bar is None:
        return []
    candles = _past_candles(market.seed, market.code, bar)
    opening = datetime.combine(day, time(9), tzinfo=KST)
    starts = [opening + timedelta(minutes=k) for k in range(PAST_DAY_MINUTES)]
    starts.append(datetime.combine(day, time(15, 30), tzinfo=KST))
    rows: list[dict[str, Any]] = []
    for start, c in reversed(list(zip(starts, candles, strict=True))):
        if start > cutoff:
            continue
        rows.append(
            {
                "stck_bsop_date": start.strftime("%Y%m%d"),
                "stck_cntg_hour": hhmmss(start),
                "stck_prpr": c.close,
                "stck_oprc": c.open,
                "stck_hgpr": c.high,
                "stck_lwpr": c.low,
                "cntg_vol": c.volume,
                "acml_tr_pbmn": c.volume * (c.high + c.low + c.close) // 3,
            }
        )
        if len(rows) == MAX_DAY_MINUTE_ROWS:
            break
    return rows


def _minute_rows(market: SymbolMarket, cutoff: datetime, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for candle in reversed(market.candles):
        if candle.start > cutoff:
            continue
        rows.append(
            {
                "stck_bsop_date": candle.start.strftime("%Y%m%d"),
                "stck_cntg_hour": hhmmss(candle.start),
                "stck_prpr": candle.close,
                "stck_oprc": candle.open,
                "stck_hgpr": candle.high,
                "stck_lwpr": candle.low,
                "cntg_vol": candle.volume,
                "acml_tr_pbmn": candle.amount,
            }
        )
        if len(rows) == limit:
            break
    return rows


def _closed_days(year: int) -> set[date]:
    try:
        import holidays  # heavy import: only when chk-holiday is called

        return set(holidays.financial_holidays("XKRX", years=[year, year + 1]))
    except Exception:  # the library is optional here; weekends still count
        return set()


def chk_holiday(ex: Exchange, req: KisRequest, variant: str) -> KisReply:
    start = _date(req, "BASS_DT")
    if start > date.max - timedelta(days=11):  # the answer covers ten days from it
        raise InputError("BASS_DT")
    closed = _closed_days(start.year)
    rows = []
    for offset in range(10):
        day = start + timedelta(days=offset)
        business = day.weekday() < 5 and day not in closed
        is_open = business or day == ex.trading_day
        rows.append(
            {
                "bass_dt": day.strftime("%Y%m%d"),
                "wday_dvsn_cd": f"{(day.weekday() + 1) % 7 + 1:02d}",
                "bzdy_yn": "Y" if business else "N",
                "tr_day_yn": "Y" if business else "N",
                "opnd_yn": "Y" if is_open else "N",
                "sttl_day_yn": "Y" if business else "N",
            }
        )
    next_day = (start + timedelta(days=10)).strftime("%Y%m%d")
    return ok(
        ex.config.env,
        Msg.QUOTE_OK,
        output=rows,
        ctx_area_fk="".ljust(20),
        ctx_area_nk=next_day.ljust(20),
    )
