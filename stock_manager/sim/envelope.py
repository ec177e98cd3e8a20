"""The KIS response envelope: ``rt_cd``, ``msg_cd``, ``msg1`` and outputs, every value a string."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from stock_manager.sim.config import Dialect
from stock_manager.sim.messages import Msg, answer


def stringify(value: Any) -> Any:
    """Turn every leaf into a string, as KIS does (``None`` becomes ``""``)."""
    if isinstance(value, dict):
        return {key: stringify(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [stringify(item) for item in value]
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def rate(value: float | Decimal) -> str:
    """A percentage with two decimals, like ``prdy_ctrt``."""
    return f"{float(value):.2f}"


@dataclass(slots=True)
class KisReply:
    """What a handler answers: HTTP status, JSON body and the ``tr_cont`` header."""

    body: dict[str, Any]
    status: int = 200
    tr_cont: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def ok(dialect: Dialect, msg: Msg, tr_cont: str = "", **outputs: Any) -> KisReply:
    """A successful reply with ``output``/``output1``/``output2``/``ctx_area_*`` fields."""
    said = answer(dialect, msg)
    body: dict[str, Any] = {"rt_cd": said.rt_cd, "msg_cd": said.code, "msg1": said.text}
    body.update(stringify(outputs))
    return KisReply(body=body, tr_cont=tr_cont)


def failure(code: str, text: str, status: int = 200, rt_cd: str = "1") -> KisReply:
    return KisReply(body={"rt_cd": rt_cd, "msg_cd": code, "msg1": text}, status=status)


def gateway_error(code: str, text: str, status: int = 500) -> KisReply:
    """A gateway (EGW…) error: HTTP 500 by default with the normal envelope."""
    return failure(code, text, status=status)


GATEWAY_TEXT = {
    "EGW00001": "일시적인 오류가 발생했습니다.",
    "EGW00002": "서버 에러가 발생했습니다.",
    "EGW00102": "AppKey는 필수입니다.",
    "EGW00103": "유효하지 않은 AppKey입니다.",
    "EGW00104": "AppSecret는 필수입니다.",
    "EGW00105": "유효하지 않은 AppSecret입니다.",
    "EGW00121": "유효하지 않은 token 입니다.",
    "EGW00122": "token을 찾을 수 없습니다.",
    "EGW00123": "기간이 만료된 token 입니다.",
    "EGW00131": "유효하지 않은 hashkey입니다.",
    "EGW00132": "Content-Type이 유효하지 않습니다.",
    "EGW00133": "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)",
    "EGW00201": "초당 거래건수를 초과하였습니다.",
    "EGW00205": "credentials_type이 유효하지 않습니다.(Bearer)",
    "EGW00208": "고객유형(custtype)이 유효하지 않습니다.",
    "OPSQ9999": "JSON PARSING ERROR : invalid JSON body",
}


def gateway(code: str, status: int = 500) -> KisReply:
    return gateway_error(code, GATEWAY_TEXT[code], status)
