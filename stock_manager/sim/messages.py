"""Business answer codes (``msg_cd``/``msg1``) per dialect.

Codes observed in public material are used where known (kis-api.md §3.2, §5); the rest are
the simulator's own choices, listed in ``docs/simulator.md`` as ⚠. Business rejections come
back with HTTP 200 and ``rt_cd`` "1"; input errors with ``rt_cd`` "2" (as KIS's OPSQ2001);
"no data" with ``rt_cd`` "7" (조회할 자료가 없습니다: korea-investment-stock's
``API_RETURN_CODE``, python-kis ``info``/``orderable_amount``), which KIS also answers to a
cancel or modify that finds nothing left to change ⚠.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from stock_manager.sim.config import Dialect


class Msg(Enum):
    QUERY_OK = "query_ok"
    QUOTE_OK = "quote_ok"
    BUY_OK = "buy_ok"
    SELL_OK = "sell_ok"
    MODIFY_OK = "modify_ok"
    CANCEL_OK = "cancel_ok"
    BEFORE_OPEN = "before_open"
    AFTER_CLOSE = "after_close"
    NO_CASH = "no_cash"
    NO_HOLDING = "no_holding"
    NO_SELLABLE = "no_sellable"
    BAD_PRICE = "bad_price"
    BAD_SYMBOL = "bad_symbol"
    BAD_ORDER_TYPE = "bad_order_type"
    NOT_IN_AUCTION = "not_in_auction"
    HALTED = "halted"
    NOTHING_TO_CHANGE = "nothing_to_change"
    NO_SUCH_ORDER = "no_such_order"
    NO_DATA = "no_data"


@dataclass(frozen=True, slots=True)
class Answer:
    rt_cd: str
    code: str
    text: str


_PAPER: dict[Msg, Answer] = {
    Msg.QUERY_OK: Answer("0", "20310000", "모의투자 조회가 완료되었습니다."),
    Msg.QUOTE_OK: Answer("0", "MCA00000", "정상처리 되었습니다."),
    Msg.BUY_OK: Answer("0", "40600000", "모의투자 매수주문이 완료 되었습니다."),
    Msg.SELL_OK: Answer("0", "40590000", "모의투자 매도주문이 완료 되었습니다."),
    Msg.MODIFY_OK: Answer("0", "40620000", "모의투자 정정주문이 완료 되었습니다."),
    Msg.CANCEL_OK: Answer("0", "40630000", "모의투자 취소주문이 완료 되었습니다."),
    Msg.BEFORE_OPEN: Answer("1", "40570000", "모의투자 장시작전 입니다."),
    Msg.AFTER_CLOSE: Answer("1", "40580000", "모의투자 장종료 입니다."),
    Msg.NO_CASH: Answer("1", "40250000", "모의투자 주문가능금액을 초과 했습니다."),
    Msg.NO_HOLDING: Answer("1", "40240000", "모의투자 잔고내역이 없습니다."),
    Msg.NO_SELLABLE: Answer("1", "40260000", "모의투자 주문가능수량을 초과 했습니다."),
    Msg.BAD_PRICE: Answer(
        "1", "40100000", "모의투자 주문가격이 호가단위 또는 가격제한폭을 벗어났습니다."
    ),
    Msg.BAD_SYMBOL: Answer("1", "40070000", "모의투자 주문처리가 안되었습니다(매매불가 종목)"),
    Msg.BAD_ORDER_TYPE: Answer("1", "40050000", "모의투자에서는 해당주문구분 주문이 불가합니다."),
    Msg.NOT_IN_AUCTION: Answer("1", "40560000", "모의투자 동시호가 중 불가한 주문구분입니다."),
    Msg.HALTED: Answer("1", "40080000", "모의투자 매매정지 종목입니다."),
    Msg.NOTHING_TO_CHANGE: Answer("7", "40330000", "모의투자 정정/취소할 수량이 없습니다."),
    Msg.NO_SUCH_ORDER: Answer("1", "40320000", "모의투자 원주문번호가 존재하지 않습니다."),
    Msg.NO_DATA: Answer("7", "70070000", "모의투자 조회할 내역(자료)이 없습니다."),
}

_LIVE: dict[Msg, Answer] = {
    Msg.QUERY_OK: Answer("0", "MCA00000", "정상처리 되었습니다."),
    Msg.QUOTE_OK: Answer("0", "MCA00000", "정상처리 되었습니다."),
    Msg.BUY_OK: Answer("0", "APBK0013", "주문 전송 완료 되었습니다."),
    Msg.SELL_OK: Answer("0", "APBK0013", "주문 전송 완료 되었습니다."),
    Msg.MODIFY_OK: Answer("0", "APBK0013", "주문 전송 완료 되었습니다."),
    Msg.CANCEL_OK: Answer("0", "APBK0013", "주문 전송 완료 되었습니다."),
    Msg.BEFORE_OPEN: Answer("1", "APBK0918", "장운영시간이 아닙니다.(장시작전)"),
    Msg.AFTER_CLOSE: Answer("1", "APBK0919", "장운영시간이 아닙니다.(장종료)"),
    Msg.NO_CASH: Answer("1", "APBK0952", "주문가능금액을 초과 했습니다"),
    Msg.NO_HOLDING: Answer("1", "APBK0400", "잔고가 없습니다."),
    Msg.NO_SELLABLE: Answer("1", "APBK0986", "주문가능수량을 초과 했습니다."),
    Msg.BAD_PRICE: Answer("1", "APBK0506", "주문가격이 호가단위 또는 가격제한폭을 벗어났습니다."),
    Msg.BAD_SYMBOL: Answer("1", "APBK0656", "해당종목정보가 없습니다."),
    Msg.BAD_ORDER_TYPE: Answer("1", "APBK0550", "주문구분이 올바르지 않습니다."),
    Msg.NOT_IN_AUCTION: Answer("1", "APBK0551", "동시호가 중 불가한 주문구분입니다."),
    Msg.HALTED: Answer("1", "APBK0657", "매매정지 종목입니다."),
    Msg.NOTHING_TO_CHANGE: Answer("7", "APBK0344", "정정/취소할 수량이 없습니다."),
    Msg.NO_SUCH_ORDER: Answer("1", "APBK0343", "원주문번호가 존재하지 않습니다."),
    Msg.NO_DATA: Answer("7", "KIOK0560", "조회할 내용이 없습니다"),
}


def answer(dialect: Dialect, msg: Msg) -> Answer:
    return (_LIVE if dialect == "live" else _PAPER)[msg]


class Rejection(Exception):
    """An order or query the broker refuses: HTTP 200, ``rt_cd`` "1" (or "7": no data)."""

    def __init__(self, msg: Msg, detail: str = "") -> None:
        super().__init__(f"{msg.value}: {detail}" if detail else msg.value)
        self.msg = msg
        self.detail = detail


class InputError(Exception):
    """A missing or malformed input field: HTTP 200, ``rt_cd`` "2", OPSQ200x."""

    def __init__(self, field: str, missing: bool = False, code: str | None = None) -> None:
        self.field = field
        self.code = code or ("OPSQ2002" if missing else "OPSQ2001")
        self.text = (
            f"ERROR : INPUT_FIELD_NOT_FOUND [{field}]"
            if missing
            else f"ERROR : INPUT INVALID_CHECK_{field}"
        )
        super().__init__(f"{self.code} {self.text}")
