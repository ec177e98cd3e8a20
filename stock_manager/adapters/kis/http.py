"""The one choke point every KIS request goes through: :meth:`KisHttp.request`.

It builds the URL and headers (appkey, appsecret, tr_id, custtype, bearer token, tr_cont),
sends JSON bodies with string values, parses the body on *any* HTTP status, types errors by
code and status (``errors.py``), waits on the shared rate limiter in the caller's lane,
retries reads with backoff and jitter, reissues a refused token once per generation, and
masks every secret in what it logs or raises.

Orders (``Endpoint.order``) are never retried blindly. Once an order request may have left,
a timeout, a dropped connection or an HTTP 5xx raises ``KISOrderOutcomeUnknown``, unless the
reply carries a gateway code that proves it was refused before routing (``NOT_EXECUTED_CODES``:
``EGW00201`` is retried within ``throttle_budget``; ``EGW00121``-``EGW00123``, a refused
token, after one reissue). Failing to connect at all is not ambiguous: nothing was sent.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from stock_manager.adapters.kis import trids, wire
from stock_manager.adapters.kis.credentials import KisCredentials
from stock_manager.adapters.kis.environments import KisEnvironment
from stock_manager.adapters.kis.errors import (
    REISSUE_CODES,
    KISConfigError,
    KISError,
    KISNotSupported,
    KISOrderOutcomeUnknown,
    KISRateLimitError,
    KISTransientError,
)
from stock_manager.adapters.kis.masking import protect_logs
from stock_manager.adapters.kis.parsing import Row
from stock_manager.adapters.kis.rate_limit import Penalizable
from stock_manager.adapters.kis.token_store import Credential, TokenStore
from stock_manager.adapters.kis.tokens import Issued, TokenManager, TokenPolicy
from stock_manager.adapters.kis.wire import KisResponse
from stock_manager.ports import Lane, RateLimiter, current_lane

log = logging.getLogger("stock_manager.kis")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    read_attempts: int = 3  # transient failures of a read
    backoff_base: float = 0.2
    backoff_max: float = 2.0
    throttle_budget: float = 5.0  # keep retrying EGW00201 (reads and orders) this long
    throttle_pause: float = 0.25  # cluster-wide pause after an EGW00201
    limiter_timeout: float = 10.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0, min(self.backoff_max, self.backoff_base * 2**attempt))


@dataclass
class _Attempt:
    reissued: bool = False
    failures: int = 0
    throttle_deadline: float = 0.0


class KisHttp:
    """KIS over HTTP for one app key and account, with the shared token and limiter."""

    def __init__(
        self,
        env: KisEnvironment,
        credentials: KisCredentials,
        client: httpx.Client,
        limiter: RateLimiter,
        token_store: TokenStore,
        *,
        retry: RetryPolicy | None = None,
        token_policy: TokenPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.env, self.credentials, self.limiter = env, credentials, limiter
        self.retry = retry or RetryPolicy()
        self.masker = credentials.masker()
        self._client = client
        self._sleep, self._clock = sleep, clock
        policy = token_policy or TokenPolicy()
        self.tokens = TokenManager(
            token_store,
            f"{env.name}:token:{credentials.key_id}",
            self.issue_access_token,
            policy,
            clock=clock,
            sleep=sleep,
        )
        self.approvals = TokenManager(
            token_store,
            f"{env.name}:approval:{credentials.key_id}",
            self.issue_approval_key,
            policy,
            clock=clock,
            sleep=sleep,
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def __repr__(self) -> str:
        env = self.env
        return f"KisHttp({env.name}/{env.dialect} {env.rest_url}, {self.credentials!r})"

    # -- the choke point --------------------------------------------------------------------
    def request(
        self,
        endpoint: trids.Endpoint,
        *,
        params: Mapping[str, object] | None = None,
        body: Mapping[str, object] | None = None,
        tr_cont: str = "",
        lane: Lane | None = None,
    ) -> KisResponse:
        """Send one authenticated request; raise the typed error if it failed."""
        if not endpoint.offered(self.env.dialect):
            raise KISNotSupported(
                f"{endpoint.name} is not offered by KIS {self.env.dialect}", code="EGW02006"
            )
        lane = current_lane() if lane is None else lane
        if endpoint.order:
            return self._order(endpoint, body or {}, lane)
        return self._read(endpoint, params or {}, body, tr_cont, lane)

    def _read(
        self,
        endpoint: trids.Endpoint,
        params: Mapping[str, object],
        body: Mapping[str, object] | None,
        tr_cont: str,
        lane: Lane,
    ) -> KisResponse:
        state = _Attempt(throttle_deadline=self._clock() + self.retry.throttle_budget)
        while True:
            token = self.tokens.get()
            self._pace(lane)
            try:
                response = self._exchange(endpoint, token.value, params, body, tr_cont)
            except KISError as exc:  # transport failure of a read: nothing to fear
                response = KisResponse(0, Row({}), error=exc)
            error = response.error
            if error is None:
                return response
            delay = self._read_retry_delay(error, token, state)
            if delay is None:
                raise error
            self._sleep(delay)

    def _read_retry_delay(
        self, error: KISError, token: Credential, state: _Attempt
    ) -> float | None:
        """Seconds to wait before trying a read again, or ``None`` to give up."""
        if error.code in REISSUE_CODES and not state.reissued:
            state.reissued = True
            self.tokens.invalidate(token)
            return 0.0
        if error.code == "EGW00201" and self._clock() < state.throttle_deadline:
            return self._throttled()
        state.failures += 1
        if error.retryable and state.failures < self.retry.read_attempts:
            return self.retry.delay(state.failures)
        return None

    def _order(
        self, endpoint: trids.Endpoint, body: Mapping[str, object], lane: Lane
    ) -> KisResponse:
        if not self.env.orders_allowed:
            raise KISConfigError(
                "live orders are refused: a KIS URL reaches a live host and "
                "TRADING_ARMED is not exactly true"
            )
        state = _Attempt(throttle_deadline=self._clock() + self.retry.throttle_budget)
        while True:
            token = self.tokens.get()
            extra = self._hashkey_header(body)
            self._pace(lane)
            response = self._exchange(endpoint, token.value, {}, body, "", extra, order=True)
            error = response.error
            if error is None:
                return response
            if not wire.is_refusal(response):
                raise KISOrderOutcomeUnknown(
                    f"order reply was not a KIS refusal (HTTP {response.status}): the order "
                    f"may exist; {error}",
                    code=error.code,
                    status=response.status,
                    tr_id=error.tr_id,
                )
            if error.code in REISSUE_CODES and not state.reissued:
                state.reissued = True  # the gateway refused it: nothing was executed
                self.tokens.invalidate(token)
                continue
            if error.code == "EGW00201" and self._clock() < state.throttle_deadline:
                self._sleep(self._throttled())
                continue
            raise error

    def _throttled(self) -> float:
        pause = self.retry.throttle_pause * random.uniform(1.0, 2.0)
        if isinstance(self.limiter, Penalizable):
            self.limiter.penalize(pause)
        log.warning("KIS answered EGW00201 (too many requests); pausing %.2fs", pause)
        return pause

    def _pace(self, lane: Lane) -> None:
        self.limiter.acquire(lane, timeout=self.retry.limiter_timeout)

    # -- one exchange -----------------------------------------------------------------------
    def _exchange(
        self,
        endpoint: trids.Endpoint,
        token: str | None,
        params: Mapping[str, object],
        body: Mapping[str, object] | None,
        tr_cont: str = "",
        extra: Mapping[str, str] | None = None,
        order: bool = False,
    ) -> KisResponse:
        tr_id = endpoint.tr_id(self.env.dialect, self.env.use_old_tr_ids)
        sent_headers = wire.headers(
            self.env, self.credentials, endpoint, token, tr_cont, extra or {}
        )
        started = time.perf_counter()
        try:
            reply = self._client.request(
                endpoint.method,
                self.env.rest_url + endpoint.path,
                params={k: str(v) for k, v in params.items()} or None,
                json=wire.json_body(endpoint, body) if body is not None else None,
                headers=sent_headers,
                timeout=self.env.timeout,
            )
        except httpx.HTTPError as exc:
            raise wire.transport_error(exc, endpoint, tr_id, order, self.masker) from None
        response = wire.parse_reply(reply, endpoint, tr_id, self.masker)
        log.debug(
            "KIS %s %s %s -> %s %s in %.0f ms",
            endpoint.method,
            endpoint.name,
            tr_id,
            reply.status_code,
            response.error.code if response.error else "ok",
            (time.perf_counter() - started) * 1000,
        )
        return response

    # -- credentials ------------------------------------------------------------------------
    def _oauth(self, endpoint: trids.Endpoint, body: Mapping[str, object]) -> Row:
        self._pace(Lane.LIQUIDATION)  # everything waits on a token: it goes first
        response = self._exchange(endpoint, None, {}, body)
        if response.error is not None:
            raise response.error
        return response.body

    def issue_access_token(self) -> Issued:
        """``POST /oauth2/tokenP``. Use :attr:`tokens` instead: it shares and limits issuance."""
        creds = self.credentials
        body = self._oauth(
            trids.TOKEN,
            {
                "grant_type": "client_credentials",
                "appkey": creds.app_key.get_secret_value(),
                "appsecret": creds.app_secret.get_secret_value(),
            },
        )
        token = wire.credential(body, "access_token")
        expires = wire.token_expiry(body, self._clock())
        self._remember(token)
        return Issued(token, expires)

    def _remember(self, secret: str) -> None:
        self.masker.add(secret)
        protect_logs([secret])

    def issue_approval_key(self) -> Issued:
        """``POST /oauth2/Approval`` (body field ``secretkey``); lifetime assumed 24 h ⚠."""
        creds = self.credentials
        body = self._oauth(
            trids.APPROVAL,
            {
                "grant_type": "client_credentials",
                "appkey": creds.app_key.get_secret_value(),
                "secretkey": creds.app_secret.get_secret_value(),
            },
        )
        key = wire.credential(body, "approval_key")
        self._remember(key)
        return Issued(key, self._clock() + 86_400)

    def revoke(self, token: str) -> None:
        """``POST /oauth2/revokeP``."""
        creds = self.credentials
        self._oauth(
            trids.REVOKE,
            {
                "appkey": creds.app_key.get_secret_value(),
                "appsecret": creds.app_secret.get_secret_value(),
                "token": token,
            },
        )

    def hashkey(self, body: Mapping[str, object]) -> str:
        """``POST /uapi/hashkey``: the ``HASH`` of an order body (optional at KIS)."""
        return wire.credential(
            self._oauth(trids.HASHKEY, wire.json_body(trids.ORDER_BUY, body)), "HASH"
        )

    def _hashkey_header(self, body: Mapping[str, object]) -> dict[str, str]:
        if not self.env.use_hashkey:
            return {}
        try:
            return {"hashkey": self.hashkey(body)}
        except KISRateLimitError:
            raise
        except KISError as exc:  # the order itself was not sent
            raise KISTransientError(f"hashkey failed, order not sent: {exc}") from None
