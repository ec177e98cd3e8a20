"""One HTTP exchange with KIS, as data: request headers and bodies, reply parsing, and what
a transport failure means. ``KisHttp`` (``http.py``) decides what to do about it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from stock_manager.adapters.kis import trids
from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.errors import (
    EMPTY_RESULT_CODES,
    KISConfigError,
    KISError,
    KISOrderOutcomeUnknown,
    KISTransientError,
    KISValidationError,
    describe,
    error_type,
)
from stock_manager.adapters.kis.parsing import Row

log = logging.getLogger("stock_manager.kis")

# Errors raised before any byte of the request could have reached KIS.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


@dataclass(frozen=True)
class KisResponse:
    status: int
    body: Row
    tr_id: str = ""
    tr_cont: str = ""  # response header: F/M more pages, D/E last
    error: KISError | None = field(default=None, repr=False)
    empty: bool = False  # a query TR's "nothing to show" (70070000)

    @property
    def has_next(self) -> bool:
        return self.tr_cont.strip().upper() in ("F", "M")

    def context(self, suffix: str = "100") -> dict[str, str]:
        """The continuation keys to copy into the next page's request."""
        return {
            f"CTX_AREA_FK{suffix}": self.body.text(f"ctx_area_fk{suffix}"),
            f"CTX_AREA_NK{suffix}": self.body.text(f"ctx_area_nk{suffix}"),
        }


def headers(
    env: KisEnvironment,
    credentials: KisCredentials,
    endpoint: trids.Endpoint,
    token: str | None,
    tr_cont: str,
    extra: Mapping[str, str],
) -> dict[str, str]:
    """appkey, appsecret, custtype and, where they apply, bearer token, tr_id and tr_cont."""
    result = {
        "content-type": "application/json; charset=utf-8",
        "accept": "application/json",
        "appkey": credentials.app_key.get_secret_value(),
        "appsecret": credentials.app_secret.get_secret_value(),
        "custtype": "P",
    }
    if token is not None:
        result["authorization"] = f"Bearer {token}"
    tr_id = endpoint.tr_id(env.dialect, env.use_old_tr_ids)
    if tr_id:
        result["tr_id"] = tr_id
        result["tr_cont"] = tr_cont
    result.update(extra)
    return result


def json_body(endpoint: trids.Endpoint, body: Mapping[str, object]) -> dict[str, str]:
    """Values as strings; keys upper case on ``/uapi`` TRs (KIS requires it)."""
    upper = endpoint.path.startswith("/uapi/domestic-stock")
    return {(k.upper() if upper else k): _text(v) for k, v in body.items()}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def transport_error(
    exc: httpx.HTTPError,
    endpoint: trids.Endpoint,
    tr_id: str,
    order: bool,
    mask: Callable[[object], str],
) -> KISError:
    """A failure without a reply: ambiguous for an order that may have left, else transient."""
    what = mask(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    log.warning("KIS %s %s failed: %s", endpoint.method, endpoint.name, what)
    if order and not isinstance(exc, NOT_SENT):
        return KISOrderOutcomeUnknown(
            f"{endpoint.name}: {what} after the order was sent; it may exist", tr_id=tr_id
        )
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return KISConfigError(f"{endpoint.name}: bad KIS_REST_URL: {what}", tr_id=tr_id)
    sent = "not sent" if isinstance(exc, NOT_SENT) else "no reply"
    return KISTransientError(f"{endpoint.name}: {sent}: {what}", tr_id=tr_id)


def parse_reply(
    reply: httpx.Response, endpoint: trids.Endpoint, tr_id: str, mask: Callable[[object], str]
) -> KisResponse:
    """The reply as a :class:`KisResponse`, its error typed from the body on any status.

    The token endpoints answer ``error_code``/``error_description``; the others
    ``rt_cd``/``msg_cd``/``msg1``."""
    status = reply.status_code
    try:
        data = reply.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return _unreadable(status, endpoint, tr_id)
    body = Row(data, endpoint.name)
    tr_cont = reply.headers.get("tr_cont", "")
    code = body.text("msg_cd") or body.text("error_code")
    rt_cd = body.text("rt_cd")
    failed = status >= 400 or rt_cd not in ("", "0") or bool(body.text("error_code"))
    if not failed:
        return KisResponse(status, body, tr_id, tr_cont)
    if code in EMPTY_RESULT_CODES and endpoint.method == "GET":
        return KisResponse(status, body, tr_id, tr_cont, empty=True)
    text = body.text("msg1") or body.text("error_description") or body.text("message")
    message = mask(describe(code, text, tr_id, status))
    error = error_type(code, status)(message, code=code, status=status, tr_id=tr_id)
    log.warning("KIS %s %s refused: %s", endpoint.method, endpoint.name, message)
    return KisResponse(status, body, tr_id, tr_cont, error=error)


def _unreadable(status: int, endpoint: trids.Endpoint, tr_id: str) -> KisResponse:
    """A reply without a JSON object: a proxy's error page, or a broken server."""
    kind = KISTransientError if status >= 500 else KISValidationError
    error = kind(
        f"{endpoint.name}: HTTP {status} with a body that is not a JSON object",
        status=status,
        tr_id=tr_id,
    )
    return KisResponse(status, Row({}), tr_id, error=error)
