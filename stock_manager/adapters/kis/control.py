"""WebSocket control frames: the JSON ``{"header": {...}, "body": {...}}`` messages (kis-api §6).

Two kinds arrive: ``PINGPONG`` (answered by the client) and the answer to a subscribe or
unsubscribe request, whose ``body.output`` carries the AES key and iv of encrypted frames::

    {"header": {"tr_id": "H0STCNI0", "tr_key": "htsuser1", "encrypt": "Y"},
     "body": {"rt_cd": "0", "msg_cd": "OPSP0000", "msg1": "SUBSCRIBE SUCCESS",
              "output": {"iv": "...", "key": "..."}}}

:func:`parse` accepts drift KIS could plausibly send (numbers instead of strings, ``null`` or
``""`` for an absent output, extra fields) and raises ``KISValidationError``, and nothing
else, for every other shape: text that is not JSON or nested past the parser's limit, JSON
that is not an object, a header or body that is not an object, fields of other types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from stock_manager.adapters.kis.errors import KISValidationError

PINGPONG = "PINGPONG"
ALREADY_SUBSCRIBED = "OPSP0002"


@dataclass(frozen=True, slots=True)
class Ping:
    """A ``PINGPONG`` frame: KIS expects it echoed (or ponged) within its timeout."""


@dataclass(frozen=True, slots=True)
class Ack:
    """KIS's answer to one subscribe (``tr_type`` 1) or unsubscribe (2) request."""

    tr_id: str
    tr_key: str
    rt_cd: str
    code: str  # msg_cd, e.g. OPSP0000 (subscribed), OPSP8992 (bad tr_key)
    text: str  # msg1
    key_iv: tuple[str, str] | None  # AES-256 key and iv for this tr_id's encrypted frames

    @property
    def accepted(self) -> bool:
        return self.rt_cd == "0" or self.code == ALREADY_SUBSCRIBED


Control = Ping | Ack


def parse(text: str) -> Control:
    """One control frame. Raises ``KISValidationError`` for anything that is not one."""
    try:
        message = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." nested past the limit
        raise KISValidationError("a frame that is neither data nor JSON") from None
    if not isinstance(message, dict):
        raise KISValidationError(f"a JSON {type(message).__name__} where an object belongs")
    header = _object(message, "header", required=True)
    if _text(header, "tr_id") == PINGPONG:
        return Ping()
    body = _object(message, "body", required=True)
    output = _object(body, "output", required=False)
    key, iv = _text(output, "key"), _text(output, "iv")
    return Ack(
        tr_id=_text(header, "tr_id"),
        tr_key=_text(header, "tr_key"),
        rt_cd=_text(body, "rt_cd") or "0",
        code=_text(body, "msg_cd"),
        text=_text(body, "msg1"),
        key_iv=(key, iv) if key and iv else None,
    )


def _object(parent: dict[str, Any], name: str, required: bool) -> dict[str, Any]:
    value = parent.get(name)
    if isinstance(value, dict):
        return value
    if value in (None, "") and not required:
        return {}
    shape = "missing" if value is None else f"a {type(value).__name__}"
    raise KISValidationError(f"control frame {name} is {shape}, not an object")


def _text(parent: dict[str, Any], name: str) -> str:
    value = parent.get(name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**20:
        return str(value)  # rt_cd 0 instead of "0"
    raise KISValidationError(f"control frame field {name} is a {type(value).__name__}")
