"""Property tests: the simulator's request parsing and REST handlers on any client input.

A KIS server answers a malformed request with a KIS error reply (``OPSQ200x`` input
errors, business rejections), never a 500 traceback. Every handler is driven through
``rest._run`` (what the server calls) with fuzzed inputs; only a ``KisReply`` may come out.
"""

from __future__ import annotations

import inspect
import re
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stock_manager.domain.clock import KST
from stock_manager.sim import (
    paging,
    request,
    rest,
    rest_account,
    rest_charts,
    rest_orders,
    rest_orders_view,
    rest_quotes,
)
from stock_manager.sim.auth import Auth
from stock_manager.sim.clock import ManualClock
from stock_manager.sim.config import SimConfig
from stock_manager.sim.envelope import KisReply
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.messages import InputError
from stock_manager.sim.ratelimit import SlidingWindowLimiter
from stock_manager.sim.request import KisRequest, body_params, query_params
from stock_manager.sim.trids import SPECS
from tests.unit.hostile import HOSTILE_NUMBERS, PROPERTY, cpu_bounded, json_values

START = datetime(2026, 11, 20, 10, 0, tzinfo=KST)
_INPUT = r"\"([A-Z][A-Z0-9_]+)\""
INPUT_NAMES = sorted(
    {
        name
        for module in (
            request,
            paging,
            rest_account,
            rest_charts,
            rest_orders,
            rest_orders_view,
            rest_quotes,
        )
        for name in re.findall(_INPUT, inspect.getsource(module))
    }
    | {f"FID_INPUT_ISCD_{n}" for n in (1, 2, 30)}
    | {f"FID_COND_MRKT_DIV_CODE_{n}" for n in (1, 2, 30)}
)


def exchange() -> Exchange:
    config = SimConfig(
        symbols=10, session_minutes=30.0, candle_seconds=5.0, history_candles=20, history_days=30
    )
    return Exchange(config, ManualClock(START))


EX = exchange()
PLAUSIBLE = st.sampled_from(
    [
        EX.config.cano,
        EX.config.product_code,
        *list(EX.markets)[:3],
        "J",
        "00",
        "01",
        "02",
        "05",
        "0",
        "1",
        "Y",
        "N",
        "D",
        "W",
        "KRX",
        "20261120",
        "20261101",
        "99991231",
        "00010101",
        "093000",
        "1",
        "10",
        "71500",
        "0000000001",
    ]
)
HOSTILE_VALUES = [
    *(h for h in HOSTILE_NUMBERS if len(h) < 100_000),
    *("²²", "١٢٣", "9" * 30, "9" * 5000, "-1", " 1 ", "+1", "0x1", "1e3", "Ⅻ", ""),
    *("99991231", "00010101", "20261131", "246060", "999999", "A" * 10_000),
]
HOSTILE = st.sampled_from(HOSTILE_VALUES)
VALUES = PLAUSIBLE | HOSTILE | st.text(max_size=12)
SYMBOL = next(iter(EX.markets))
TODAY = f"{EX.trading_day:%Y%m%d}"
# One valid request for every handler at once (each ignores what it does not read): the
# fuzz changes or drops a few fields of it, so it reaches past the first check.
BASE = {
    "CANO": EX.config.cano,
    "ACNT_PRDT_CD": EX.config.product_code,
    "FID_COND_MRKT_DIV_CODE": "J",
    "FID_INPUT_ISCD": SYMBOL,
    "FID_COND_MRKT_DIV_CODE_1": "J",
    "FID_INPUT_ISCD_1": SYMBOL,
    "FID_INPUT_DATE_1": "20261001",
    "FID_INPUT_DATE_2": TODAY,
    "FID_PERIOD_DIV_CODE": "D",
    "FID_ORG_ADJ_PRC": "0",
    "FID_INPUT_HOUR_1": "100000",
    "FID_BLNG_CLS_CODE": "0",
    "FID_INPUT_PRICE_1": "",
    "FID_INPUT_PRICE_2": "",
    "FID_VOL_CNT": "",
    "BASS_DT": TODAY,
    "PDNO": SYMBOL,
    "PRDT_TYPE_CD": "300",
    "ORD_DVSN": "01",
    "ORD_QTY": "1",
    "ORD_UNPR": "0",
    "EXCG_ID_DVSN_CD": "KRX",
    "SLL_TYPE": "01",
    "KRX_FWDG_ORD_ORGNO": EX.config.dialect.branch,
    "ORGN_ODNO": "1",
    "RVSE_CNCL_DVSN_CD": "02",
    "QTY_ALL_ORD_YN": "Y",
    "AFHR_FLPR_YN": "N",
    "INQR_DVSN": "01",
    "UNPR_DVSN": "01",
    "FUND_STTL_ICLD_YN": "N",
    "FNCG_AMT_AUTO_RDPT_YN": "N",
    "PRCS_DVSN": "00",
    "INQR_STRT_DT": TODAY,
    "INQR_END_DT": TODAY,
    "SLL_BUY_DVSN_CD": "00",
    "CCLD_DVSN": "00",
    "INQR_DVSN_3": "00",
    "CMA_EVLU_AMT_ICLD_YN": "N",
    "OVRS_ICLD_YN": "N",
    "INQR_DVSN_1": "0",
    "INQR_DVSN_2": "0",
    "CTX_AREA_FK100": "",
    "CTX_AREA_NK100": "",
}


class Recording(dict[str, str]):
    """Params that remember which names a handler looked at."""

    def __init__(self, data: dict[str, str]) -> None:
        super().__init__(data)
        self.read: set[str] = set()

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.read.add(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self.read.add(str(key))
        return super().__contains__(key)

    def __getitem__(self, key: str) -> str:
        self.read.add(key)
        return super().__getitem__(key)


HANDLERS = sorted(
    {(spec.name, variant) for spec in SPECS for variant in set(spec.live.values()) | {""}}
)


def context() -> rest.SimContext:
    return rest.SimContext(EX, Auth(EX.config, EX.clock), SlidingWindowLimiter(1000.0))


def names_read(name: str, variant: str) -> list[str]:
    params = Recording(dict(BASE))
    rest._run(context(), name, KisRequest("GET", "/uapi", "", "", START, params), variant)
    return sorted(params.read | {"CTX_AREA_NK100"})


def answer(name: str, variant: str, params: dict[str, str], tr_cont: str = "") -> KisReply:
    reply = rest._run(
        context(), name, KisRequest("GET", "/uapi", "", tr_cont, START, params), variant
    )
    # 0 done, 1 refused, 2 input error, 7 no data (a cancel of nothing, an unknown product)
    assert isinstance(reply, KisReply) and reply.body["rt_cd"] in ("0", "1", "2", "7")
    return reply


@pytest.mark.parametrize(("name", "variant"), HANDLERS)
def test_the_base_request_is_valid_for_every_handler(name: str, variant: str) -> None:
    assert answer(name, variant, dict(BASE)).body["rt_cd"] != "2"  # no input error


@pytest.mark.parametrize(("name", "variant"), HANDLERS)
def test_every_hostile_value_in_every_input_gets_a_kis_reply(name: str, variant: str) -> None:
    for field in names_read(name, variant):
        for value in HOSTILE_VALUES:
            answer(name, variant, {**BASE, field: value})
        answer(name, variant, {k: v for k, v in BASE.items() if k != field})


@pytest.mark.parametrize(("name", "variant"), HANDLERS)
def test_every_handler_answers_any_input_with_a_kis_reply(name: str, variant: str) -> None:
    names = st.sampled_from(names_read(name, variant))

    @settings(PROPERTY, max_examples=60)
    @given(
        st.dictionaries(names, VALUES, max_size=3),
        st.sets(names, max_size=2),
        st.sampled_from(["", "N", "F"]),
    )
    @cpu_bounded
    def check(changed: dict[str, str], dropped: set[str], tr_cont: str) -> None:
        params = {k: v for k, v in {**BASE, **changed}.items() if k not in dropped}
        answer(name, variant, params, tr_cont)

    check()


@PROPERTY
@given(json_values(), st.booleans())
@cpu_bounded
def test_body_params_give_string_inputs_or_an_input_error(body: Any, strict: bool) -> None:
    try:
        params = body_params(body, strict)
    except InputError as exc:
        code = exc.code
    else:
        code = ""
    if code:
        assert code in ("OPSQ2001", "OPSQ2002")
        return
    assert all(isinstance(k, str) and k == k.upper() for k in params)
    assert all(isinstance(v, str) for v in params.values())


@PROPERTY
@given(st.lists(st.tuples(st.text(max_size=10), st.text(max_size=10)), max_size=10))
@cpu_bounded
def test_query_params_are_upper_case_strings(items: list[tuple[str, str]]) -> None:
    params = query_params(items)
    assert all(k == k.upper() for k in params)


@PROPERTY
@given(st.sampled_from(INPUT_NAMES), VALUES, st.integers(0, 2))
@cpu_bounded
def test_integer_inputs_are_ascii_and_bounded_or_an_input_error(
    name: str, value: str, minimum: int
) -> None:
    req = KisRequest("GET", "/uapi", "", "", START, {name: value})
    try:
        number = req.integer(name, minimum=minimum)
    except InputError:
        return
    assert minimum <= number < 10**request.MAX_DIGITS
