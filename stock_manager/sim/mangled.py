"""Replies that are not a KIS answer, for an order the exchange has already accepted.

What a client may see when a proxy, a gateway or the network gets in the way: an HTML error
page with any status, an empty or cut-off body, bytes that are not UTF-8, an envelope with
no order number or an order number of ``0``, a refusal without a message code, or a reset
connection. In every case the order exists at the exchange, so the only right reading is
"outcome unknown" (issue 12; ``FaultProfile.order_reply_faults``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

HTML = (
    "<html><head><title>{status}</title></head><body><h1>{status}</h1>"
    "<p>The server could not complete your request.</p></body></html>"
)


def _html(status: int) -> web.Response:
    return web.Response(
        status=status, text=HTML.format(status=status), content_type="text/html", charset="utf-8"
    )


def _json(status: int, body: object) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
        charset="utf-8",
    )


def _raw(status: int, body: bytes) -> web.Response:
    return web.Response(status=status, body=body, content_type="application/json")


def _without_odno(body: dict[str, Any]) -> web.Response:
    output = {k: v for k, v in dict(body.get("output") or {}).items() if k != "ODNO"}
    return _json(200, {**body, "output": output})


def _odno_zero(body: dict[str, Any]) -> web.Response:
    return _json(200, {**body, "output": {**dict(body.get("output") or {}), "ODNO": "0"}})


def _text(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


SHAPES: dict[str, Callable[[dict[str, Any]], web.Response]] = {
    "html200": lambda _: _html(200),
    "html404": lambda _: _html(404),
    "html502": lambda _: _html(502),
    "empty200": lambda _: _raw(200, b""),
    "truncated": lambda body: _raw(200, _text(body)[: len(_text(body)) // 2]),
    "undecodable": lambda body: _raw(200, b"\xff\xfe" + _text(body)[2:]),
    "json404": lambda _: _json(404, {"message": "Not Found"}),
    "no_odno": _without_odno,
    "odno0": _odno_zero,
    "no_msg_cd": lambda _: _json(200, {"rt_cd": "1", "msg1": ""}),
}


def mangled(shape: str, body: dict[str, Any]) -> web.Response:
    """The reply of ``shape`` (one of ``faults.REPLY_SHAPES`` but ``reset``) for ``body``,
    the accepted order's real reply."""
    return SHAPES[shape](body)
