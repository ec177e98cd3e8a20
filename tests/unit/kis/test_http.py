"""The request() choke point: headers, bodies, error typing, retries, token reissue."""

from __future__ import annotations

import json

import httpx
import pytest

from stock_manager.adapters.kis import trids
from stock_manager.adapters.kis.errors import (
    KISAuthError,
    KISConfigError,
    KISError,
    KISNotSupported,
    KISRateLimitError,
    KISRejectedError,
    KISTransientError,
    KISValidationError,
)
from stock_manager.domain.broker import (
    BrokerAuthError,
    BrokerConfigError,
    BrokerRateLimited,
    BrokerRejected,
    BrokerUnavailable,
    BrokerValidationError,
)
from stock_manager.ports import Lane, using_lane
from tests.unit.kis.conftest import (
    APP_KEY,
    APP_SECRET,
    FIXTURE_NOW,
    Harness,
    make_harness,
    reply,
)

PRICE = {"FID_COND_MRKT_DIV_CODE": "J", "FID_INPUT_ISCD": "005930"}


def test_a_read_sends_every_header_kis_expects(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("inquire_price"))
    harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    request = harness.kis.calls("inquire-price")[0]
    assert request.url.host == "openapivts.koreainvestment.com"
    assert request.url.params["FID_INPUT_ISCD"] == "005930"
    headers = request.headers
    assert headers["appkey"] == APP_KEY
    assert headers["appsecret"] == APP_SECRET
    assert headers["tr_id"] == "FHKST01010100"
    assert headers["custtype"] == "P"
    assert headers["tr_cont"] == ""
    assert headers["authorization"].startswith("Bearer eyJ")
    assert headers["content-type"].startswith("application/json")


def test_the_token_request_has_no_bearer_and_sends_credentials_in_the_body(
    harness: Harness,
) -> None:
    harness.kis.on("inquire-price", reply("inquire_price"))
    harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    token_request = harness.kis.calls("tokenP")[0]
    assert "authorization" not in token_request.headers
    assert json.loads(token_request.content) == {
        "grant_type": "client_credentials",
        "appkey": APP_KEY,
        "appsecret": APP_SECRET,
    }


def test_paper_sends_v_prefixed_tr_ids_and_live_the_t_ones() -> None:
    for dialect, expected in (("paper", "VTTC8434R"), ("live", "TTTC8434R")):
        h = make_harness(dialect=dialect, name=dialect)
        h.kis.on("inquire-balance", reply("balance_empty"))
        h.http.request(trids.BALANCE, params={"CANO": "50071234"})
        assert h.kis.calls("inquire-balance")[0].headers["tr_id"] == expected


@pytest.mark.parametrize(
    ("dialect", "old", "buy", "modify"),
    [
        ("live", False, "TTTC0012U", "TTTC0013U"),
        ("live", True, "TTTC0802U", "TTTC0803U"),
        ("paper", False, "VTTC0012U", "VTTC0013U"),
        ("paper", True, "VTTC0802U", "VTTC0803U"),
    ],
)
def test_order_tr_ids_new_by_default_old_by_setting(
    dialect: str, old: bool, buy: str, modify: str
) -> None:
    assert trids.ORDER_BUY.tr_id(dialect, old) == buy  # type: ignore[arg-type]
    assert trids.ORDER_RVSECNCL.tr_id(dialect, old) == modify  # type: ignore[arg-type]
    assert trids.ORDER_SELL.tr_id(dialect, old)[-4:] in ("011U", "801U")  # type: ignore[arg-type]


def test_quotation_tr_ids_are_the_same_on_paper() -> None:
    assert trids.INQUIRE_PRICE.tr_id("paper") == "FHKST01010100"
    assert trids.DAILY_CCLD_BEFORE_3M.tr_id("paper") == "VTSC9215R"


def test_a_tr_paper_lacks_is_refused_before_anything_is_sent(harness: Harness) -> None:
    with pytest.raises(KISNotSupported):
        harness.http.request(trids.VOLUME_RANK, params={})
    assert harness.kis.requests == []


@pytest.mark.parametrize(
    ("status", "name", "kind", "domain"),
    [
        (500, "error_egw00201", KISRateLimitError, BrokerRateLimited),
        (500, "error_egw00215", KISRateLimitError, BrokerRateLimited),
        (500, "error_egw00001", KISTransientError, BrokerUnavailable),
        (500, "error_egw02006", KISNotSupported, BrokerConfigError),
        (500, "error_egw00103", KISConfigError, BrokerConfigError),
        (200, "error_opsq2002", KISValidationError, BrokerValidationError),
        (200, "error_40580000", KISRejectedError, BrokerRejected),
        (500, "error_egw00121", KISAuthError, BrokerAuthError),
        (403, "token_egw00133", KISRateLimitError, BrokerRateLimited),
    ],
)
def test_errors_are_typed_by_code_on_any_status(
    status: int, name: str, kind: type[KISError], domain: type[Exception]
) -> None:
    h = make_harness()
    h.http.retry = type(h.http.retry)(read_attempts=1, throttle_budget=0.0)
    h.kis.on("inquire-price", reply(name, status))
    with pytest.raises(kind) as caught:
        h.http.request(trids.INQUIRE_PRICE, params=PRICE)
    assert isinstance(caught.value, domain)
    code = json.loads(reply(name).content).get("msg_cd") or "EGW00133"
    assert caught.value.code == code
    assert code in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (502, "<html>bad gateway</html>", KISTransientError),
        (200, "not json", KISValidationError),
        (401, '{"unexpected": true}', KISAuthError),
        (503, "{}", KISTransientError),
    ],
)
def test_replies_without_a_kis_envelope_are_typed_by_status(
    status: int, body: str, kind: type[Exception]
) -> None:
    h = make_harness()
    h.http.retry = type(h.http.retry)(read_attempts=1)
    h.kis.on("inquire-price", httpx.Response(status, text=body))
    with pytest.raises(kind):
        h.http.request(trids.INQUIRE_PRICE, params=PRICE)


def test_kis_messages_have_trailing_spaces_stripped(harness: Harness) -> None:
    harness.http.retry = type(harness.http.retry)(read_attempts=1)
    harness.kis.on(
        "inquire-price", httpx.Response(200, json={"rt_cd": "1", "msg_cd": "X1", "msg1": "no   "})
    )
    with pytest.raises(KISRejectedError, match=r"\[X1\] no \(tr_id FHKST01010100, HTTP 200\)$"):
        harness.http.request(trids.INQUIRE_PRICE, params=PRICE)


def test_a_throttled_read_backs_off_and_retries(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("error_egw00201", 500), reply("error_egw00201", 500)).on(
        "inquire-price", reply("inquire_price")
    )
    response = harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    assert response.body.row("output").num("stck_prpr") == 71500
    assert len(harness.kis.calls("inquire-price")) == 3
    assert len(harness.sleeps.calls) == 2 and all(s > 0 for s in harness.sleeps.calls)


def test_transient_read_failures_retry_with_backoff_then_give_up(harness: Harness) -> None:
    harness.kis.on("inquire-price", httpx.ReadTimeout("timed out"))
    with pytest.raises(KISTransientError, match="no reply"):
        harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    assert len(harness.kis.calls("inquire-price")) == 3  # read_attempts
    assert len(harness.sleeps.calls) == 2


def test_rejections_are_not_retried(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("error_40580000"))
    with pytest.raises(KISRejectedError):
        harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    assert len(harness.kis.calls("inquire-price")) == 1


def test_an_expired_token_is_reissued_once_and_the_read_retried(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("error_egw00123", 500), reply("inquire_price"))
    harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    assert harness.kis.tokens_issued == 2
    assert harness.http.tokens.get().generation == 2


def test_a_token_refused_twice_raises_an_auth_error(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("error_egw00121", 500))
    with pytest.raises(KISAuthError):
        harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    assert harness.kis.tokens_issued == 2  # one forced reissue, not a loop
    assert len(harness.kis.calls("inquire-price")) == 2


def test_each_request_waits_on_the_limiter_in_the_callers_lane(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("inquire_price"))
    with using_lane(Lane.EXIT):
        harness.http.request(trids.INQUIRE_PRICE, params=PRICE)
    harness.http.request(trids.INQUIRE_PRICE, params=PRICE, lane=Lane.SCAN)
    # the token issuance goes first (LIQUIDATION), then the two reads in their lanes
    assert harness.limiter.lanes == [Lane.LIQUIDATION, Lane.EXIT, Lane.SCAN]


def test_no_data_is_an_empty_reply_not_an_error(harness: Harness) -> None:
    harness.kis.on("inquire-daily-ccld", reply("error_70070000"))
    response = harness.http.request(trids.DAILY_CCLD, params={})
    assert response.empty and response.error is None


def test_post_bodies_have_upper_case_keys_and_string_values(live_harness: Harness) -> None:
    live_harness.kis.on("order-cash", reply("order_cash"))
    live_harness.http.request(trids.ORDER_BUY, body={"pdno": "005930", "ORD_QTY": 10})
    body = json.loads(live_harness.kis.calls("order-cash")[0].content)
    assert body == {"PDNO": "005930", "ORD_QTY": "10"}


def test_the_hashkey_header_is_sent_when_enabled() -> None:
    h = make_harness(name="live", dialect="live", trading_armed=True, use_hashkey=True)
    h.kis.on("hashkey", reply("hashkey")).on("order-cash", reply("order_cash"))
    h.http.request(trids.ORDER_BUY, body={"PDNO": "005930"})
    assert h.kis.calls("order-cash")[0].headers["hashkey"].startswith("8c0d0a8e")
    assert json.loads(h.kis.calls("hashkey")[0].content) == {"PDNO": "005930"}


def test_approval_key_uses_secretkey_not_appsecret(harness: Harness) -> None:
    harness.kis.on("Approval", reply("approval"))
    key = harness.http.approvals.get()
    body = json.loads(harness.kis.calls("Approval")[0].content)
    assert set(body) == {"grant_type", "appkey", "secretkey"}
    assert key.value.startswith("a1b2c3d4")


def test_revoke_posts_the_token(harness: Harness) -> None:
    harness.kis.on("revokeP", reply("revoke"))
    harness.http.revoke("tok-123456789012")
    assert json.loads(harness.kis.calls("revokeP")[0].content)["token"] == "tok-123456789012"


def test_token_expiry_comes_from_the_reply(harness: Harness) -> None:
    token = harness.http.tokens.get()
    # the stated "2026-11-22 10:00:00" KST is 12 h after the harness's now, before now + 86400 s
    assert token.expires_at == FIXTURE_NOW + 12 * 3600
