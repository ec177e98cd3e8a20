"""The REST server: OAuth endpoints, the hashkey, and the KIS request pipeline.

For every ``/uapi`` request, in order: injected latency; app key and secret (``EGW0010x``);
the bearer token (``EGW00121``/``EGW00123``, not for the hashkey); the per-app-key rate
limit and injected bursts (``EGW00201``); injected ``EGW00001``; path and tr_id
(``EGW02006`` for TRs the paper server lacks); inputs; then the handler. Gateway errors are
HTTP 500 with the normal envelope; business answers HTTP 200.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from stock_manager.sim import (
    rest_account,
    rest_charts,
    rest_info,
    rest_orders,
    rest_orders_view,
    rest_quotes,
)
from stock_manager.sim.auth import Auth, TokenEndpointError
from stock_manager.sim.envelope import KisReply, failure, gateway, stringify
from stock_manager.sim.exchange import Exchange
from stock_manager.sim.mangled import mangled
from stock_manager.sim.messages import InputError, Rejection, answer
from stock_manager.sim.ratelimit import SlidingWindowLimiter
from stock_manager.sim.request import KisRequest, body_params, query_params
from stock_manager.sim.trids import TrError, resolve

log = logging.getLogger(__name__)
Handler = Callable[[Exchange, KisRequest, str], KisReply]
HANDLERS: dict[str, Handler] = {
    "inquire_price": rest_quotes.inquire_price,
    "multprice": rest_quotes.multprice,
    "asking_price": rest_quotes.asking_price,
    "volume_rank": rest_quotes.volume_rank,
    "daily_chart": rest_charts.daily_chart,
    "minute_chart": rest_charts.minute_chart,
    "daily_price": rest_charts.daily_price,
    "chk_holiday": rest_charts.chk_holiday,
    "time_daily_chart": rest_charts.time_daily_chart,
    "search_info": rest_info.search_info,
    "search_stock_info": rest_info.search_stock_info,
    "overseas_nccs": rest_info.overseas_empty,
    "overseas_ccnl": rest_info.overseas_empty,
    "order_cash": rest_orders.order_cash,
    "order_rvsecncl": rest_orders.order_rvsecncl,
    "balance": rest_account.balance,
    "daily_ccld": rest_orders_view.daily_ccld,
    "psbl_order": rest_account.psbl_order,
    "psbl_rvsecncl": rest_account.psbl_rvsecncl,
    "psbl_sell": rest_account.psbl_sell,
}
ORDER_HANDLERS = frozenset({"order_cash", "order_rvsecncl"})
HASHKEY_PATH = "/uapi/hashkey"
# KIS serves ``//uapi/...`` like ``/uapi/...`` (mojito2 builds three URLs so and works there).
SLASHES = re.compile(r"/{2,}")


def kis_path(request: web.Request) -> str:
    """The request path with runs of slashes merged."""
    return SLASHES.sub("/", request.path)


@dataclass(slots=True)
class SimContext:
    exchange: Exchange
    auth: Auth
    limiter: SlidingWindowLimiter
    requests: int = 0
    throttled: int = 0  # requests answered EGW00201 (rate limit or injected burst)
    by_tr_id: dict[str, int] = field(default_factory=dict)  # requests served per tr_id
    hub: Any = None  # the WsHub, for admin actions


CONTEXT = web.AppKey("sim_context", SimContext)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def kis_response(reply: KisReply, tr_id: str) -> web.Response:
    headers = {
        "tr_id": tr_id,
        "tr_cont": reply.tr_cont,
        "gt_uid": uuid.uuid4().hex,
        **reply.headers,
    }
    return json_response(reply.body, reply.status, headers)


def load_json(raw: bytes) -> Any:
    """A request body as JSON (``{}`` when empty); ``ValueError`` for anything unreadable,
    nesting past the parser's limit included (``json.loads`` raises RecursionError)."""
    try:
        return json.loads(raw.decode("utf-8")) if raw else {}
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


async def _json_body(request: web.Request) -> Any:
    return load_json(await request.read())


# -- OAuth -------------------------------------------------------------------------------------
async def oauth(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    action = {
        "tokenP": ctx.auth.issue,
        "revokeP": ctx.auth.revoke,
        "Approval": ctx.auth.approval,
    }.get(request.match_info["action"])
    if action is None:
        return json_response({"error_code": "EGW00101", "error_description": "없는 URL"}, 404)
    try:
        body = await _json_body(request)
        return json_response(action(body if isinstance(body, dict) else {}))
    except (ValueError, UnicodeDecodeError):
        return json_response({"error_code": "EGW00101", "error_description": "invalid JSON"}, 400)
    except TokenEndpointError as exc:
        return json_response(exc.body(), exc.status)
    except Exception:  # a simulator bug: answer as KIS's gateway would and keep serving
        log.exception("simulator failed on %s %s", request.method, request.path)
        return json_response({"error_code": "EGW00002", "error_description": "서버 에러"}, 500)


# -- the /uapi pipeline ------------------------------------------------------------------------
def _gate(ctx: SimContext, request: web.Request, now_ts: float) -> KisReply | None:
    """Credential, token, rate and fault checks; an error reply or ``None`` to go on."""
    headers = request.headers
    app_key = headers.get("appkey", "")
    code = ctx.auth.app_error(app_key, headers.get("appsecret"))
    if code:
        return gateway(code)
    path = kis_path(request)
    if path != HASHKEY_PATH:
        code = ctx.auth.bearer_error(headers.get("authorization"), app_key)
        if code:
            return gateway(code, ctx.exchange.config.token_error_status)
    faults = ctx.exchange.faults
    if not ctx.limiter.admit(app_key, now_ts) or faults.rate_limit_burst():
        return gateway("EGW00201")
    if faults.http500(path):
        return gateway("EGW00001")
    if headers.get("custtype", "P") not in ("P", "B"):
        return gateway("EGW00208")
    return None


async def _inputs(ctx: SimContext, request: web.Request) -> dict[str, str] | KisReply:
    if request.method != "POST":
        return query_params(request.query.items())
    strict = ctx.exchange.config.strict
    if strict and "json" not in request.headers.get("content-type", "").lower():
        return gateway("EGW00132")
    raw = await request.read()
    try:
        body = load_json(raw)
    except ValueError:  # UnicodeDecodeError included
        return gateway("OPSQ9999")
    hashkey = request.headers.get("hashkey", "").strip()
    if strict and hashkey and hashkey != ctx.auth.hashkey(raw):
        return gateway("EGW00131")
    return body_params(body, strict)


def _run(ctx: SimContext, name: str, req: KisRequest, variant: str) -> KisReply:
    dialect = ctx.exchange.config.env
    try:
        return HANDLERS[name](ctx.exchange, req, variant)
    except Rejection as exc:
        said = answer(dialect, exc.msg)
        return failure(said.code, said.text, rt_cd=said.rt_cd)
    except InputError as exc:
        return failure(exc.code, exc.text, rt_cd="2")


async def _dispatch(ctx: SimContext, request: web.Request, tr_id: str) -> tuple[KisReply, str]:
    exchange = ctx.exchange
    now = exchange.clock.now()
    blocked = _gate(ctx, request, now.timestamp())
    if blocked:
        return blocked, ""
    path = kis_path(request)
    if path == HASHKEY_PATH:
        return await _hashkey(ctx, request), ""
    try:
        resolved = resolve(exchange.config.env, request.method, path, tr_id)
    except TrError as exc:
        return failure(exc.code, exc.message, status=exc.status), ""
    try:
        params = await _inputs(ctx, request)
    except InputError as exc:
        return failure(exc.code, exc.text, rt_cd="2"), ""
    if isinstance(params, KisReply):
        return params, ""
    exchange.advance(now)
    tr_cont = request.headers.get("tr_cont", "")
    req = KisRequest(request.method, path, tr_id, tr_cont, now, params)
    return _run(ctx, resolved.spec.name, req, resolved.variant), resolved.spec.name


async def _hashkey(ctx: SimContext, request: web.Request) -> KisReply:
    raw = await request.read()
    try:
        body = load_json(raw)
    except ValueError:
        return gateway("OPSQ9999")
    return KisReply(body={"JsonBody": stringify(body), "HASH": ctx.auth.hashkey(raw)})


async def uapi(request: web.Request) -> web.Response:
    ctx = request.app[CONTEXT]
    ctx.requests += 1
    faults = ctx.exchange.faults
    delay = faults.latency_seconds(kis_path(request))
    if delay:
        await asyncio.sleep(delay)
    tr_id = request.headers.get("tr_id", "")
    ctx.by_tr_id[tr_id] = ctx.by_tr_id.get(tr_id, 0) + 1
    try:
        reply, name = await _dispatch(ctx, request, tr_id)
    except Exception:  # a simulator bug: answer as KIS's gateway would and keep serving
        log.exception("simulator failed on %s %s (%s)", request.method, request.path, tr_id)
        reply, name = gateway("EGW00002"), ""
    if reply.body.get("msg_cd") == "EGW00201":
        ctx.throttled += 1
    if name in ORDER_HANDLERS and reply.body.get("rt_cd") == "0":
        if faults.order_timeout():
            await _hang(request, faults.profile.order_timeout_hang_s)
        shape = faults.order_reply_fault()
        if shape == "reset":
            await _hang(request, 0.0)
        if shape is not None:
            return mangled(shape, reply.body)
    return kis_response(reply, tr_id)


async def _hang(request: web.Request, seconds: float) -> None:
    """Fault: the order exists, but its reply never arrives; the socket drops later."""
    await asyncio.sleep(seconds)
    if request.transport is not None:
        request.transport.abort()
    raise asyncio.CancelledError


def build_rest_app(ctx: SimContext, admin_routes: list[web.RouteDef]) -> web.Application:
    app = web.Application(client_max_size=1 << 20)
    app[CONTEXT] = ctx
    app.add_routes(
        [
            web.post("/{lead:/*}oauth2/{action}", oauth),
            web.route("*", "/{lead:/*}uapi/{tail:.*}", uapi),
            *admin_routes,
        ]
    )
    return app
