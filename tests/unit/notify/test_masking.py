"""The masker hides secrets and account numbers and leaves trading text alone."""

from __future__ import annotations

import pytest

from stock_manager.adapters.notify.masking import Masker, mask
from stock_manager.config import SIM_APP_KEY, SIM_APP_SECRET

APP_KEY = "PSg5dctL9dKPo727J13Ur405OSXXXXXXXXXX"
APP_SECRET = "yo2t8zS68saaAbCd+/efGh1234==" + "Q" * 100 + "x9/Z+k=="
SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
masker = Masker([APP_KEY, APP_SECRET, SLACK_TOKEN, None], accounts=["50123456-01"])


@pytest.mark.parametrize(
    "secret",
    [APP_KEY, APP_SECRET, SLACK_TOKEN, SIM_APP_KEY],
)
def test_configured_secrets_are_replaced_exactly(secret: str) -> None:
    m = Masker([APP_KEY, APP_SECRET, SLACK_TOKEN, SIM_APP_KEY, SIM_APP_SECRET])
    out = m(f"request failed with {secret}, retrying")

    assert secret not in out
    assert out == "request failed with ****, retrying"


def test_longer_secret_wins_over_a_secret_it_contains() -> None:
    m = Masker(["abcdef123456", "abcdef123456XYZ-long"])

    assert m("k=abcdef123456XYZ-long") == "k=****"


def test_short_secret_values_are_ignored_so_ordinary_text_survives() -> None:
    m = Masker(["1", "ab", ""])

    assert m("bought 1 share of ab corp") == "bought 1 share of ab corp"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("token xoxb-1111-2222-abcdEFGH sent", "token xoxb-**** sent"),
        ("user xoxp-9-9-Zz9", "user xoxp-****"),
        ("socket xapp-1-A0123-456-abc", "socket xapp-****"),
        (
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX",
            "https://hooks.slack.com/services/****",
        ),
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer ****"),
        ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_ABC-123 end", "jwt eyJ**** end"),
        ('{"appkey": "PSabc", "appsecret": "s3cr3t"}', '{"appkey": "****", "appsecret": "****"}'),
        ("approval_key=1a2b3c&x=1", "approval_key=****&x=1"),
        ("access_token: abc123", "access_token: ****"),
        ("password=hunter22", "password=****"),
        ("postgresql+psycopg://app:pw0rd@db:5432/sm", "postgresql+psycopg://app:****@db:5432/sm"),
        ("key R2D2c3poAbCdEfGhIjKlMnOpQrStUvWxYz0123 ok", "key **** ok"),
    ],
)
def test_generic_secret_patterns_are_masked(text: str, expected: str) -> None:
    assert mask(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("account 50123456-01 flat", "account 50******-01 flat"),
        ("other account 87654321-22", "other account 87******-22"),
        ("CANO=50123456&ACNT_PRDT_CD=01", "CANO=50******&ACNT_PRDT_CD=01"),
    ],
)
def test_account_numbers_keep_only_the_first_two_and_product_digits(
    text: str, expected: str
) -> None:
    assert masker(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "BUY 005930 10 @ 71,500 (notional 715,000 won)",
        "sell 000660 qty 3 price 182000 pnl -12,345",
        "order 0000123456 branch 06010 at 2026-11-20T10:00:00+09:00",
        "daily candles 20261120..20261127, 15:20:00 KST",
        "intent 3f2b8c1e-5d6a-4f7b-9c8d-0e1f2a3b4c5d task 3f2b8c1e5d6a4f7b9c8d0e1f2a3b4c5d",
        'File "/home/ops/.venv/lib/python3.11/site-packages/slack_sdk/web/base_client.py"',
        "token expired, refreshing the access token",
        "OrderOutcomeUnknown: EGW00201 초당 거래건수를 초과하였습니다",
    ],
)
def test_ordinary_trading_text_is_not_mangled(text: str) -> None:
    assert masker(text) == text


def test_an_8_digit_number_is_masked_only_when_it_is_the_configured_account() -> None:
    assert masker("date 20261120 account 50123456") == "date 20261120 account 50******"


def test_masking_is_idempotent() -> None:
    text = f"{APP_KEY} {SLACK_TOKEN} 50123456-01 Bearer zzz appsecret=abc"

    once = masker(text)

    assert masker(once) == once


def test_repr_does_not_reveal_the_secrets() -> None:
    assert APP_KEY not in repr(masker)
    assert "50123456" not in repr(masker)
