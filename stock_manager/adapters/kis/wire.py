"""One HTTP exchange with KIS, as data: request headers and bodies, reply parsing, and what
a transport failure means. ``KisHttp`` (``http.py``) decides what to do about it.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from stock_manager.adapters.kis import trids
from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.errors import (
    EMPTY_RESULT_CODES,
    NOT_EXECUTED_CODES,
    KISConfigError,
    KISError,
    KISOrderOutcomeUnknown,
    KISTransientError,
    KISValidationError,
    describe,
    error_type,
)
from stock_manager.adapters.kis.parsing import Row, shown
from stock_manager.domain.clock import KST

log = logging.getLogger("stock_manager.kis")

# Errors raised before any byte of the request could have reached KIS.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
MAX_REPLY_BYTES = 4 << 20  # the largest KIS page (100 daily candles) is some 30 KB
MAX_CONTEXT_CHARS = 1000  # CTX_AREA_FK/NK are 100 or 200 characters (kis-api §3.3)
# A KIS access token is a JWT of a few hundred characters, an approval key a UUID, a hashkey
# 64 hex digits: printable ASCII without spaces, since each goes back into a header or frame.
_CREDENTIAL = re.compile(r"[!-~]{8,8192}", re.ASCII)
MAX_TOKEN_LIFETIME = 7 * 86_400  # KIS tokens live 24 h; a longer stated life is not one


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
        """The continuation keys to copy into the next page's request.

        Raises ``KISValidationError`` for a key too long to be one (it would be sent back)."""
        keys = {
            f"CTX_AREA_FK{suffix}": self.body.text(f"ctx_area_fk{suffix}"),
            f"CTX_AREA_NK{suffix}": self.body.text(f"ctx_area_nk{suffix}"),
        }
        for name, value in keys.items():
            if len(value) > MAX_CONTEXT_CHARS:
                raise KISValidationError(
                    f"{name} of {len(value)} characters is no continuation key", tr_id=self.tr_id
                )
        return keys


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
    ``rt_cd``/``msg_cd``/``msg1``. Never raises: a body that is not a JSON object (or is
    over ``MAX_REPLY_BYTES``, or nested past the JSON parser's limit) becomes an error reply."""
    status = reply.status_code
    data = _json_object(reply)
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


def _json_object(reply: httpx.Response) -> Any:
    if len(reply.content) > MAX_REPLY_BYTES:
        return None
    try:
        return reply.json()
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def is_refusal(response: KisResponse) -> bool:
    """Whether a failed order reply is KIS saying no, so the order certainly does not exist.

    Only a KIS envelope with ``rt_cd`` not ``0`` (or the token endpoints' ``error_code``) and
    a message code counts, and only if it came before any execution could happen: a 2xx/4xx
    reply, or a gateway code that refuses before routing (``NOT_EXECUTED_CODES``) on any
    status. Anything else — a timeout, a reset, HTTP 5xx, HTML, an empty, cut-off or
    undecodable body, an envelope without a code — may hide an order that exists.
    See docs/kis-adapter.md, "Order replies"."""
    body = response.body
    code = body.text("msg_cd") or body.text("error_code")
    enveloped = body.text("rt_cd") not in ("", "0") or bool(body.text("error_code"))
    if not (code and enveloped):
        return False
    return response.status < 500 or code in NOT_EXECUTED_CODES


def _unreadable(status: int, endpoint: trids.Endpoint, tr_id: str) -> KisResponse:
    """A reply without a JSON object: a proxy's error page, or a broken server."""
    kind = KISTransientError if status >= 500 else KISValidationError
    error = kind(
        f"{endpoint.name}: HTTP {status} with a body that is not a JSON object",
        status=status,
        tr_id=tr_id,
    )
    return KisResponse(status, Row({}), tr_id, error=error)


def credential(body: Row, key: str) -> str:
    """A token, approval key or hashkey from a reply; ``KISValidationError`` (without the
    value: it may be a secret) unless it is 8 to 8192 printable ASCII characters."""
    value = body.first(key)
    if not isinstance(value, str) or not _CREDENTIAL.fullmatch(value.strip()):
        raise KISValidationError(f"the {key} in KIS's reply is not a credential")
    return value.strip()


def token_expiry(body: Row, now: float) -> float:
    """When a ``tokenP`` reply's token expires, in epoch seconds: ``now + expires_in``, or the
    stated ``access_token_token_expired`` (KST) if sooner. ``expires_in`` must be 1 s to
    ``MAX_TOKEN_LIFETIME`` (default 24 h), else ``KISValidationError``."""
    lifetime = body.num("expires_in", 86_400)
    if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
        raise KISValidationError(f"tokenP: expires_in {lifetime} s is no token lifetime")
    expires = now + lifetime
    stated = body.text("access_token_token_expired")
    if stated:
        try:
            at = datetime.strptime(stated, "%Y-%m-%d %H:%M:%S").replace(tzinfo=KST)
            expires = min(expires, at.timestamp())
        except (ValueError, OverflowError):
            log.warning("unreadable token expiry %s; using expires_in", shown(stated))
    return expires
