"""A fake Slack Web API on loopback and settings that point slack-sdk at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stock_manager.adapters.notify.setup import build_notifier
from stock_manager.adapters.notify.slack import SlackNotifier
from stock_manager.config import Settings, load_settings
from tests.fakes.slack_api import FakeSlackApi

APP_KEY = "PSg5dctL9dKPo727J13Ur405OSXXXXXXXXXX"
APP_SECRET = "yo2t8zS68saaAbCd+/efGh1234==" + "Q" * 100 + "x9/Z+k=="
ACCOUNT = "50123456-01"


@pytest.fixture
def slack_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlackApi]:
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.delenv(var, raising=False)  # loopback must not go through a proxy
    with FakeSlackApi() as api:
        yield api


@pytest.fixture
def settings(slack_api: FakeSlackApi) -> Settings:
    return load_settings(
        slack_bot_token=slack_api.token,
        slack_channel="#alerts",
        slack_base_url=slack_api.base_url,
        kis_app_key=APP_KEY,
        kis_app_secret=APP_SECRET,
        kis_account_no=ACCOUNT,
    )


@pytest.fixture
def notifier(settings: Settings) -> Iterator[SlackNotifier]:
    built = build_notifier(settings)
    assert isinstance(built, SlackNotifier)
    yield built
    built.close(2.0)
