"""Admin endpoints outside the KIS namespace (``/_sim/…``), for tests, benchmarks and demos.

Plain JSON with real numbers (not KIS strings); errors are HTTP 400 ``{"error": "..."}``.
``docs/simulator.md`` documents every shape.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from stock_manager.sim.faults import FaultSpecError
from stock_manager.sim.rest import CONTEXT, SimContext, json_response
from stock_manager.sim.session import session_from_json

AdminAction = Callable[[SimContext, dict[str, Any]], dict[str, Any]]


class AdminError(ValueError):
    """A bad admin request; becomes HTTP 400."""


def _wrap(action: AdminAction) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        ctx = request.app[CONTEXT]
        try:
            raw = await request.read() if request.method == "POST" else b""
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            if not isinstance(body, dict):
                raise AdminError("the body must be a JSON object")
            ctx.exchange.advance()
            return json_response(action(ctx, body))
        except (
            AdminError,
            FaultSpecError,
            ValueError,
            KeyError,
            TypeError,
            ArithmeticError,
            RecursionError,
        ) as exc:
            return json_response({"error": f"{type(exc).__name__}: {exc}"}, 400)

    return handler


def state(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    return ctx.exchange.state_json()


def clock(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    return ctx.exchange.clock_json()


def symbols(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"symbols": ctx.exchange.symbols_json()}


def faults(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    """Update the fault profile and run one-off actions; answer the profile in force."""
    actions = {
        key: body.pop(key) for key in ("revoke_tokens", "expire_tokens", "drop_ws") if key in body
    }
    if body.pop("reset", False):
        ctx.exchange.faults.profile = type(ctx.exchange.faults.profile)()
    ctx.exchange.set_faults_profile(body)
    done: dict[str, int] = {}
    if actions.get("revoke_tokens"):
        done["revoked_tokens"] = ctx.auth.revoke_all()
    if actions.get("expire_tokens"):
        done["expired_tokens"] = ctx.auth.expire_all()
    if actions.get("drop_ws") and ctx.hub is not None:
        done["dropped_sockets"] = ctx.hub.drop_all()
    return {"profile": ctx.exchange.faults.profile.to_json(), "actions": done}


def get_faults(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    return {"profile": ctx.exchange.faults.profile.to_json(), "actions": {}}


def price(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    """Force a price (traded now when the market is open), a path, or hold/release;
    ``"vi": true`` lets the path set off a VI as the market's own moves do; ``"at_once":
    true`` trades the whole path now (up to a VI it sets off)."""
    symbol = str(body["symbol"])
    market = ctx.exchange.markets.get(symbol)
    if market is None:
        raise AdminError(f"unknown symbol {symbol}")
    path = [int(body["price"])] if "price" in body else [int(p) for p in body.get("path", [])]
    hold = body.get("hold")
    if body.get("release"):
        hold = False
    held = None if hold is None else bool(hold)
    vi, at_once = bool(body.get("vi", False)), bool(body.get("at_once", False))
    trade = ctx.exchange.force_price(symbol, path, held, vi, at_once)
    return {
        "symbol": symbol,
        "last": market.last,
        "queued": len(market.forced),
        "hold": market.hold,
        "traded": trade is not None,
        "traded_at": trade.at.isoformat() if trade is not None else None,
    }


def halt(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    """Halt (거래정지, ``"halted": true``) or resume a symbol."""
    symbol = str(body["symbol"])
    if symbol not in ctx.exchange.markets:
        raise AdminError(f"unknown symbol {symbol}")
    ctx.exchange.halt(symbol, bool(body.get("halted", True)))
    return {"symbol": symbol, "halted": ctx.exchange.markets[symbol].halted}


def account(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    """Set cash (D+0) and/or holdings directly; ``replace_holdings`` drops the others."""
    exchange = ctx.exchange
    if "cash" in body:
        exchange.account.set_cash(int(body["cash"]))
    holdings = body.get("holdings", [])
    if body.get("replace_holdings"):
        keep = {str(h["symbol"]) for h in holdings}
        for symbol in list(exchange.account.holdings):
            if symbol not in keep:
                exchange.account.set_holding(symbol, "", 0, 0.0)
    for item in holdings:
        symbol = str(item["symbol"])
        market = exchange.markets.get(symbol)
        name = str(item.get("name") or (market.spec.name if market else symbol))
        exchange.account.set_holding(symbol, name, int(item["qty"]), float(item["avg_price"]))
    return exchange.state_json()


def session(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    exchange = ctx.exchange
    exchange.set_session(session_from_json(exchange.clock.now(), body))
    return exchange.clock_json()


def reset(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    cash = body.get("cash")
    ctx.exchange.reset(None if cash is None else int(cash), bool(body.get("market", False)))
    return ctx.exchange.state_json()


def limits(ctx: SimContext, body: dict[str, Any]) -> dict[str, Any]:
    """Change the per-app-key rate limit at run time (0 lifts it)."""
    if "rate_limit" in body:
        value = float(body["rate_limit"])
        if value < 0:
            raise AdminError("rate_limit must not be negative")
        ctx.limiter.set_limit(value)
    return {
        "rate_limit": ctx.limiter.limit,
        "requests_served": ctx.requests,
        "throttled": ctx.throttled,
        "requests_by_tr_id": dict(sorted(ctx.by_tr_id.items())),
    }


def admin_routes() -> list[web.RouteDef]:
    return [
        web.get("/_sim/state", _wrap(state)),
        web.get("/_sim/clock", _wrap(clock)),
        web.get("/_sim/symbols", _wrap(symbols)),
        web.get("/_sim/faults", _wrap(get_faults)),
        web.post("/_sim/faults", _wrap(faults)),
        web.post("/_sim/price", _wrap(price)),
        web.post("/_sim/halt", _wrap(halt)),
        web.post("/_sim/account", _wrap(account)),
        web.post("/_sim/session", _wrap(session)),
        web.post("/_sim/reset", _wrap(reset)),
        web.get("/_sim/limits", _wrap(limits)),
        web.post("/_sim/limits", _wrap(limits)),
    ]
