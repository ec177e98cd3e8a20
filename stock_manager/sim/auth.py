"""OAuth for the simulator: access tokens, WebSocket approval keys and hashkeys (kis-api.md §2).

Token rule (⚠ the interplay is unconfirmed; the windows are settings): a request within
``token_issue_interval`` (60 s) of the last successful one for the app key gets HTTP 403
``EGW00133``; otherwise, while the current token is younger than ``token_reuse_window`` (6 h)
and still valid, the same token comes back with the same expiry; otherwise a new one is issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from stock_manager.sim.clock import Clock
from stock_manager.sim.config import SimConfig

TOKEN_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # noqa: S105 - a date format, not a secret


class TokenEndpointError(Exception):
    """An /oauth2 failure: HTTP 403 with ``error_code`` and ``error_description``."""

    def __init__(self, code: str, description: str, status: int = 403) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error_description": self.description, "error_code": self.code}


@dataclass(slots=True)
class Token:
    value: str
    app_key: str
    issued_at: datetime
    expires_at: datetime
    revoked: bool = False


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _field(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


class Auth:
    """Tokens, approval keys and hashkeys for the one configured app key."""

    def __init__(self, config: SimConfig, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self._secret = secrets.token_bytes(32)
        self._tokens: dict[str, Token] = {}
        self._current: dict[str, Token] = {}
        self._last_issue: dict[str, datetime] = {}
        self.approval_keys: dict[str, str] = {}

    # -- credentials -------------------------------------------------------------------------
    def app_error(self, app_key: str | None, app_secret: str | None) -> str | None:
        """The EGW code for bad app credentials, or ``None`` when they are right."""
        if not app_key:
            return "EGW00102"
        if app_key != self.config.app_key:
            return "EGW00103"
        if not app_secret:
            return "EGW00104"
        if app_secret != self.config.app_secret:
            return "EGW00105"
        return None

    def _require_app(self, app_key: str, app_secret: str) -> None:
        code = self.app_error(app_key, app_secret)
        if code is not None:
            raise TokenEndpointError(code, _APP_TEXT[code])

    # -- access tokens -----------------------------------------------------------------------
    def issue(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /oauth2/tokenP``."""
        if _field(body, "grant_type") != "client_credentials":
            raise TokenEndpointError("EGW00101", "grant_type은 client_credentials 이어야 합니다.")
        app_key = _field(body, "appkey")
        self._require_app(app_key, _field(body, "appsecret"))
        now = self.clock.now()
        last = self._last_issue.get(app_key)
        if last is not None and (now - last).total_seconds() < self.config.token_issue_interval:
            raise TokenEndpointError("EGW00133", "접근토큰 발급 잠시 후 다시 시도하세요(1분당 1회)")
        token = self._reusable(app_key, now) or self._new_token(app_key, now)
        self._last_issue[app_key] = now
        return {
            "access_token": token.value,
            "access_token_token_expired": token.expires_at.strftime(TOKEN_TIME_FORMAT),
            "token_type": "Bearer",
            "expires_in": max(0, int((token.expires_at - now).total_seconds())),
        }

    def _reusable(self, app_key: str, now: datetime) -> Token | None:
        token = self._current.get(app_key)
        if token is None or token.revoked or token.expires_at <= now:
            return None
        if (now - token.issued_at).total_seconds() >= self.config.token_reuse_window:
            return None
        return token

    def _new_token(self, app_key: str, now: datetime) -> Token:
        expires = now + timedelta(seconds=self.config.token_lifetime)
        claims = {
            "sub": "token",
            "aud": str(uuid.uuid4()),
            "prdt_cd": "",
            "iss": "unogw",
            "exp": int(expires.timestamp()),
            "iat": int(now.timestamp()),
            "jti": app_key,
        }
        head = _b64(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = hmac.new(self._secret, f"{head}.{payload}".encode(), hashlib.sha256)
        value = f"{head}.{payload}.{_b64(signature.digest())}"
        token = Token(value, app_key, now, expires)
        self._tokens[value] = token
        self._current[app_key] = token
        return token

    def revoke(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /oauth2/revokeP``."""
        self._require_app(_field(body, "appkey"), _field(body, "appsecret"))
        token = self._tokens.get(_field(body, "token"))
        if token is None:
            raise TokenEndpointError("EGW00121", "유효하지 않은 token 입니다.")
        token.revoked = True
        return {"code": 200, "message": "접근토큰 폐기에 성공하였습니다"}

    def bearer_error(self, authorization: str | None, app_key: str) -> str | None:
        """The EGW code for a bad ``authorization`` header, or ``None`` when it is valid."""
        if not authorization:
            return "EGW00122"
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return "EGW00205"
        token = self._tokens.get(value.strip())
        if token is None or token.revoked or token.app_key != app_key:
            return "EGW00121"
        if token.expires_at <= self.clock.now():
            return "EGW00123"
        return None

    def revoke_all(self) -> int:
        """Fault: every token becomes invalid (``EGW00121``)."""
        for token in self._tokens.values():
            token.revoked = True
        return len(self._tokens)

    def expire_all(self) -> int:
        """Fault: every token expires now (``EGW00123``)."""
        now = self.clock.now()
        for token in self._tokens.values():
            token.expires_at = min(token.expires_at, now)
        return len(self._tokens)

    # -- WebSocket approval and hashkey ------------------------------------------------------
    def approval(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /oauth2/Approval``: the body carries ``secretkey``, not ``appsecret``."""
        if _field(body, "grant_type") != "client_credentials":
            raise TokenEndpointError("EGW00101", "grant_type은 client_credentials 이어야 합니다.")
        app_key = _field(body, "appkey")
        if not _field(body, "secretkey"):
            raise TokenEndpointError("EGW00104", "secretkey는 필수입니다.")
        self._require_app(app_key, _field(body, "secretkey"))
        key = str(uuid.uuid4())
        self.approval_keys[key] = app_key
        return {"approval_key": key}

    @staticmethod
    def hashkey(raw_body: bytes) -> str:
        return hashlib.sha256(raw_body).hexdigest()


_APP_TEXT = {
    "EGW00102": "AppKey는 필수입니다.",
    "EGW00103": "유효하지 않은 AppKey입니다.",
    "EGW00104": "AppSecret는 필수입니다.",
    "EGW00105": "유효하지 않은 AppSecret입니다.",
}
