"""Secrets never reach exception messages, reprs or logs."""

from __future__ import annotations

import logging

import httpx
import pytest

from stock_manager.adapters.kis import trids
from stock_manager.adapters.kis.errors import KISError
from stock_manager.adapters.kis.masking import Masker, MaskingFilter, mask_account
from stock_manager.adapters.kis.orders import KisOrderClient
from stock_manager.adapters.kis.rest import KisRestClient
from stock_manager.domain.broker import OrderRequest
from stock_manager.domain.orders import OrderType, Side
from tests.unit.kis.conftest import ACCOUNT, APP_KEY, APP_SECRET, Harness, fixture, reply

TOKEN = fixture("token")["access_token"]
APPROVAL = fixture("approval")["approval_key"]
SECRETS = (APP_KEY, APP_SECRET, TOKEN, APPROVAL, ACCOUNT, ACCOUNT.split("-")[0])


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


def test_the_account_number_keeps_only_its_ends() -> None:
    assert mask_account("50071234-01") == "50******-01"
    assert Masker(accounts=["50071234-01"])("CANO=50071234&x") == "CANO=50******&x"


def test_errors_echoing_secrets_are_masked(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    harness.http.approvals.get() if harness.kis.on("Approval", reply("approval")) else None
    echo = f"bad key {APP_KEY} secret {APP_SECRET} token {TOKEN} acct {ACCOUNT} ak {APPROVAL}"
    harness.kis.on(
        "inquire-balance", httpx.Response(500, json={"rt_cd": "1", "msg_cd": "X", "msg1": echo})
    )
    harness.http.retry = type(harness.http.retry)(read_attempts=1)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(KISError) as caught:
        KisRestClient(harness.http).balance()
    assert leaked(str(caught.value)) == []
    assert leaked(repr(caught.value)) == []
    assert leaked(caplog.text) == []
    assert "****" in str(caught.value)


def test_transport_errors_mentioning_the_url_are_masked(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"https://kis.test/x?CANO={ACCOUNT[:8]}&appkey={APP_KEY}"
    harness.kis.on("order-cash", httpx.ReadTimeout(f"timed out reading {url}"))
    with pytest.raises(KISError) as caught:
        KisOrderClient(harness.http).submit(
            OrderRequest("005930", Side.BUY, 1, OrderType.LIMIT, 71500)
        )
    assert leaked(str(caught.value)) == [] and leaked(caplog.text) == []
    assert caught.value.__cause__ is None  # the unmasked original is not chained


def test_reprs_show_no_secrets(harness: Harness) -> None:
    harness.kis.on("inquire-price", reply("inquire_price"))
    harness.http.request(trids.INQUIRE_PRICE, params={"FID_INPUT_ISCD": "005930"})
    for thing in (
        harness.http,
        harness.http.credentials,
        harness.http.tokens,
        harness.http.tokens.get(),
        KisRestClient(harness.http),
        KisOrderClient(harness.http),
    ):
        assert leaked(repr(thing)) == [], thing


def test_the_logging_filter_masks_formatted_records(harness: Harness) -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key=%s", (APP_KEY,), None)
    MaskingFilter(harness.http.masker).filter(record)
    assert APP_KEY not in record.getMessage()


def test_short_values_are_not_registered_as_secrets() -> None:
    masker = Masker(["abc"])
    assert masker("abc abc") == "abc abc"
